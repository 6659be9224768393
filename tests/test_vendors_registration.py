"""Public registration of an enterprise, through the page."""

import os
import re
import threading
from datetime import date
from email import message_from_bytes, policy

import pytest
from sqlalchemy import func, select

from market.accounts.models import Role, User
from market.audit.models import AuditEntry
from market.extensions import db
from market.outbox.models import OutboxMessage
from market.vendors import services
from market.vendors.models import Category, EnterpriseType, Vendor, VendorStatus
from tests.helpers import login
from tests.vendors_factories import make_vendor, make_vendor_login, registration_form


def confirmation_link(email: str) -> str:
    """The path of the link in the confirmation mail queued for `email`."""
    row = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.to_address.contains(email))
    ).all()[-1]
    text = message_from_bytes(row.mime, policy=policy.default).get_body(("plain",)).get_content()
    return re.search(r"/account/confirm/[A-Za-z0-9._-]+", text)[0]


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_registration_creates_a_pending_vendor_and_its_login(client):
    response = client.post("/vendors/register", data=registration_form())
    assert response.status_code == 302
    # to the login page, not signed in: an email that already has a login gets
    # the same answer (issue 15), so a new one cannot get more
    assert response.headers["Location"].endswith("/account/login")
    page = client.get("/account/login").get_data(as_text=True)
    assert "행복플러스 등록 신청을 받았습니다" in page and "로그인하세요" in page
    assert client.get("/vendor/").status_code == 302
    vendor = db.session.scalars(select(Vendor)).one()
    assert vendor.business_number == "1248100998"
    assert vendor.phone == "+821023456789"
    assert vendor.status is VendorStatus.PENDING
    assert vendor.cert_expires_on is None
    user = db.session.scalars(select(User)).one()
    assert user.role is Role.VENDOR and user.vendor_id == vendor.id
    assert user.email == "happy@vendor.example.kr" and user.check_password("long-password-1")
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"vendor.register", "user.create"} <= actions
    # no login before the address is confirmed (issue 17): the answer a wrong
    # password gets; then the link from the mail, and the login works
    refused = login(client, "happy@vendor.example.kr", "long-password-1")
    assert refused.status_code == 200 and "맞지 않거나" in refused.get_data(as_text=True)
    assert client.get(confirmation_link("happy@vendor.example.kr")).status_code == 302
    # logged in: the vendor home says the enterprise is under review
    assert login(client, "happy@vendor.example.kr", "long-password-1").status_code == 302
    page = client.get("/vendor/").get_data(as_text=True)
    assert "행복플러스" in page and "검토 중" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("business_number", "123-45-67890", "유효하지 않은 사업자등록번호"),
        ("business_number", "000-00-00000", "유효하지 않은 사업자등록번호"),
        ("business_number", "124-81-009", "숫자 10자리"),
        ("business_number", "", "사업자등록번호를 입력하세요"),
        ("phone", "010-123", "올바른 전화번호가 아닙니다"),
        ("phone", "", "전화번호를 입력하세요"),
        ("email", "not-an-email", "이메일 주소 “not-an-email”가 완전하지 않습니다"),
        ("enterprise_type", "", "기업 유형을 선택하세요"),
        ("category", "", "판매 품목을 선택하세요"),
        ("cert_expires_on", "2014-01-01", "만료일은 인증일보다 앞설 수 없습니다"),
        ("shop_url", "shop.example", "https://"),
        ("confirm", "other-password", "두 비밀번호가 다릅니다"),
        ("password", "short", "8자"),
        ("name", "", "기업 이름을 입력하세요"),
    ],
)
def test_refusals_are_korean_next_to_the_field_keep_input_and_save_nothing(
    client, field, value, message
):
    data = registration_form(**{field: value})
    response = client.post("/vendors/register", data=data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    # the message is in the field's own block, linked to the input
    block = page.split(f'id="{field}"', 1)[1].split('class="field', 1)[0]
    assert f"{field}-error-1" in block and message in block
    at = page.index(f'id="{field}"')
    tag = page[page.rindex("<", 0, at) : page.index(">", at)]
    assert 'aria-invalid="true"' in tag
    # what was typed is kept (passwords excepted)
    assert 'value="김행복"' in page
    if field != "business_number":
        assert 'value="124-81-00998"' in page
    if field != "category":
        assert '<option selected value="clothing">' in page
    if value and field not in ("password", "confirm", "enterprise_type", "category"):
        assert f'value="{value}"' in page
    assert _count(Vendor) == 0 and _count(User) == 0


def test_a_registered_business_number_is_refused(client):
    make_vendor("먼저온기업", business_number="1248100998")
    response = client.post("/vendors/register", data=registration_form())
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "이미 등록된 기업이 있습니다" in page
    assert _count(Vendor) == 1 and _count(User) == 0


def test_staff_registering_for_someone_learn_that_the_email_has_a_login(
    client, staff, login_as, make_user
):
    """Staff see every login anyway; the public sign-up does not say it
    (tests/test_sign_up_privacy.py)."""
    make_user(Role.VENDOR, email="happy@vendor.example.kr")
    login_as(staff)
    response = client.post("/vendors/register", data=registration_form())
    assert "이 이메일로 가입된 계정이 이미 있습니다" in response.get_data(as_text=True)
    assert _count(Vendor) == 0


def _details(**changes) -> services.VendorDetails:
    data = registration_form(**changes)
    return services.VendorDetails(
        name=data["name"],
        business_number=data["business_number"].replace("-", ""),
        enterprise_type=EnterpriseType(data["enterprise_type"]),
        cert_issuer=data["cert_issuer"],
        cert_number=data["cert_number"],
        cert_issued_on=date.fromisoformat(data["cert_issued_on"]),
        cert_expires_on=None,
        category=Category(data["category"]),
        description=data["description"],
        shop_url=data["shop_url"],
        contact_name=data["contact_name"],
        phone="+821023456789",
        email=data["email"],
    )


def test_the_database_constraint_refuses_when_the_check_is_passed(app, monkeypatch):
    """The check and the insert are not atomic; the unique constraint is the
    real guard, and its error becomes the same field message."""
    services.register_vendor(_details(), "long-password-1")
    db.session.commit()
    monkeypatch.setattr(services, "business_number_owner", lambda digits: None)
    with pytest.raises(services.VendorRuleError) as refused:
        # Another shop and name: one shop link and one name (its seller key)
        # belong to one enterprise (market.vendors.shop_links).
        services.register_vendor(
            _details(
                email="other@vendor.example.kr",
                shop_url="https://shop.example.kr/other",
                name="다른이름협동조합",
            ),
            "long-password-1",
        )
    assert "business_number" in refused.value.errors
    db.session.rollback()
    assert _count(Vendor) == 1


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="two sign-ups racing need a server database (TEST_DATABASE_URL)",
)
def test_two_sign_ups_racing_with_one_number(app, monkeypatch):
    """Both pass the check (neither has committed); PostgreSQL makes the second
    insert wait for the first and then refuses it; the refusal is clean."""
    monkeypatch.setattr(services, "business_number_owner", lambda digits: None)
    start = threading.Barrier(2)
    results, errors = {}, []

    def sign_up(email: str) -> None:
        try:
            with app.app_context():
                start.wait()
                try:
                    services.register_vendor(_details(email=email), "long-password-1")
                    db.session.commit()
                    results[email] = "registered"
                except services.VendorRuleError as error:
                    db.session.rollback()
                    results[email] = error.errors
                finally:
                    db.session.remove()
        except Exception as error:  # reported in the test's own thread
            errors.append(error)

    threads = [
        threading.Thread(target=sign_up, args=(email,))
        for email in ("one@vendor.example.kr", "two@vendor.example.kr")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(results) == 2
    outcomes = list(results.values())
    assert outcomes.count("registered") == 1
    outcomes.remove("registered")
    assert outcomes == [{"business_number": services.business_number_taken_message()}]
    db.session.expire_all()
    assert _count(Vendor) == 1 and _count(User) == 1


def test_a_signed_in_vendor_goes_home_instead(client, login_as):
    login_as(make_vendor_login(make_vendor()))
    response = client.get("/vendors/register")
    assert response.status_code == 302 and response.headers["Location"].endswith("/vendor/")


def test_staff_can_register_an_enterprise_for_someone(client, staff, login_as):
    login_as(staff)
    response = client.post("/vendors/register", data=registration_form())
    vendor = db.session.scalars(select(Vendor)).one()
    assert response.headers["Location"].endswith(f"/staff/vendors/{vendor.id}")
