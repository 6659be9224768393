"""The dashboard keeps its statements per day (market.home.dashboard,
market.booths.screens, market.takings): a kept statement never outlives its
day. The next market, the latest market day and this year's takings follow
the clock from one request to the next, and the figures follow the data."""

from datetime import date

from market.extensions import db
from market.markets import services
from market.markets.models import MarketStatus
from tests.markets_factories import make_market, make_venue
from tests.takings_factories import add_takings
from tests.vendors_factories import make_vendor


def test_the_dashboard_follows_the_day_and_the_data(clock, client, staff, login_as):
    venue, vendor = make_venue("경기도청", 10), make_vendor("햇살농장")
    first = make_market(venue, date(2026, 12, 3))
    second = make_market(venue, date(2026, 12, 10))
    for market in (first, second):
        services.change_status(market, MarketStatus.OPEN)
    db.session.commit()
    login_as(staff)

    clock.seoul(2026, 12, 1, 10, 0)
    page = client.get("/staff/").get_data(as_text=True)
    assert f"/staff/markets/{first.id}/booths" in page
    assert "올해 매출" not in page

    add_takings(vendor, first, 1_230_000)
    clock.seoul(2026, 12, 4, 10, 0)  # the day after the first market
    page = client.get("/staff/").get_data(as_text=True)
    assert f"/staff/markets/{second.id}/booths" in page
    assert f"/staff/markets/{first.id}/booths" not in page.split("다음 장터")[-1]
    assert "올해 매출: ₩1,230,000" in page

    add_takings(vendor, second, 770_000)
    clock.seoul(2026, 12, 11, 10, 0)
    page = client.get("/staff/").get_data(as_text=True)
    assert "올해 매출: ₩2,000,000" in page
    assert f"/staff/markets/{second.id}/booths" not in page.split("다음 장터")[-1]
