"""The public directory, bounded queries on the vendor pages, and demo data."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from market.demo import seed_demo
from market.extensions import db
from market.markets import services as markets
from market.markets.models import MarketStatus
from market.validators import (
    business_number_valid,
    format_business_number,
    format_phone,
    parse_phone,
)
from market.vendors.models import Application, ApplicationStatus, Category, Vendor, VendorStatus
from tests.markets_factories import make_market, make_venue, next_thursday
from tests.vendors_factories import make_application, make_vendor, make_vendor_login, today


def test_directory_shows_approved_enterprises_and_nothing_private(client):
    shown = make_vendor(
        "행복플러스",
        business_number="1248100998",
        phone="+821098765432",
        email="private@happy.example.kr",
        category=Category.CLOTHING,
        description="국내에서 만든 양말",
        shop_url="https://shop.example.kr/happy",
    )
    make_vendor("검토중기업", status="pending")
    make_vendor("반려된기업", status="rejected")
    make_vendor("정지된기업", status="suspended")
    page = client.get("/vendors/").get_data(as_text=True)
    assert "행복플러스" in page and "국내에서 만든 양말" in page
    assert "의류·잡화" in page and "마을기업" in page
    assert 'href="https://shop.example.kr/happy"' in page
    for hidden in ("검토중기업", "반려된기업", "정지된기업"):
        assert hidden not in page
    for private in (
        shown.business_number,
        format_business_number(shown.business_number),
        shown.phone,
        format_phone(shown.phone),
        "98765432",
        shown.email,
        shown.contact_name,
    ):
        assert private not in page


def test_directory_filters_by_category_and_pages(client):
    for n in range(23):
        make_vendor(f"식품기업{n:02d}", category=Category.FOOD)
    make_vendor("공예기업", category=Category.CRAFTS)
    crafts = client.get("/vendors/?category=crafts").get_data(as_text=True)
    assert "공예기업" in crafts and "식품기업" not in crafts
    food = client.get("/vendors/?category=food").get_data(as_text=True)
    assert "식품기업00" in food and "식품기업19" in food and "식품기업20" not in food
    assert "다음" in food
    second = client.get("/vendors/?category=food&page=2").get_data(as_text=True)
    assert "식품기업22" in second and "공예기업" not in second
    assert client.get("/vendors/?category=nonsense").status_code == 200


def _fill(venue, vendors: int, weeks: int, own=None):
    """Vendors (half approved, some certifications expiring) applying for one
    open and one past market; `own` applies too."""
    market = make_market(venue, next_thursday(today(), weeks=weeks))
    markets.change_status(market, MarketStatus.OPEN)
    past = make_market(venue, next_thursday(today(), weeks=-weeks))
    db.session.commit()
    made = []
    for n in range(vendors):
        vendor = make_vendor(
            f"기업{weeks}-{n}",
            status="approved" if n % 2 else "pending",
            cert_expires_on=today() + timedelta(days=10 + n),
        )
        made.append(vendor)
    for vendor in [*made, *([own] if own else [])]:
        make_application(vendor, market)
        make_application(vendor, past, status=ApplicationStatus.ASSIGNED)
    return market, made


@pytest.fixture
def venue(app):
    return make_venue("경기도청", 10)


@pytest.mark.parametrize(
    "url",
    [
        "/vendors/",
        "/staff/vendors/?status=all",
        "/staff/vendors/",
        "/staff/vendors/expiring",
        "/staff/markets/{market}/applications",
        "/staff/vendors/{vendor}",
        "/vendor/",
        "/vendor/history",
        "/staff/",
    ],
)
def test_pages_issue_a_bounded_number_of_queries(
    client, login_as, staff, venue, count_queries, url
):
    own = make_vendor("우리기업")
    market, _made = _fill(venue, 3, weeks=1, own=own)
    login_as(make_vendor_login(own) if url.startswith("/vendor/") else staff)
    target = url.format(market=market.id, vendor=own.id)
    with count_queries() as small:
        assert client.get(target).status_code == 200
    for weeks in (2, 3):
        _fill(venue, 10, weeks=weeks, own=own)
    more = [make_application(vendor, market) for vendor in _fill(venue, 10, weeks=5)[1]]
    assert more
    with count_queries() as large:
        assert client.get(target).status_code == 200
    assert large.count == small.count, large.statements


def test_seed_demo_vendors_twice_creates_nothing_twice(app):
    seed_demo()
    db.session.commit()
    vendors = db.session.scalar(select(func.count()).select_from(Vendor))
    applications = db.session.scalar(select(func.count()).select_from(Application))
    assert 18 <= vendors <= 25 and applications > 20
    seed_demo()
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Vendor)) == vendors
    assert db.session.scalar(select(func.count()).select_from(Application)) == applications


def test_demo_vendors_are_believable(app, client):
    seed_demo()
    db.session.commit()
    everyone = db.session.scalars(select(Vendor)).all()
    names = {vendor.name for vendor in everyone}
    assert {"한국컴퓨터재생센터", "행복플러스", "잔다리마을공동체"} <= names
    assert all(business_number_valid(vendor.business_number) for vendor in everyone)
    assert all(parse_phone(vendor.phone) == vendor.phone for vendor in everyone)
    assert len({vendor.category for vendor in everyone}) == len(Category)
    assert len({vendor.enterprise_type for vendor in everyone}) >= 7
    assert any(vendor.status is VendorStatus.PENDING for vendor in everyone)
    assert any(
        vendor.status is VendorStatus.APPROVED and not vendor.certification_valid_on(today())
        for vendor in everyone
    )
    login = client.post(
        "/account/login", data={"email": "vendor@demo.market.kr", "password": "market-demo-1234"}
    )
    assert login.status_code == 302
    page = client.get("/vendor/").get_data(as_text=True)
    assert "잔다리마을공동체" in page and "참가 신청을 받는 장터" in page
