"""Kept staff and vendor pages (market.core.signed_in_pages) and the clock.

A kept page is keyed by the data version and today's date in Seoul, so a
change of data or of day gives a new page by itself. What the key cannot see
is a page that changes at a moment of the day with no data changing: an
application deadline passing, the dashboard's hourly countdown, a market
starting (the ranking page's send bar). Each such view ends its kept page at
that moment (market.core.pagecache.valid_until). These tests move the clock
across each moment: up to it the page is served kept (no template is
rendered), from it on the next request shows the change. The last test
walks the clock across every such moment and compares each page with one
built afresh by a second app that keeps nothing: a clock rule no view
declared would show there."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import template_rendered
from hypothesis import given, settings
from hypothesis import strategies as st

from market import create_app
from market.extensions import db
from market.markets import services as markets
from market.markets.models import MarketStatus
from market.markets.services import starts_at
from market.timeutil import SEOUL, next_hour_tick
from market.vendors.models import ApplicationStatus
from tests.booths_factories import applicants
from tests.helpers import login
from tests.markets_factories import make_market, make_venue
from tests.test_invitations_pages import make_buyers
from tests.vendors_factories import make_application, make_vendor, make_vendor_login

TICK = timedelta(microseconds=1)
# Thursday 3 December 2026, 10:00-15:00; its default deadline is Monday
# 30 November, 18:00 Korea time (markets.services.default_deadline).
MARKET_DAY = date(2026, 12, 3)
DEADLINE = datetime(2026, 11, 30, 18, 0, tzinfo=SEOUL)


@pytest.fixture(autouse=True)
def _no_maximum_age(app):
    """These tests walk the clock over hours and days: only the pages' own
    clock rules end a kept page here, not STAFF_PAGE_MAX_AGE (its own test
    is in test_signed_in_pages_core.py)."""
    app.config["STAFF_PAGE_MAX_AGE"] = 30 * 24 * 3600


@pytest.fixture
def rendered(app):
    """The templates the app rendered: none for a page served kept."""
    names: list[str] = []

    def record(sender, template, context, **extra):
        names.append(template.name)

    template_rendered.connect(record, app)
    yield names
    template_rendered.disconnect(record, app)


# A CSRF token is signed with the real second: pages a second apart, or
# from two apps, differ there only.
CSRF = re.compile(r'(name="csrf_token"[^>]*value=|value=)"[A-Za-z0-9._-]{40,}"')


def _same(page: str) -> str:
    return CSRF.sub(r'\1"…"', page)


class Pages:
    def __init__(self, client, rendered):
        self.client, self.rendered = client, rendered
        # The login's welcome message shows on the next page, which is
        # therefore never kept: shown here, before the test's requests.
        assert b"flash flash-success" in client.get("/account/password").data

    def get(self, url: str) -> tuple[str, bool]:
        """The page's HTML and whether it was built (False: served kept)."""
        before = len(self.rendered)
        response = self.client.get(url)
        assert response.status_code == 200, url
        return _same(response.get_data(as_text=True)), len(self.rendered) > before

    def kept(self, url: str, page: str) -> None:
        again, built = self.get(url)
        assert not built, f"{url} was built again"
        assert again == page


def open_market_on(day: date = MARKET_DAY, **changes):
    market = make_market(make_venue(f"장소 {day}", 10), day, **changes)
    markets.change_status(market, MarketStatus.OPEN)
    db.session.commit()
    return market


def _card(page: str) -> str:
    """The dashboard's next-market card."""
    return page.split("다음 장터")[-1].split("</section>")[0]


# -- the countdown's own rule -------------------------------------------------------------


def _shown(left: timedelta) -> tuple[int, int]:
    """What home/staff.html prints of the time left: days and whole hours."""
    return left.days, left.seconds // 3600


@settings(max_examples=300, deadline=None)
@given(
    now=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1)),
    left=st.timedeltas(min_value=TICK, max_value=timedelta(days=40)),
)
def test_the_next_hour_tick_is_the_first_moment_the_countdown_changes(now, left):
    now = now.replace(tzinfo=UTC)
    until = now + left
    tick = next_hour_tick(until, now)
    assert now < tick <= until + TICK
    assert _shown(until - (tick - TICK)) == _shown(until - now)
    assert tick > until or _shown(until - tick) != _shown(until - now)
    assert next_hour_tick(until, until) is None


# -- the application deadline ------------------------------------------------------------


def test_booth_screen_drops_the_deadline_notice_at_the_deadline(
    clock, client, staff, login_as, rendered
):
    market = open_market_on()
    assert market.application_deadline == DEADLINE
    applicants(market, 5)
    pages, url = Pages(login_as(staff), rendered), f"/staff/markets/{market.id}/booths"
    notice = "아직 신청 마감 전입니다"

    clock.seoul(2026, 11, 30, 17, 0)
    page, built = pages.get(url)
    assert built and notice in page and "미리보기" in page
    pages.kept(url, page)
    clock.set(DEADLINE - TICK)
    pages.kept(url, page)

    clock.set(DEADLINE)
    page, built = pages.get(url)
    assert built and notice not in page and "미리보기" in page
    clock.seoul(2026, 11, 30, 23, 59)  # nothing changes by the clock any more that day
    pages.kept(url, page)


def test_dashboard_says_closed_from_the_deadline(clock, client, staff, login_as, rendered):
    open_market_on()
    pages = Pages(login_as(staff), rendered)

    clock.seoul(2026, 11, 30, 17, 30)
    page, built = pages.get("/staff/")
    assert built and "0일 0시간 남음" in _card(page)
    clock.set(DEADLINE - TICK)
    pages.kept("/staff/", page)

    clock.set(DEADLINE)
    page, built = pages.get("/staff/")
    assert built and "남음" not in _card(page)
    assert re.search(r"18:00 ·\s*마감</dd>", _card(page))
    clock.seoul(2026, 11, 30, 23, 59)
    pages.kept("/staff/", page)


def test_dashboard_countdown_changes_on_the_hour_and_is_kept_within_it(
    clock, client, staff, login_as, rendered
):
    open_market_on()
    pages = Pages(login_as(staff), rendered)

    clock.seoul(2026, 11, 27, 10, 30)  # 3 days 7 hours 30 minutes before the deadline
    page, built = pages.get("/staff/")
    assert built and "3일 7시간 남음" in _card(page)
    clock.seoul(2026, 11, 27, 10, 59)
    pages.kept("/staff/", page)
    clock.seoul(2026, 11, 27, 11, 0)  # exactly 3 days 7 hours: still so
    pages.kept("/staff/", page)

    clock.advance(microseconds=1)
    page, built = pages.get("/staff/")
    assert built and "3일 6시간 남음" in _card(page)
    clock.seoul(2026, 11, 27, 11, 45)
    pages.kept("/staff/", page)


def test_dashboard_follows_midnight_in_seoul(clock, client, staff, login_as, rendered):
    today = make_market(make_venue("오늘 장소", 10), date(2026, 11, 26))
    following = open_market_on()
    pages = Pages(login_as(staff), rendered)

    clock.seoul(2026, 11, 26, 23, 0)
    page, built = pages.get("/staff/")
    assert built and f"/staff/markets/{today.id}/booths" in _card(page)
    assert "방문객 입장 확인" in page
    clock.set(datetime(2026, 11, 27, tzinfo=SEOUL) - TICK)
    pages.kept("/staff/", page)

    clock.seoul(2026, 11, 27, 0, 0)  # 15:00 UTC: a new day in Korea only
    page, built = pages.get("/staff/")
    assert built and f"/staff/markets/{following.id}/booths" in _card(page)
    assert "방문객 입장 확인" not in page


def test_vendor_home_apply_and_withdraw_end_at_their_deadlines(clock, client, login_as, rendered):
    applied = open_market_on()  # deadline: DEADLINE
    other = open_market_on(date(2026, 12, 10))  # deadline: 7 December, 18:00
    booked = make_market(
        make_venue("배정 장소", 10),
        date(2026, 12, 17),
        application_deadline=datetime(2026, 12, 1, 12, 0, tzinfo=SEOUL),
    )
    booked.status = MarketStatus.ASSIGNED  # booths confirmed before its deadline
    db.session.commit()
    vendor = make_vendor("햇살농장")
    mine = make_application(vendor, applied)
    assigned = make_application(vendor, booked, status=ApplicationStatus.ASSIGNED)
    pages = Pages(login_as(make_vendor_login(vendor)), rendered)
    apply_other = f"/vendor/markets/{other.id}/apply"
    withdraw_mine = f"/vendor/applications/{mine.id}/withdraw"
    withdraw_assigned = f"/vendor/applications/{assigned.id}/withdraw"

    clock.seoul(2026, 11, 30, 17, 0)
    page, built = pages.get("/vendor/")
    assert built and withdraw_mine in page and withdraw_assigned in page and apply_other in page
    clock.set(DEADLINE - TICK)
    pages.kept("/vendor/", page)

    clock.set(DEADLINE)  # the first market leaves the open ones, with its button
    page, built = pages.get("/vendor/")
    assert built and withdraw_mine not in page
    assert withdraw_assigned in page and apply_other in page
    clock.seoul(2026, 11, 30, 23, 59)
    pages.kept("/vendor/", page)

    clock.seoul(2026, 12, 1, 11, 0)  # a new day: a new page
    page, built = pages.get("/vendor/")
    assert built and withdraw_assigned in page
    clock.set(datetime(2026, 12, 1, 12, 0, tzinfo=SEOUL) - TICK)
    pages.kept("/vendor/", page)

    clock.seoul(2026, 12, 1, 12, 0)  # the assigned market's own deadline
    page, built = pages.get("/vendor/")
    assert built and withdraw_assigned not in page and apply_other in page
    pages.kept("/vendor/", page)


# -- the market's start --------------------------------------------------------------------


def test_ranking_send_bar_closes_when_the_market_starts(clock, client, staff, login_as, rendered):
    clock.seoul(2026, 12, 3, 9, 0)
    market = make_market(make_venue("경기도청", 10), MARKET_DAY)
    make_buyers(market)
    pages, url = Pages(login_as(staff), rendered), f"/staff/markets/{market.id}/invitations"
    closed = "초대는 아직 열리지 않은 장터에만 보낼 수 있습니다."
    pages.get(url)  # the first visit ranks and stores the ranking: a write

    page, built = pages.get(url)
    assert built and 'class="send-bar"' in page and closed not in page
    clock.set(starts_at(market) - TICK)
    pages.kept(url, page)

    clock.set(starts_at(market))
    page, built = pages.get(url)
    assert built and 'class="send-bar"' not in page and closed in page
    clock.seoul(2026, 12, 3, 21, 30)  # past the sending hours, too: nothing shows them
    pages.kept(url, page)


# -- every page against a build from scratch, across every moment --------------------------


@pytest.fixture
def fresh(app, app_config):
    """A second app on the same database that keeps no page."""
    other = create_app({**app_config, "STAFF_PAGE_CACHE": False})
    other.test_client_class = app.test_client_class
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


# The moments the six pages' clock rules turn at, each with the minute
# before and after: the sending hours (08:00-21:00), midnight, the
# application deadline, the market's start and end.
MOMENTS = [
    datetime(2026, 11, 29, 21, 0, tzinfo=SEOUL),
    datetime(2026, 11, 30, 0, 0, tzinfo=SEOUL),
    datetime(2026, 11, 30, 8, 0, tzinfo=SEOUL),
    datetime(2026, 11, 30, 17, 0, tzinfo=SEOUL),
    DEADLINE,
    datetime(2026, 12, 3, 10, 0, tzinfo=SEOUL),
    datetime(2026, 12, 3, 15, 0, tzinfo=SEOUL),
    datetime(2026, 12, 4, 0, 0, tzinfo=SEOUL),
]
WHEN = sorted({m + d for m in MOMENTS for d in (-timedelta(minutes=1), timedelta(0), TICK)})


def test_kept_pages_equal_fresh_builds_across_every_moment(
    clock, app, fresh, client, staff, rendered
):
    clock.seoul(2026, 11, 29, 12, 0)
    market = open_market_on()
    applicants(market, 5)
    make_buyers(market)
    vendor = make_vendor("햇살농장")
    make_application(vendor, market)
    vendor_login = make_vendor_login(vendor)
    clients = {}
    for name, user in (("staff", staff), ("vendor", vendor_login)):
        kept, built = client if name == "staff" else app.test_client(), fresh.test_client()
        for one in (kept, built):
            assert login(one, user).status_code == 302
            one.get("/account/password")  # the welcome message, shown once
        clients[name] = kept, built
    urls = [
        ("staff", "/staff/"),
        ("staff", f"/staff/markets/{market.id}/booths"),
        ("staff", f"/staff/markets/{market.id}/invitations"),
        ("staff", "/staff/takings/report"),
        ("staff", "/staff/sales"),
        ("vendor", "/vendor/"),
    ]
    clients["staff"][0].get(urls[2][1])  # the first visit stores the ranking (a write)
    served_kept = 0
    for when in WHEN:
        clock.set(when)
        for who, url in urls:
            kept, built = clients[who]
            before = len(rendered)
            first, second = kept.get(url), kept.get(url)
            served_kept += len(rendered) == before
            assert first.status_code == second.status_code == 200, (url, when)
            expected = _same(built.get(url).get_data(as_text=True))
            for response in (first, second):
                assert _same(response.get_data(as_text=True)) == expected, (url, when)
    assert served_kept > len(WHEN) * len(urls) // 2  # most of them: the test checks kept pages
