"""The takings report keeps its statements per period (reports._statements):
what is kept is the statement, never its figures. Two periods asked for in
turn each get their own figures, and takings entered in between show on the
next look at a period already asked for."""

from datetime import date

from market.takings import reports
from tests.markets_factories import make_market, make_venue
from tests.takings_factories import add_takings
from tests.vendors_factories import make_vendor


def test_each_period_its_own_figures_and_the_newest(app):
    venue = make_venue("경기도청", 10)
    farm, bakery = make_vendor("햇살농장"), make_vendor("빵집")
    spring = make_market(venue, date(2026, 4, 2))
    autumn = make_market(venue, date(2026, 10, 1))
    add_takings(farm, spring, 100_000)
    add_takings(farm, autumn, 300_000)
    first_half = (date(2026, 1, 1), date(2026, 6, 30))
    year = (date(2026, 1, 1), date(2026, 12, 31))

    assert reports.build_overview(*first_half).summary.total == 100_000
    assert reports.build_overview(*year).summary.total == 400_000
    add_takings(bakery, spring, 50_000)
    again = reports.build_overview(*first_half)
    assert (again.summary.total, again.summary.vendors) == (150_000, 2)
    assert [row.name for row in again.top_vendors] == ["햇살농장", "빵집"]
    assert again.best_day.total == 150_000 and again.best_day.market_date == spring.market_date
    whole = reports.build_overview(*year)
    assert (whole.summary.total, whole.summary.markets) == (450_000, 2)
    assert [row.total for row in whole.days] == [150_000, 300_000]
    exported = reports.build_report(*year)
    assert [row.total for row in exported.markets] == [150_000, 300_000]
    assert [row.total for row in exported.vendors] == [400_000, 50_000]
