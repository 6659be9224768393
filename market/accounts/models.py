import enum
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from market.dbtypes import value_enum
from market.extensions import db
from market.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:  # vendors stands above accounts: for the annotation only
    from market.vendors.models import Vendor


class Role(enum.StrEnum):
    ADMIN = "admin"
    STAFF = "staff"
    VENDOR = "vendor"


# Roles that act for the center rather than for one enterprise.
CENTER_ROLES = frozenset({Role.ADMIN, Role.STAFF})


def new_session_token() -> str:
    """A fresh random value for User.session_token (43 URL-safe characters)."""
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(value_enum(Role))
    active: Mapped[bool] = mapped_column(default=True, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Vendor users act for this enterprise only; staff have none.
    vendor_id: Mapped[int | None] = mapped_column(
        ForeignKey("vendors.id", ondelete="SET NULL"), index=True
    )

    # Part of every session and remember-me cookie (get_id): a new value
    # (accounts.services.end_all_sessions) ends them all at once.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    # None until an enterprise that signed up follows the link mailed to it
    # (or resets its password by mail): until then it cannot log in. A login
    # the center makes (CLI, invitation) counts as confirmed when made.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    vendor: Mapped["Vendor | None"] = relationship(lazy="joined")

    def __init__(self, **values) -> None:
        # Confirmed unless told otherwise (a column default would also fill
        # in an explicit None: the public sign-up's "not yet").
        values.setdefault("email_confirmed_at", utcnow())
        super().__init__(**values)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    # The login_sessions row of the browser this object was loaded or
    # signed in for (set by accounts.sessions); not a column.
    login_session_key = None  # str

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and the remember-me cookie:
        the id, the current session token and the browser's login_sessions
        key (accounts.views.load_user): deleting that row ends this browser's
        session and its remember-me cookie too."""
        if self.login_session_key:
            return f"{self.id}:{self.session_token}:{self.login_session_key}"
        return f"{self.id}:{self.session_token}"

    @property
    def is_staff(self) -> bool:
        return self.role in CENTER_ROLES

    def set_password(self, password: str) -> None:
        method = current_app.config["PASSWORD_HASH_METHOD"] if current_app else "scrypt"
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role.value}>"


class LoginSession(db.Model):
    """One signed-in browser of a user: made at login, named by the session
    and remember-me cookie, shown on the user's "로그인된 기기" page."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Updated at most every few minutes (accounts.sessions.TOUCH_EVERY).
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    browser: Mapped[str] = mapped_column(String(100))  # "Chrome · Android"
    ip_address: Mapped[str | None] = mapped_column(String(45))
