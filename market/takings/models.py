from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.accounts.models import User
from market.extensions import db
from market.markets.models import Market
from market.timeutil import UTCDateTime, utcnow
from market.vendors.models import Vendor

# Written with COALESCE and plain arithmetic so SQLite and PostgreSQL read it
# alike: no split at all, or the parts given (a missing part is 0) add up.
SPLIT_ADDS_UP = (
    "(cash IS NULL AND card IS NULL AND voucher IS NULL) OR "
    "(COALESCE(cash, 0) + COALESCE(card, 0) + COALESCE(voucher, 0) = amount)"
)


class Takings(db.Model):
    """One vendor's takings at one market day, in whole won.

    The daily ceiling (the sum over a market) cannot be a row constraint; the
    service keeps it under a lock on the market row (markets.services.lock_market)."""

    __tablename__ = "takings"
    __table_args__ = (
        UniqueConstraint("vendor_id", "market_id", name="uq_takings_vendor_market"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("sales_count IS NULL OR sales_count >= 0", name="sales_count_not_negative"),
        CheckConstraint("cash IS NULL OR cash >= 0", name="cash_not_negative"),
        CheckConstraint("card IS NULL OR card >= 0", name="card_not_negative"),
        CheckConstraint("voucher IS NULL OR voucher >= 0", name="voucher_not_negative"),
        CheckConstraint(SPLIT_ADDS_UP, name="split_adds_up"),
        Index("ix_takings_market_id", "market_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # RESTRICT: money records are not dropped along with a vendor or a market.
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="RESTRICT"))
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id", ondelete="RESTRICT"))
    amount: Mapped[int] = mapped_column(BigInteger)
    sales_count: Mapped[int | None]
    cash: Mapped[int | None] = mapped_column(BigInteger)
    card: Mapped[int | None] = mapped_column(BigInteger)
    voucher: Mapped[int | None] = mapped_column(BigInteger)  # 온누리상품권 and the like
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    vendor: Mapped[Vendor] = relationship(lazy="raise")
    market: Mapped[Market] = relationship(lazy="raise")
    entered_by: Mapped[User | None] = relationship(foreign_keys=[entered_by_id], lazy="raise")
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id], lazy="raise")

    @property
    def has_split(self) -> bool:
        return any(part is not None for part in (self.cash, self.card, self.voucher))

    def __repr__(self) -> str:
        return f"<Takings vendor={self.vendor_id} market={self.market_id} {self.amount}>"
