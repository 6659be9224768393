"""The public sign-up does not tell whether an email already has a login
(issue 15): it answers as it does to a new sign-up, creates nothing, and the
owner of the address gets a mail instead. A business number already
registered is still named: the directory shows it anyway."""

import re
from email import policy
from email.parser import BytesParser

import pytest
from sqlalchemy import func, select

from market.accounts.models import User
from market.audit.models import AuditEntry
from market.extensions import db
from market.outbox.models import OutboxMessage
from market.vendors.models import Vendor
from tests.helpers import PASSWORD, login
from tests.vendors_factories import (
    make_vendor,
    make_vendor_login,
    registration_form,
    valid_business_number,
)

CSRF = re.compile(r'name="csrf_token" type="hidden" value="[^"]*"')


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _sign_up(app, **changes) -> tuple[int, str, str]:
    """A fresh visitor's sign-up, as a browser makes it (with the page's CSRF
    token): the status, where it leads and the page it leads to, tokens blanked."""
    client = app.test_client()
    page = client.get("/vendors/register").get_data(as_text=True)
    token = CSRF.search(page)[0].split('value="')[1][:-1]
    response = client.post(
        "/vendors/register", data={**registration_form(**changes), "csrf_token": token}
    )
    location = response.headers.get("Location", "")
    shown = client.get(location) if response.status_code == 302 else response
    return response.status_code, location, CSRF.sub("csrf", shown.get_data(as_text=True))


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True


@pytest.fixture
def owner(make_user):
    """An enterprise's login, the address someone will try to sign up with."""
    vendor = make_vendor("먼저온기업")
    user = make_vendor_login(vendor, email="happy@vendor.example.kr")
    user.name = "이먼저"
    db.session.commit()
    return user


def test_an_email_with_a_login_gets_the_answer_a_new_one_gets(app, csrf_on, owner):
    before = {model: _count(model) for model in (Vendor, User, AuditEntry)}
    taken = _sign_up(app, business_number=valid_business_number())
    assert {model: _count(model) for model in (Vendor, User, AuditEntry)} == before
    new = _sign_up(app, email="new@vendor.example.kr", business_number=valid_business_number())
    assert _count(Vendor) == before[Vendor] + 1  # the new one was registered
    assert taken == new
    status, location, page = new
    assert status == 302 and location.endswith("/account/login")
    assert "행복플러스 등록 신청을 받았습니다" in page
    assert "이미 있습니다" not in page


def test_the_owner_of_the_address_is_mailed_and_nothing_else_happens(client, owner):
    token = owner.session_token
    response = client.post(
        "/vendors/register",
        data=registration_form(password="other-pass-77", confirm="other-pass-77"),
    )
    assert response.status_code == 302
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.category == "sign-up-account-exists"
    mail = BytesParser(policy=policy.default).parsebytes(message.mime)
    assert mail["To"].addresses[0].addr_spec == "happy@vendor.example.kr"
    assert "이 이메일 주소로 참여기업 등록 신청이 있었습니다" in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    for body in (text, html):
        assert "이먼저님" in body
        assert "계정이 이미 있어서" in body and "센터에 문의" in body
        assert "http://market.test/account/login" in body
    assert "other-pass-77" not in text + html
    # the existing login is as it was, and still works with its own password
    db.session.expire_all()
    user = db.session.get(User, owner.id)
    assert user.check_password(PASSWORD) and not user.check_password("other-pass-77")
    assert user.session_token == token
    assert _count(Vendor) == 1 and _count(User) == 1
    assert login(client, owner).status_code == 302


def test_the_email_is_matched_as_logins_match_it(client, owner):
    client.post("/vendors/register", data=registration_form(email=" HAPPY@Vendor.example.kr "))
    assert _count(OutboxMessage) == 1 and _count(User) == 1


def test_a_registered_business_number_is_still_named(client, owner):
    """Public anyway (the directory): the page says so, for a new email and a
    known one alike, and nobody is mailed."""
    taken = owner.vendor.business_number
    number = f"{taken[:3]}-{taken[3:5]}-{taken[5:]}"
    for email in ("happy@vendor.example.kr", "new@vendor.example.kr"):
        response = client.post(
            "/vendors/register", data=registration_form(email=email, business_number=number)
        )
        assert response.status_code == 200
        assert "이미 등록된 기업이 있습니다" in response.get_data(as_text=True)
    assert _count(OutboxMessage) == 0 and _count(Vendor) == 1


def test_other_refusals_come_first_and_mail_no_one(client, owner):
    response = client.post("/vendors/register", data=registration_form(phone="010-123"))
    assert response.status_code == 200
    assert "올바른 전화번호가 아닙니다" in response.get_data(as_text=True)
    assert _count(OutboxMessage) == 0
