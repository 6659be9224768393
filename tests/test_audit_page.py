"""The audit log page (감사 기록) read by staff: Korean labels for keys, names
linked to records, won, Korea time, "전 → 후"; its filters, hostile filter
values, its query count and who may open it."""

import re
from datetime import datetime

import pytest
from sqlalchemy import delete

from market.accounts import services as accounts
from market.accounts.models import Role
from market.audit.models import AuditEntry
from market.audit.services import record
from market.extensions import db
from market.timeutil import SEOUL
from tests.customer_factories import make_customer
from tests.markets_factories import make_market, make_venue
from tests.takings_factories import add_takings, take_part
from tests.vendors_factories import make_vendor

AUDIT = "/staff/audit/"


def visible(html: str) -> str:
    """The page's words as a reader sees them: no tags, no attribute values."""
    body = html.split("<main", 1)[-1]
    return re.sub(r"<[^>]+>", " ", body)


def at(when: datetime, entry: AuditEntry) -> AuditEntry:
    entry.at = when
    return entry


@pytest.fixture
def market(clock):
    clock.seoul(2026, 11, 20)
    return make_market(make_venue("경기도청"), datetime(2026, 11, 26).date())


def test_entries_read_in_korean_with_names_links_won_and_korea_time(
    client, staff, login_as, clock, market
):
    vendor = make_vendor("잔다리마을공동체", status="pending")
    clock.seoul(2026, 11, 26, 10, 30)  # 01:30 UTC
    record(
        staff,
        "takings.ceiling",
        market,
        before={"takings_ceiling": 30_000_000},
        after={"takings_ceiling": 35_000_000},
        reason="추석 대목",
    )
    record(
        staff,
        "vendor.approve",
        vendor,
        before={"status": "pending", "status_reason": None},
        after={"status": "approved", "status_reason": None},
    )
    record(staff, "booths.confirm", market, after={"booth 1": vendor.id, "waitlist": ""})
    db.session.commit()
    login_as(staff)
    html = client.get(AUDIT).get_data(as_text=True)
    text = visible(html)
    assert "일일 매출 한도" in text
    assert re.search(r"₩30,000,000\s*</span>\s*→\s*<span class=\"after\">\s*₩35,000,000", html)
    assert "2026-11-26 10:30" in text  # Korea time, not 01:30 UTC
    assert "사유: 추석 대목" in text
    assert f'href="/staff/markets/{market.id}"' in html
    assert "2026년 11월 26일 (목) · 경기도청" in text
    assert f'<a href="/staff/vendors/{vendor.id}">잔다리마을공동체</a>' in html
    assert "검토 중" in text and "승인" in text
    assert "1번 부스" in text
    # no key, no JSON, no escapes anywhere on the page
    for raw in ("takings_ceiling", "vendor.approve", "status_reason", "booth 1", "#"):
        assert raw not in text, raw
    assert "\\u" not in html and '{"' not in html


def test_lists_mappings_and_creations_read_as_plain_text(client, staff, login_as, market):
    vendor = make_vendor("우리콩협동조합")
    record(
        staff,
        "vendor.review_again",
        vendor,
        before={"status": "approved"},
        after={"status": "pending", "changed": ["business_number", "category"]},
    )
    record(
        staff,
        "invitation.update",
        market,
        after={"queued": 1200, "withdrawn": 0, "sequence": 3, "changed": ["market_date"]},
    )
    record(None, "customers.purge", ("customers", None), after={"inactive_days": 730, "orders": 5})
    db.session.commit()
    login_as(staff)
    html = client.get(AUDIT).get_data(as_text=True)
    text = visible(html)
    assert "사업자등록번호, 판매 품목" in text
    assert "1,200" in text and "날짜" in text
    assert "시스템" in text  # no actor: the system did it
    assert "730" in text
    assert "[" not in text and "\\u" not in html and '{"' not in html


def test_each_kind_of_record_links_to_its_staff_page(client, staff, login_as, market):
    vendor = make_vendor()
    application = take_part(vendor, market)
    takings = add_takings(vendor, market, 1_234_000)
    customer = make_customer("buyer@example.kr", name="김고객")
    record(staff, "application.status", application, after={"status": "assigned"})
    record(staff, "takings.create", takings, after={"amount": 1_234_000, "cash": None})
    record(None, "customer.unsubscribe", ("customers", customer.id), after={"source": "page"})
    record(staff, "user.disable", staff, before={"active": True}, after={"active": False})
    db.session.commit()
    login_as(staff)
    html = client.get(AUDIT).get_data(as_text=True)
    text = visible(html)
    assert f'href="/staff/markets/{market.id}/applications"' in html
    assert f'href="/staff/markets/{market.id}/takings"' in html
    assert "₩1,234,000" in text and "배정" in text
    assert "김고객" in text and "고객 no." not in text
    assert "예" in text and "아니오" in text


def test_a_deleted_record_is_named_by_kind_and_number(client, staff, login_as):
    record(staff, "vendor.approve", ("vendors", 99999), after={"status": "approved"})
    db.session.commit()
    login_as(staff)
    text = visible(client.get(AUDIT).get_data(as_text=True))
    assert "참여기업 99999번 (지금은 없음)" in text


# -- filters ---------------------------------------------------------------------------


def test_date_range_is_korea_dates_both_ends_included(client, staff, login_as):
    late = at(datetime(2026, 11, 25, 23, 50, tzinfo=SEOUL), record(staff, "a.late", ("x", 1)))
    early = at(datetime(2026, 11, 26, 0, 10, tzinfo=SEOUL), record(staff, "a.early", ("x", 2)))
    last = at(datetime(2026, 11, 27, 23, 59, tzinfo=SEOUL), record(staff, "a.last", ("x", 3)))
    db.session.commit()
    assert late.id and early.id and last.id
    login_as(staff)
    page = visible(client.get(AUDIT + "?date_from=2026-11-26&date_to=2026-11-27").get_data(True))
    assert "2026-11-26 00:10:00" in page and "2026-11-27 23:59:00" in page
    assert "2026-11-25 23:50:00" not in page
    page = visible(client.get(AUDIT + "?date_to=2026-11-25").get_data(as_text=True))
    assert "2026-11-25 23:50:00" in page and "2026-11-26 00:10:00" not in page


def test_filter_by_user_kind_and_one_records_history(client, staff, make_user, login_as, market):
    other = make_user(Role.STAFF, email="other@center.example.kr")
    first, second = make_vendor("첫째기업"), make_vendor("둘째기업")
    record(staff, "vendor.approve", first, after={"status": "approved"})
    record(other, "vendor.suspend", second, after={"status": "suspended"})
    record(other, "market.status", market, after={"status": "open"})
    db.session.commit()
    login_as(staff)
    page = visible(client.get(AUDIT + "?actor=OTHER@center").get_data(as_text=True))
    assert "둘째기업" in page and "첫째기업" not in page
    page = visible(client.get(AUDIT + "?object_type=markets").get_data(as_text=True))
    assert "경기도청" in page and "둘째기업" not in page
    html = client.get(AUDIT + f"?object_type=vendors&object_id={first.id}").get_data(as_text=True)
    page = visible(html)
    assert "첫째기업" in page and "둘째기업" not in page
    assert "한 기록의 변경 기록" in page
    # actor filter takes % and _ literally
    assert "첫째기업" not in visible(client.get(AUDIT + "?actor=%25").get_data(as_text=True))


def test_vendor_staff_page_links_to_its_history(client, staff, login_as):
    vendor = make_vendor()
    login_as(staff)
    html = client.get(f"/staff/vendors/{vendor.id}").get_data(as_text=True)
    assert f'href="/staff/audit/?object_type=vendors&amp;object_id={vendor.id}"' in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("date_from=2026-13-45", "2026-11-26처럼"),
        ("date_to=26.11.2026", "2026-11-26처럼"),
        ("date_from=99999-01-01", "2026-11-26처럼"),
        ("date_from=0001-01-01", "2026-11-26처럼"),
        ("date_from=2026-11-27&date_to=2026-11-26", "끝 날짜가 시작 날짜보다"),
        ("object_id=2147483648", "12처럼"),
        ("object_id=99999999999999999999999", "12처럼"),
        ("object_id=-1", "12처럼"),
        ("object_id=%D9%A1%D9%A2", "12처럼"),  # Arabic-Indic digits
        ("object_id=1%0D%0A2", "12처럼"),
    ],
)
def test_hostile_filter_values_get_a_message_not_an_error(client, staff, login_as, query, message):
    record(staff, "vendor.approve", ("vendors", 1), after={"status": "approved"})
    db.session.commit()
    login_as(staff)
    response = client.get(f"{AUDIT}?{query}")
    assert response.status_code == 200
    page = visible(response.get_data(as_text=True))
    assert message in page
    assert "위 조건을 고쳐" in page  # and nothing listed rather than everything


@pytest.mark.parametrize(
    "query",
    [
        "actor=a%00b",
        "object_type=vendors%00",
        "action=" + "x" * 5000,
        "object_type=" + "가" * 300,
        "actor=" + "%" * 400,
        "page=99999999999",
        "date_from=%0D%0A",
    ],
)
def test_odd_filter_values_never_break_the_page(client, staff, login_as, query):
    login_as(staff)
    response = client.get(f"{AUDIT}?{query}")
    assert response.status_code < 500
    if "%00" in query:
        assert response.status_code == 400


# -- cost and access ---------------------------------------------------------------------


def _entries_of_every_kind(staff, vendors, market, customer, takings):
    for vendor in vendors:
        record(staff, "vendor.approve", vendor, after={"status": "approved"})
        record(staff, "booths.confirm", market, after={"booth 1": vendor.id, "waitlist": ""})
        record(staff, "takings.update", takings, before={"amount": 1}, after={"amount": 2})
        record(None, "customer.unsubscribe", ("customers", customer.id), after={"source": "link"})
        record(staff, "user.enable", staff, before={"active": False}, after={"active": True})
    db.session.commit()


def test_a_page_costs_the_same_queries_however_many_rows(
    client, staff, login_as, count_queries, market
):
    vendor = make_vendor()
    take_part(vendor, market)
    takings = add_takings(vendor, market, 1000)
    customer = make_customer("q@example.kr")
    db.session.execute(delete(AuditEntry))  # the venue's and market's: same kinds on both pages
    _entries_of_every_kind(staff, [vendor, make_vendor()], market, customer, takings)
    login_as(staff)
    client.get(AUDIT)  # the first page of a new login may note the session
    with count_queries() as few:
        assert client.get(AUDIT).status_code == 200
    _entries_of_every_kind(staff, [make_vendor() for _ in range(14)], market, customer, takings)
    with count_queries() as many:
        html = client.get(AUDIT).get_data(as_text=True)
    assert html.count('class="changes"') == 50  # a full page
    assert many.count == few.count
    # the login, the page and its count, the filter lists, one lookup per kind
    assert many.count <= 5 + len(("vendors", "markets", "takings", "customers", "users"))


def test_staff_and_administrators_may_read_it(client, make_user, login_as):
    for role in (Role.STAFF, Role.ADMIN):
        login_as(make_user(role))
        assert client.get(AUDIT).status_code == 200


def test_vendors_and_anonymous_may_not(client, vendor_user, login_as):
    response = client.get(AUDIT)
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    login_as(vendor_user)
    assert client.get(AUDIT).status_code == 403


def test_a_user_created_reads_with_role_label(client, staff, login_as):
    accounts.create_user(
        "new@center.example.kr", "새직원", "long-password-1", Role.STAFF, actor=staff
    )
    db.session.commit()
    login_as(staff)
    text = visible(client.get(AUDIT).get_data(as_text=True))
    assert "센터 직원" in text and "new@center.example.kr" in text and "새직원" in text


def test_market_staff_page_links_to_its_history(client, staff, login_as, market):
    login_as(staff)
    html = client.get(f"/staff/markets/{market.id}").get_data(as_text=True)
    assert f'href="/staff/audit/?object_type=markets&amp;object_id={market.id}"' in html
