from datetime import date, datetime

from sqlalchemy import Date, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from market.extensions import db
from market.timeutil import UTCDateTime


class OnlineSnapshot(db.Model):
    """The orders half of one period's 판로지원 실적 (market.sales.figures.
    OnlinePart as JSON), stored so every web worker, and the app after a
    restart, reads it instead of counting the orders again. Valid while the
    orders half's fingerprint (market.sales.cache) is the one it was counted
    under; one per period, replaced when counted again. The worker counts
    the default periods right after an order import (market.sales.snapshots)."""

    __tablename__ = "sales_online_snapshots"
    __table_args__ = (UniqueConstraint("start_date", "end_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    fingerprint: Mapped[str] = mapped_column(String(500))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    figures: Mapped[dict] = mapped_column(db.JSON)
