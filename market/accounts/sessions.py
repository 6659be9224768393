"""Where a user is signed in: one login_sessions row per browser.

A login makes a row with a random key; the key is the third part of the id
Flask-Login keeps in the session and the remember-me cookie (User.get_id),
so the user loader (accounts.views.load_user) finds the row with the user in
one query and refuses a cookie whose row is gone: ending one browser's
session is deleting its row. The row's last_seen_at moves at most every
TOUCH_EVERY, so a busy page does not write on every request."""

import re
import secrets
from datetime import timedelta

from flask import current_app, request
from flask_login import login_user
from sqlalchemy import delete, select

from market.accounts.models import LoginSession, User
from market.extensions import db
from market.timeutil import utcnow

TOUCH_EVERY = timedelta(minutes=5)


def new_key() -> str:
    return secrets.token_urlsafe(24)  # 32 URL-safe characters


def start(user: User, remember: bool = False) -> LoginSession:
    """Signs `user` in on this browser with a row of its own (the caller
    commits). Rows not seen for longer than a remember-me cookie lives are
    cleared on the way."""
    now = utcnow()
    stale = now - current_app.config["REMEMBER_COOKIE_DURATION"] - timedelta(days=1)
    db.session.execute(
        delete(LoginSession).where(
            LoginSession.user_id == user.id, LoginSession.last_seen_at < stale
        )
    )
    row = LoginSession(
        user_id=user.id,
        key=new_key(),
        created_at=now,
        last_seen_at=now,
        browser=browser_summary(request.headers.get("User-Agent", "")),
        ip_address=client_address(),
    )
    db.session.add(row)
    user.login_session_key = row.key
    login_user(user, remember=remember)
    return row


def client_address() -> str | None:
    """The address the app sees: after ProxyFix (TRUSTED_PROXY_HOPS) it is
    the visitor's; at most 45 characters (an IPv6 address)."""
    address = request.remote_addr
    return address[:45] if address else None


def touch(row: LoginSession) -> bool:
    """Moves last_seen_at (and the address) when it is older than TOUCH_EVERY."""
    now = utcnow()
    if now - row.last_seen_at < TOUCH_EVERY:
        return False
    row.last_seen_at = now
    row.ip_address = client_address()
    return True


def sessions_of(user: User) -> list[LoginSession]:
    return list(
        db.session.scalars(
            select(LoginSession)
            .where(LoginSession.user_id == user.id)
            .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc())
        )
    )


def end_one(user: User, session_id: int) -> bool:
    """Ends one browser's session of `user`; False when it is not theirs or gone."""
    result = db.session.execute(
        delete(LoginSession).where(LoginSession.user_id == user.id, LoginSession.id == session_id)
    )
    return result.rowcount > 0


def end_others(user: User, keep_key: str | None) -> int:
    """Ends every session of `user` but this browser's (`keep_key`; None:
    every one)."""
    query = delete(LoginSession).where(LoginSession.user_id == user.id)
    if keep_key:
        query = query.where(LoginSession.key != keep_key)
    return db.session.execute(query).rowcount


# -- a short, honest summary of the User-Agent header -------------------------
# No parser library is installed; these few patterns name the browsers and
# systems the center's staff and vendors use. Order matters: Edge, Samsung
# Internet, Whale and Opera say "Chrome" too, Chrome says "Safari".
_BROWSERS = (
    ("Edge", re.compile(r"\bEdg(?:e|A|iOS)?/")),
    ("Samsung Internet", re.compile(r"\bSamsungBrowser/")),
    ("Whale", re.compile(r"\bWhale/")),
    ("Opera", re.compile(r"\b(?:OPR|Opera)/")),
    ("KakaoTalk", re.compile(r"\bKAKAOTALK\b", re.I)),
    ("NAVER", re.compile(r"\bNAVER\(inapp", re.I)),
    ("Firefox", re.compile(r"\b(?:Firefox|FxiOS)/")),
    ("Chrome", re.compile(r"\b(?:Chrome|CriOS|HeadlessChrome)/")),
    ("Safari", re.compile(r"\bVersion/[\d.]+.*Safari/")),
)
_SYSTEMS = (
    ("Android", re.compile(r"\bAndroid\b")),
    ("iPhone", re.compile(r"\biPhone\b")),
    ("iPad", re.compile(r"\biPad\b")),
    ("Windows", re.compile(r"\bWindows\b")),
    ("ChromeOS", re.compile(r"\bCrOS\b")),
    ("macOS", re.compile(r"\bMac OS X\b|\bMacintosh\b")),
    ("Linux", re.compile(r"\bLinux\b")),
)
UNKNOWN = "알 수 없는 브라우저"


def browser_summary(user_agent: str) -> str:
    """ "Chrome · Android", "Safari · iPhone"; what is not recognised is not
    guessed at."""
    value = (user_agent or "")[:512]
    browser = next((name for name, pattern in _BROWSERS if pattern.search(value)), None)
    system = next((name for name, pattern in _SYSTEMS if pattern.search(value)), None)
    parts = [part for part in (browser, system) if part]
    return " · ".join(parts) if parts else UNKNOWN
