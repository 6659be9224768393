"""A new enterprise confirms its email before its first login (issue 17):
otherwise anyone could learn whether an address had a login by signing up
with it and trying the password just chosen (issue 15's sign-up loophole)."""

import re
from email import message_from_bytes, policy

from sqlalchemy import func, select

from market.accounts.models import User
from market.extensions import db
from market.outbox.models import OutboxMessage
from tests.helpers import login
from tests.vendors_factories import registration_form

EMAIL = "happy@vendor.example.kr"
PASSWORD = "long-password-1"


def mail_text(row: OutboxMessage) -> str:
    return message_from_bytes(row.mime, policy=policy.default).get_body(("plain",)).get_content()


def link_in(text: str, kind: str) -> str:
    return re.search(rf"/account/{kind}/[A-Za-z0-9._-]+", text)[0]


def sign_up(client) -> str:
    assert client.post("/vendors/register", data=registration_form()).status_code == 302
    [row] = db.session.scalars(select(OutboxMessage)).all()
    assert row.category == "account" and "확인" in row.subject
    text = mail_text(row)
    assert "72시간" in text
    return link_in(text, "confirm")


def error_of(response) -> str:
    page = response.get_data(as_text=True)
    return re.search(r'class="error"[^>]*>([^<]+)<', page)[1]


def test_an_unconfirmed_login_gets_the_wrong_password_answer(client, make_user):
    sign_up(client)
    unconfirmed = login(client, EMAIL, PASSWORD)
    wrong = login(client, EMAIL, "another-password")
    nobody = login(client, "nobody@example.kr", PASSWORD)
    assert unconfirmed.status_code == wrong.status_code == nobody.status_code == 200
    assert error_of(unconfirmed) == error_of(wrong) == error_of(nobody)
    assert "비밀번호 찾기" in unconfirmed.get_data(as_text=True)


def test_the_link_confirms_once_and_the_login_works(client):
    link = sign_up(client)
    response = client.get(link)
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    assert db.session.scalar(select(User)).email_confirmed_at is not None
    assert client.get(link).status_code == 404, "used: the fingerprint moved"
    assert login(client, EMAIL, PASSWORD).status_code == 302


def test_the_link_lasts_72_hours(client, clock):
    link = sign_up(client)
    clock.advance(hours=73)
    assert client.get(link).status_code == 404
    assert login(client, EMAIL, PASSWORD).status_code == 200


def test_a_lost_confirmation_is_replaced_by_the_forgot_password_mail(client, app):
    app.config["PASSWORD_RESET_ANSWER_SECONDS"] = 0
    sign_up(client)
    client.post("/account/forgot", data={"email": EMAIL})
    row = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    text = mail_text(row)
    assert "주소 확인" in text
    new = "새로-정한-비밀번호"
    assert client.post(link_in(text, "reset"), data={"new": new, "confirm": new}).status_code == 302
    assert login(client, EMAIL, new).status_code == 302


def test_staff_signing_someone_up_need_no_confirmation(client, staff, login_as):
    login_as(staff)
    assert client.post("/vendors/register", data=registration_form()).status_code == 302
    user = db.session.scalar(select(User).where(User.email == EMAIL))
    assert user.email_confirmed_at is not None
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
