"""The vendor's home, its private calendar feed, and ownership between enterprises."""

from datetime import timedelta

import pytest
from icalendar import Calendar

from market.extensions import db
from market.markets import services as markets
from market.markets.models import MarketStatus
from market.vendors.models import ApplicationStatus, Vendor
from tests.markets_factories import make_market, make_venue, next_thursday
from tests.vendors_factories import make_application, make_vendor, make_vendor_login, today


@pytest.fixture
def venue(app):
    return make_venue("경기도청", 10)


@pytest.fixture
def two_vendors(venue):
    """Two enterprises, each with an application of each kind of interest."""
    upcoming = make_market(venue, next_thursday(today(), weeks=2))
    markets.change_status(upcoming, MarketStatus.OPEN)
    past = make_market(venue, next_thursday(today(), weeks=-3))
    later = make_market(venue, next_thursday(today(), weeks=5))
    db.session.commit()
    mine, theirs = make_vendor("우리기업"), make_vendor("남의기업")
    apps = {
        "mine_upcoming": make_application(mine, upcoming, note="우리 메모"),
        "mine_past": make_application(mine, past, status=ApplicationStatus.ASSIGNED),
        "mine_later": make_application(mine, later, status=ApplicationStatus.ASSIGNED),
        "theirs_upcoming": make_application(theirs, upcoming, note="남의 메모"),
        "theirs_later": make_application(theirs, later, status=ApplicationStatus.WITHDRAWN),
    }
    extra = make_market(venue, next_thursday(today(), weeks=6))
    apps["theirs_only"] = make_application(theirs, extra, status=ApplicationStatus.ASSIGNED)
    return mine, theirs, apps, {"upcoming": upcoming, "past": past, "later": later, "extra": extra}


def test_after_login_a_vendor_lands_on_its_home(client, login_as):
    login_as(make_vendor_login(make_vendor()))
    response = client.get("/home")
    assert response.headers["Location"].endswith("/vendor/")


def test_a_vendor_login_without_an_enterprise_is_told_so(client, login_as, vendor_user):
    login_as(vendor_user)
    page = client.get("/vendor/").get_data(as_text=True)
    assert "아직 참여기업과 연결되지 않았습니다" in page
    assert client.get("/vendor/profile").status_code == 404


def test_home_shows_upcoming_applications_past_markets_and_the_feed(client, login_as, two_vendors):
    mine, _theirs, _apps, days = two_vendors
    login_as(make_vendor_login(mine))
    page = client.get("/vendor/").get_data(as_text=True)
    assert "다가오는 내 장터" in page and "지난 장터" in page
    assert "우리 메모" in page and "남의 메모" not in page
    assert "부스 배정" in page  # the later market's status
    assert f"/vendors/feed/{mine.feed_token}.ics" in page
    assert "webcal://" in page
    history = client.get("/vendor/history").get_data(as_text=True)
    assert f"{days['past'].market_date.month}월 {days['past'].market_date.day}일" in history


def _feed(client, vendor) -> Calendar:
    response = client.get(f"/vendors/feed/{vendor.feed_token}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "private" in response.headers["Cache-Control"]
    return Calendar.from_ical(response.data)


def test_private_feed_lists_only_the_vendors_own_assigned_markets(client, two_vendors):
    mine, theirs, _apps, days = two_vendors
    calendar = _feed(client, mine)
    assert calendar["X-WR-CALNAME"] == "굿모닝장터 · 우리기업"
    uids = {str(event["UID"]) for event in calendar.walk("VEVENT")}
    assert uids == {days["past"].uid, days["later"].uid}  # not the applied or theirs
    theirs_uids = {str(event["UID"]) for event in _feed(client, theirs).walk("VEVENT")}
    assert theirs_uids == {days["extra"].uid}


def test_a_new_token_makes_the_old_address_404(client, login_as, two_vendors):
    mine, *_ = two_vendors
    old = mine.feed_token
    login_as(make_vendor_login(mine))
    confirm = client.get("/vendor/feed-token").get_data(as_text=True)
    assert "지금 주소는 바로 쓸 수 없게" in confirm
    response = client.post("/vendor/feed-token")
    assert response.status_code == 302
    db.session.expire_all()
    new = db.session.get(Vendor, mine.id).feed_token
    assert new != old and len(new) >= 32
    assert client.get(f"/vendors/feed/{old}.ics").status_code == 404
    assert client.get(f"/vendors/feed/{new}.ics").status_code == 200
    assert client.get("/vendors/feed/guess.ics").status_code == 404


def test_a_vendor_cannot_see_or_change_another_vendors_data(client, login_as, two_vendors, staff):
    mine, theirs, apps, days = two_vendors
    login_as(make_vendor_login(mine))
    theirs_app = apps["theirs_upcoming"]
    for method, url in [
        ("GET", f"/vendor/applications/{theirs_app.id}/withdraw"),
        ("POST", f"/vendor/applications/{theirs_app.id}/withdraw"),
        ("GET", f"/vendor/applications/{apps['theirs_only'].id}/withdraw"),
    ]:
        assert client.open(url, method=method).status_code == 404, url
    for method, url in [
        ("GET", f"/staff/vendors/{theirs.id}"),
        ("GET", f"/staff/vendors/{theirs.id}/edit"),
        ("POST", f"/staff/vendors/{theirs.id}/edit"),
        ("POST", f"/staff/vendors/{theirs.id}/decide"),
        ("GET", f"/staff/markets/{days['upcoming'].id}/applications"),
        ("POST", f"/staff/applications/{theirs_app.id}/status"),
    ]:
        assert client.open(url, method=method, data={}).status_code == 403, url
    # the profile page has no id: it is always the signed-in vendor's own
    profile = client.get("/vendor/profile").get_data(as_text=True)
    assert "우리기업" in profile and "남의기업" not in profile
    db.session.expire_all()
    assert db.session.get(type(theirs_app), theirs_app.id).status is ApplicationStatus.APPLIED
    assert db.session.get(Vendor, theirs.id).name == "남의기업"


def test_staff_cannot_use_the_vendor_pages(client, login_as, staff):
    login_as(staff)
    assert client.get("/vendor/").status_code == 403


def test_market_days_more_than_90_days_ago_leave_the_feed(client, venue):
    vendor = make_vendor()
    old = make_market(venue, next_thursday(today() - timedelta(days=140)))
    make_application(vendor, old, status=ApplicationStatus.ASSIGNED)
    assert _feed(client, vendor).walk("VEVENT") == []
