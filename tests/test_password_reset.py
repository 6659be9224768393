"""비밀번호 찾기 (issue 17): a mailed link, single use, one hour, the same
answer whether or not the address has a login, a rate limit; mail goes over
a real SMTP server on loopback (aiosmtpd) through the outbox worker's code."""

import re
import time

import pytest
from sqlalchemy import func, select

from market.accounts import tokens
from market.accounts.models import LoginSession, Role, User
from market.audit.models import AuditEntry
from market.extensions import db
from market.outbox import delivery
from market.outbox.models import OutboxMessage
from tests.helpers import PASSWORD, login
from tests.test_outbox import running_smtp

NEW = "새비밀번호-2026!"
LINK = re.compile(r"https?://\S+/account/(?:reset|welcome|confirm)/[A-Za-z0-9._-]+")


@pytest.fixture
def smtp(app_config):
    app_config.update(PASSWORD_RESET_ANSWER_SECONDS=0.3)
    with running_smtp(app_config) as handler:
        yield handler


def mailed_link(smtp, to: str) -> str:
    """Delivers the queued mail over SMTP and reads the link from what the
    server received, as the person would from their mailbox."""
    delivery.deliver_due()
    bodies = [
        m.get_body(("plain",)).get_content()
        for m in smtp.messages()
        if m["To"].addresses[0].addr_spec == to
    ]
    assert bodies, f"no mail to {to}"
    return LINK.search(bodies[-1])[0]


def path_of(link: str) -> str:
    return link.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def ask(client, email: str):
    return client.post("/account/forgot", data={"email": email})


def test_login_page_links_to_forgot_password_and_sign_up(client):
    page = client.get("/account/login").get_data(as_text=True)
    assert "/account/forgot" in page and "비밀번호" in page
    assert "/vendors/register" in page


def test_the_whole_reset(smtp, app, client, staff):
    other = app.test_client()
    assert login(other, staff).status_code == 302
    response = ask(client, "  STAFF@example.kr ")
    assert response.status_code == 302 and response.headers["Location"].endswith("/forgot/sent")
    link = mailed_link(smtp, staff.email)
    [mail] = smtp.messages()
    assert (
        mail["Subject"].startswith("[굿모닝장터]")
        and "1시간" in mail.get_body(("plain",)).get_content()
    )
    page = client.get(path_of(link))
    assert page.status_code == 200 and staff.email in page.get_data(as_text=True)
    done = client.post(path_of(link), data={"new": NEW, "confirm": NEW})
    assert done.status_code == 302 and "/account/login" in done.headers["Location"]
    # the other browser is signed out, the old password is gone, the new one works
    assert other.get("/staff/").status_code == 302
    assert login(client, staff).status_code == 200
    assert login(client, staff, NEW).status_code == 302
    # single use: the same link again
    assert client.get(path_of(link)).status_code == 404
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "user.password_reset_request" in actions and "user.password_reset" in actions


def test_an_unknown_email_gets_the_same_answer_in_the_same_time(smtp, app, client, staff):
    timings = {}
    answers = {}
    for email in ("staff@example.kr", "nobody@example.kr"):
        started = time.monotonic()
        response = ask(client, email)
        timings[email] = time.monotonic() - started
        answers[email] = (response.status_code, response.headers.get("Location"))
    assert answers["staff@example.kr"] == answers["nobody@example.kr"]
    assert all(t >= 0.3 for t in timings.values())
    assert abs(timings["staff@example.kr"] - timings["nobody@example.kr"]) < 0.15
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_a_disabled_login_gets_no_link(smtp, client, make_user):
    user = make_user(Role.STAFF, active=False)
    assert ask(client, user.email).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_the_link_lasts_one_hour(smtp, clock, client, staff):
    ask(client, staff.email)
    link = path_of(mailed_link(smtp, staff.email))
    clock.advance(minutes=59)
    assert client.get(link).status_code == 200
    clock.advance(minutes=2)
    assert client.get(link).status_code == 404
    assert client.post(link, data={"new": NEW, "confirm": NEW}).status_code == 404
    db.session.expire_all()
    assert db.session.get(User, staff.id).check_password(PASSWORD)


def test_a_password_change_ends_every_link_sent_before(smtp, client, staff, login_as):
    ask(client, staff.email)
    ask(client, staff.email)
    delivery.deliver_due()
    first, second = [
        path_of(LINK.search(m.get_body(("plain",)).get_content())[0]) for m in smtp.messages()
    ]
    assert client.post(second, data={"new": NEW, "confirm": NEW}).status_code == 302
    assert client.get(first).status_code == 404, "a superseded link stops working"


def test_the_new_password_follows_the_usual_rules(smtp, client, staff):
    ask(client, staff.email)
    link = path_of(mailed_link(smtp, staff.email))
    page = client.post(link, data={"new": "short", "confirm": "short"})
    assert page.status_code == 200 and "8" in page.get_data(as_text=True)
    page = client.post(link, data={"new": NEW, "confirm": NEW + "x"})
    assert page.status_code == 200
    db.session.expire_all()
    assert db.session.get(User, staff.id).check_password(PASSWORD)


@pytest.mark.parametrize(
    "token",
    [
        "x",
        "a" * 5000,
        "abc\x00def",
        "%0d%0aSet-Cookie:x=1",
        "WzEsImFiYyJd.aaaa.bbbb",
        "..",
        "한글토큰",
    ],
)
def test_a_tampered_or_odd_token_is_a_plain_404(client, staff, token):
    for base in ("/account/reset/", "/account/welcome/", "/account/confirm/"):
        response = client.get(base + token)
        assert response.status_code in (404, 308), (base, token, response.status_code)


def test_a_token_of_another_purpose_or_key_is_refused(app, staff):
    invite = tokens.make(staff, tokens.INVITE)
    assert tokens.user_for(invite, tokens.RESET) is None
    assert tokens.user_for(invite, tokens.INVITE).id == staff.id
    payload, _, signature = invite.rpartition(".")
    assert tokens.user_for(payload + "." + signature[::-1], tokens.INVITE) is None
    app.config["SECRET_KEY"] = "another"
    assert tokens.user_for(invite, tokens.INVITE) is None


def test_a_token_for_an_id_past_2_31_is_nobody(app):
    forged = tokens._serializer(tokens.RESET).dumps([2**31 + 5, "x"])
    assert tokens.user_for(forged, tokens.RESET) is None


@pytest.mark.parametrize(
    "email", ["a\x00b@example.kr", "x@example.kr\r\nBcc: y@example.kr", "x" * 5000]
)
def test_hostile_email_input_is_no_error(client, staff, email):
    response = ask(client, email)
    assert response.status_code in (200, 302, 400)


@pytest.fixture
def limited(app_config):
    app_config.update(
        RATELIMIT_ENABLED=True,
        PASSWORD_RESET_RATE_LIMIT="4 per hour",
        PASSWORD_RESET_EMAIL_RATE_LIMIT="2 per hour",
        PASSWORD_RESET_ANSWER_SECONDS=0,
    )


def test_reset_requests_are_limited_per_email_and_per_client(limited, client, staff):
    assert ask(client, staff.email).status_code == 302
    assert ask(client, staff.email).status_code == 302
    assert ask(client, staff.email).status_code == 429  # this mailbox had enough
    # other addresses, from the same client, up to its own limit of 4
    answers = [ask(client, f"other{n}@example.kr").status_code for n in range(3)]
    assert answers == [302, 302, 429]
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 2


def test_a_reset_signs_in_nobody_and_ends_the_login_sessions(smtp, app, client, staff):
    other = app.test_client()
    login(other, staff)
    assert db.session.scalar(select(func.count()).select_from(LoginSession)) == 1
    ask(client, staff.email)
    client.post(path_of(mailed_link(smtp, staff.email)), data={"new": NEW, "confirm": NEW})
    assert db.session.scalar(select(func.count()).select_from(LoginSession)) == 0
