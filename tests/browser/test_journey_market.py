"""Journeys 1 and 2: staff plan a season and assign booths; a vendor signs up
on a phone, applies, sees its booth, logs its takings and subscribes."""

import re
import urllib.request
from datetime import date, datetime, timedelta

import holidays
import pytest

from market.timeutil import SEOUL
from tests.browser.conftest import log_in
from tests.browser.test_accessibility import assert_accessible

VENDOR_EMAIL, VENDOR_PASSWORD = "owner@haengbok.kr", "haengbok-pass-1"


def _first_thursday_holiday_after(day: date) -> tuple[date, str]:
    found = holidays.country_holidays("KR", years=range(day.year, day.year + 3), language="ko")
    return min((d, name) for d, name in found.items() if d > day and d.weekday() == 3)


@pytest.fixture(scope="module")
def venue(server):
    server.flask(
        "venue", "add", "수원시청", "--address", "경기도 수원시 팔달구 효원로 241", "--spots", "8"
    )
    return "수원시청"


def _applicants(server, market_id: int, count: int) -> None:
    server.python(f"""
from datetime import date
from market.extensions import db
from market.vendors.models import (Application, Category, EnterpriseType, Vendor,
                                   VendorStatus)
from market.validators import business_number_valid
categories = list(Category)
numbers = (str(n).zfill(10) for n in range(1000000000, 9999999999, 7919))
for n in range({count}):
    number = next(x for x in numbers if business_number_valid(x))
    vendor = Vendor(name=f"기업 {{n + 1}}", business_number=number,
                    enterprise_type=EnterpriseType.VILLAGE, cert_issuer="경기도",
                    cert_number=f"C-{{n}}", cert_issued_on=date(2024, 1, 1),
                    category=categories[n % len(categories)], contact_name="담당",
                    phone="+821012345678", email=f"v{{n}}@example.kr",
                    status=VendorStatus.APPROVED)
    db.session.add(vendor)
    db.session.flush()
    db.session.add(Application(vendor_id=vendor.id, market_id={market_id}))
db.session.commit()
""")


def test_staff_season_applications_and_booths(server, desktop, shoot, venue):
    page = desktop
    log_in(page, server.url)
    today = datetime.now(SEOUL).date()
    start = today + timedelta(days=70)
    holiday, name = _first_thursday_holiday_after(start)
    page.goto(server.url + "/staff/markets/season")
    page.fill("#start", str(start))
    page.fill("#end", str(holiday + timedelta(days=14)))
    page.select_option("#venue-1", label="수원시청 (8)")
    page.click("button[value=preview]")
    page.wait_for_load_state()
    shoot(page, "season-form")
    preview = page.locator("table.season-preview").inner_text()
    assert f"공휴일: {name}" in preview
    shoot(page, "season-preview")
    create = page.get_by_role("button", name=re.compile(r"장터 \d+회 만들기"))
    planned = int(re.search(r"(\d+)회", create.inner_text()).group(1))
    create.click()
    page.wait_for_load_state()
    done = page.locator(".flash-success").inner_text()
    assert f"장터 {planned}회를 만들었습니다." in done, done
    assert re.search(r"\d+개 날짜는 만들지 않았습니다", done), done  # the holiday

    page.goto(server.url + "/staff/markets/")
    page.get_by_role("link", name=re.compile(f"{start.year}년")).last.click()
    page.wait_for_load_state()
    market_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    page.get_by_role("button", name=re.compile("참가 신청 중")).click()
    page.wait_for_load_state()
    assert "참가 신청 중" in page.content()

    _applicants(server, market_id, 5)
    page.goto(f"{server.url}/staff/markets/{market_id}/booths?preview=1")
    shoot(page, "booth-preview")
    page.check("input[name=checked]")
    page.get_by_role("button", name=re.compile("확정")).click()
    page.wait_for_load_state()
    shoot(page, "booths-confirmed")
    move = page.locator("form[action$='/booths/move']").first
    move.locator("button").click()
    page.wait_for_load_state()
    assert page.locator(".flash-success").count() == 1, page.locator(".flashes").inner_text()
    shoot(page, "after-moving-one")


def _register(page, business_number: str) -> None:
    page.fill("#name", "행복플러스")
    page.fill("#business_number", business_number)
    page.select_option("#enterprise_type", "social")
    page.fill("#cert_issuer", "고용노동부")
    page.fill("#cert_number", "2019-001")
    page.fill("#cert_issued_on", "2019-03-01")
    page.select_option("#category", "clothing")
    page.fill("#description", "따뜻한 양말을 만드는 사회적기업")
    page.fill("#contact_name", "박행복")
    page.fill("#phone", "010-2345-6789")
    page.fill("#email", VENDOR_EMAIL)
    page.fill("#password", VENDOR_PASSWORD)
    page.fill("#confirm", VENDOR_PASSWORD)
    page.get_by_role("button", name="등록 신청").click()
    page.wait_for_load_state()


def _vendor_state(server) -> str:
    """The signed-up enterprise as the database holds it."""
    return server.python(f"""
from sqlalchemy import select
from market.accounts.models import User
from market.extensions import db
from market.vendors.models import Vendor
vendor = db.session.scalar(select(Vendor).where(Vendor.name == "행복플러스"))
user = db.session.scalar(select(User).where(User.email == "{VENDOR_EMAIL}"))
print(vendor.business_number, vendor.status.value, user.vendor_id == vendor.id)
""").splitlines()[-1]


def test_vendor_on_a_phone(over_https, server, phone, desktop, shoot, venue, inbox):
    page = phone
    assert server.url.startswith("https://")
    page.goto(server.url + "/vendors/register")
    _register(page, "123-45-67890")
    assert "유효하지 않은 사업자등록번호" in page.content()
    assert page.input_value("#name") == "행복플러스"
    shoot(page, "sign-up-error")
    page.fill("#password", VENDOR_PASSWORD)
    page.fill("#confirm", VENDOR_PASSWORD)
    page.fill("#business_number", "124-81-00998")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="등록 신청").click()
    assert posted.value.status == 302, posted.value.text()  # not the HTTPS CSRF 400
    page.wait_for_load_state()
    # Not signed in by the sign-up (issue 15: an email that already has a
    # login gets the very same answer): the login page says what happened.
    assert page.url == server.url + "/account/login"
    assert "행복플러스 등록 신청을 받았습니다" in page.locator(".flash-success").inner_text()
    assert _vendor_state(server) == "1248100998 pending True"
    shoot(page, "signed-up")
    # The address is confirmed by the link in the mail before the first login
    # (issue 17), read from the mail the app's worker delivered.
    received, _port = inbox
    [mail] = received.wait_for(
        lambda m: m["To"].addresses[0].addr_spec == VENDOR_EMAIL and "확인" in m["Subject"]
    )
    text = mail.get_body(("plain",)).get_content()
    page.goto(re.search(r"https?://\S+/account/confirm/[A-Za-z0-9._-]+", text)[0])
    assert "확인되었습니다" in page.locator(".flash-success").inner_text()

    log_in(desktop, server.url)
    desktop.goto(server.url + "/staff/vendors/?status=pending")
    desktop.get_by_role("link", name="행복플러스").click()
    desktop.get_by_role("button", name="승인").click()
    desktop.wait_for_load_state()

    market_day = datetime.now(SEOUL).date() + timedelta(days=400)
    market_day += timedelta(days=(3 - market_day.weekday()) % 7)
    market_id = int(
        server.python(f'''
from datetime import date, time
from market.markets import services
from market.markets.models import MarketStatus, Venue
from sqlalchemy import select
from market.extensions import db
venue = db.session.scalar(select(Venue).where(Venue.name == "수원시청"))
day = date.fromisoformat("{market_day}")
market = services.create_market(services.MarketDetails(day, time(10), time(15), venue.id, 4,
                                services.default_deadline(day), 30_000_000))
services.change_status(market, MarketStatus.OPEN)
db.session.commit()
print(market.id)
''').split()[-1]
    )

    log_in(page, server.url, VENDOR_EMAIL, VENDOR_PASSWORD)
    page.goto(server.url + "/vendor/")
    page.locator(f"a[href$='/vendor/markets/{market_id}/apply']").click()
    page.wait_for_load_state()
    page.locator("form button[type=submit].primary").click()
    page.wait_for_load_state()
    shoot(page, "applied")

    # Time passes: the deadline is over and the market day has come.
    server.python(f"""
from datetime import timedelta
from sqlalchemy import func, select
from market.extensions import db
from market.markets.models import Market
from market.timeutil import SEOUL, utcnow
from market.vendors.models import Application
market = db.session.get(Market, {market_id})
today = utcnow().astimezone(SEOUL).date()
applied = db.session.scalar(select(func.max(Application.applied_at))
                            .where(Application.market_id == market.id))
market.market_date, market.application_deadline = today, applied + timedelta(seconds=1)
market.date_exception_reason = None if today.weekday() == 3 else "시험 장터"
db.session.commit()
""")
    desktop.goto(f"{server.url}/staff/markets/{market_id}/booths?preview=1")
    desktop.check("input[name=checked]")
    desktop.get_by_role("button", name=re.compile("확정")).click()
    desktop.wait_for_load_state()
    shoot(desktop, "staff-confirms-the-booths")

    page.goto(server.url + "/vendor/")
    assert re.search(r"내 부스: \d+번", page.content())
    shoot(page, "my-booth")
    page.get_by_role("link", name="매출 입력").click()
    page.wait_for_load_state()
    entry_page = page.url
    assert_accessible(page)  # the takings entry page, on a phone
    page.fill("#amount", "1,234,000원")
    page.locator("form button[type=submit].primary").click()
    page.wait_for_load_state()
    assert "₩1,234,000" in page.content()
    shoot(page, "takings-saved")
    page.goto(entry_page)
    page.fill("#amount", "99,999,999")
    page.locator("form button[type=submit].primary").click()
    page.wait_for_load_state()
    # Refused and told to call staff, with no amount: the room left would
    # let a vendor work out the other booths' takings.
    content = page.content()
    assert "하루 매출 한도를 넘습니다" in content and "센터 직원에게 전화해 주세요" in content
    assert "₩30,000,000" not in content and "남은" not in content
    shoot(page, "takings-over-the-ceiling")

    page.goto(server.url + "/vendor/")
    # Apple's link is the webcal one (Google's opens calendar.google.com).
    webcal = page.get_by_role("link", name=re.compile("애플 캘린더")).get_attribute("href")
    # The app built the link from the proxy's X-Forwarded-* headers: the
    # public host and port, not gunicorn's.
    assert webcal.startswith(server.url.replace("https://", "webcal://") + "/")
    feed_url = webcal.replace("webcal://", "https://")
    with urllib.request.urlopen(feed_url, timeout=30, context=server.ssl_context) as response:
        feed = response.read().decode()
    assert "BEGIN:VCALENDAR" in feed and "수원시청" in feed
