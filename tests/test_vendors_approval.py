"""Staff review: the queue, decisions with their emails, edits, expiring certifications."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from market.audit.models import AuditEntry
from market.extensions import db
from market.outbox.mime import parse
from market.outbox.models import OutboxMessage
from market.vendors.models import Vendor, VendorStatus
from tests.vendors_factories import make_vendor, make_vendor_login, today


def _emails() -> list:
    return [parse(row.mime) for row in db.session.scalars(select(OutboxMessage))]


def _reload(vendor) -> Vendor:
    db.session.expire_all()
    return db.session.get(Vendor, vendor.id)


def test_queue_lists_pending_enterprises_oldest_first(staff_client):
    first = make_vendor("먼저온기업", status="pending")
    second = make_vendor("나중온기업", status="pending")
    make_vendor("승인된기업", status="approved")
    page = staff_client.get("/staff/vendors/").get_data(as_text=True)
    assert page.index(first.name) < page.index(second.name)
    assert "승인된기업" not in page
    assert "검토 중 (2)" in page
    everyone = staff_client.get("/staff/vendors/?status=all").get_data(as_text=True)
    assert "승인된기업" in everyone


def test_approving_emails_the_enterprise_in_korean_and_is_audited(staff_client, staff):
    vendor = make_vendor("행복플러스", status="pending", contact_name="김행복")
    response = staff_client.post(
        f"/staff/vendors/{vendor.id}/decide", data={"decision": "approved"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/staff/vendors/")  # on to the next one
    assert _reload(vendor).status is VendorStatus.APPROVED
    (message,) = _emails()
    assert message["To"].addresses[0].addr_spec == vendor.email
    assert message["Subject"] == "[굿모닝장터] 행복플러스 참여기업 등록이 승인되었습니다"
    body = message.get_body(("plain",)).get_content()
    assert "김행복님, 안녕하세요." in body
    assert "참가 신청을 할 수 있습니다" in body
    assert "://market.test/vendor/" in body
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "vendor.approve"))
    assert entry.actor_id == staff.id and entry.after["status"] == "approved"


def test_rejecting_needs_a_reason_that_the_email_carries(staff_client):
    vendor = make_vendor("별빛누리", status="pending")
    refused = staff_client.post(
        f"/staff/vendors/{vendor.id}/decide", data={"decision": "rejected", "reason": " "}
    )
    assert "사유를 적어 주세요" in staff_client.get(refused.headers["Location"]).get_data(
        as_text=True
    )
    assert _reload(vendor).status is VendorStatus.PENDING and _emails() == []
    staff_client.post(
        f"/staff/vendors/{vendor.id}/decide",
        data={"decision": "rejected", "reason": "인증서를 확인할 수 없습니다."},
    )
    vendor = _reload(vendor)
    assert vendor.status is VendorStatus.REJECTED
    assert vendor.status_reason == "인증서를 확인할 수 없습니다."
    (message,) = _emails()
    assert message["Subject"] == "[굿모닝장터] 별빛누리 참여기업 등록이 반려되었습니다"
    assert "사유: 인증서를 확인할 수 없습니다." in message.get_body(("plain",)).get_content()


def test_suspending_and_lifting_a_suspension(staff_client):
    vendor = make_vendor("나눔봉제")
    staff_client.post(
        f"/staff/vendors/{vendor.id}/decide",
        data={"decision": "suspended", "reason": "두 번 연락 없이 나오지 않음"},
    )
    assert _reload(vendor).status is VendorStatus.SUSPENDED
    staff_client.post(f"/staff/vendors/{vendor.id}/decide", data={"decision": "approved"})
    assert _reload(vendor).status is VendorStatus.APPROVED
    subjects = [str(message["Subject"]) for message in _emails()]
    assert subjects == [
        "[굿모닝장터] 나눔봉제 장터 참여가 정지되었습니다",
        "[굿모닝장터] 나눔봉제 참여기업 등록이 승인되었습니다",
    ]
    actions = list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["vendor.suspend", "vendor.approve"]


def test_a_decision_that_does_not_follow_is_refused(staff_client):
    vendor = make_vendor("승인된기업")
    response = staff_client.post(
        f"/staff/vendors/{vendor.id}/decide", data={"decision": "rejected", "reason": "x"}
    )
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "상태로 바꿀 수 없습니다" in page
    assert _reload(vendor).status is VendorStatus.APPROVED and _emails() == []


def test_the_email_is_korean_even_when_staff_read_english(staff_client):
    vendor = make_vendor("행복플러스", status="pending")
    staff_client.post("/language", data={"lang": "en"})
    staff_client.post(f"/staff/vendors/{vendor.id}/decide", data={"decision": "approved"})
    (message,) = _emails()
    assert "승인되었습니다" in str(message["Subject"])


def test_audit_page_names_the_vendor_actions_in_korean(staff_client):
    vendor = make_vendor("행복플러스", status="pending")
    staff_client.post(f"/staff/vendors/{vendor.id}/decide", data={"decision": "approved"})
    page = staff_client.get("/staff/audit/").get_data(as_text=True)
    # the enterprise by name, linked to its page (it read "참여기업 #12" before issue 17)
    assert "참여기업 승인" in page
    assert f'<a href="/staff/vendors/{vendor.id}">행복플러스</a>' in page


def _profile_form(vendor, **changes) -> dict:
    data = {
        "name": vendor.name,
        "business_number": vendor.business_number,
        "enterprise_type": vendor.enterprise_type.value,
        "cert_issuer": vendor.cert_issuer,
        "cert_number": vendor.cert_number,
        "cert_issued_on": vendor.cert_issued_on.isoformat(),
        "cert_expires_on": vendor.cert_expires_on.isoformat() if vendor.cert_expires_on else "",
        "category": vendor.category.value,
        "description": vendor.description,
        "shop_url": vendor.shop_url or "",
        "contact_name": vendor.contact_name,
        "phone": "010-1234-5678",
        "email": vendor.email,
    }
    data.update(changes)
    return data


def test_vendor_edits_its_profile_and_stays_approved(client, login_as):
    vendor = make_vendor()
    login_as(make_vendor_login(vendor))
    form = _profile_form(vendor, description="새 소개", phone="010 9876 5432")
    response = client.post("/vendor/profile", data=form)
    assert response.status_code == 302
    vendor = _reload(vendor)
    assert vendor.description == "새 소개" and vendor.phone == "+821098765432"
    assert vendor.status is VendorStatus.APPROVED


@pytest.mark.parametrize(
    "changes",
    [
        # A new business number no longer sends an approved enterprise back:
        # it waits as a change request (tests/test_vendors_changes.py).
        {"cert_number": "2025-999"},
        {"cert_expires_on": "2031-12-31"},
    ],
)
def test_a_new_business_number_or_certification_goes_back_for_review(client, login_as, changes):
    vendor = make_vendor()
    login_as(make_vendor_login(vendor))
    client.post("/vendor/profile", data=_profile_form(vendor, **changes))
    vendor = _reload(vendor)
    assert vendor.status is VendorStatus.PENDING and vendor.status_reason is None
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"vendor.update", "vendor.review_again"} <= actions
    assert "검토 중" in client.get("/vendor/").get_data(as_text=True)


def test_a_suspended_vendor_stays_suspended_after_editing(client, login_as):
    vendor = make_vendor(status="suspended")
    login_as(make_vendor_login(vendor))
    client.post("/vendor/profile", data=_profile_form(vendor, cert_number="새번호"))
    assert _reload(vendor).status is VendorStatus.SUSPENDED


def test_vendor_profile_refuses_a_number_another_enterprise_has(client, login_as):
    make_vendor("다른기업", business_number="2208162517")
    vendor = make_vendor()
    login_as(make_vendor_login(vendor))
    response = client.post(
        "/vendor/profile", data=_profile_form(vendor, business_number="220-81-62517")
    )
    assert "이미 등록된 기업이 있습니다" in response.get_data(as_text=True)
    assert _reload(vendor).status is VendorStatus.APPROVED


def test_staff_edit_any_vendor_and_keep_its_status(staff_client):
    vendor = make_vendor()
    response = staff_client.post(
        f"/staff/vendors/{vendor.id}/edit",
        data=_profile_form(vendor, business_number="116-82-00276", name="새이름"),
    )
    assert response.status_code == 302
    vendor = _reload(vendor)
    assert vendor.name == "새이름" and vendor.business_number == "1168200276"
    assert vendor.status is VendorStatus.APPROVED


def test_staff_see_certifications_expiring_within_60_days(staff_client):
    make_vendor("곧만료", cert_expires_on=today() + timedelta(days=30))
    make_vendor("이미만료", cert_expires_on=today() - timedelta(days=3))
    make_vendor("아직멀었음", cert_expires_on=today() + timedelta(days=90))
    make_vendor("만료없음", cert_expires_on=None)
    make_vendor("반려된기업", status="rejected", cert_expires_on=today() + timedelta(days=5))
    page = staff_client.get("/staff/vendors/expiring").get_data(as_text=True)
    assert "곧만료" in page and "30일 남음" in page
    assert "이미만료" in page and "만료됨" in page
    for name in ("아직멀었음", "만료없음", "반려된기업"):
        assert name not in page
    assert page.index("이미만료") < page.index("곧만료")
    dashboard = staff_client.get("/staff/").get_data(as_text=True)
    assert "60일 안에 만료되는 인증" in dashboard


def test_staff_vendor_page_shows_private_details(staff_client):
    vendor = make_vendor(business_number="1248100998", phone="+821055556666")
    page = staff_client.get(f"/staff/vendors/{vendor.id}").get_data(as_text=True)
    assert "124-81-00998" in page and "010-5555-6666" in page and vendor.email in page
