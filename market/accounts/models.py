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

    vendor: Mapped["Vendor | None"] = relationship(lazy="joined")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and the remember-me cookie:
        the id and the current session token (accounts.views.load_user)."""
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
