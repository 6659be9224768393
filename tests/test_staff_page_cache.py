"""Logged-in pages kept per data version and user (issue 20,
market.core.signed_in_pages): the staff dashboard, the booth screen, the
ranking page, the season report, 판로지원 실적 and a vendor's home.

Each test drives the real pages and services. A test of freshness first
proves the page IS kept (the second GET renders no template), then makes
one change the way the app makes it (a page, a service, the mail worker,
the order import, another app instance) and reads the page once more: the
change must show on that very next request. The observer is a login of
its own, so no flashed message of the change can make its next page a
build of its own."""

import csv
import io
import re
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, event, update

from market import create_app
from market.accounts.models import Role
from market.audit.services import record
from market.booths import services as booth_services
from market.core import versions
from market.core.signed_in_pages import STORE
from market.customers.samples import KOREAN_HEADER
from market.extensions import db
from market.inbox import handling
from market.inbox.outcome import Outcome
from market.invitations import sending
from market.markets import services as market_services
from market.markets.models import Market
from market.outbox import delivery, mime
from market.outbox.models import OutboxMessage
from market.takings import services as takings
from market.takings.services import TakingsValues
from market.timeutil import utcnow
from market.vendors import applications
from market.vendors.models import ApplicationStatus, Vendor
from tests.booths_factories import applicants, open_market
from tests.calendar_reply_samples import Reply, gmail
from tests.conftest import RequestIsolatedClient
from tests.helpers import login, renders
from tests.inbox_samples import postfix_bounce
from tests.markets_factories import make_venue
from tests.takings_factories import add_takings, market_on, take_part
from tests.test_checkin import invite as invite_to
from tests.test_invitations import invitation_of, make_customer, make_order, market_details
from tests.test_outbox import running_smtp
from tests.vendors_factories import make_application, make_vendor, make_vendor_login

# Tables a request of a logged-in user reads before the page: the user
# loader (its login session, its enterprise joined, and the staff pages'
# data version in the same statement) and keep_login_session.
LOGIN_TABLES = {"users", "login_sessions", "vendors", "data_versions"}
TABLES_IN = re.compile(r'\b(?:FROM|JOIN|UPDATE|INTO)\s+"?(\w+)"?', re.IGNORECASE)
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


# --- helpers --------------------------------------------------------------------------


@contextmanager
def statements():
    """The SQL statements run on the app's engine meanwhile."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def tables_read(seen: list[str]) -> set[str]:
    return {name.lower() for statement in seen for name in TABLES_IN.findall(statement)}


def without_tokens(html: str) -> str:
    for token in set(TOKEN.findall(html)):
        html = html.replace(token, "CSRF")
    return html


def signed_in(app, user):
    """A browser of its own, logged in as `user`, past the welcome page
    (its flashed greeting would make the next page a build of its own)."""
    browser = app.test_client()
    response = login(browser, user)
    assert response.status_code == 302
    assert browser.get(response.headers["Location"], follow_redirects=True).status_code == 200
    return browser


def kept_page(app, browser, url: str) -> str:
    """GETs `url` until it is kept and returns the kept page. A GET that
    writes (the ranking page's first look stores its snapshot) keeps its
    page under the version before its own write, so one more GET builds
    the page that is kept."""
    for _attempt in range(3):
        with renders(app) as rendered:
            response = browser.get(url)
        assert response.status_code == 200, (url, response.status_code)
        if not rendered:
            return response.text
    raise AssertionError(f"{url} is never kept")


def built_again(app, browser, url: str) -> str:
    """The next GET, which must be built afresh (a change moved the version)."""
    with renders(app) as rendered:
        response = browser.get(url)
    assert response.status_code == 200
    assert rendered, f"{url} served from the store after a change"
    return response.text


def menu_name(html: str) -> str:
    """The name the menu prints (the link to the login's password page)."""
    return re.search(r'<a href="/account/password">([^<]*)</a>', html).group(1)


def tile(html: str, label: str) -> str:
    """The number of the ranking page's tile `label` (English page)."""
    match = re.search(
        r'<span class="tile-number">(\d+)</span><span class="tile-label">' + re.escape(label), html
    )
    assert match, label
    return match.group(1)


# --- the data -------------------------------------------------------------------------


class World:
    """Everything the six pages show, at 10:00 on Thursday 26 November 2026 in Korea."""

    def __init__(self, app, make_user):
        self.app = app
        self.staff = make_user(Role.STAFF, email="kim@center.example.kr", name="김직원")
        self.staff2 = make_user(Role.STAFF, email="lee@center.example.kr", name="이직원")
        self.venue = make_venue("경기도청", 10)
        self.market = open_market(weeks=0, booths=6, venue=self.venue)  # Thursday 3 December
        self.applications = applicants(self.market, 4)
        self.past = market_on(date(2026, 11, 19), self.venue)
        self.vendor_a = make_vendor("잔다리마을공동체")
        self.vendor_b = make_vendor("행복플러스")
        take_part(self.vendor_a, self.past)
        take_part(self.vendor_b, self.past)
        add_takings(self.vendor_a, self.past, 1_100_000)
        add_takings(self.vendor_b, self.past, 2_300_000)
        self.login_a = make_vendor_login(self.vendor_a, "a@vendor.example.kr")
        self.login_b = make_vendor_login(self.vendor_b, "b@vendor.example.kr")
        self.application_a = make_application(self.vendor_a, self.market)
        self.hana = make_customer("hana@example.com", "김하나")
        self.dul = make_customer("dul@example.com", "이둘")
        make_order(self.hana, 1_000_000, utcnow() - timedelta(days=30), self.vendor_a)
        make_order(self.dul, 500_000, utcnow() - timedelta(days=31))
        db.session.commit()

    def url(self, page: str) -> str:
        return {
            "dashboard": "/staff/",
            "booths": f"/staff/markets/{self.market.id}/booths",
            "ranking": f"/staff/markets/{self.market.id}/invitations",
            "season report": "/staff/takings/report",
            "sales report": "/staff/sales",
            "vendor home": "/vendor/",
        }[page]

    def viewer(self, page: str):
        """Who sees `page`: the vendor's home is enterprise A's login's."""
        return self.login_a if page == "vendor home" else self.staff

    def invite(self, *customers):
        sending.invite(self.market, [c.id for c in customers], None, utcnow())
        db.session.commit()
        return [invitation_of(c) for c in customers]


@pytest.fixture
def world(app, clock, make_user):
    return World(app, make_user)


PAGES = ["dashboard", "booths", "ranking", "season report", "sales report", "vendor home"]
STAFF_PAGES = [page for page in PAGES if page != "vendor home"]


# --- kept ----------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_a_kept_page_runs_only_the_logins_statements_and_renders_nothing(app, world, page):
    browser = signed_in(app, world.viewer(page))
    url = world.url(page)
    if page == "ranking":
        browser.get(url)  # its first look stores the ranking snapshot (a write)
    with statements() as built_sql, renders(app) as built_templates:
        built = browser.get(url)
    with statements() as kept_sql, renders(app) as kept_templates:
        kept = browser.get(url)
    assert built.status_code == kept.status_code == 200
    assert built_templates, "the first GET builds the page"
    assert kept_templates == [], "the second GET runs no view"
    assert tables_read(kept_sql) <= LOGIN_TABLES, kept_sql
    assert all(re.search(r"\b(users|login_sessions)\b", sql) for sql in kept_sql), kept_sql
    assert kept_sql == built_sql[: len(kept_sql)], "the login's own statements, as on a build"
    assert len(kept_sql) < len(built_sql)
    assert without_tokens(kept.text) == without_tokens(built.text)
    assert kept.headers["Cache-Control"] == built.headers["Cache-Control"] == "private, no-store"


def test_the_ranking_pages_first_look_stores_its_snapshot_and_is_kept_the_look_after(app, world):
    """The first GET writes the ranking snapshot: the page it built is kept
    under the version before that write, which no one asks for again; the
    second GET builds, the third is kept."""
    browser = signed_in(app, world.staff)
    url = world.url("ranking")
    looks = []
    for _n in range(3):
        with renders(app) as rendered:
            assert browser.get(url).status_code == 200
        looks.append(bool(rendered))
    assert looks[0] is True and looks[-1] is False, looks


# --- never stale ---------------------------------------------------------------------


def test_a_changed_market_date_shows_at_once(app, world):
    browser = signed_in(app, world.staff)
    for page in ("dashboard", "booths"):
        assert "12월 3일" in kept_page(app, browser, world.url(page))
    market_services.update_market(
        world.market, market_details(world.market, market_date=date(2026, 12, 10))
    )
    db.session.commit()
    for page in ("dashboard", "booths"):
        html = built_again(app, browser, world.url(page))
        assert "12월 10일" in html and "12월 3일" not in html, page


def test_a_renamed_venue_shows_at_once(app, world):
    browser = signed_in(app, world.staff)
    assert "경기도청" in kept_page(app, browser, world.url("dashboard"))
    market_services.update_venue(
        world.venue, "수원시청", world.venue.address, world.venue.booth_spots, None, world.staff2
    )
    db.session.commit()
    html = built_again(app, browser, world.url("dashboard"))
    assert "수원시청" in html and "경기도청" not in html


def _booth_of(html: str, name: str) -> str:
    match = re.search(r"(\d+)번 부스: " + re.escape(name), html)
    assert match, name
    return match.group(1)


def test_a_booth_moved_through_the_page_shows_at_once(app, world):
    booth_services.confirm(world.market.id, world.staff)
    db.session.commit()
    browser, mover = signed_in(app, world.staff), signed_in(app, world.staff2)
    url = world.url("booths")
    before = kept_page(app, browser, url)
    assert _booth_of(before, "기업000") == "1"
    moved = mover.post(f"{url}/move", data={"number": 1, "to_number": 6})
    assert moved.status_code == 302
    after = built_again(app, browser, url)
    assert _booth_of(after, "기업000") == "6"


@pytest.mark.parametrize("how", ["orm", "bulk update"])
def test_a_renamed_enterprise_shows_at_once(app, world, how):
    home, staff = signed_in(app, world.login_a), signed_in(app, world.staff)
    assert "잔다리마을공동체" in kept_page(app, home, "/vendor/")
    assert "잔다리마을공동체" in kept_page(app, staff, world.url("season report"))
    if how == "orm":
        world.vendor_a.name = "새이름공동체"
    else:
        db.session.execute(
            update(Vendor).where(Vendor.id == world.vendor_a.id).values(name="새이름공동체")
        )
    db.session.commit()
    assert "새이름공동체" in built_again(app, home, "/vendor/")
    report = built_again(app, staff, world.url("season report"))
    assert "새이름공동체" in report and "잔다리마을공동체" not in report


def test_a_changed_application_status_shows_at_once(app, world):
    """Enterprise A's application is withdrawn by staff: its home no longer
    offers to withdraw it, the dashboard counts one application fewer."""
    home, staff = signed_in(app, world.login_a), signed_in(app, world.staff)
    withdraw = f'href="/vendor/applications/{world.application_a.id}/withdraw"'
    applications_link = f'href="/staff/markets/{world.market.id}/applications">'
    assert withdraw in kept_page(app, home, "/vendor/")
    assert f"{applications_link}5</a>" in kept_page(app, staff, "/staff/")
    applications.staff_set_status(world.application_a, ApplicationStatus.WITHDRAWN, world.staff2)
    db.session.commit()
    assert withdraw not in built_again(app, home, "/vendor/")
    assert f"{applications_link}4</a>" in built_again(app, staff, "/staff/")


def test_a_takings_entry_shows_on_the_reports_and_the_dashboard(app, world):
    late = make_vendor("늦은기업")
    take_part(late, world.past)
    browser = signed_in(app, world.staff)
    assert "₩3,400,000" in kept_page(app, browser, world.url("season report"))
    assert "₩3,400,000" in kept_page(app, browser, "/staff/")
    assert "장터 ₩3,400,000" in kept_page(app, browser, world.url("sales report"))
    takings.save_by_staff(late, world.past, TakingsValues(amount=500_000), world.staff2, None)
    db.session.commit()
    report = built_again(app, browser, world.url("season report"))
    assert "₩3,900,000" in report and "늦은기업" in report
    assert "₩3,900,000" in built_again(app, browser, "/staff/")
    assert "장터 ₩3,900,000" in built_again(app, browser, world.url("sales report"))


def test_an_audit_entry_shows_in_the_dashboards_recent_activity(app, world):
    browser = signed_in(app, world.staff)
    before = kept_page(app, browser, "/staff/")
    record(world.staff2, "venue.update", world.venue, before={"name": "a"}, after={"name": "b"})
    db.session.commit()
    after = built_again(app, browser, "/staff/")
    recent = after.split("최근 활동", 1)[1]
    assert "lee@center.example.kr" in recent
    assert "lee@center.example.kr" not in before.split("최근 활동", 1)[1]


def test_an_answer_on_the_public_page_shows_on_the_dashboard_and_the_ranking(app, world):
    [invitation] = world.invite(world.hana)
    browser = signed_in(app, world.staff)
    browser.post("/language", data={"lang": "en", "next": "/"})
    ranking = world.url("ranking")
    assert tile(kept_page(app, browser, ranking), "Coming") == "0"
    assert "0 coming" in kept_page(app, browser, "/staff/")
    answered = app.test_client().post(f"/i/{invitation.token}", data={"answer": "accept"})
    assert answered.status_code == 303
    assert tile(built_again(app, browser, ranking), "Coming") == "1"
    assert "1 coming" in built_again(app, browser, "/staff/")


def test_an_answer_from_a_calendar_app_shows_on_the_dashboard_and_the_ranking(app, world):
    """The mailbox reader applies an iMIP REPLY (Gmail's) to the invitation."""
    world.invite(world.hana)
    browser = signed_in(app, world.staff)
    browser.post("/language", data={"lang": "en", "next": "/"})
    ranking = world.url("ranking")
    assert tile(kept_page(app, browser, ranking), "Coming") == "0"
    assert "0 coming" in kept_page(app, browser, "/staff/")
    db.session.refresh(world.market)
    answer = Reply(
        uid=world.market.uid, attendee=world.hana.email, stamp=utcnow() - timedelta(minutes=5)
    )
    handled = handling.handle(gmail(answer))
    db.session.commit()
    assert handled.outcome is Outcome.APPLIED, handled.reason
    assert tile(built_again(app, browser, ranking), "Coming") == "1"
    assert "1 coming" in built_again(app, browser, "/staff/")


def test_a_check_in_shows_as_visited_on_the_dashboard(app, world, clock):
    """Today's market is the dashboard's next market; a pass checked in at
    the door counts as visited."""
    today = market_on(clock.today, make_venue("오늘장소", 10))
    invite_to(today, "set@example.com", "이셋", code="HJKMNP")
    browser, door = signed_in(app, world.staff), signed_in(app, world.staff2)
    assert "방문\u00a00" in kept_page(app, browser, "/staff/")
    checked = door.post(f"/staff/markets/{today.id}/check-in/HJKMNP")
    assert checked.status_code == 303
    assert "방문\u00a01" in built_again(app, browser, "/staff/")


@pytest.fixture
def smtp(app_config):
    """Request it before `app` (or `world`), so the app sees it."""
    with running_smtp(app_config) as handler:
        yield handler


def test_a_delivery_and_a_bounce_show_on_the_ranking_and_the_dashboard(smtp, app, world):
    world.invite(world.hana)
    browser = signed_in(app, world.staff)
    browser.post("/language", data={"lang": "en", "next": "/"})
    ranking = world.url("ranking")
    assert tile(kept_page(app, browser, ranking), "Delivered") == "0"
    assert "0 delivered" in kept_page(app, browser, "/staff/")
    assert delivery.deliver_due().sent == 1
    assert len(smtp.received) == 1
    assert tile(built_again(app, browser, ranking), "Delivered") == "1"
    assert "1 delivered" in built_again(app, browser, "/staff/")
    assert tile(kept_page(app, browser, ranking), "Returned (bounced)") == "0"
    row = db.session.get(OutboxMessage, invitation_of(world.hana).outbox_message_id)
    handling.handle(postfix_bounce(world.hana.email, mime.parse(row.mime)["Message-ID"]))
    db.session.commit()
    assert tile(built_again(app, browser, ranking), "Returned (bounced)") == "1"


def test_an_unsubscribe_shows_on_the_ranking(app, world):
    [invitation] = world.invite(world.hana)
    browser = signed_in(app, world.staff)
    browser.post("/language", data={"lang": "en", "next": "/"})
    ranking = world.url("ranking")
    assert tile(kept_page(app, browser, ranking), "Unsubscribed") == "0"
    assert app.test_client().post(f"/u/{invitation.token}", data={}).status_code == 200
    assert tile(built_again(app, browser, ranking), "Unsubscribed") == "1"


@pytest.fixture
def inline_imports(app_config, tmp_path):
    app_config["IMPORT_RUN_INLINE"] = True
    app_config["IMPORT_DIR"] = str(tmp_path / "imports")


def _order_file(rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(KOREAN_HEADER)
    writer.writerows(rows)
    return out.getvalue().encode()


def test_an_order_import_shows_new_names_and_sales_at_once(inline_imports, app, world):
    ranking, home = signed_in(app, world.staff), signed_in(app, world.login_a)
    ranked = kept_page(app, ranking, world.url("ranking"))
    assert "김하나" in ranked
    assert "온라인 ₩1,000,000" in kept_page(app, ranking, world.url("sales report"))
    assert "₩1,000,000" in kept_page(app, home, "/vendor/").split("my-sales", 1)[1]
    newer = [
        "I-1",
        "2026-11-25",
        "김하나나",
        "hana@example.com",
        "010-1234-5678",
        "잔다리마을공동체",
        "두유",
        "12,000원",
        "Y",
        "2026-01-05",
    ]
    importer = signed_in(app, world.staff2)
    uploaded = importer.post(
        "/staff/customers/imports",
        data={"file": (io.BytesIO(_order_file([newer])), "orders.csv")},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302
    job_url = uploaded.headers["Location"].split("?")[0]
    assert importer.post(f"{job_url}/run", data={}).status_code in (302, 303)
    db.session.expire_all()
    assert db.session.get(type(world.hana), world.hana.id).name == "김하나나"
    after = built_again(app, ranking, world.url("ranking"))
    assert "김하나나" in after
    sales = built_again(app, home, "/vendor/").split("my-sales", 1)[1]
    assert "₩1,012,000" in sales
    assert "온라인 ₩1,012,000" in built_again(app, ranking, world.url("sales report"))


def test_a_change_made_by_another_app_instance_shows_here(app, app_config, world):
    """Two workers: each has its own store; the version is in the database."""
    browser = signed_in(app, world.staff)
    assert "경기도청" in kept_page(app, browser, "/staff/")
    other = create_app(dict(app_config))
    other.test_client_class = RequestIsolatedClient
    assert other.extensions[STORE] is not app.extensions[STORE]
    elsewhere = signed_in(other, world.staff2)
    edited = elsewhere.post(
        f"/staff/venues/{world.venue.id}/edit",
        data={
            "name": "수원시청",
            "address": world.venue.address,
            "map_url": "",
            "booth_spots": "10",
        },
    )
    assert edited.status_code == 302, edited.text
    html = built_again(app, browser, "/staff/")
    assert "수원시청" in html and "경기도청" not in html
    with other.app_context():
        db.engine.dispose()


def test_a_hand_edit_shows_after_flask_cache_clear(app, runner, world):
    """A change made by hand in the database moves no version (documented):
    the kept page stays until `flask cache clear`, which forgets the staff
    pages too."""
    browser = signed_in(app, world.staff)
    assert "경기도청" in kept_page(app, browser, "/staff/")
    hand = db.engine.raw_connection()  # as psql would: past SQLAlchemy and its events
    try:
        cursor = hand.cursor()
        cursor.execute(f"UPDATE venues SET name = '손으로' WHERE id = {int(world.venue.id)}")
        hand.commit()
    finally:
        hand.close()
    assert "경기도청" in kept_page(app, browser, "/staff/"), "no version moved: still kept"
    result = runner.invoke(args=["cache", "clear"])
    assert result.exit_code == 0, result.output
    assert "손으로" in built_again(app, browser, "/staff/")


def test_without_a_data_version_row_nothing_is_kept(app, world):
    """A freshly seeded or emptied database has no version row: no key is
    safe, so every GET builds."""
    browser = signed_in(app, world.staff)  # logging in writes: the row comes back
    with db.engine.begin() as connection:
        connection.execute(delete(versions.DataVersion))
    for _n in range(2):
        with renders(app) as rendered:
            assert browser.get("/staff/").status_code == 200
        assert rendered
    assert len(app.extensions[STORE].items) == 0


def test_a_head_request_keeps_the_whole_page(app, world):
    browser = signed_in(app, world.staff)
    head = browser.head("/staff/")
    assert head.status_code == 200 and head.data == b""
    with renders(app) as rendered:
        page = browser.get("/staff/")
    assert rendered == [], "kept by the HEAD"
    assert "다음 장터" in page.text and page.text.rstrip().endswith("</html>")


# --- isolation -----------------------------------------------------------------------


def test_two_staff_members_each_see_their_own_name_in_the_menu(app, world):
    kim, lee = signed_in(app, world.staff), signed_in(app, world.staff2)
    for page in STAFF_PAGES:
        url = world.url(page)
        mine, theirs = kept_page(app, kim, url), kept_page(app, lee, url)
        assert menu_name(mine) == "김직원" and "이직원" not in mine, page
        assert menu_name(theirs) == "이직원", page


@pytest.mark.parametrize("page", STAFF_PAGES)
def test_a_vendor_is_refused_a_staff_page_already_kept(app, world, page):
    kept_page(app, signed_in(app, world.staff), world.url(page))
    with renders(app) as rendered:
        refused = signed_in(app, world.login_a).get(world.url(page))
    assert refused.status_code == 403
    assert "김직원" not in refused.text and "박담당" in refused.text
    assert not any(name == "home/staff.html" or name.endswith("index.html") for name in rendered)


def test_a_renamed_login_shows_its_new_name_in_the_menu_at_once(app, world):
    browser = signed_in(app, world.staff)
    assert menu_name(kept_page(app, browser, "/staff/")) == "김직원"
    world.staff.name = "김팀장"
    db.session.commit()
    assert menu_name(built_again(app, browser, "/staff/")) == "김팀장"


@pytest.mark.parametrize("page", PAGES)
def test_a_disabled_login_is_not_served_its_kept_page(app, world, page):
    user = world.viewer(page)
    browser = signed_in(app, user)
    kept_page(app, browser, world.url(page))
    user.active = False
    db.session.commit()
    refused = browser.get(world.url(page))
    assert refused.status_code == 302
    assert refused.headers["Location"].startswith("/account/login")


def test_each_vendor_sees_its_own_home(app, world):
    a, b = signed_in(app, world.login_a), signed_in(app, world.login_b)
    mine, theirs = kept_page(app, a, "/vendor/"), kept_page(app, b, "/vendor/")
    assert "잔다리마을공동체" in mine and "행복플러스" not in mine
    assert "₩1,100,000" in mine and "₩2,300,000" not in mine
    assert "행복플러스" in theirs and "잔다리마을공동체" not in theirs
    assert "₩2,300,000" in theirs and "₩1,100,000" not in theirs


def test_korean_and_english_pages_are_kept_apart(app, world):
    browser = signed_in(app, world.staff)
    for page in STAFF_PAGES:
        url = world.url(page)
        assert 'lang="ko"' in kept_page(app, browser, url), page
        browser.post("/language", data={"lang": "en", "next": "/"})
        assert 'lang="en"' in kept_page(app, browser, url), page
        browser.post("/language", data={"lang": "ko", "next": "/"})
        with renders(app) as rendered:
            again = browser.get(url).text
        assert rendered == [] and 'lang="ko"' in again, page


def test_a_flashed_message_is_shown_once_and_the_page_after_it_is_not_the_flashed_one(app, world):
    browser = signed_in(app, world.staff)
    url = world.url("booths")
    kept = kept_page(app, browser, url)
    message = "장터 당일 출력물은 부스 배정을 확정한 뒤에 인쇄할 수 있습니다."
    assert message not in kept
    sheet = browser.get(f"{url}/sheet")  # not confirmed yet: flashes and sends back
    assert sheet.status_code == 302
    with renders(app) as rendered:
        flashed = browser.get(url).text
    assert rendered, "a page with a flash waiting is built, never served from the store"
    assert message in flashed
    with renders(app) as rendered:
        after = browser.get(url).text
    assert rendered == [], "the page kept before the flash is served again"
    assert message not in after and without_tokens(after) == without_tokens(kept)


def test_a_post_from_a_kept_page_carries_the_requesters_own_token(app, world):
    """CSRF on, over HTTPS (Flask-WTF checks the Referer there). The same
    staff member in two browsers: the page built for the first is served
    to the second with the second's own token, which lets its POST
    through; the first browser's token is refused there. A second staff
    member logs out with the token of their own kept page."""
    https = {"base_url": "https://market.test"}
    referer = {"Referer": f"https://market.test{world.url('booths')}"}
    url = world.url("booths")
    first, second = signed_in(app, world.staff), signed_in(app, world.staff)
    lee = signed_in(app, world.staff2)
    app.config["WTF_CSRF_ENABLED"] = True
    with renders(app) as rendered:
        built = first.get(url, **https).text
    assert rendered, "built for the first browser"
    with renders(app) as rendered:
        kept = second.get(url, **https).text
    assert rendered == [], "the second browser gets the kept page"
    first_token, second_token = TOKEN.search(built).group(1), TOKEN.search(kept).group(1)
    assert second_token != first_token
    assert len(set(TOKEN.findall(kept))) == 1, "every form of the page carries the same token"
    fingerprint = re.search(r'name="fingerprint"[^>]*value="([^"]*)"', kept).group(1)
    form = {"fingerprint": fingerprint, "replace": "", "checked": "y"}
    refused = second.post(
        f"{url}/confirm", data={**form, "csrf_token": first_token}, headers=referer, **https
    )
    assert refused.status_code == 400, "another browser's token"
    assert not booth_services.booths_confirmed(db.session.get(Market, world.market.id))
    confirmed = second.post(
        f"{url}/confirm", data={**form, "csrf_token": second_token}, headers=referer, **https
    )
    assert confirmed.status_code == 302
    db.session.expire_all()
    assert booth_services.booths_confirmed(db.session.get(Market, world.market.id))

    lee_page = kept_page(app, lee, "/staff/")
    logged_out = lee.post(
        "/account/logout",
        data={"csrf_token": TOKEN.search(lee_page).group(1)},
        headers=referer,
        **https,
    )
    assert logged_out.status_code == 302
    assert "/account/login" in lee.get(url, **https).headers["Location"]


# --- switched off, and no login ------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_nothing_is_kept_when_staff_page_cache_is_off(app, world, page):
    app.config["STAFF_PAGE_CACHE"] = False
    browser = signed_in(app, world.viewer(page))
    url = world.url(page)
    browser.get(url)  # the ranking's snapshot is stored by the first look
    with statements() as first_sql, renders(app) as first:
        browser.get(url)
    with statements() as second_sql, renders(app) as second:
        browser.get(url)
    assert first and second, "each GET builds the page"
    assert len(second_sql) == len(first_sql)
    assert len(app.extensions[STORE].items) == 0


def test_the_sales_report_is_not_kept_without_sales_report_cache(app, world):
    """The bench's "nothing kept" rows of 판로지원 실적 still measure a build."""
    app.config["SALES_REPORT_CACHE"] = False
    browser = signed_in(app, world.staff)
    for _n in range(2):
        with renders(app) as rendered:
            assert browser.get(world.url("sales report")).status_code == 200
        assert rendered, "built each time"
    kept_page(app, browser, "/staff/")  # the other pages are still kept


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_visitors_are_sent_to_the_login_and_nothing_is_kept(app, world, page):
    browser = app.test_client()
    for _n in range(2):
        response = browser.get(world.url(page))
        assert response.status_code == 302
        assert "/account/login" in response.headers["Location"]
    assert len(app.extensions[STORE].items) == 0
