"""Takings pages by who is asking: anonymous, the vendor, another vendor, staff.

A vendor reaches takings only through its own enterprise: another
enterprise's market day is a 404, staff pages a 403, and no page shows
another enterprise's amounts."""

import pytest
from sqlalchemy import func, select

from market.extensions import db
from market.takings.models import Takings
from tests.takings_factories import add_takings, days_ago, market_on, vendor_at


@pytest.fixture
def day(app):
    """Yesterday's market: ours (entered), theirs (not yet) and a third party's."""
    market = market_on(days_ago(1))
    mine, my_login = vendor_at(market, "우리기업")
    theirs, their_login = vendor_at(market, "남의기업")
    add_takings(mine, market, 1_111_000, sales_count=37)
    other_market = market_on(days_ago(2))
    third, _ = vendor_at(other_market, "셋째기업")
    add_takings(third, other_market, 9_999_000)
    return {
        "market": market,
        "other_market": other_market,
        "mine": mine,
        "my_login": my_login,
        "theirs": theirs,
        "their_login": their_login,
        "third": third,
    }


def _pages(day) -> dict[str, tuple[str, str]]:
    market, other = day["market"].id, day["other_market"].id
    return {
        "vendor_home": ("vendor", "/vendor/takings/"),
        "vendor_entry": ("vendor", f"/vendor/takings/{market}"),
        "market_day": ("staff", f"/staff/markets/{market}/takings"),
        "staff_entry": ("staff", f"/staff/markets/{market}/takings/{day['mine'].id}"),
        "ceiling": ("staff", f"/staff/markets/{market}/takings/ceiling"),
        "report": ("staff", "/staff/takings/report"),
        "csv": ("staff", "/staff/takings/report.csv"),
        "xlsx": ("staff", "/staff/takings/report.xlsx"),
        "other_market_entry": ("vendor-elsewhere", f"/vendor/takings/{other}"),
    }


GET_PAGES = ["vendor_home", "vendor_entry", "market_day", "staff_entry", "report", "csv", "xlsx"]


@pytest.mark.parametrize("page", GET_PAGES)
def test_anonymous_visitors_are_sent_to_log_in(client, day, page):
    _kind, url = _pages(day)[page]
    response = client.get(url)
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


@pytest.mark.parametrize("page", [*GET_PAGES, "other_market_entry"])
def test_each_page_by_role(client, login_as, staff, day, page):
    kind, url = _pages(day)[page]
    expected = {"vendor": (200, 403), "staff": (403, 200), "vendor-elsewhere": (404, 403)}[kind]
    login_as(day["my_login"])
    assert client.get(url).status_code == expected[0]
    client.post("/account/logout")
    login_as(staff)
    assert client.get(url).status_code == expected[1]


def test_a_vendor_cannot_write_another_vendors_takings(client, login_as, day):
    login_as(day["my_login"])
    other = day["other_market"].id
    assert client.post(f"/vendor/takings/{other}", data={"amount": "1"}).status_code == 404
    staff_url = f"/staff/markets/{day['market'].id}/takings/{day['theirs'].id}"
    assert client.post(staff_url, data={"amount": "1"}).status_code == 403
    ceiling = {"new_ceiling": "99,000,000", "reason": "x"}
    assert client.post(_pages(day)["ceiling"][1], data=ceiling).status_code == 403
    db.session.expire_all()
    amounts = dict(db.session.execute(select(Takings.vendor_id, Takings.amount)).all())
    assert amounts == {day["mine"].id: 1_111_000, day["third"].id: 9_999_000}


def test_a_vendor_sees_only_its_own_takings(client, login_as, day):
    login_as(day["their_login"])
    history = client.get("/vendor/takings/").get_data(as_text=True)
    entry = client.get(f"/vendor/takings/{day['market'].id}").get_data(as_text=True)
    for page in (history, entry):
        assert "1,111,000" not in page and "9,999,000" not in page
    assert "아직 입력 안 함" in history
    client.post("/account/logout")
    login_as(day["my_login"])
    history = client.get("/vendor/takings/").get_data(as_text=True)
    assert "₩1,111,000" in history and "9,999,000" not in history
    assert 'role="img"' in history and "<desc" in history


def test_vendor_home_invites_to_enter_takings(client, login_as, day):
    login_as(day["their_login"])
    page = client.get("/vendor/").get_data(as_text=True)
    assert "매출 입력" in page and f"/vendor/takings/{day['market'].id}" in page


def test_the_market_day_page_for_staff(client, login_as, staff, day):
    login_as(staff)
    page = client.get(f"/staff/markets/{day['market'].id}/takings").get_data(as_text=True)
    assert '<th scope="col" class="num">부스</th>' in page
    assert "₩1,111,000" in page and "₩30,000,000" in page
    assert '<progress class="ceiling-bar" max="30000000" value="1111000"' in page
    assert "아직 입력하지 않은 기업 (1)" in page and "남의기업" in page
    assert "참여기업 2곳 중 1곳이 입력했습니다." in page
    assert "일일 매출 한도 올리기" in page


def test_staff_correct_with_a_reason_on_the_page(client, login_as, staff, day):
    login_as(staff)
    url = f"/staff/markets/{day['market'].id}/takings/{day['mine'].id}"
    page = client.post(url, data={"amount": "1,200,000"}).get_data(as_text=True)
    assert "매출을 수정하는 사유를 적어 주세요." in page
    response = client.post(url, data={"amount": "1,200,000", "reason": "영수증 확인"})
    assert response.status_code == 302
    theirs = f"/staff/markets/{day['market'].id}/takings/{day['theirs'].id}"
    assert client.post(theirs, data={"amount": "800,000"}).status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(func.sum(Takings.amount))) == 1_200_000 + 800_000 + 9_999_000


def test_the_staff_dashboard_shows_the_latest_market_day(client, login_as, staff, day):
    login_as(staff)
    page = client.get("/staff/").get_data(as_text=True)
    assert f"/staff/markets/{day['market'].id}/takings" in page
    assert "₩1,111,000" in page and "1곳 미입력" in page
