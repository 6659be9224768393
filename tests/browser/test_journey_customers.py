"""Journeys 3 and 4: staff import buyers and invite the best; a customer
answers and unsubscribes."""

import csv
import re
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
    return 1


def test_staff_import_rank_and_invite(server, desktop, shoot, tmp_path, inbox, upcoming_market):
    page = desktop
    log_in(page, server.url)
    page.goto(server.url + "/staff/customers/imports")
    page.set_input_files("#file", str(_order_file(tmp_path / "orders.csv", bad=True)))
    page.click("button.primary")
    page.wait_for_load_state()
    assert "잘못된 행" in page.content()
    assert page.locator("table.bad-rows td.num").first.inner_text() == "4"
    assert "구만원" in page.locator("table.bad-rows").inner_text()
    shoot(page, "import-with-a-bad-row")

    page.goto(server.url + "/staff/customers/imports")
    page.set_input_files("#file", str(_order_file(tmp_path / "orders-fixed.csv", bad=False)))
    page.click("button.primary")
    page.wait_for_load_state()
    page.get_by_role("button", name=re.compile("새 주문 3건 가져오기")).click()
    page.wait_for_load_state()
    assert "가져오기 완료" in page.content()
    shoot(page, "import-done")

    page.goto(f"{server.url}/staff/markets/{upcoming_market}/invitations")
    rows = page.locator("table tbody tr")
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
    before = len(received.messages)
    output = server.flask("outbox", "deliver", "--once")
    assert output.startswith("sent "), output
    mails = [m for m in received.messages[before:] if "@example.com" in m["To"]]
    assert {"한가람 <garam@example.com>", "오누리 <nuri@example.com>"} <= {m["To"] for m in mails}
    assert all(m["Subject"].startswith("(광고)") for m in mails)

    page.goto(server.url + "/staff/outbox/")
    page.get_by_role("link", name=re.compile(r"\(광고\)")).first.click()
    page.wait_for_load_state()
    assert "text/calendar" in page.content()
    shoot(page, "delivered-email")


def _link(message, path: str) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(rf"(http://\S+{path}/\S+)", text).group(1)


def test_customer_answers_and_unsubscribes(server, phone, desktop, shoot, inbox, upcoming_market):
    received, _port = inbox
    mail = next(m for m in received.messages if "garam@example.com" in m["To"])
    phone.goto(_link(mail, "/i"))
    assert "한가람" in phone.content()
    shoot(phone, "rsvp")
    phone.get_by_role("button", name="참석할게요").click()
    phone.wait_for_load_state()
    assert "장터에서 뵙기를 기다리겠습니다" in phone.content()
    shoot(phone, "rsvp-accepted")

    phone.goto(_link(mail, "/u"))
    shoot(phone, "unsubscribe")
    phone.get_by_role("button", name="수신 거부").click()
    phone.wait_for_load_state()
    assert "수신 거부" in phone.content()
    shoot(phone, "unsubscribed")

    log_in(desktop, server.url)
    desktop.goto(f"{server.url}/staff/markets/{upcoming_market}/invitations?skip_weeks=0")
    ranking = desktop.locator("#ranked-title").locator("..").inner_text()
    assert "한가람" not in ranking and "오누리" in ranking
