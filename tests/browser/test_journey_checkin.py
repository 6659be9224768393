"""Check-in at the market on a phone (issue 18): staff open the check-in
page from the market page, type a visitor's short code and see them checked
in (a second time: when, and by whom); the scanner keeps the strict CSP and
loads its QR reader from our own origin; and the phone's camera, fed a
visitor pass by Chromium's fake capture device, reads the pass with that
reader and checks the visitor in. Shot at 360 and 1280 px."""

import re
from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM, log_in

GATE = """
from datetime import time, timedelta
from market.customers.models import Customer, email_hash
from market.extensions import db
from market.invitations.models import AnswerSource, Invitation, InvitationStatus
from market.markets import services
from market.timeutil import today_seoul, utcnow
venue = services.create_venue("입장 확인 시험장", "경기도 수원시 팔달구 효원로 1", 10)
db.session.flush()
later = today_seoul() + timedelta(days=(3 - today_seoul().weekday()) % 7 + 35)
m = services.create_market(services.MarketDetails(later, time(10), time(15), venue.id, 10,
                           services.default_deadline(later), 30_000_000))
m.market_date = today_seoul()  # held today
m.date_exception_reason = "입장 확인 시험"
people = [
    ("gate-hana@example.com", "김하나", "+821012345678", "7KQ4MX", InvitationStatus.ACCEPTED),
    ("gate-dul@example.com", "김두리", "+821098765678", "ABCDEF", InvitationStatus.INVITED),
    ("gate-set@example.com", "이셋", "+821055554321", "HJKMNP", InvitationStatus.TENTATIVE),
]
for email, name, phone, code, status in people:
    c = Customer(email=email, email_hash=email_hash(email), name=name, phone=phone, consent=True,
                 consent_at=utcnow(), consent_source="journey", consent_wording="v1",
                 details_as_of=utcnow())
    db.session.add(c)
    db.session.flush()
    answered = status is not InvitationStatus.INVITED
    db.session.add(Invitation(customer_id=c.id, market_id=m.id, pass_code=code, status=status,
                              answer_source=AnswerSource.PAGE if answered else None,
                              answered_at=utcnow() if answered else None))
db.session.commit()
print(m.id)
"""


@pytest.fixture(scope="module")
def gate(server):
    """A market held today with three invitees and their pass codes."""
    return int(server.python(GATE).splitlines()[-1])


def _shot(page, shots_dir, name: str) -> None:
    """Into the journeys' own screenshot folder (conftest shots_dir), like
    the other journeys: never another session's folder."""
    page.screenshot(path=str(shots_dir / f"checkin-{name}.png"), full_page=True)


def _targets_too_small(page) -> list[str]:
    """The check-in page's buttons and fields under 48 px tall or wide."""
    return page.evaluate(
        """() => [...document.querySelectorAll(
                ".checkin button, .checkin input:not([type=hidden]), .checkin .button")]
            .filter((el) => el.checkVisibility())
            .map((el) => [el.id || el.name || el.textContent.trim(), el.getBoundingClientRect()])
            .filter(([, r]) => r.height < 48 || r.width < 48)
            .map(([name, r]) => `${name}: ${Math.round(r.width)}x${Math.round(r.height)}`)"""
    )


def _scrolls_sideways(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


def _visit(server, code: str) -> str:
    return server.python(f"""
from sqlalchemy import select
from market.accounts.models import User
from market.extensions import db
from market.invitations.models import Invitation
row = db.session.execute(select(Invitation.visited_at, User.email)
      .outerjoin(User, User.id == Invitation.visited_by_id)
      .where(Invitation.pass_code == "{code}")).one()
print(row.visited_at is not None, row.email)
""").splitlines()[-1]


def test_staff_type_a_short_code_on_a_phone_and_see_the_visitor_checked_in(
    over_https, server, phone, shots_dir, gate
):
    page = phone
    log_in(page, server.url)
    page.goto(f"{server.url}/staff/markets/{gate}")
    page.get_by_role("link", name="방문객 입장 확인").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/staff/markets/{gate}/check-in")
    assert "오늘 입장 0명 / 초대 3명" in page.locator(".checkin-tally").inner_text()
    assert _targets_too_small(page) == []
    assert not _scrolls_sideways(page)
    _shot(page, shots_dir, "scanner-360")

    # typed as a person would: lower case, with a space
    page.get_by_label("입장권 코드").fill("abc def")
    page.get_by_role("button", name="입장 확인", exact=True).click()
    page.wait_for_load_state()
    assert page.url.endswith("/check-in/ABCDEF")
    assert "입장 확인 완료: 김두리" in page.locator(".flash-success").inner_text()
    status = page.locator("#checkin-status").inner_text()
    assert "10:00 입장 확인됨" in status and "김운영" in status
    assert "오늘 입장 1명 / 초대 3명" in page.locator(".checkin-tally").inner_text()
    assert _targets_too_small(page) == [] and not _scrolls_sideways(page)
    _shot(page, shots_dir, "checked-in-360")
    assert _visit(server, "ABCDEF") == "True staff@journey.kr"

    # the same pass again: when, and by whom
    page.get_by_role("link", name="다음 입장권 스캔").click()
    page.wait_for_load_state()
    page.get_by_label("입장권 코드").fill("ABCDEF")
    page.get_by_role("button", name="입장 확인", exact=True).click()
    page.wait_for_load_state()
    warning = page.locator(".flash-warning").inner_text()
    assert "이미 10:00에 입장 확인됨 (확인한 직원: 김운영)" in warning
    _shot(page, shots_dir, "already-360")

    # a look-alike typed: told, and nothing happens
    page.get_by_role("link", name="다음 입장권 스캔").click()
    page.wait_for_load_state()
    page.get_by_label("입장권 코드").fill("7KQ4M0")
    page.get_by_role("button", name="입장 확인", exact=True).click()
    page.wait_for_load_state()
    assert "0, O, 1, I, L" in page.locator(".checkin .error").inner_text()
    assert _visit(server, "7KQ4MX").startswith("False")

    # name and the phone's last four digits: several to choose from
    page.get_by_label("이름", exact=True).fill("김")
    page.get_by_label("전화번호 뒤 4자리").fill("5678")
    page.get_by_role("button", name="찾기").click()
    page.wait_for_load_state()
    assert page.locator(".checkin-matches li").count() == 2
    assert _targets_too_small(page) == [] and not _scrolls_sideways(page)
    _shot(page, shots_dir, "several-360")
    page.locator(".checkin-matches li", has_text="김하나").get_by_role("link").click()
    page.wait_for_load_state()
    assert "참석" in page.locator(".facts").inner_text()
    _shot(page, shots_dir, "visitor-confirm-360")
    page.get_by_role("button", name="입장 확인", exact=True).click()
    page.wait_for_load_state()
    assert "입장 확인 완료: 김하나" in page.locator(".flash-success").inner_text()


@pytest.mark.parametrize("width", [1280])
def test_the_check_in_pages_on_a_wide_screen(over_https, server, browser, shots_dir, gate, width):
    context = browser.new_context(
        viewport={"width": width, "height": 900}, locale="ko-KR", timezone_id="Asia/Seoul"
    )
    page = context.new_page()
    log_in(page, server.url)
    page.goto(f"{server.url}/staff/markets/{gate}/check-in")
    _shot(page, shots_dir, f"scanner-{width}")
    page.goto(f"{server.url}/staff/markets/{gate}/check-in/ABCDEF")
    _shot(page, shots_dir, f"checked-in-{width}")
    for _ in range(2):  # the second time certainly "already"
        page.goto(f"{server.url}/staff/markets/{gate}/check-in")
        page.get_by_label("입장권 코드").fill("ABCDEF")
        page.get_by_role("button", name="입장 확인", exact=True).click()
        page.wait_for_load_state()
    assert "이미 10:00에 입장 확인됨" in page.locator(".flash-warning").inner_text()
    _shot(page, shots_dir, f"already-{width}")
    page.goto(f"{server.url}/staff/markets/{gate}/check-in/QQQQQQ")
    _shot(page, shots_dir, f"not-this-market-{width}")
    context.close()


def test_the_scanner_keeps_the_csp_and_loads_its_reader_from_our_origin(
    over_https, server, phone, gate
):
    page = phone
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    log_in(page, server.url)
    response = page.goto(f"{server.url}/staff/markets/{gate}/check-in")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    scripts = page.eval_on_selector_all("script[src]", "els => els.map(e => e.src)")
    assert scripts and all(src.startswith(server.url + "/static/") for src in scripts)

    # the reader the page loads where the browser has no BarcodeDetector
    reader = page.locator("#scan-form").get_attribute("data-reader")
    fetched = page.evaluate(
        """async (u) => { const r = await fetch(u);
            return [r.status, r.url, r.headers.get("content-type"), (await r.text()).length]; }""",
        reader,
    )
    assert fetched[0] == 200 and fetched[1] == f"{server.url}/static/js/jsqr/jsQR.js"
    assert "javascript" in fetched[2] and fetched[3] > 100_000
    page.evaluate(
        """(u) => new Promise((ok, bad) => { const s = document.createElement("script");
            s.src = u; s.onload = ok; s.onerror = bad; document.head.appendChild(s); })""",
        reader,
    )
    assert page.evaluate("typeof window.jsQR") == "function"

    # what the page accepts from a scan: only this market's check-in address here
    check = "(t) => document.getElementById('scan-form').checkInPath(t)"
    ours = f"{server.url}/staff/markets/{gate}/check-in/"
    assert page.evaluate(check, ours + "7kq4mx") == f"/staff/markets/{gate}/check-in/7KQ4MX"
    for text in [
        f"https://evil.example/staff/markets/{gate}/check-in/7KQ4MX",
        f"{server.url}/staff/markets/{gate + 1}/check-in/7KQ4MX",
        ours + "7KQ4M0",
        ours + "7KQ4MX/../../x",
        "7KQ4MX",
        "javascript:alert(1)",
        "",
    ]:
        assert page.evaluate(check, text) is None, text
    page.evaluate("(t) => document.getElementById('scan-form').scanned(t)", "https://evil.example/")
    assert page.locator("#scan-message").inner_text() == "이 장터의 입장권이 아닙니다"
    assert page.url.endswith("/check-in")  # nothing sent
    assert problems == []


def _y4m(path: Path, text: str) -> None:
    """A few frames of video (YUV4MPEG2, 4:2:0) of the QR code of `text`,
    black on white, for Chromium's fake camera."""
    import segno

    width, height, scale = 640, 480, 8
    matrix = [list(row) for row in segno.make(text, error="m", micro=False).matrix]
    size = (len(matrix) + 8) * scale
    left, top = (width - size) // 2, (height - size) // 2
    luma = bytearray([235]) * (width * height)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if not dark:
                continue
            for dy in range(scale):
                start = (top + (y + 4) * scale + dy) * width + left + (x + 4) * scale
                luma[start : start + scale] = bytes([16]) * scale
    chroma = bytes([128]) * (width * height // 4)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(10):
            out.write(b"FRAME\n" + bytes(luma) + chroma + chroma)


def test_the_camera_reads_a_pass_and_checks_the_visitor_in(
    over_https, server, browser, certificate, shots_dir, gate, tmp_path
):
    """Chromium's fake camera shows a visitor pass's QR code (the address
    passes.check_in_url gives); headless Chromium on Linux has no
    BarcodeDetector, so this is the shipped jsQR reading it."""
    address = server.python(
        f"from market.invitations.passes import check_in_url\nprint(check_in_url({gate}, 'HJKMNP'))"
    ).splitlines()[-1]
    assert address.startswith(server.url)
    video = tmp_path / "pass.y4m"
    _y4m(video, address)
    camera = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=[
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
            f"--ignore-certificate-errors-spki-list={certificate.spki_hash}",
        ],
    )
    try:
        context = camera.new_context(
            viewport={"width": 360, "height": 740},
            locale="ko-KR",
            timezone_id="Asia/Seoul",
            is_mobile=True,
            has_touch=True,
        )
        context.grant_permissions(["camera"], origin=server.url)
        page = context.new_page()
        log_in(page, server.url)
        page.goto(f"{server.url}/staff/markets/{gate}/check-in")
        assert page.evaluate("'BarcodeDetector' in window") is False
        page.get_by_role("button", name=re.compile("카메라로 스캔")).click()
        page.wait_for_url(re.compile(r"/check-in/HJKMNP$"), timeout=20_000)
        assert "입장 확인 완료: 이셋" in page.locator(".flash-success").inner_text()
        assert "미정" in page.locator(".facts").inner_text()
        _shot(page, shots_dir, "scanned-360")
        assert _visit(server, "HJKMNP") == "True staff@journey.kr"
        context.close()
    finally:
        camera.close()


def test_a_pass_carrying_the_public_address_scans_where_staff_use_another(
    over_https, server, phone, gate
):
    """Passes carry PUBLIC_BASE_URL (https://127.0.0.1:<port> here); staff
    open the scanner at another address of the same site (localhost: www.
    or not, a LAN address). The pass is still this market's and is checked
    in at the address staff are on; another market's and another site's
    address still are not."""
    page = phone
    elsewhere = server.url.replace("127.0.0.1", "localhost")
    assert elsewhere != server.url
    log_in(page, elsewhere)
    page.goto(f"{elsewhere}/staff/markets/{gate}/check-in")
    form = page.locator("#scan-form")
    assert form.get_attribute("data-pass-alphabet") == "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    assert f"{server.url}/staff/markets/{gate}/check-in/" in form.get_attribute("data-accept")
    address = server.python(
        f"from market.invitations.passes import check_in_url\nprint(check_in_url({gate}, 'HJKMNP'))"
    ).splitlines()[-1]
    assert address.startswith(server.url), "the pass carries the public address"
    check = "(t) => document.getElementById('scan-form').checkInPath(t)"
    path = f"/staff/markets/{gate}/check-in/HJKMNP"
    assert page.evaluate(check, address) == path
    assert page.evaluate(check, f"{elsewhere}{path}") == path
    for text in [
        f"https://evil.example/staff/markets/{gate}/check-in/HJKMNP",
        f"{server.url}/staff/markets/{gate + 1}/check-in/HJKMNP",
        f"{server.url}/other/staff/markets/{gate}/check-in/HJKMNP",
        address.replace("HJKMNP", "HJKMN0"),
    ]:
        assert page.evaluate(check, text) is None, text
    # scanned: POSTed to the address staff are on, the visitor checked in
    page.evaluate("(t) => document.getElementById('scan-form').scanned(t)", address)
    page.wait_for_url(re.compile(r"/check-in/HJKMNP$"))
    assert page.url.startswith(elsewhere)
    assert page.locator(".flash-success, .flash-warning").count() == 1
    assert _visit(server, "HJKMNP") == "True staff@journey.kr"
