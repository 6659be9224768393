"""Journeys 3 and 4: staff import buyers and invite the best; a customer
answers and unsubscribes."""

import ast
import csv
import re
import urllib.request
from datetime import datetime, timedelta

import pytest

from market.customers.samples import KOREAN_HEADER
from market.timeutil import SEOUL
from tests.browser.conftest import log_in


def _order_file(path, bad: bool):
    today = datetime.now(SEOUL).date()
    rows = [
        [
            "J-1",
            str(today - timedelta(days=20)),
            "한가람",
            "garam@example.com",
            "010-1111-2222",
            "행복플러스",
            "수면 양말",
            "250,000원",
            "Y",
            str(today - timedelta(days=100)),
        ],
        [
            "J-2",
            str(today - timedelta(days=10)),
            "한가람",
            "garam@example.com",
            "010-1111-2222",
            "행복플러스",
            "수면 양말",
            "120000",
            "Y",
            str(today - timedelta(days=100)),
        ],
        [
            "J-3",
            str(today - timedelta(days=5)),
            "오누리",
            "nuri@example.com",
            "",
            "잔다리마을공동체",
            "두유",
            "90,000" if not bad else "구만원",
            "Y",
            str(today - timedelta(days=50)),
        ],
    ]
    with path.open("w", encoding="cp949", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(KOREAN_HEADER)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def upcoming_market(server):
    server.flask(
        "venue", "add", "경기도청", "--address", "경기도 수원시 영통구 도청로 30", "--spots", "10"
    )
    today = datetime.now(SEOUL).date()
    server.flask(
        "schedule",
        "generate",
        "--start",
        str(today + timedelta(days=1)),
        "--end",
        str(today + timedelta(days=60)),
        "--venue",
        "경기도청",
    )
    # The first of the markets just made (other modules make markets too).
    output = server.python("""
from sqlalchemy import select
from market.extensions import db
from market.markets.models import Market, Venue
print(db.session.scalar(select(Market.id).join(Venue, Market.venue_id == Venue.id)
      .where(Venue.name == "경기도청").order_by(Market.market_date)))
""")
    return int(output.split()[-1])


def _customer_state(server, email: str) -> dict:
    """What the database holds of a customer's answer and unsubscription."""
    output = server.python(f"""
from sqlalchemy import func, select
from market.audit.models import AuditEntry
from market.customers.models import Customer, Suppression
from market.extensions import db
from market.invitations.models import Invitation
customer = db.session.scalar(select(Customer).where(Customer.email == "{email}"))
status = db.session.scalar(select(Invitation.status).where(Invitation.customer_id == customer.id))
audit = db.session.scalar(select(AuditEntry.after).where(
    AuditEntry.action == "customer.unsubscribe", AuditEntry.object_id == str(customer.id)))
print(repr(dict(answer=status.value, unsubscribed=customer.unsubscribed_at is not None,
                suppressed=db.session.scalar(select(func.count()).select_from(Suppression)
                    .where(Suppression.email_hash == customer.email_hash)) == 1,
                source=(audit or {{}}).get("source"))))
""")
    return ast.literal_eval(output.strip().splitlines()[-1])


def test_staff_import_rank_and_invite(server, desktop, shoot, tmp_path, inbox, upcoming_market):
    page = desktop
    log_in(page, server.url)
    page.goto(server.url + "/staff/customers/imports")
    page.set_input_files("#file", str(_order_file(tmp_path / "orders.csv", bad=True)))
    page.click("button.primary")
    # The page queues the file; the worker checks it while the page refreshes.
    page.get_by_text("잘못된 행").first.wait_for(timeout=60_000)
    assert page.locator("table.bad-rows td.num").first.inner_text() == "4"
    assert "구만원" in page.locator("table.bad-rows").inner_text()
    shoot(page, "import-with-a-bad-row")

    page.goto(server.url + "/staff/customers/imports")
    page.set_input_files("#file", str(_order_file(tmp_path / "orders-fixed.csv", bad=False)))
    page.click("button.primary")
    run = page.get_by_role("button", name=re.compile("새 주문 3건 가져오기"))
    run.wait_for(timeout=60_000)
    run.click()
    page.get_by_text("가져오기 완료").first.wait_for(timeout=60_000)
    shoot(page, "import-done")

    page.goto(f"{server.url}/staff/markets/{upcoming_market}/invitations")
    assert "경기도청" in page.locator("h1").inner_text()  # the market made above
    rows = page.locator("form table tbody tr")  # the ranking, a form to send from
    assert "한가람" in rows.nth(0).inner_text() and "₩370,000" in rows.nth(0).inner_text()
    page.get_by_role("link", name="미리 보기").first.click()
    page.wait_for_load_state()
    assert "(광고)" in page.locator("#preview-title + p + dl").inner_text()
    shoot(page, "ranking-and-preview")
    page.get_by_role("button", name=re.compile("선택한 고객에게 초대")).click()
    page.wait_for_load_state()
    assert "2명에게 광고 메일을 보냅니다" in page.content()
    shoot(page, "confirm-send")
    page.get_by_role("button", name=re.compile("2명에게 초대 보내기")).click()
    page.wait_for_load_state()

    received, _port = inbox
    invited = {"한가람 <garam@example.com>", "오누리 <nuri@example.com>"}
    mails = received.wait_for(lambda m: m["To"] in invited, count=2)
    assert invited <= {m["To"] for m in mails}
    assert all(m["Subject"].startswith("(광고)") for m in mails)

    page.goto(server.url + "/staff/outbox/")
    page.get_by_role("link", name=re.compile(r"\(광고\)")).first.click()
    page.wait_for_load_state()
    assert "text/calendar" in page.content()
    shoot(page, "delivered-email")


def _link(server, message, path: str) -> str:
    """The link of the mail's text part to `path`: on the public address,
    https through the proxy."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    found = re.search(rf"({re.escape(server.url)}{path}/\S+)", text)
    assert found, f"no {server.url}{path}/ link in:\n{text}"
    return found.group(1)


def test_customer_answers_and_unsubscribes(
    over_https, server, phone, desktop, shoot, inbox, upcoming_market
):
    received, _port = inbox
    mail = next(m for m in received.messages if "garam@example.com" in m["To"])
    phone.goto(_link(server, mail, "/i"))
    assert "한가람" in phone.content()
    shoot(phone, "rsvp")
    phone.get_by_role("button", name="참석할게요").click()
    phone.wait_for_load_state()
    assert "장터에서 뵙기를 기다리겠습니다" in phone.content()
    assert _customer_state(server, "garam@example.com")["answer"] == "accepted"
    shoot(phone, "rsvp-accepted")

    phone.goto(_link(server, mail, "/u"))
    shoot(phone, "unsubscribe")
    phone.get_by_role("button", name="수신 거부").click()
    phone.wait_for_load_state()
    assert "g***@example.com 주소는 수신 거부되었습니다" in phone.get_by_role("status").inner_text()
    assert phone.get_by_role("button", name="수신 거부").count() == 0
    assert phone.get_by_role("heading", name="수신 거부 완료").count() == 1
    assert _customer_state(server, "garam@example.com") == {
        "answer": "accepted",
        "unsubscribed": True,
        "suppressed": True,
        "source": "page",
    }
    shoot(phone, "unsubscribed")

    log_in(desktop, server.url)
    ranking_url = f"{server.url}/staff/markets/{upcoming_market}/invitations?skip_weeks=0"
    desktop.goto(ranking_url)
    ranking = desktop.locator("#ranked-title").locator("..").inner_text()
    assert "한가람" not in ranking and "오누리" in ranking

    # 오누리's mail provider unsubscribes her with the RFC 8058 one-click POST
    # to the List-Unsubscribe address of her mail, from its own servers.
    nuri = next(m for m in received.messages if "nuri@example.com" in m["To"])
    assert nuri["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    one_click = re.search(r"<(https?://[^>]+)>", nuri["List-Unsubscribe"]).group(1)
    assert one_click.startswith(server.url + "/u/")
    request = urllib.request.Request(one_click, data=b"List-Unsubscribe=One-Click", method="POST")
    with urllib.request.urlopen(request, timeout=30, context=server.ssl_context) as response:
        assert response.status == 200
    assert _customer_state(server, "nuri@example.com")["source"] == "one-click"
    assert _customer_state(server, "nuri@example.com")["suppressed"]
    desktop.goto(ranking_url)
    assert "오누리" not in desktop.locator("#ranked-title").locator("..").inner_text()


def _invite(server, market_id: int, email: str, name: str) -> str:
    """A consenting customer invited to the market; the invitation's token."""
    output = server.python(f"""
from datetime import timedelta
from market.customers.models import Customer, email_hash
from market.extensions import db
from market.invitations import sending
from market.markets.models import Market
from market.timeutil import utcnow
now = utcnow()
customer = Customer(email="{email}", email_hash=email_hash("{email}"), name="{name}",
                    consent=True, consent_at=now - timedelta(days=30), consent_source="https.csv",
                    consent_wording="v1", details_as_of=now)
db.session.add(customer)
db.session.flush()
result = sending.invite(db.session.get(Market, {market_id}), [customer.id], actor=None, now=now)
db.session.commit()
print(result.invitations[0].token)
""")
    return output.split()[-1]


def test_rsvp_answer_and_unsubscribe_work_over_https(
    over_https, server, phone, shoot, upcoming_market
):
    """The answer page once sent `Referrer-Policy: no-referrer`, so
    Chromium posted the answer without a Referer and Flask-WTF's strict
    HTTPS check refused it (400). The page's own links and forms are checked
    here over https through the proxy, on a phone."""
    email = "https-rsvp@example.org"
    token = _invite(server, upcoming_market, email, "나보안")
    url = f"{server.url}/i/{token}"
    phone.goto(url)
    assert phone.url.startswith("https://")
    with phone.expect_response(lambda r: r.request.method == "POST") as posted:
        phone.get_by_role("button", name="참석할게요").click()
    assert posted.value.status == 303, posted.value.text()
    phone.wait_for_load_state()
    assert phone.url == url
    assert "장터에서 뵙기를 기다리겠습니다" in phone.locator(".flash-success").inner_text()
    assert _customer_state(server, email)["answer"] == "accepted"
    shoot(phone, "rsvp-answered-over-https")

    # The language switch (a POST too) brings the same page back in English.
    phone.get_by_role("button", name="English").click()
    phone.wait_for_load_state()
    assert phone.url == url and "you are invited" in phone.content()
    phone.get_by_role("button", name="I can't come").click()
    phone.wait_for_load_state()
    assert _customer_state(server, email)["answer"] == "declined"
    phone.get_by_role("button", name="한국어").click()
    phone.wait_for_load_state()

    phone.get_by_role("link", name=re.compile("수신 거부")).click()
    phone.wait_for_load_state()
    with phone.expect_response(lambda r: r.request.method == "POST") as posted:
        phone.get_by_role("button", name="수신 거부").click()
    assert posted.value.status == 200
    assert "수신 거부되었습니다" in phone.get_by_role("status").inner_text()
    assert _customer_state(server, email)["unsubscribed"]
