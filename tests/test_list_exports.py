"""The staff's list downloads: enterprises with status and certification
expiry, applications per market and per season, customers with their
consent state, invitations per market with answers and their source.
Each opened as the spreadsheet program would: the CSV with the csv module
(UTF-8 with a byte-order mark), the XLSX with openpyxl."""

import csv
import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from market.accounts.models import Role
from market.customers.models import Suppression
from market.extensions import db
from market.invitations.models import AnswerSource, Invitation, InvitationStatus
from market.outbox.models import OutboxMessage, OutboxStatus
from market.vendors.models import ApplicationStatus, VendorStatus
from tests.customer_factories import make_customer
from tests.markets_factories import make_market, make_venue
from tests.vendors_factories import make_application, make_vendor

FORMULA = '=HYPERLINK("http://evil.example","클릭")'
BOM = b"\xef\xbb\xbf"


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.data.startswith(BOM), "Excel needs the BOM to read UTF-8"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))


def _xlsx(response) -> list[tuple]:
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    workbook = load_workbook(io.BytesIO(response.data))
    [sheet] = workbook.worksheets
    return list(sheet.iter_rows(values_only=True))


@pytest.fixture
def listed(app):
    """Two enterprises (one with a formula for a name), two markets of 2026
    and one of 2025 with applications, customers and invitations."""
    venue = make_venue("경기도청")
    bakery = make_vendor("우리밀빵집", cert_expires_on=date(2025, 6, 1))
    evil = make_vendor(FORMULA, status=VendorStatus.PENDING)
    may, june = make_market(venue, date(2026, 5, 7)), make_market(venue, date(2026, 6, 4))
    old = make_market(venue, date(2025, 9, 4))
    make_application(bakery, may, ApplicationStatus.ASSIGNED)
    make_application(evil, may, note="@SUM(A1)")
    make_application(bakery, june)
    make_application(bakery, old)
    lee = make_customer("lee@example.com", name="이순신")
    bad = make_customer("evil@example.com", name="-2+3")
    make_customer("no@example.com", name="미동의", consent=False)
    gone = make_customer("gone@example.com", name="수신거부")
    db.session.add(Suppression(email_hash=gone.email_hash, reason="unsubscribed"))
    for customer, status, source in (
        (lee, InvitationStatus.TENTATIVE, AnswerSource.CALENDAR),
        (bad, InvitationStatus.ACCEPTED, AnswerSource.PAGE),
    ):
        message = OutboxMessage(
            category="invitation",
            to_address=customer.email,
            subject="초대",
            mime=b"x",
            status=OutboxStatus.SENT,
            sent_at=datetime(2026, 5, 1, 1, 0, tzinfo=UTC),
        )
        db.session.add(message)
        db.session.flush()
        db.session.add(
            Invitation(
                customer_id=customer.id,
                market_id=may.id,
                status=status,
                answer_source=source,
                answered_at=datetime(2026, 5, 2, 3, 0, tzinfo=UTC),
                outbox_message_id=message.id,
                created_at=datetime(2026, 5, 1, 0, 0, tzinfo=UTC),
            )
        )
    db.session.commit()
    return {"may": may, "june": june, "old": old}


def test_enterprises_with_status_and_certification_expiry(client, login_as, staff, listed):
    login_as(staff)
    rows = _csv(client.get("/staff/vendors/export.csv?status=all"))
    assert rows[0][:8] == [
        "참여기업",
        "사업자등록번호",
        "유형",
        "판매 품목",
        "상태",
        "상태 변경일",
        "인증 만료일",
        "인증 만료됨",
    ]
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["우리밀빵집"][4] == "승인"
    assert by_name["우리밀빵집"][6:8] == ["2025-06-01", "예"]
    assert "'" + FORMULA in by_name, "the formula is text"
    pending = _csv(client.get("/staff/vendors/export.csv?status=pending"))
    assert [row[0] for row in pending[1:]] == ["'" + FORMULA]
    sheet = _xlsx(client.get("/staff/vendors/export.xlsx?status=all"))
    assert sheet[0][0] == "참여기업"
    names = {row[0]: row for row in sheet[1:]}
    assert "'" + FORMULA in names
    assert names["우리밀빵집"][6] == datetime(2025, 6, 1)


def test_applications_of_one_market(client, login_as, staff, listed):
    login_as(staff)
    may = listed["may"]
    rows = _csv(client.get(f"/staff/markets/{may.id}/applications/export.csv"))
    assert rows[0][:5] == ["날짜", "장소", "참여기업", "판매 품목", "신청 상태"]
    assert [row[2] for row in rows[1:]] == ["우리밀빵집", "'" + FORMULA]
    assert {row[0] for row in rows[1:]} == {"2026-05-07"}
    assert "'@SUM(A1)" in rows[2]
    sheet = _xlsx(client.get(f"/staff/markets/{may.id}/applications/export.xlsx"))
    assert [row[2] for row in sheet[1:]] == ["우리밀빵집", "'" + FORMULA]
    assigned = _csv(client.get(f"/staff/markets/{may.id}/applications/export.csv?status=assigned"))
    assert [row[2] for row in assigned[1:]] == ["우리밀빵집"]


def test_applications_of_a_season(client, login_as, staff, listed):
    login_as(staff)
    rows = _csv(client.get("/staff/applications/2026/export.csv"))
    assert [row[0] for row in rows[1:]] == ["2026-05-07", "2026-05-07", "2026-06-04"]
    sheet = _xlsx(client.get("/staff/applications/2025/export.xlsx"))
    assert [row[0] for row in sheet[1:]] == [datetime(2025, 9, 4)]
    assert client.get("/staff/applications/99999/export.csv").status_code == 404
    assert client.get(f"/staff/applications/{2**31}/export.csv").status_code == 404


def test_customers_with_their_consent_state(client, login_as, staff, listed):
    login_as(staff)
    rows = _csv(client.get("/staff/customers/export.csv"))
    assert rows[0] == [
        "이름",
        "이메일",
        "전화번호",
        "수신 동의",
        "동의 일시",
        "수신 거부 일시",
        "초대 받을 수 있음",
        "초대할 수 없는 이유",
    ]
    by_email = {row[1]: row for row in rows[1:]}
    assert by_email["lee@example.com"][3] == "예" and by_email["lee@example.com"][6] == "예"
    assert by_email["lee@example.com"][4] == "2026-02-01 12:00", "Korea time"
    assert by_email["no@example.com"][6:] == ["아니오", "마케팅 수신 동의 없음"]
    assert by_email["gone@example.com"][6:] == ["아니오", "수신 거부 또는 메일 반송"]
    assert by_email["evil@example.com"][0] == "'-2+3"
    found = _csv(client.get("/staff/customers/export.csv?q=이순"))
    assert [row[0] for row in found[1:]] == ["이순신"]
    sheet = _xlsx(client.get("/staff/customers/export.xlsx"))
    assert sheet[0][0] == "이름"
    assert {row[0] for row in sheet[1:]} == {"이순신", "'-2+3", "미동의", "수신거부"}


def test_invitations_of_a_market_with_answers_and_source(client, login_as, staff, listed):
    login_as(staff)
    may = listed["may"]
    rows = _csv(client.get(f"/staff/markets/{may.id}/invitations.csv"))
    assert rows[0][:3] == ["이름", "이메일", "초대 일시"]
    assert "답변" in rows[0] and "답변 경로" in rows[0]
    by_name = {row[0]: row for row in rows[1:]}
    lee = by_name["이순신"]
    assert "미정" in lee and "캘린더 앱" in lee and "발송됨" in lee
    assert "2026-05-02 12:00" in lee
    assert "참석" in by_name["'-2+3"] and "답변 페이지" in by_name["'-2+3"]
    sheet = _xlsx(client.get(f"/staff/markets/{may.id}/invitations.xlsx"))
    assert {row[0] for row in sheet[1:]} == {"이순신", "'-2+3"}
    assert client.get(f"/staff/markets/{2**31}/invitations.csv").status_code == 404


def test_the_pages_offer_the_downloads(client, login_as, staff, listed):
    login_as(staff)
    may = listed["may"]
    vendors = client.get("/staff/vendors/?status=all").get_data(as_text=True)
    assert "/staff/vendors/export.xlsx?status=all" in vendors
    applications = client.get(f"/staff/markets/{may.id}/applications").get_data(as_text=True)
    assert f"/staff/markets/{may.id}/applications/export.xlsx" in applications
    assert "/staff/applications/2026/export.xlsx" in applications
    invitations = client.get(f"/staff/markets/{may.id}/invitations").get_data(as_text=True)
    assert f"/staff/markets/{may.id}/invitations.xlsx" in invitations
    customers = client.get("/staff/customers/").get_data(as_text=True)
    assert "/staff/customers/export.xlsx" in customers


DOWNLOADS = [
    "/staff/vendors/export.csv",
    "/staff/vendors/export.xlsx",
    "/staff/markets/{may}/applications/export.csv",
    "/staff/markets/{may}/applications/export.xlsx",
    "/staff/applications/2026/export.csv",
    "/staff/applications/2026/export.xlsx",
    "/staff/customers/export.csv",
    "/staff/customers/export.xlsx",
    "/staff/markets/{may}/invitations.csv",
    "/staff/markets/{may}/invitations.xlsx",
]


@pytest.mark.parametrize("url", DOWNLOADS)
@pytest.mark.parametrize(
    ("role", "status"), [(None, 302), (Role.VENDOR, 403), (Role.STAFF, 200), (Role.ADMIN, 200)]
)
def test_only_staff_download(client, make_user, login_as, listed, url, role, status):
    if role is not None:
        login_as(make_user(role))
    response = client.get(url.format(may=listed["may"].id))
    assert response.status_code == status
    if status != 200:
        assert b"lee@example.com" not in response.data and b"\xeb\xb9\xb5" not in response.data


def test_a_download_costs_one_query_whatever_its_length(
    client, login_as, staff, listed, count_queries
):
    login_as(staff)
    may = listed["may"]
    urls = [
        "/staff/vendors/export.csv?status=all",
        f"/staff/markets/{may.id}/applications/export.csv",
        "/staff/customers/export.csv",
        f"/staff/markets/{may.id}/invitations.csv",
    ]
    for url in urls:
        client.get(url)
    with count_queries() as few:
        for url in urls:
            client.get(url)
    for number in range(20):
        vendor = make_vendor(f"기업{number}")
        make_application(vendor, may)
        make_customer(f"more{number}@example.com", name=f"고객{number}")
    db.session.commit()
    with count_queries() as many:
        for url in urls:
            client.get(url)
    assert many.count == few.count


def test_a_percent_sign_in_the_enterprise_search_is_literal(client, login_as, staff, listed):
    """Not a wildcard: "%" finds the names with a percent sign, not all."""
    make_vendor("100%국산콩")
    login_as(staff)
    rows = _csv(client.get("/staff/vendors/export.csv", query_string={"status": "all", "q": "%"}))
    assert [row[0] for row in rows[1:]] == ["100%국산콩"]
    rows = _csv(client.get("/staff/vendors/export.csv", query_string={"status": "all", "q": "_"}))
    assert rows[1:] == []
    page = client.get("/staff/vendors/", query_string={"status": "all", "q": "%_" * 100})
    assert page.status_code == 200 and "우리밀빵집" not in page.get_data(as_text=True)
