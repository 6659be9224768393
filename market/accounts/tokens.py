"""Signed links mailed to a user: set a new password (a forgotten one, or the
first one of an invited staff member) and confirm a new enterprise's email.

itsdangerous (Flask's own signing library) signs the user's id, the purpose
and a fingerprint of what the link changes: the password hash and the
confirmation. Using the link changes that, so the link, and any other one
mailed before, stops working: single use without a table of tokens. The
signature carries the time it was made; `user_for` refuses an older one."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

from market.accounts.models import User
from market.core.converters import MAX_ID
from market.extensions import db
from market.timeutil import utcnow

RESET = "password-reset"
INVITE = "staff-invite"
CONFIRM = "confirm-email"

LIFETIME = {
    RESET: timedelta(hours=1),
    INVITE: timedelta(hours=72),
    CONFIRM: timedelta(hours=72),
}
MAX_TOKEN_LENGTH = 300  # ours are about 110 characters


class _Signer(TimestampSigner):
    """Stamps and checks ages by the app's clock (market.timeutil), which
    tests stop and move."""

    def get_timestamp(self) -> int:
        return int(utcnow().timestamp())


class _Serializer(URLSafeTimedSerializer):
    default_signer = _Signer


def _serializer(purpose: str) -> _Serializer:
    return _Serializer(current_app.config["SECRET_KEY"], salt=f"market.accounts.{purpose}")


def fingerprint(user: User) -> str:
    """Changes when the password is set or the email confirmed."""
    state = f"{user.password_hash}|{user.email}|{user.email_confirmed_at or ''}"
    return hashlib.sha256(state.encode()).hexdigest()[:20]


def unusable_password() -> str:
    """A password nobody is told: an invited login waits for its link."""
    return secrets.token_urlsafe(32)


def make(user: User, purpose: str) -> str:
    return _serializer(purpose).dumps([user.id, fingerprint(user)])


def user_for(token, purpose: str) -> User | None:
    """The user the link was made for, or None: tampered, of another
    purpose, too old, already used or superseded (the fingerprint moved), or
    a user who no longer exists. Never an exception, whatever `token` holds."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    if not token.isascii():
        return None
    max_age = int(LIFETIME[purpose].total_seconds())
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age)
    except (BadData, ValueError, TypeError):
        return None
    if not (isinstance(payload, list) and len(payload) == 2):
        return None
    user_id, mark = payload
    if not isinstance(user_id, int) or isinstance(user_id, bool) or not 1 <= user_id <= MAX_ID:
        return None
    user = db.session.get(User, user_id)
    if user is None or not isinstance(mark, str):
        return None
    if not hmac.compare_digest(mark.encode(), fingerprint(user).encode()):
        return None
    return user
