import enum
import uuid
from datetime import date, datetime, time

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.dbtypes import value_enum
from market.extensions import db
from market.timeutil import UTCDateTime, utcnow

MIN_BOOTHS, MAX_BOOTHS = 4, 10
THURSDAY = 3  # date.weekday()


class MarketStatus(enum.StrEnum):
    PLANNED = "planned"
    OPEN = "open"  # open for applications
    ASSIGNED = "assigned"  # booths assigned
    HELD = "held"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Venue(db.Model):
    __tablename__ = "venues"
    __table_args__ = (CheckConstraint("booth_spots BETWEEN 1 AND 100", name="booth_spots_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    address: Mapped[str] = mapped_column(String(200))
    map_url: Mapped[str | None] = mapped_column(String(500))
    booth_spots: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<Venue {self.name}>"


def new_calendar_uid(domain: str) -> str:
    """Random and stored, so it never changes with anything else (date, id, host)."""
    return f"market-{uuid.uuid4().hex}@{domain}"


class Market(db.Model):
    """One market day. `uid` and `sequence` are what calendar clients use to
    recognise the same event and to know it changed (RFC 5545)."""

    __tablename__ = "markets"
    __table_args__ = (
        UniqueConstraint("market_date", "venue_id", name="uq_markets_date_venue"),
        CheckConstraint(
            f"booth_count BETWEEN {MIN_BOOTHS} AND {MAX_BOOTHS}", name="booth_count_range"
        ),
        CheckConstraint("end_time > start_time", name="ends_after_start"),
        CheckConstraint("takings_ceiling > 0", name="ceiling_positive"),
        CheckConstraint("sequence >= 0", name="sequence_not_negative"),
        CheckConstraint(
            "status <> 'cancelled' OR cancel_reason IS NOT NULL", name="cancel_has_reason"
        ),
        Index("ix_markets_market_date", "market_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    market_date: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id", ondelete="RESTRICT"), index=True)
    booth_count: Mapped[int]
    application_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    takings_ceiling: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[MarketStatus] = mapped_column(
        value_enum(MarketStatus), default=MarketStatus.PLANNED
    )
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    date_exception_reason: Mapped[str | None] = mapped_column(String(500))
    note: Mapped[str | None] = mapped_column(Text)
    uid: Mapped[str] = mapped_column(String(200), unique=True)
    sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    venue: Mapped[Venue] = relationship(lazy="joined", innerjoin=True)

    @property
    def is_cancelled(self) -> bool:
        return self.status is MarketStatus.CANCELLED

    def __repr__(self) -> str:
        return f"<Market {self.market_date} {self.venue_id} {self.status.value}>"
