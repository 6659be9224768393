"""The takings report: its sums equal the entries (property-based), it runs a
fixed number of queries over ten years of weekly markets, and its charts
have text alternatives with the numbers also in tables."""

from collections import defaultdict
from datetime import date, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select

from market.extensions import db
from market.markets.models import Market, MarketStatus
from market.markets.services import default_deadline
from market.takings import charts, reports
from market.takings.models import Takings
from market.vendors.models import Category, EnterpriseType
from tests.markets_factories import make_market, make_venue
from tests.takings_factories import add_takings
from tests.vendors_factories import make_vendor

DAYS = (date(2025, 3, 6), date(2025, 3, 13), date(2025, 4, 3), date(2025, 5, 1), date(2026, 1, 8))
KINDS = (
    (Category.FOOD, EnterpriseType.SOCIAL),
    (Category.FOOD, EnterpriseType.VILLAGE),
    (Category.CRAFTS, EnterpriseType.VILLAGE),
    (Category.ELECTRONICS, EnterpriseType.COOPERATIVE),
    (Category.OTHER, EnterpriseType.OTHER),  # same value "other" in two enums
)


def half_up(total: int, count: int) -> int:
    return (2 * total + count) // (2 * count) if count else 0


@pytest.fixture
def world(app):
    venues = [make_venue("경기도청"), make_venue("수원시청")]
    markets = [make_market(venues[i % 2], day) for i, day in enumerate(DAYS)]
    vendors = [
        make_vendor(f"기업{n}", category=category, enterprise_type=kind)
        for n, (category, kind) in enumerate(KINDS)
    ]
    return venues, markets, vendors


entries_strategy = st.dictionaries(
    keys=st.tuples(st.integers(0, len(KINDS) - 1), st.integers(0, len(DAYS) - 1)),
    values=st.integers(0, 30_000_000),
    max_size=18,
)
periods = st.sampled_from(
    [
        (date(2025, 1, 1), date(2025, 12, 31)),
        (date(2025, 3, 13), date(2025, 4, 3)),
        (date(2024, 1, 1), date(2026, 12, 31)),
        (date(2025, 6, 1), date(2025, 6, 30)),
    ]
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(entries=entries_strategy, period=periods)
def test_report_sums_equal_the_entries(world, entries, period):
    venues, markets, vendors = world
    db.session.execute(delete(Takings))
    for (v, m), amount in entries.items():
        db.session.add(Takings(vendor_id=vendors[v].id, market_id=markets[m].id, amount=amount))
    db.session.commit()
    start, end = period
    inside = {(v, m): a for (v, m), a in entries.items() if start <= DAYS[m] <= end}
    report = reports.build_report(start, end)

    total = sum(inside.values())
    per_market, per_vendor = defaultdict(list), defaultdict(list)
    per_category, per_type, per_venue = defaultdict(int), defaultdict(int), defaultdict(int)
    for (v, m), amount in inside.items():
        per_market[m].append(amount)
        per_vendor[v].append(amount)
        per_category[KINDS[v][0]] += amount
        per_type[KINDS[v][1]] += amount
        per_venue[m % 2] += amount
    summary = report.summary
    assert summary.total == total and summary.entries == len(inside)
    assert summary.markets == len(per_market) and summary.vendors == len(per_vendor)
    assert summary.average_per_entry == half_up(total, len(inside))
    market_totals = [sum(a) for a in per_market.values()]
    assert summary.average_per_market == half_up(sum(market_totals), len(market_totals))

    assert [(r.market_date, r.total, r.entries, r.average) for r in report.markets] == [
        (DAYS[m], sum(a), len(a), half_up(sum(a), len(a))) for m, a in sorted(per_market.items())
    ]
    assert {r.name: (r.total, r.markets, r.average, r.best) for r in report.vendors} == {
        vendors[v].name: (sum(a), len(a), half_up(sum(a), len(a)), max(a))
        for v, a in per_vendor.items()
    }
    assert {r.key: r.total for r in report.categories} == dict(per_category)
    assert {r.key: r.total for r in report.enterprise_types} == dict(per_type)
    assert {r.label: r.total for r in report.venues} == {
        venues[i].name: amount for i, amount in per_venue.items()
    }
    assert sum(r.total for r in report.months) == total
    if per_market:
        best = max(report.markets, key=lambda r: (r.total, -r.market_date.toordinal()))
        assert report.best_day == best
    else:
        assert report.best_day is None and report.markets == []


def test_averages_round_half_up_to_whole_won_on_every_database(world):
    _venues, markets, vendors = world
    add_takings(vendors[0], markets[0], 1_000_001)
    add_takings(vendors[1], markets[0], 1_000_002)
    report = reports.build_report(date(2025, 3, 1), date(2025, 3, 31))
    assert report.markets[0].average == 1_000_002
    assert report.summary.average_per_entry == 1_000_002
    assert isinstance(report.summary.total, int) and report.summary.total == 2_000_003


def _ten_years_of_weekly_markets(vendor_count: int = 6) -> None:
    """520 weekly markets with 6 entries each, written in bulk."""
    venues = [make_venue(name) for name in ("경기도청", "경기남부경찰청", "수원시청")]
    vendors = [make_vendor(f"기업{n}", category=KINDS[n % 5][0]) for n in range(vendor_count)]
    first = date(2016, 1, 7)
    db.session.execute(
        insert(Market),
        [
            {
                "market_date": first + timedelta(weeks=week),
                "start_time": time(10),
                "end_time": time(15),
                "venue_id": venues[week % 3].id,
                "booth_count": 8,
                "application_deadline": default_deadline(first + timedelta(weeks=week)),
                "takings_ceiling": 30_000_000,
                "status": MarketStatus.CLOSED,
                "uid": f"market-{week}@test",
                "sequence": 0,
            }
            for week in range(520)
        ],
    )
    market_ids = db.session.scalars(select(Market.id)).all()
    db.session.execute(
        insert(Takings),
        [
            {"vendor_id": v.id, "market_id": m, "amount": 500_000 + 1_000 * ((m * 7 + v.id) % 900)}
            for m in market_ids
            for v in vendors
        ],
    )
    db.session.commit()


def _report_queries(client, count_queries, start: str, end: str) -> tuple[int, str]:
    with count_queries() as counter:
        response = client.get(f"/staff/takings/report?start={start}&end={end}")
    assert response.status_code == 200
    return counter.count, response.get_data(as_text=True)


def test_ten_years_of_weekly_markets_cost_no_more_queries_than_one(
    client, login_as, staff, count_queries
):
    login_as(staff)
    market = make_market(make_venue("용인시청"), date(2015, 6, 4))
    add_takings(make_vendor("처음기업"), market, 1_000_000)
    small, _page = _report_queries(client, count_queries, "2015-01-01", "2015-12-31")
    _ten_years_of_weekly_markets()
    large, page = _report_queries(client, count_queries, "2015-01-01", "2025-12-31")
    assert large == small <= 12, (small, large)
    assert "날짜 순으로 장터 521개 중 1~50번째입니다." in page  # the table comes a page at a time
    assert "월별 매출" in page  # so many days are charted per month


def test_the_report_page_has_charts_with_text_alternatives_and_tables(
    client, login_as, staff, world
):
    _venues, markets, vendors = world
    add_takings(vendors[0], markets[0], 2_500_000)
    add_takings(vendors[3], markets[1], 4_000_000)
    login_as(staff)
    page = client.get("/staff/takings/report?start=2025-01-01&end=2025-12-31").get_data(
        as_text=True
    )
    assert page.count('role="img"') == 5
    assert '<title id="chart-markets-title">장터별 매출</title>' in page
    assert "가장 많은 값은 ₩4,000,000" in page  # the <desc>
    assert "₩6,500,000" in page and "₩4,000,000" in page  # tables too
    assert "최고 매출일: 2025년 3월 13일 (목), 수원시청" in page
    assert "2025년" in page  # the season shortcut


def test_short_labels_and_nice_steps():
    assert charts.short_won(30_000_000) == "3,000만"
    assert charts.short_won(120_000_000) == "1.2억"
    assert charts.short_won(30_000_000, "en") == "30M"
    assert charts.short_won(500) == "500"
    steps = [charts.nice_step(n) for n in (0, 31_000_000, 7_500_000, 900_000)]
    assert steps == [1, 10_000_000, 2_000_000, 250_000]


def test_columns_thin_their_labels_and_keep_the_latest():
    items = [charts.Item(label=f"{n}", value=n * 1000) for n in range(26)]
    chart = charts.columns("c", "t", "d", items)
    shown = [shape.item.label for shape in chart.shapes if shape.show_label]
    assert shown[-1] == "25" and 5 <= len(shown) < 26
    assert all(shape.y + shape.height == pytest.approx(chart.baseline) for shape in chart.shapes)
