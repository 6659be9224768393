import enum
import secrets
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.dbtypes import value_enum
from market.extensions import db
from market.markets.models import Market
from market.timeutil import UTCDateTime, utcnow


class EnterpriseType(enum.StrEnum):
    SOCIAL = "social"  # 사회적기업
    PRE_SOCIAL_REGIONAL = "pre_social_regional"  # 예비사회적기업 (지역형)
    PRE_SOCIAL_MINISTRY = "pre_social_ministry"  # 예비사회적기업 (부처형)
    VILLAGE = "village"  # 마을기업
    SELF_SUFFICIENCY = "self_sufficiency"  # 자활기업
    COOPERATIVE = "cooperative"  # 협동조합
    SOCIAL_COOPERATIVE = "social_cooperative"  # 사회적협동조합
    OTHER = "other"  # 기타 사회적경제기업


class Category(enum.StrEnum):
    FOOD = "food"
    FARM = "farm"
    HOUSEHOLD = "household"
    CLOTHING = "clothing"
    ELECTRONICS = "electronics"  # refurbished electronics
    CRAFTS = "crafts"
    OTHER = "other"


class VendorStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


# An enterprise whose approved values are in use: the public directory, the
# order import's seller matching (market.vendors.shop_links), change review.
LIVE = (VendorStatus.APPROVED, VendorStatus.SUSPENDED)


class ApplicationStatus(enum.StrEnum):
    APPLIED = "applied"
    ASSIGNED = "assigned"
    WAITLISTED = "waitlisted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


def new_feed_token() -> str:
    return secrets.token_urlsafe(24)


class Vendor(db.Model):
    """A participating enterprise (참여기업). Its users act for it alone."""

    __tablename__ = "vendors"
    __table_args__ = (
        CheckConstraint("length(business_number) = 10", name="business_number_digits"),
        CheckConstraint(
            "cert_expires_on IS NULL OR cert_expires_on >= cert_issued_on",
            name="cert_expires_after_issue",
        ),
        CheckConstraint(
            "status IN ('pending', 'approved') OR status_reason IS NOT NULL",
            name="refusal_has_reason",
        ),
        Index("ix_vendors_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    business_number: Mapped[str] = mapped_column(String(10), unique=True)
    enterprise_type: Mapped[EnterpriseType] = mapped_column(value_enum(EnterpriseType, length=32))
    cert_issuer: Mapped[str] = mapped_column(String(100))
    cert_number: Mapped[str] = mapped_column(String(50))
    cert_issued_on: Mapped[date] = mapped_column(Date)
    cert_expires_on: Mapped[date | None] = mapped_column(Date)
    category: Mapped[Category] = mapped_column(value_enum(Category, length=32))
    description: Mapped[str] = mapped_column(Text, default="")
    shop_url: Mapped[str | None] = mapped_column(String(500))
    contact_name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20))  # E.164, e.g. +821012345678
    email: Mapped[str] = mapped_column(String(254))
    status: Mapped[VendorStatus] = mapped_column(
        value_enum(VendorStatus, length=32), default=VendorStatus.PENDING
    )
    status_reason: Mapped[str | None] = mapped_column(String(500))
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    feed_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_feed_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def certification_valid_on(self, day: date) -> bool:
        return self.cert_expires_on is None or self.cert_expires_on >= day

    def __repr__(self) -> str:
        return f"<Vendor {self.name} {self.status.value}>"


class Application(db.Model):
    """A vendor's application to one market day (참가신청)."""

    __tablename__ = "applications"
    __table_args__ = (
        UniqueConstraint("vendor_id", "market_id", name="uq_applications_vendor_market"),
        # One staff pin per booth; NULLs (no pin) never collide.
        UniqueConstraint("market_id", "pinned_booth", name="uq_applications_market_pinned_booth"),
        CheckConstraint("pinned_booth BETWEEN 1 AND 10", name="pinned_booth_range"),
        CheckConstraint("waitlist_position >= 1", name="waitlist_position_positive"),
        Index("ix_applications_market_status", "market_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"))
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id", ondelete="CASCADE"))
    status: Mapped[ApplicationStatus] = mapped_column(
        value_enum(ApplicationStatus, length=32), default=ApplicationStatus.APPLIED
    )
    note: Mapped[str | None] = mapped_column(String(1000))
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_reason: Mapped[str | None] = mapped_column(String(500))
    # Booth assignment (market.booths): a staff pin, kept for every (re)assignment,
    # and the place on the waitlist while waitlisted.
    pinned_booth: Mapped[int | None]
    waitlist_position: Mapped[int | None]

    vendor: Mapped[Vendor] = relationship(lazy="raise")
    market: Mapped[Market] = relationship(lazy="raise")


class VendorChange(db.Model):
    """A live enterprise's requested new name, business number, category or
    shop link (정보 변경 요청), waiting for staff. The vendors row keeps the approved
    values, which every page, export and the order import go on reading; a
    column left NULL is not being changed. The row exists only while the
    request waits (the decision and its reason are in the audit log), so the
    unique vendor_id is the rule "one waiting request per enterprise"."""

    __tablename__ = "vendor_changes"
    __table_args__ = (
        CheckConstraint(
            "business_number IS NULL OR length(business_number) = 10",
            name="change_business_number_digits",
        ),
        CheckConstraint(
            "name IS NOT NULL OR business_number IS NOT NULL OR category IS NOT NULL"
            " OR shop_url IS NOT NULL",
            name="changes_something",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(
        ForeignKey("vendors.id", ondelete="CASCADE"), unique=True
    )
    name: Mapped[str | None] = mapped_column(String(100))
    business_number: Mapped[str | None] = mapped_column(String(10))
    category: Mapped[Category | None] = mapped_column(value_enum(Category, length=32))
    # The shop link matches the marketplace's seller column to the vendor
    # (market.customers.importer), so a new one waits for review too; ""
    # asks to remove the link.
    shop_url: Mapped[str | None] = mapped_column(String(500))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    vendor: Mapped[Vendor] = relationship(lazy="raise")
