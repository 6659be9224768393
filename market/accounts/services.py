"""Account rules: creating users, checking logins, changing passwords,
enabling and disabling logins, ending a user's sessions."""

import re
import secrets
import time

from blinker import Namespace
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from market.accounts import sessions, tokens
from market.accounts.models import Role, User, new_session_token
from market.audit.services import record
from market.core.converters import MAX_ID
from market.core.rules import RuleError
from market.extensions import db
from market.timeutil import utcnow
from market.validators import MAX_PASSWORD_LENGTH, checked_email, normalise_email

MIN_PASSWORD_LENGTH = 8

# A mail for one user with a signed link (accounts.tokens): sent with
# kind=tokens.RESET, INVITE or CONFIRM and the token; the outbox, which owns
# all mail, writes and queues it (market.outbox.account_mails). Sent inside
# the caller's transaction: a change rolled back mails no one.
account_mail = Namespace().signal("account-mail")


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"password must have at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"password must have at most {MAX_PASSWORD_LENGTH} characters"
    return None


class AccountError(RuleError):
    """A refused account change (a plain message: the CLI prints it)."""


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(
    email: str, name: str, password: str, role: Role, actor: User | None = None
) -> User:
    if problem := password_problem(password):
        raise AccountError(problem)
    email, problem = checked_email(email)  # the mailer's rule, as every form's
    if problem:
        raise AccountError(problem)
    if find_user_by_email(email) is not None:
        raise AccountError(f"a user with the email {normalise_email(email)} already exists")
    user = User(email=normalise_email(email), name=name.strip(), role=Role(role))
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record(actor, "user.create", user, after={"email": user.email, "role": user.role.value})
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user when the password matches and the account is active.

    A wrong email and a wrong password give the same answer, so the login page
    does not reveal which addresses have accounts; nor does the time it takes:
    an unknown email costs a password check too (against a dummy hash), and
    a disabled user's password is checked as anyone's."""
    user = find_user_by_email(email)
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    if user.email_confirmed_at is None:
        # An enterprise that signed up and has not followed the mailed link:
        # the same answer as a wrong password, or anyone could learn whether
        # an address was new by signing up with it and logging in.
        return None
    user.last_login_at = utcnow()
    return user


# One hash per hashing method, made the first time an unknown email logs in.
_DUMMY_HASHES: dict[str, str] = {}


def spend_a_password_hash(password: str) -> None:
    """Costs what hashing a new login's password costs, for a path that must
    take as long as one that makes a login (a sign-up with a known email)."""
    generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def _dummy_hash() -> str:
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash(secrets.token_hex(16), method=method)
    return _DUMMY_HASHES[method]


def change_password(user: User, current: str, new: str) -> None:
    """The user's own change (the page): ends every session of the user; the
    page signs the current one in again."""
    if not user.check_password(current):
        raise AccountError({"current": _("The current password is wrong.")})
    if problem := password_problem(new):  # the form has the same limits, in Korean
        raise AccountError({"new": problem})
    user.set_password(new)
    end_all_sessions(user, keep_key=user.login_session_key)
    record(user, "user.password_change", user)


def set_password(user: User, new: str, actor: User | None = None) -> None:
    """An administrator's (or the CLI's) new password for someone: every
    session of that user ends."""
    if problem := password_problem(new):
        raise AccountError(problem)
    user.set_password(new)
    end_all_sessions(user)
    record(actor, "user.password_set", user)


def set_active(user: User, active: bool, actor: User | None = None) -> bool:
    """Enables or disables a login; a disabled user's sessions end at once.
    False when it already was so (nothing recorded)."""
    if not active:
        end_all_sessions(user)  # even if already disabled: harmless, and sure
    if user.active == active:
        return False
    user.active = active
    record(
        actor,
        "user.enable" if active else "user.disable",
        user,
        before={"active": not active},
        after={"active": active},
    )
    return True


def end_all_sessions(user: User, actor: User | None = None, keep_key: str | None = None) -> None:
    """Every session and remember-me cookie of `user` stops working: they
    carry the session token (User.get_id), which changes here, and their
    login_sessions rows go (all but `keep_key`'s, the browser that signs in
    again at once). With an `actor` (an administrator signing someone out)
    it is audited; the user's own logout is not."""
    user.session_token = new_session_token()
    sessions.end_others(user, keep_key)  # without keep_key: every one
    if actor is not None:
        record(actor, "user.sessions_end", user)


# The longest id a session may name: the users.id column is a 32-bit integer.
# id:token, and since login sessions are kept, :key (32 characters).
_SESSION_ID = re.compile(r"([0-9]{1,10}):([A-Za-z0-9_-]{1,64})(?::([A-Za-z0-9_-]{32}))?")


def parse_session_id(value) -> tuple[int, str, str | None] | None:
    """(id, token, login session key or None) from a session's user id
    (`User.get_id()`), or None for a value of any other shape: never an
    exception, whatever the cookie held."""
    if not isinstance(value, str) or len(value) > 120:
        return None
    match = _SESSION_ID.fullmatch(value)
    if match is None:
        return None
    user_id = int(match[1])
    if not 1 <= user_id <= MAX_ID:
        return None
    return user_id, match[2], match[3]


# -- forgotten passwords --------------------------------------------------------


def request_password_reset(email: str) -> None:
    """Mails a link to set a new password when `email` belongs to an active
    user; does nothing otherwise. The page says the same either way, and
    takes as long (answer_evenly): it must not tell which addresses have
    accounts. For an enterprise that has not confirmed its email yet, the
    link confirms it too (the address received it)."""
    user = find_user_by_email(email or "")
    if user is None or not user.active:
        return
    account_mail.send(user, kind=tokens.RESET, token=tokens.make(user, tokens.RESET))
    record(None, "user.password_reset_request", user)


def answer_evenly(started: float) -> None:
    """Waits until PASSWORD_RESET_ANSWER_SECONDS have passed since `started`
    (time.monotonic()): a request for a known address (a mail written and
    queued) and for an unknown one then take the same time."""
    rest = current_app.config["PASSWORD_RESET_ANSWER_SECONDS"] - (time.monotonic() - started)
    if rest > 0:
        time.sleep(rest)


def reset_password(user: User, new: str) -> None:
    """The new password from a mailed link (a forgotten one, or an invited
    staff member's first): the email is confirmed, since its owner followed
    the link, and every session of the user ends."""
    if problem := password_problem(new):  # the form has the same limits, in Korean
        raise AccountError({"new": problem})
    user.set_password(new)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
    end_all_sessions(user)
    record(user, "user.password_reset", user)


def confirm_email(user: User) -> bool:
    """The new enterprise followed the link mailed at sign-up. False when
    it was confirmed already."""
    if user.email_confirmed_at is not None:
        return False
    user.email_confirmed_at = utcnow()
    record(user, "user.email_confirm", user)
    return True


def mail_confirmation(user: User) -> None:
    """The sign-up's mail with the link that confirms the address."""
    account_mail.send(user, kind=tokens.CONFIRM, token=tokens.make(user, tokens.CONFIRM))
