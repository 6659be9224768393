import enum
import hashlib
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from market.dbtypes import seoul_date, value_enum
from market.extensions import db
from market.timeutil import UTCDateTime, utcnow
from market.validators import normalise_email


def email_hash(email: str) -> str:
    """What the suppression list keeps: it survives purge and re-import
    without keeping the address itself."""
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()


class Customer(db.Model):
    """An online buyer from the marketplace's order export (고객).

    Name, phone and consent come from the newest order row seen
    (`details_as_of`), so importing an older file never overwrites them."""

    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_normalised"),
        CheckConstraint("NOT consent OR consent_at IS NOT NULL", name="consent_has_date"),
        Index("ix_customers_email_hash", "email_hash"),
        # The staff's search matches the start of these (market.customers.records);
        # on PostgreSQL LIKE 'prefix%' needs the pattern operator class. Migration 0015.
        *(
            Index(
                f"ix_customers_{column}_prefix",
                column,
                postgresql_ops={column: "varchar_pattern_ops"},
            )
            for column in ("name", "email", "phone")
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    email_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))
    consent: Mapped[bool] = mapped_column(default=False)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_source: Mapped[str | None] = mapped_column(String(255))
    consent_wording: Mapped[str | None] = mapped_column(String(100))
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    details_as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Order(db.Model):
    """One marketplace order. The order number is unique, so re-importing a
    file counts nothing twice."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        Index("ix_orders_customer_ordered", "customer_id", "ordered_at"),
        # Covers the ranking's aggregate (window, customer, amount); see migration 0007.
        Index("ix_orders_ordered_customer_amount", "ordered_at", "customer_id", "amount"),
        Index("ix_orders_vendor_ordered", "vendor_id", "ordered_at"),
        # 판로지원 실적 (market.sales.figures), migration 0019: orders of a
        # range of Seoul days, read from the index alone (per day, matched or
        # not); and each enterprise's orders by buyer, in the order its
        # per-buyer aggregate groups them, so a long period needs no sort.
        Index("ix_orders_seoul_day", "seoul_day", "vendor_id", "customer_id", "amount"),
        Index("ix_orders_vendor_customer_day", "vendor_id", "customer_id", "seoul_day", "amount"),
        # And the orders whose seller matched no enterprise (a few percent),
        # with the seller's name: read without the table.
        Index(
            "ix_orders_unmatched_day",
            "seoul_day",
            "seller_name",
            "customer_id",
            "amount",
            sqlite_where=text("vendor_id IS NULL"),
            postgresql_where=text("vendor_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_no: Mapped[str] = mapped_column(String(64), unique=True)
    ordered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Its Seoul date, kept by the database (nobody writes it): reports group
    # and pick periods on it without converting every order's time. Virtual
    # on SQLite (the index keeps it), stored on PostgreSQL.
    seoul_day: Mapped[date | None] = mapped_column(
        Date, Computed(seoul_date(literal_column("ordered_at")))
    )
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("vendors.id", ondelete="SET NULL"))
    seller_name: Mapped[str] = mapped_column(String(100))
    product: Mapped[str] = mapped_column(String(200))
    amount: Mapped[int] = mapped_column(BigInteger)
    import_id: Mapped[int | None] = mapped_column(
        ForeignKey("customer_imports.id", ondelete="SET NULL")
    )


class ImportStatus(enum.StrEnum):
    UPLOADED = "uploaded"
    CHECKING = "checking"
    CHECKED = "checked"  # preview ready
    IMPORTING = "importing"
    DONE = "done"
    REFUSED = "refused"  # bad rows and no "good rows only"
    FAILED = "failed"  # unexpected error; nothing saved


class CustomerImport(db.Model):
    """One uploaded order file and what became of it; the page polls it for
    progress while a large file is checked or imported."""

    __tablename__ = "customer_imports"
    __table_args__ = (CheckConstraint("rows_done >= 0", name="rows_done_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    stored_path: Mapped[str] = mapped_column(String(500))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[ImportStatus] = mapped_column(
        value_enum(ImportStatus),
        default=ImportStatus.UPLOADED,
    )
    good_rows_only: Mapped[bool] = mapped_column(default=False)
    bytes_done: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    rows_total: Mapped[int | None]
    rows_bad: Mapped[int | None]
    orders_new: Mapped[int | None]
    orders_known: Mapped[int | None]
    customers_new: Mapped[int | None]
    report: Mapped[dict | None] = mapped_column(db.JSON)  # bad rows, unmatched sellers
    error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The work is done by `flask worker` (market.customers.jobs), never the
    # web process: the request only records what to do (status uploaded:
    # check; importing: the write pass, good_rows_only as chosen) and when.
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The worker running it, and when it last said it is alive: a job whose
    # heartbeat is older than IMPORT_STALE_SECONDS is taken over by another.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    takeovers: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Where a write pass resumes: the staged rows are spread over parts
    # (market.customers.staging), each written whole in one transaction
    # that also moves this mark and adds to the counts below.
    parts_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    orders_written: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    customers_written: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    @property
    def ready_to_import(self) -> bool:
        """Checked, so the write pass may run: a failed write pass may be run
        again; a check that failed checked nothing."""
        return self.status is ImportStatus.CHECKED or (
            self.status is ImportStatus.FAILED and self.rows_total is not None
        )


class Suppression(db.Model):
    """Addresses that must never get advertising again: unsubscribed, or
    "undeliverable" (a permanent bounce, or three temporary ones in 30 days,
    read from the center's mailbox by market.inbox.bounces)."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reason: Mapped[str] = mapped_column(String(50), default="unsubscribed")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The last bounce that made (or kept) the address undeliverable: when,
    # and what the receiving server said, for staff to read.
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bounce_diagnostic: Mapped[str | None] = mapped_column(Text)


class ImportUploadChunk(db.Model):
    """The bytes of an uploaded order file, in rows of about a megabyte, in
    the database: any worker on any host can read them (the instance folder
    is not shared between hosts). Personal data: deleted when the job ends
    (market.customers.uploads)."""

    __tablename__ = "customer_import_chunks"

    import_id: Mapped[int] = mapped_column(
        ForeignKey("customer_imports.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)
