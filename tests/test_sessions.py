"""Sessions that end: logging out, a password change and disabling a user end
every session and remember-me cookie of that user at once (issue 15).

The cookies are taken from a real login with "keep me signed in" through one
test client and replayed, after the change, in a second one: the way someone
who copied them (a shared computer, a stolen phone) would use them."""

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from flask_login.utils import encode_cookie
from sqlalchemy import select

from market.accounts.models import Role, User
from market.audit.models import AuditEntry
from market.extensions import db
from tests.helpers import PASSWORD

SESSION = "session"
REMEMBER = "remember_token"
HOST = "market.test"  # SERVER_NAME in the test config


def _sign_in(app, user, password: str = PASSWORD):
    """A fresh client signed in as `user` with "keep me signed in", and its
    session and remember-me cookies as they were right after the login."""
    client = app.test_client()
    response = client.post(
        "/account/login", data={"email": user.email, "password": password, "remember": "y"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    cookies = {name: client.get_cookie(name, domain=HOST).value for name in (SESSION, REMEMBER)}
    return client, cookies


def _replayed(app, name: str, value: str):
    """What a second browser holding only this one cookie gets on a staff page."""
    other = app.test_client()
    other.set_cookie(name, value, domain=HOST)
    return other.get("/staff/")


def _signed_in(response) -> bool:
    if response.status_code == 200:
        return True
    assert response.status_code == 302
    assert "/account/login" in response.headers["Location"]
    return False


@pytest.mark.parametrize("cookie", [SESSION, REMEMBER])
def test_a_copied_cookie_works_until_the_user_logs_out(app, staff, cookie):
    client, cookies = _sign_in(app, staff)
    assert _signed_in(_replayed(app, cookie, cookies[cookie]))  # the replay itself works
    client.post("/account/logout")
    assert not _signed_in(_replayed(app, cookie, cookies[cookie]))


def test_logging_out_ends_the_sessions_on_other_devices_too(app, staff):
    phone, _ = _sign_in(app, staff)
    desktop, _ = _sign_in(app, staff)
    assert _signed_in(phone.get("/staff/")) and _signed_in(desktop.get("/staff/"))
    desktop.post("/account/logout")
    assert not _signed_in(phone.get("/staff/"))
    # and the phone can simply log in again
    assert _signed_in(_sign_in(app, staff)[0].get("/staff/"))


@pytest.mark.parametrize("cookie", [SESSION, REMEMBER])
def test_a_password_change_ends_the_old_cookies_but_keeps_this_session(app, staff, cookie):
    client, cookies = _sign_in(app, staff)
    response = client.post(
        "/account/password",
        data={"current": PASSWORD, "new": "new-password-9", "confirm": "new-password-9"},
    )
    assert response.status_code == 302
    assert not _signed_in(_replayed(app, cookie, cookies[cookie]))
    # the person who changed it stays signed in, and keeps "keep me signed in"
    assert _signed_in(client.get("/staff/"))
    renewed = client.get_cookie(REMEMBER, domain=HOST).value
    assert renewed != cookies[REMEMBER]
    assert _signed_in(_replayed(app, REMEMBER, renewed))


def test_a_password_change_without_remember_me_sets_no_remember_cookie(app, staff, login_as):
    client = login_as(staff)  # without "keep me signed in"
    assert client.get_cookie(REMEMBER, domain=HOST) is None
    client.post(
        "/account/password",
        data={"current": PASSWORD, "new": "new-password-9", "confirm": "new-password-9"},
    )
    assert _signed_in(client.get("/staff/"))
    assert client.get_cookie(REMEMBER, domain=HOST) is None


@pytest.mark.parametrize("cookie", [SESSION, REMEMBER])
def test_a_password_set_from_the_command_line_ends_every_session(app, runner, staff, cookie):
    client, cookies = _sign_in(app, staff)
    result = runner.invoke(
        args=["user", "set-password", staff.email, "--password-stdin"], input="new-password-9\n"
    )
    assert result.exit_code == 0, result.output
    assert not _signed_in(client.get("/staff/"))
    assert not _signed_in(_replayed(app, cookie, cookies[cookie]))


@pytest.mark.parametrize("cookie", [SESSION, REMEMBER])
def test_disabling_a_user_ends_every_session_for_good(app, runner, staff, cookie):
    client, cookies = _sign_in(app, staff)
    assert runner.invoke(args=["user", "disable", staff.email]).exit_code == 0
    assert not _signed_in(client.get("/staff/"))
    assert not _signed_in(_replayed(app, cookie, cookies[cookie]))
    # enabled again, the user logs in anew; the cookies from before stay dead
    assert runner.invoke(args=["user", "enable", staff.email]).exit_code == 0
    assert not _signed_in(_replayed(app, cookie, cookies[cookie]))
    assert _signed_in(_sign_in(app, staff)[0].get("/staff/"))


def test_a_user_disabled_in_the_database_is_signed_out_at_the_next_request(app, staff):
    """Even without a new token (say, switched off by hand in the database):
    the loader refuses an inactive user, so no page sees them as current_user."""
    client, cookies = _sign_in(app, staff)
    token = staff.session_token
    staff.active = False
    db.session.commit()
    assert db.session.get(User, staff.id).session_token == token
    assert not _signed_in(client.get("/staff/"))
    assert not _signed_in(_replayed(app, REMEMBER, cookies[REMEMBER]))
    assert "로그아웃" not in client.get("/vendors/").get_data(as_text=True)


def test_an_admin_signing_someone_out_is_audited(app, make_user, staff):
    from market.accounts import services

    admin = make_user(Role.ADMIN)
    client, _ = _sign_in(app, staff)
    services.end_all_sessions(staff, actor=admin)
    db.session.commit()
    assert not _signed_in(client.get("/staff/"))
    entry = db.session.scalars(select(AuditEntry).filter_by(action="user.sessions_end")).one()
    assert entry.actor_id == admin.id and entry.object_id == str(staff.id)


def test_remember_me_lasts_at_most_thirty_days(app, staff):
    client = app.test_client()
    response = client.post(
        "/account/login", data={"email": staff.email, "password": PASSWORD, "remember": "y"}
    )
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(REMEMBER))
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", header)[1])
    left = expires - datetime.now(UTC)
    assert timedelta(days=29) < left <= timedelta(days=30, minutes=5)


def test_every_user_gets_a_token_of_their_own(make_user):
    first, second = make_user(), make_user()
    assert len(first.session_token) >= 40 and first.session_token != second.session_token
    assert first.get_id() == f"{first.id}:{first.session_token}"


# Values no login ever writes: an id without token (a cookie from before
# tokens), ids beyond the column's range, NUL bytes, other digits, huge strings.
ODD_IDS = [
    "1",
    "{id}",
    "{id}:",
    ":{token}",
    "{id}:wrong-token",
    "{id}:{token}x",
    "{id}: {token}",
    "{id}:{token}\n",
    "{id}\x00:{token}",
    "{id}:{token}\x00",
    "2147483648:{token}",
    "99999999999999999999:{token}",
    "-{id}:{token}",
    "0:{token}",
    "١:{token}",  # an Arabic-Indic one: int() would take it
    "{id}:" + "a" * 3_000,  # a browser keeps cookies up to 4 kB
    "9" * 3_000,
    "{id}:{token}:{token}",
    "{id}:토큰",
]


def _odd(value: str, user) -> str:
    return value.replace("{id}", str(user.id)).replace("{token}", user.session_token)


@pytest.mark.parametrize("value", ODD_IDS)
def test_an_odd_user_id_in_the_session_is_no_one_and_no_error(app, staff, value):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = _odd(value, staff)
        session["_fresh"] = True
    assert not _signed_in(client.get("/staff/"))
    assert client.get("/vendors/").status_code == 200


@pytest.mark.parametrize("value", [5, None, ["1", "x"], {"id": 1}, 1.5])
def test_a_user_id_of_another_type_is_no_one(app, staff, value):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = value
    assert not _signed_in(client.get("/staff/"))


@pytest.mark.parametrize("value", ODD_IDS)
def test_an_odd_user_id_in_a_remember_cookie_is_no_one_and_no_error(app, staff, value):
    """Signed with the app's key, as only someone holding it could: the
    loader must still refuse cleanly, not fail with a 500."""
    client = app.test_client()
    client.set_cookie(REMEMBER, encode_cookie(_odd(value, staff)), domain=HOST)
    assert not _signed_in(client.get("/staff/"))


def test_the_right_value_in_a_made_up_cookie_does_sign_in(app, staff):
    """The counterpart of the odd values above: the format itself is right."""
    client = app.test_client()
    client.set_cookie(REMEMBER, encode_cookie(staff.get_id()), domain=HOST)
    assert _signed_in(client.get("/staff/"))
