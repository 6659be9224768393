"""The visitor pass (issue 18): a short code unique within the market, free
of look-alike characters, and a QR code of the invitation's check-in
address, in the mail (a PNG the HTML shows by its Content-ID) and on the
RSVP page (inline SVG). The QR codes are read back with zxing-cpp, a QR
reader that is not ours, from the bytes the customer gets and from what
Chromium draws of the page. Nothing in the pass names the customer."""

import base64
import io
import os
import queue
import threading
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
import segno
import zxingcpp
from flask_migrate import upgrade
from PIL import Image
from sqlalchemy import create_engine, func, insert, make_url, select, text
from sqlalchemy.exc import IntegrityError

from market import create_app
from market.customers.models import Customer, email_hash
from market.extensions import db
from market.invitations import answers, passes, sending
from market.invitations.models import PASS_ALPHABET, PASS_LENGTH, Invitation
from market.invitations.views import PREVIEW_PASS_CODE
from market.markets import services as market_services
from market.markets.models import MarketStatus
from market.outbox.mime import parse
from market.outbox.models import OutboxMessage, OutboxStatus
from market.timeutil import SEOUL
from tests.markets_factories import make_market, make_venue, next_thursday
from tests.migration_rows import insert_customers, insert_markets
from tests.test_invitations import (
    CONSENT_AT,
    calendar_bytes_of,
    invitation_of,
    make_customer,
    market_details,
    outbox_rows,
)

PUBLIC = "https://market.example.kr"
LOOK_ALIKES = set("0O1IL")
CHROMIUM = "/usr/bin/chromium"
IN_CI = os.environ.get("CI", "").strip().lower() == "true"


def read_qr(image: bytes | Image.Image) -> str:
    """The one QR code in the image, as zxing-cpp reads it."""
    if isinstance(image, bytes):
        image = Image.open(io.BytesIO(image))
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1, f"{len(found)} QR codes read"
    return found[0].text


def pass_image(message) -> bytes:
    """The PNG of the multipart/related around the HTML part."""
    [related] = [p for p in message.walk() if p.get_content_type() == "multipart/related"]
    assert related.get_param("type") == "text/html", "RFC 2387 §3.1: the root's type"
    html, image = related.get_payload()
    assert html.get_content_type() == "text/html"
    assert image.get_content_type() == "image/png"
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html.get_content()
    return image.get_payload(decode=True)


def queued_message(customer) -> tuple[OutboxMessage, object]:
    [row] = [
        r
        for r in outbox_rows()
        if r.to_address == customer.email and r.status is OutboxStatus.QUEUED
    ]
    return row, parse(row.mime)


def check_in_address(market_id: int, code: str) -> str:
    return f"{PUBLIC}/staff/markets/{market_id}/check-in/{code}"


@pytest.fixture
def public(app):
    app.config["PUBLIC_BASE_URL"] = PUBLIC


@pytest.fixture
def market(app):
    """Two weeks or more ahead of the real clock (the listener that mails
    updates reads it)."""
    venue = make_venue("경기도청", 10)
    return make_market(venue, next_thursday(datetime.now(SEOUL).date(), weeks=2))


@pytest.fixture
def now(market):
    """11:00 Korea time, a week before the market."""
    return datetime.combine(market.market_date - timedelta(days=7), time(11, 0), tzinfo=SEOUL)


@pytest.fixture
def customers(app):
    return [make_customer("hana@example.com", "김하나"), make_customer("dul@example.com", "이둘")]


# --- the codes -----------------------------------------------------------------------


def _many_customers(count: int) -> list[int]:
    db.session.execute(
        insert(Customer),
        [
            {
                "email": f"buyer{n}@example.com",
                "email_hash": email_hash(f"buyer{n}@example.com"),
                "name": f"구매자{n}",
                "consent": True,
                "consent_at": CONSENT_AT,
                "consent_source": "orders.csv",
                "consent_wording": "v1",
                "details_as_of": CONSENT_AT,
            }
            for n in range(count)
        ],
    )
    db.session.commit()
    return list(db.session.scalars(select(Customer.id).order_by(Customer.id)))


def test_codes_are_unique_in_a_market_and_have_no_look_alikes(app, market, now):
    """Two sends of 50 through `invite` (the second must avoid the first's
    codes), then 2,000 more codes drawn for the same market: 2,100 in all,
    every one different. (2,000 mails through `invite` would take most of a
    minute building mail; the codes are all drawn by `new_codes`.)"""
    ids = _many_customers(100)
    for batch in (ids[:50], ids[50:]):
        assert sending.invite(market, batch, None, now).invited == 50
        db.session.commit()
    invited = list(
        db.session.scalars(select(Invitation.pass_code).where(Invitation.market_id == market.id))
    )
    assert len(set(invited)) == 100
    more = passes.new_codes(market, 2000)
    codes = invited + more
    assert len(set(codes)) == 2100, "every pass of the market is different"
    for code in codes:
        assert len(code) == PASS_LENGTH and set(code) <= set(PASS_ALPHABET)
    assert not LOOK_ALIKES & set("".join(codes)), "no 0, O, 1, I or L"
    # Drawn at random, not counted up: all 31 characters turn up in each place.
    for place in range(PASS_LENGTH):
        assert {code[place] for code in codes} == set(PASS_ALPHABET)


def test_the_same_code_may_be_used_in_another_market_but_not_twice_in_one(
    app, market, customers, now
):
    other = make_market(make_venue("수원역", 10), market.market_date + timedelta(days=7))
    hana, dul = customers
    sending.invite(market, [hana.id], None, now)
    db.session.commit()
    code = invitation_of(hana).pass_code
    db.session.add(Invitation(customer_id=dul.id, market_id=other.id, pass_code=code))
    db.session.commit()  # another market: allowed

    db.session.add(Invitation(customer_id=dul.id, market_id=market.id, pass_code=code))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_code_taken_meanwhile_is_a_clear_refusal_not_an_error(
    app, market, customers, now, monkeypatch
):
    """The unique constraint backs the codes `new_codes` reads: should a
    send that does not take the market's lock take the code drawn here
    after it was read, `invite` refuses with its message and saves nothing
    (the drawn code is pinned to that one to make the moment happen)."""
    hana, dul = customers
    sending.invite(market, [hana.id], None, now)
    db.session.commit()
    taken = invitation_of(hana).pass_code
    monkeypatch.setattr(passes, "new_codes", lambda market, count: [taken] * count)
    with pytest.raises(sending.InvitationError) as refused:
        sending.invite(market, [dul.id], None, now)
    assert str(refused.value) == "다른 사람이 같은 때에 초대를 보냈습니다. 다시 시도하세요."
    db.session.rollback()
    assert invitation_of(dul) is None
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 1


# --- the mail ------------------------------------------------------------------------


def test_the_invitation_mail_carries_the_pass(app, public, market, customers, now):
    hana, _dul = customers
    sending.invite(market, [hana.id], None, now)
    db.session.commit()
    invitation = invitation_of(hana)
    _row, message = queued_message(hana)

    png = pass_image(message)
    address = read_qr(png)
    assert address == check_in_address(market.id, invitation.pass_code)
    assert address == passes.check_in_url(market.id, invitation.pass_code)
    # It is the address of the check-in page.
    path = address.removeprefix(PUBLIC)
    endpoint, values = app.url_map.bind("market.example.kr").match(path)
    assert (endpoint, values) == (
        "checkin.visitor",
        {"market_id": market.id, "code": invitation.pass_code},
    )
    # Nothing of the customer in the pass.
    for secret in (hana.name, hana.email, hana.email.split("@")[0], invitation.token):
        assert secret not in address
        assert secret.encode() not in png
    # The text part gives the code, exactly as printed, and what to do with it.
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert f"입장 확인 코드: {invitation.pass_code}\n" in text
    assert "장터 입구에서 이 코드를 보여 주세요" in text
    html = message.get_body(("html",)).get_content()
    assert f">{invitation.pass_code}</p>" in html
    width = Image.open(io.BytesIO(png)).size[0]
    assert f'width="{width}" height="{width}"' in html, "shown at its own size: crisp"
    # The iMIP structure still holds (checked as the other invitation tests do).
    calendar_bytes_of(message)


def test_the_pass_png_is_the_image_segno_draws(app, public):
    """passes.png_of writes the PNG itself (segno's writer took a tenth of
    an invitation's time): the same pixels as segno's own PNG of the same
    code, 1 bit black on white, and still read back as the address."""
    for market_id, code in ((1, "AAAAAA"), (2**31 - 1, "ZZ9988"), (51, "HK4P7Q")):
        url = passes.check_in_url(market_id, code)
        png, width = passes.qr_png(url)
        theirs = io.BytesIO()
        segno.make(url, error="m", micro=False, mask=passes.MASK).save(
            theirs, kind="png", scale=5, border=4, dark="#000", light="#fff"
        )
        ours, theirs = Image.open(io.BytesIO(png)), Image.open(theirs)
        assert ours.format == "PNG" and ours.mode == "1"
        assert ours.size == theirs.size == (width, width)
        assert ours.tobytes() == theirs.convert("1").tobytes()
        assert read_qr(png) == url


def test_an_update_carries_the_same_pass_and_a_cancellation_none(
    app, public, market, customers, now
):
    hana, _dul = customers
    sending.invite(market, [hana.id], None, now)
    db.session.commit()
    for row in outbox_rows():  # as if sent: the update follows it
        row.status = OutboxStatus.SENT
    db.session.commit()
    code = invitation_of(hana).pass_code

    market_services.update_market(market, market_details(market, start_time=time(11, 0)))
    db.session.commit()
    row, message = queued_message(hana)
    assert row.category == "invitation-update"
    assert read_qr(pass_image(message)) == check_in_address(market.id, code)
    assert f"입장 확인 코드: {code}" in message.get_body(("plain",)).get_content()
    row.status = OutboxStatus.SENT
    db.session.commit()

    market_services.change_status(market, MarketStatus.CANCELLED, reason="폭우 예보로 취소")
    db.session.commit()
    row, message = queued_message(hana)
    assert row.category == "invitation-cancel"
    kinds = {part.get_content_type() for part in message.walk()}
    assert "multipart/related" not in kinds and "image/png" not in kinds
    for body in (message.get_body(("plain",)), message.get_body(("html",))):
        assert code not in body.get_content() and "입장 확인" not in body.get_content()


def test_staff_see_the_pass_in_the_preview_and_the_outbox(
    client, staff, login_as, public, market, customers, now
):
    hana, _dul = customers
    login_as(staff)
    preview = client.get(f"/staff/markets/{market.id}/invitations/preview/{hana.id}.html")
    assert preview.status_code == 200
    assert "img-src data:" in preview.headers["Content-Security-Policy"]
    assert "cid:" not in preview.text
    address = read_qr(_data_uri_image(preview.text))
    assert address == check_in_address(market.id, PREVIEW_PASS_CODE)

    sending.invite(market, [hana.id], None, now)
    db.session.commit()
    row, _message = queued_message(hana)
    body = client.get(f"/staff/outbox/{row.id}/body.html")
    assert body.status_code == 200 and "cid:" not in body.text
    code = invitation_of(hana).pass_code
    assert read_qr(_data_uri_image(body.text)) == check_in_address(market.id, code)


def _data_uri_image(html: str) -> bytes:
    data = html.split('src="data:image/png;base64,', 1)[1].split('"', 1)[0]
    return base64.b64decode(data)


# --- the RSVP page -------------------------------------------------------------------


def _rsvp_pass(client, invitation) -> str | None:
    page = client.get(f"/i/{invitation.token}")
    assert page.status_code == 200
    if 'class="visitor-pass"' not in page.text:
        return None
    return page.text.split('class="visitor-pass"', 1)[1].split("</section>", 1)[0]


def test_the_rsvp_page_shows_the_pass(client, public, market, customers, now):
    hana, _dul = customers
    sending.invite(market, [hana.id], None, now)
    db.session.commit()
    invitation = invitation_of(hana)
    shown = _rsvp_pass(client, invitation)
    assert shown is not None
    with client.application.test_request_context():
        expected = passes.qr_svg(
            check_in_address(market.id, invitation.pass_code), title="입장 확인 QR 코드"
        )
    assert expected in shown, "segno's SVG of the check-in address"
    assert f'<p class="pass-code">{invitation.pass_code}</p>' in shown
    assert "장터 입구에서 이 화면이나 코드를 보여 주세요" in shown
    assert "style=" not in expected, "our CSP allows no inline style"
    for secret in (hana.name, hana.email, invitation.token):
        assert secret not in shown


def test_no_pass_for_a_cancelled_market_an_unsubscribed_customer_or_after_the_day(
    client, clock, market, customers, now
):
    hana, dul = customers
    clock.set(now)
    sending.invite(market, [hana.id, dul.id], None, now)
    db.session.commit()
    assert _rsvp_pass(client, invitation_of(dul)) is not None
    answers.unsubscribe(hana, now, source="page")
    db.session.commit()
    assert _rsvp_pass(client, invitation_of(hana)) is None, "unsubscribed"
    # The market day itself still shows it; the day after, no more.
    clock.set(market_services.ends_at(market))
    assert _rsvp_pass(client, invitation_of(dul)) is not None
    clock.set(market_services.ends_at(market) + timedelta(hours=10))
    assert _rsvp_pass(client, invitation_of(dul)) is None, "the day after"
    clock.set(now)
    market_services.change_status(market, MarketStatus.CANCELLED, reason="폭우 예보로 취소")
    db.session.commit()
    assert _rsvp_pass(client, invitation_of(dul)) is None, "cancelled"


def test_chromium_draws_a_pass_a_phone_can_read(client, public, market, customers, now):
    """The honest check of the page's SVG: the page as Chromium renders it at
    360 px (our stylesheet, our CSP headers, served by the app itself),
    screenshot, and read by zxing-cpp."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the dev extras install it
        sync_playwright = None
    if sync_playwright is None or not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail(f"CI=true, but Playwright or {CHROMIUM} is missing", pytrace=False)
        pytest.skip(f"needs Playwright and {CHROMIUM}")
    hana, _dul = customers
    sending.invite(market, [hana.id], None, now)
    db.session.commit()
    invitation = invitation_of(hana)
    pages = {}
    # Chromium runs in a thread of its own: when the browser journeys ran
    # first in the same session, their Playwright keeps an asyncio loop on
    # this thread, where the sync API refuses to start. The test client and
    # the database session stay on this thread, which answers the browser's
    # requests handed over through `asked` until the browser is done.
    asked: queue.Queue = queue.Queue()
    outcome: dict = {}

    def answer(url: str):
        pages[url] = response = client.get(url)
        body = response.get_data()
        response.close()  # a static file is streamed from an open file
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return response.status_code, headers, body

    def serve(route):
        replied: queue.Queue = queue.Queue()
        asked.put((route.request.url.removeprefix("http://market.test"), replied))
        status, headers, body = replied.get(timeout=30)
        route.fulfill(status=status, headers=headers, body=body)

    def browse():
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
                )
                try:
                    page = browser.new_page(viewport={"width": 360, "height": 800})
                    page.route("http://market.test/**", serve)
                    blocked = outcome["blocked"] = []
                    page.on(
                        "console",
                        lambda m: blocked.append(m.text) if "Content Security" in m.text else None,
                    )
                    page.goto(f"http://market.test/i/{invitation.token}")
                    outcome["box"] = page.locator(".visitor-pass svg").bounding_box()
                    outcome["shot"] = page.locator(".visitor-pass").screenshot()
                finally:
                    browser.close()
        except BaseException as error:  # reported on the test's thread
            outcome["error"] = error

    browser_thread = threading.Thread(target=browse)
    browser_thread.start()
    while browser_thread.is_alive() or not asked.empty():
        try:
            url, replied = asked.get(timeout=0.1)
        except queue.Empty:
            continue
        replied.put(answer(url))
    browser_thread.join()
    if "error" in outcome:
        raise outcome["error"]
    blocked, box, shot = outcome["blocked"], outcome["box"], outcome["shot"]
    assert box["width"] >= 200, "large enough to scan at arm's length"
    assert blocked == []
    assert any(url.startswith("/static/css/pass.css") for url in pages)
    assert read_qr(shot) == check_in_address(market.id, invitation.pass_code)


# --- the migration -------------------------------------------------------------------


@pytest.fixture
def scratch_database_url(tmp_path, database_url):
    """An empty database of the kind this run tests on: a SQLite file, or a
    PostgreSQL database made for the test and dropped after it."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path}/migrate.db"
        return
    name = f"market_passes_{os.getpid()}"
    server = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        server.dispose()


def test_existing_invitations_get_a_pass_when_migrating(
    scratch_database_url, tmp_path, monkeypatch
):
    """0017 on a database that already has invitations (written with SQL as
    the schema was at 0016): each gets a code of the alphabet, unique in
    its market, and the database refuses a second one after that."""
    monkeypatch.setenv("MARKET_INSTANCE_PATH", str(tmp_path))
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": scratch_database_url})
    stamp = "2026-11-20 05:00:00"
    with app.app_context():
        upgrade(revision="0016")
        with db.engine.begin() as connection:
            insert_markets(connection, {n: date(2026, 12, n) for n in (1, 2)}, stamp)
            insert_customers(connection, 400, stamp)
            connection.execute(
                text(
                    "INSERT INTO invitations (id, customer_id, market_id, token, status,"
                    " sequence_sent, created_at, answer_outdated)"
                    " VALUES (:id, :customer, :market, :token, 'invited', 0, :at, :no)"
                ),
                [
                    {
                        "id": n,
                        "customer": (n - 1) % 400 + 1,
                        "market": 1 if n <= 400 else 2,
                        "token": f"t{n}",
                        "at": stamp,
                        "no": False,
                    }
                    for n in range(1, 501)
                ],
            )
        upgrade(revision="heads")
        with db.engine.begin() as connection:
            rows = connection.execute(text("SELECT market_id, pass_code FROM invitations")).all()
            assert len(rows) == 500
            for market_id in (1, 2):
                codes = [code for market, code in rows if market == market_id]
                assert len(codes) == len(set(codes)) == (400 if market_id == 1 else 100)
            for _market, code in rows:
                assert len(code) == PASS_LENGTH and set(code) <= set(PASS_ALPHABET)
        with pytest.raises(IntegrityError), db.engine.begin() as connection:
            connection.execute(
                text(
                    "UPDATE invitations SET pass_code ="
                    " (SELECT pass_code FROM invitations WHERE id = 1) WHERE id = 2"
                )
            )
        db.engine.dispose()
