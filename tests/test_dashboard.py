"""The staff dashboard: the next market at a glance, in a bounded number of queries."""

from datetime import date, timedelta

from market.extensions import db
from market.markets import services
from market.markets.models import MarketStatus
from market.timeutil import SEOUL, utcnow
from tests.markets_factories import make_market, make_venue, next_thursday
from tests.takings_factories import add_takings
from tests.vendors_factories import make_application, make_vendor


def _markets(count: int):
    venue = make_venue(f"장소 {count}", 10)
    today = utcnow().astimezone(SEOUL).date()
    markets = [make_market(venue, next_thursday(today, weeks=n)) for n in range(count)]
    services.change_status(markets[0], MarketStatus.OPEN)
    db.session.commit()
    return markets


def test_dashboard_shows_the_next_market(client, staff, login_as):
    first = _markets(2)[0]
    for n in range(3):
        make_application(make_vendor(f"기업 {n}"), first)
    login_as(staff)
    page = client.get("/staff/").get_data(as_text=True)
    assert "다음 장터" in page and first.venue.name in page
    assert "남음" in page  # the deadline countdown
    assert f"/staff/markets/{first.id}/booths" in page
    assert f"/staff/markets/{first.id}/invitations" in page


def test_dashboard_queries_do_not_grow_with_the_data(client, staff, login_as, count_queries):
    markets = _markets(3)
    login_as(staff)
    with count_queries() as small:
        assert client.get("/staff/").status_code == 200
    for n in range(30):
        make_application(make_vendor(f"기업 {n}"), markets[0])
    more = _markets(40)
    assert more
    with count_queries() as large:
        assert client.get("/staff/").status_code == 200
    assert large.count == small.count <= 9, (small.count, large.count)


def _takings_this_year(days: int, amount: int, venue: str) -> int:
    """`days` weekly market days from the first Thursday of this year, one entry each."""
    today = utcnow().astimezone(SEOUL).date()
    first = next_thursday(date(today.year, 1, 1) - timedelta(days=1))
    venue, vendor = make_venue(venue, 10), make_vendor(f"{venue} 기업")
    for week in range(days):
        add_takings(vendor, make_market(venue, first + timedelta(weeks=week)), amount)
    return days * amount


def test_this_years_takings_are_one_query_for_a_few_days_or_many(
    clock, client, staff, login_as, count_queries
):
    clock.seoul(2026, 11, 26)  # late enough in the year for thirty past market days
    login_as(staff)
    total = _takings_this_year(3, 1_000_000, "경기도청")
    with count_queries() as few:
        page = client.get("/staff/").get_data(as_text=True)
    assert f"올해 매출: ₩{total:,}" in page and "장터별 매출" in page
    total += _takings_this_year(30, 2_000_000, "수원시청")
    with count_queries() as many:
        page = client.get("/staff/").get_data(as_text=True)
    assert f"올해 매출: ₩{total:,}" in page and "월별 매출" in page  # charted by month
    assert many.count == few.count


def test_the_next_markets_funnel_line_keeps_each_separator_with_its_figure(client, staff, login_as):
    """At 360 px the line wrapped as '… 미정 0 / ↵ / 불참 0': each figure, its
    label and the separator before it are one unbreakable piece now, and the
    bar under the line has a legend for its colours."""
    from market.invitations.models import Invitation, InvitationStatus
    from tests.customer_factories import make_customer

    first = _markets(2)[0]
    for n, status in enumerate(
        (InvitationStatus.ACCEPTED, InvitationStatus.TENTATIVE, InvitationStatus.INVITED)
    ):
        customer = make_customer(f"funnel{n}@example.com", name=f"고객 {n}")
        db.session.add(Invitation(customer_id=customer.id, market_id=first.id, status=status))
    db.session.commit()
    login_as(staff)
    page = client.get("/staff/").get_data(as_text=True)
    steps = [
        '<span class="funnel-step">초대\u00a03</span>',
        '<span class="funnel-step">· 전달\u00a00</span>',
        '<span class="funnel-step">· 참석\u00a01</span>',
        '<span class="funnel-step">/ 미정\u00a01</span>',
        '<span class="funnel-step">/ 불참\u00a00</span>',
        '<span class="funnel-step">· 방문\u00a00</span>',
    ]
    assert " ".join(steps) in page
    assert 'class="funnel-legend"' in page
    for kind, label in (("invited", "초대함"), ("delivered", "전달됨"), ("visited", "방문함")):
        assert f'<span class="swatch funnel-bar-{kind}"></span>{label}</span>' in page
