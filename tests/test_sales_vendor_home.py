"""Each enterprise sees its own two channels on its home (issue 19): this
year by Seoul month, market takings and matched online orders, the year's
totals and its three best market days; nothing about other enterprises."""

import re
from datetime import UTC, date, datetime
from itertools import count

import pytest

from market.customers.models import Order
from market.extensions import db
from market.timeutil import SEOUL
from tests.customer_factories import make_customer
from tests.takings_factories import add_takings, market_on, take_part
from tests.vendors_factories import make_vendor, make_vendor_login

_numbers = count(1)


def _order(vendor, when: datetime, amount: int, customer) -> None:
    db.session.add(
        Order(
            order_no=f"V{next(_numbers)}",
            customer_id=customer.id,
            ordered_at=when.astimezone(UTC),
            seller_name=vendor.name,
            product="두유",
            amount=amount,
            vendor_id=vendor.id,
        )
    )
    db.session.commit()


def _kst(*args) -> datetime:
    return datetime(*args, tzinfo=SEOUL)


def _sold(vendor, day: date, amount: int, venue_name: str | None = None):
    market = market_on(day)
    if venue_name:
        market.venue.name = venue_name
        db.session.commit()
    take_part(vendor, market)
    add_takings(vendor, market, amount)
    return market


@pytest.fixture
def mine(app, clock):
    """The enterprise of the login, its year worked out by hand (the clock
    stands at 2026-11-26 in Korea), and another enterprise at the same
    markets with figures that must never show."""
    vendor = make_vendor("잔다리마을공동체")
    other = make_vendor("행복플러스", shop_url="https://shop.example.kr/happy")
    buyer = make_customer("kim@example.com")
    # Market: 4,800,000 over four days in March, June and July; last year's
    # best day is not this year's.
    march = _sold(vendor, date(2026, 3, 5), 1_200_000, "경기도청 광장")
    _sold(vendor, date(2026, 3, 19), 800_000, "수원역 광장")
    june = _sold(vendor, date(2026, 6, 11), 2_500_000, "행궁동 공방거리")
    _sold(vendor, date(2026, 7, 2), 300_000)
    _sold(vendor, date(2025, 12, 11), 9_100_000)
    take_part(other, june)
    add_takings(other, june, 7_770_000)
    take_part(other, march)
    add_takings(other, march, 6_660_000)
    # Online: 111,000 in four orders; 23:30 on 30 April in Korea is April,
    # 00:10 on 1 May is May, though both are 30 April in UTC.
    _order(vendor, _kst(2026, 4, 30, 23, 30), 50_000, buyer)
    _order(vendor, _kst(2026, 5, 1, 0, 10), 30_000, buyer)
    _order(vendor, _kst(2026, 5, 15, 12, 0), 20_000, buyer)
    _order(vendor, _kst(2026, 1, 1, 0, 30), 11_000, buyer)
    _order(vendor, _kst(2025, 12, 31, 23, 30), 70_000, buyer)  # last year
    _order(other, _kst(2026, 4, 10, 12, 0), 9_870_000, buyer)
    return vendor, other


def _section(page: str) -> str:
    return page[page.index('id="my-sales-heading"') : page.index('id="open-heading"')]


def _months(section: str) -> dict[str, tuple[str, str]]:
    rows = re.findall(
        r'<th scope="row">(\d+)월</th><td class="num">([^<]*)</td><td class="num">([^<]*)</td>',
        section,
    )
    return {month: (market, online) for month, market, online in rows}


def test_the_vendor_sees_its_two_channels_this_year(client, login_as, mine):
    vendor, _other = mine
    login_as(make_vendor_login(vendor))
    page = client.get("/vendor/").get_data(as_text=True)
    section = _section(page)
    assert "2026년 매출" in section
    assert "₩4,800,000" in section and "장터 4회" in section
    assert "₩111,000" in section and "주문 4건" in section
    assert "₩4,911,000" in section
    months = _months(section)
    assert list(months) == [str(m) for m in range(1, 12)]  # January to this month
    assert months["1"] == ("₩0", "₩11,000")
    assert months["3"] == ("₩2,000,000", "₩0")
    assert months["4"] == ("₩0", "₩50,000")  # 23:30 on the month's last day
    assert months["5"] == ("₩0", "₩50,000")
    assert months["6"] == ("₩2,500,000", "₩0")
    assert months["7"] == ("₩300,000", "₩0")
    assert months["11"] == ("₩0", "₩0")
    best = re.findall(r"<li><strong>(₩[\d,]+)</strong> · ([^·]+) · ([^<]+)</li>", section)
    assert [(amount, venue.strip()) for amount, _day, venue in best] == [
        ("₩2,500,000", "행궁동 공방거리"),
        ("₩1,200,000", "경기도청 광장"),
        ("₩800,000", "수원역 광장"),
    ]
    assert "2026년 6월 11일" in best[0][1]
    assert (
        '<svg viewBox="0 0 360' in section and "bar-online" in section and "bar-offline" in section
    )


def test_another_enterprises_figures_never_show(client, login_as, mine):
    vendor, other = mine
    login_as(make_vendor_login(vendor))
    page = client.get("/vendor/").get_data(as_text=True)
    for amount in ("7,770,000", "6,660,000", "9,870,000", "9,100,000", "70,000"):
        assert amount not in page
    assert other.name not in page
    client.post("/account/logout")
    login_as(make_vendor_login(other))
    theirs = _section(client.get("/vendor/").get_data(as_text=True))
    assert "₩14,430,000" in theirs and "₩9,870,000" in theirs
    assert "₩4,800,000" not in theirs and "₩2,500,000" not in theirs


def test_a_new_enterprise_sees_zeros_and_no_best_days(client, login_as, clock):
    vendor = make_vendor("새기업")
    login_as(make_vendor_login(vendor))
    section = _section(client.get("/vendor/").get_data(as_text=True))
    assert "올해 입력한 매출이 아직 없습니다" in section
    assert set(_months(section).values()) == {("₩0", "₩0")}


def test_the_home_runs_the_same_statements_however_much_was_sold(
    client, login_as, clock, count_queries
):
    vendor = make_vendor("잔다리마을공동체")
    login_as(make_vendor_login(vendor))
    with count_queries() as small:
        assert client.get("/vendor/").status_code == 200
    buyer = make_customer("kim@example.com")
    for month in range(1, 11):
        _sold(vendor, date(2026, month, 2), 100_000 * month)
        for day in (3, 4, 5):
            _order(vendor, _kst(2026, month, day, 12, 0), 10_000, buyer)
    with count_queries() as large:
        assert client.get("/vendor/").status_code == 200
    assert large.count == small.count, large.statements


def test_staff_have_no_vendor_home(client, login_as, staff, mine):
    login_as(staff)
    response = client.get("/vendor/")
    assert response.status_code == 403
    assert "₩4,800,000" not in response.get_data(as_text=True)
