"""Market day on paper and phone (issue 17): staff print the market-day
sheet of a market with 10 booths to PDF (one A4 page) and look at it as
printed; on a phone, staff approve three waiting enterprises at once, mark
every booth present, open several markets, and an enterprise applies for
several market days. Every new page is shot at 360 and 1280 px."""

import re
from datetime import datetime, timedelta

import pytest

from market.timeutil import SEOUL
from tests.browser.conftest import log_in

A4_WIDTH, A4_HEIGHT = 794, 1123  # CSS px at 96 dpi
VENDOR_EMAIL, VENDOR_PASSWORD = "many@dates.kr", "many-dates-pass-1"


def _thursday(days: int):
    day = datetime.now(SEOUL).date() + timedelta(days=days)
    return day + timedelta(days=(3 - day.weekday()) % 7)


@pytest.fixture(scope="module")
def market_day(server):
    """A market of 10 booths, all assigned, held today; three enterprises
    waiting for approval; two planned and two open markets; an approved
    enterprise with a login."""
    out = server.python(f"""
from datetime import date, time, timedelta
from market.accounts.models import Role, User
from market.booths import services as booths
from market.extensions import db
from market.markets import services
from market.markets.models import MarketStatus
from market.timeutil import utcnow
from market.validators import business_number_valid
from market.vendors.models import Application, Category, EnterpriseType, Vendor, VendorStatus
venue = services.create_venue("평택시청", "경기도 평택시 경기대로 245", 10)
db.session.flush()
numbers = (str(n).zfill(10) for n in range(2000000000, 9999999999, 7717))
categories = list(Category)
names = ["햇살농장", "바른두부협동조합", "꿈꾸는베이커리", "행복한 손뜨개",
         "초록 텃밭 마을기업", "늘봄 수제청", "산들 도자기 공방", "우리밀 국수",
         "하늘빛 천연비누", "한우리 전통주 사회적협동조합",
         "새싹 유기농", "들꽃 마을", "별 따는 공방", "여러날 마을기업"]
people = ["김민지", "이서준", "박하늘", "최윤아", "정다온"]
def vendor(n, status):
    number = next(x for x in numbers if business_number_valid(x))
    v = Vendor(name=names[n], business_number=number, enterprise_type=EnterpriseType.VILLAGE,
               cert_issuer="경기도", cert_number=f"P-{{n}}", cert_issued_on=date(2024, 1, 1),
               category=categories[n % len(categories)], contact_name=people[n % 5],
               phone="+82101234{{:04d}}".format(5000 + n), status=status,
               email=f"day{{n}}@vendor.example.kr")
    db.session.add(v)
    db.session.flush()
    return v
def market(days, status):
    day = date.fromisoformat("{_thursday(20)}") + timedelta(days=days)
    m = services.create_market(services.MarketDetails(day, time(10), time(15), venue.id, 10,
                               services.default_deadline(day), 30_000_000))
    if status is not MarketStatus.PLANNED:
        services.change_status(m, status)
    return m
held = market(0, MarketStatus.OPEN)
notes = ["전기 콘센트 필요", None, "차량 진입 10시 전", None, None,
         "시식 테이블 1개 추가", None, None, None, "주류 시음은 12시부터"]
for n in range(10):
    v = vendor(n, VendorStatus.APPROVED)
    db.session.add(Application(vendor_id=v.id, market_id=held.id, note=notes[n]))
db.session.flush()
booths.confirm(held.id, None)
held.market_date = date.fromisoformat("{datetime.now(SEOUL).date()}")  # held today
for n in (10, 11, 12):
    vendor(n, VendorStatus.PENDING)
for days in (7, 14):
    market(days, MarketStatus.PLANNED)
for days in (21, 28):
    market(days, MarketStatus.OPEN)
owner = vendor(13, VendorStatus.APPROVED)
user = User(email="{VENDOR_EMAIL}", name="여러날", role=Role.VENDOR, vendor_id=owner.id)
user.set_password("{VENDOR_PASSWORD}")
if hasattr(user, "email_confirmed_at"):
    user.email_confirmed_at = utcnow()
db.session.add(user)
db.session.commit()
print(held.id)
""")
    return int(out.splitlines()[-1])


def _pdf_pages(pdf: bytes) -> int:
    """Pages of a PDF: its /Type /Page objects (not /Pages, the tree)."""
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


def _keep(path, name: str) -> None:
    """A copy next to the other issue-17 screenshots, to look at."""
    from pathlib import Path

    folder = Path("/tmp/shots17/s")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(Path(path).read_bytes())


def test_the_market_day_sheet_prints_on_one_a4_page(
    over_https, server, desktop, shots_dir, market_day
):
    page = desktop
    log_in(page, server.url)
    page.goto(f"{server.url}/staff/markets/{market_day}/booths")
    page.get_by_role("link", name="장터 당일 출력물").click()
    page.wait_for_load_state()
    assert page.locator(".sheet-table tbody tr").count() == 10
    assert page.locator(".sheet-qr svg").count() == 10
    assert page.get_by_role("button", name="인쇄").is_visible()  # static/js/print.js ran
    screen = shots_dir / "market-sheet-1280.png"
    page.screenshot(path=str(screen), full_page=True)
    _keep(screen, "sheet-screen-1280.png")

    pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    (shots_dir / "market-sheet.pdf").write_bytes(pdf)
    _keep(shots_dir / "market-sheet.pdf", "market-sheet.pdf")
    assert pdf.startswith(b"%PDF")
    assert _pdf_pages(pdf) == 1, f"{_pdf_pages(pdf)} pages for 10 booths"

    # The page as printed: print media at the width of A4's printable area.
    page.set_viewport_size({"width": A4_WIDTH - 76, "height": A4_HEIGHT - 83})
    page.emulate_media(media="print")
    assert page.locator(".site-header").is_hidden() and page.locator(".site-footer").is_hidden()
    assert page.locator(".booth-map-wide").is_visible()
    printed = shots_dir / "market-sheet-print.png"
    page.screenshot(path=str(printed), full_page=True)
    _keep(printed, "sheet-print-a4.png")
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height <= A4_HEIGHT - 83, f"the printed sheet is {height}px tall"
    page.emulate_media(media="screen")


def test_the_sheet_on_a_phone(over_https, server, phone, shots_dir, market_day):
    log_in(phone, server.url)
    phone.goto(f"{server.url}/staff/markets/{market_day}/booths/sheet")
    path = shots_dir / "market-sheet-360.png"
    phone.screenshot(path=str(path), full_page=True)
    _keep(path, "sheet-screen-360.png")
    overflow = phone.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not overflow


def test_staff_approve_three_enterprises_at_once_on_a_phone(
    over_https, server, phone, shots_dir, market_day
):
    page = phone
    log_in(page, server.url)
    page.goto(server.url + "/staff/vendors/")
    page.get_by_role("link", name="한꺼번에 승인").click()
    page.wait_for_load_state()
    for name in ("새싹 유기농", "들꽃 마을", "별 따는 공방"):
        page.get_by_label(re.compile(name)).check()
    page.screenshot(path=str(shots_dir / "approve-many-360.png"), full_page=True)
    _keep(shots_dir / "approve-many-360.png", "approve-many-360.png")
    page.get_by_role("button", name="선택한 기업 승인…").click()
    page.wait_for_load_state()
    step = page.locator("main").inner_text()
    assert "새싹 유기농" in step and "별 따는 공방" in step
    page.screenshot(path=str(shots_dir / "approve-many-confirm-360.png"), full_page=True)
    _keep(shots_dir / "approve-many-confirm-360.png", "approve-many-confirm-360.png")
    confirm = page.get_by_role("button", name="확인: 3곳 승인하고 메일 보내기")
    box = confirm.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44  # a primary action on a phone
    confirm.click()
    page.wait_for_load_state()
    assert "참여기업 3곳을 승인했습니다" in page.locator(".flash-success").inner_text()
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    state = server.python("""
from sqlalchemy import func, select
from market.audit.models import AuditEntry
from market.extensions import db
from market.outbox.models import OutboxMessage
from market.vendors.models import Vendor, VendorStatus
names = ["새싹 유기농", "들꽃 마을", "별 따는 공방"]
def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))
approved = count(Vendor, Vendor.name.in_(names), Vendor.status == VendorStatus.APPROVED)
mails = count(OutboxMessage, OutboxMessage.category == "vendor-status")
audit = count(AuditEntry, AuditEntry.action == "vendor.approve")
print(approved, mails >= 3, audit >= 3)
""")
    assert state.splitlines()[-1] == "3 True True"


@pytest.mark.parametrize("width", [360, 1280])
def test_the_other_bulk_pages(over_https, server, browser, shots_dir, market_day, width):
    context = browser.new_context(
        viewport={"width": width, "height": 800}, locale="ko-KR", timezone_id="Asia/Seoul"
    )
    page = context.new_page()

    def shot(name):
        path = shots_dir / f"{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        _keep(path, f"{name}-{width}.png")
        assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth"), name

    log_in(page, server.url)
    page.goto(f"{server.url}/staff/markets/open-many")
    shot("open-many")
    page.locator("input[name=market_id]").first.check()
    page.get_by_role("button", name="선택한 장터 신청 받기…").click()
    page.wait_for_load_state()
    shot("open-many-confirm")
    page.goto(f"{server.url}/staff/markets/{market_day}/attendance")
    shot("attendance")
    page.goto(f"{server.url}/staff/markets/{market_day}/attendance/all-present")
    shot("all-present")
    page.goto(f"{server.url}/staff/vendors/approve-many")
    shot("approve-many-empty")
    page.goto(f"{server.url}/account/logout")
    context.clear_cookies()
    log_in(page, server.url, VENDOR_EMAIL, VENDOR_PASSWORD)
    page.goto(f"{server.url}/vendor/markets/apply-many")
    shot("apply-many")
    for box in page.locator("input[name=market_id]").all():
        box.check()
    page.get_by_role("button", name="선택한 날짜 신청…").click()
    page.wait_for_load_state()
    shot("apply-many-confirm")
    context.close()
