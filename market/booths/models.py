"""Booths (부스): which vendor stands where at one market, and whether it came.

The database itself keeps the two promises of the design: one vendor per
booth (UNIQUE market, number) and one booth per vendor (UNIQUE market, vendor),
so two staff changing booths at once cannot leave a booth shared, whatever the
code above does. A row exists only for an occupied booth; an empty booth is the
absence of a row. Staff pins live on the application (`pinned_booth`), because
they are an input of the next assignment, not a fact about a booth.
"""

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.dbtypes import value_enum
from market.extensions import db
from market.markets.models import MAX_BOOTHS, Market
from market.timeutil import UTCDateTime, utcnow
from market.vendors.models import Application, Vendor


class Attendance(enum.StrEnum):
    PRESENT = "present"
    NO_SHOW = "no_show"


class Booth(db.Model):
    __tablename__ = "booths"
    __table_args__ = (
        UniqueConstraint("market_id", "number", name="uq_booths_market_number"),
        UniqueConstraint("market_id", "vendor_id", name="uq_booths_market_vendor"),
        CheckConstraint(f"number BETWEEN 1 AND {MAX_BOOTHS}", name="booth_number_range"),
        CheckConstraint(
            "(attendance IS NULL) = (attendance_at IS NULL)", name="attendance_has_time"
        ),
        Index("ix_booths_vendor_id", "vendor_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id", ondelete="CASCADE"))
    number: Mapped[int]
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"))
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), unique=True
    )
    pinned: Mapped[bool] = mapped_column(default=False)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attendance: Mapped[Attendance | None] = mapped_column(value_enum(Attendance))
    attendance_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    vendor: Mapped[Vendor] = relationship(lazy="raise")
    application: Mapped[Application] = relationship(lazy="raise")
    market: Mapped[Market] = relationship(lazy="raise")

    def __repr__(self) -> str:
        return f"<Booth {self.market_id}#{self.number} vendor {self.vendor_id}>"
