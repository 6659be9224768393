import enum
import secrets
import string
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.customers.models import Customer
from market.dbtypes import value_enum
from market.extensions import db
from market.markets.models import Market
from market.timeutil import UTCDateTime, utcnow


def new_token() -> str:
    """Unguessable: it is the only key to the RSVP and unsubscribe pages."""
    return secrets.token_urlsafe(32)


# The visitor pass's short code: read aloud or typed on a phone at the
# market, so the digits and capitals without the characters that look like
# others (0/O, 1/I/L): 23456789ABCDEFGHJKMNPQRSTUVWXYZ, 31**6 codes. The one
# place that says so: check-in (market.invitations.checkin) refuses a typed
# look-alike with its own message, and the check-in page hands the alphabet
# to its script (data-pass-alphabet). Migration 0017 keeps its own copy.
PASS_LOOK_ALIKES = "0O1IL"
PASS_ALPHABET = "".join(
    c for c in string.digits + string.ascii_uppercase if c not in PASS_LOOK_ALIKES
)
PASS_LENGTH = 6


def new_pass_code() -> str:
    """A random pass code. Unique only per market (the constraint below):
    market.invitations.passes picks codes not yet used in the market."""
    return "".join(secrets.choice(PASS_ALPHABET) for _ in range(PASS_LENGTH))


class InvitationStatus(enum.StrEnum):
    """The customer's answer. Whether the mail arrived is Invitation.delivered_at
    (its first accepted mail) and the newest mail's outbox status and bounce
    (joined through outbox_message_id)."""

    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    TENTATIVE = "tentative"  # "아직 모르겠어요"; iCalendar PARTSTAT=TENTATIVE


class AnswerSource(enum.StrEnum):
    """Where the customer's answer came from."""

    PAGE = "page"  # the RSVP page (/i/<token>)
    CALENDAR = "calendar"  # an iMIP REPLY from their calendar app (market.inbox)


class Invitation(db.Model):
    """A customer invited to one market, with the calendar SEQUENCE last sent."""

    __tablename__ = "invitations"
    __table_args__ = (
        UniqueConstraint("customer_id", "market_id", name="uq_invitations_customer_market"),
        Index("ix_invitations_market_status", "market_id", "status"),
        # The staff list, newest first, one page at a time (no sort of all)
        Index("ix_invitations_market_created", "market_id", "created_at", "id"),
        Index("ix_invitations_customer_created", "customer_id", "created_at"),
        # The pass code identifies the invitation only together with its
        # market: it means nothing without the database.
        UniqueConstraint("market_id", "pass_code", name="uq_invitations_market_pass_code"),
        CheckConstraint(f"length(pass_code) = {PASS_LENGTH}", name="pass_code_length"),
        CheckConstraint("visited_by_id IS NULL OR visited_at IS NOT NULL", name="visit_has_time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    status: Mapped[InvitationStatus] = mapped_column(
        value_enum(InvitationStatus),
        default=InvitationStatus.INVITED,
    )
    sequence_sent: Mapped[int] = mapped_column(default=0)
    outbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the mail server first accepted an invitation or update mail of
    # it (market.invitations.listeners, on the outbox's messages_sent).
    # Kept here because outbox_message_id moves on to the newest mail: a
    # queued or failed update does not undo an invitation that arrived.
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the answer was about, so a newer answer wins whichever way it
    # comes (market.invitations.answers.record_answer): the source, its
    # stamp (a calendar reply's DTSTAMP; the time of a page answer) and the
    # SEQUENCE of the invitation it answered. `answer_outdated`: it answered
    # an older SEQUENCE than the customer was last sent (the old time or place).
    answer_source: Mapped[AnswerSource | None] = mapped_column(value_enum(AnswerSource))
    answer_stamp: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer_sequence: Mapped[int | None]
    answer_outdated: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The visitor pass (issue 18): its short code, and the check-in at the
    # market (once: the first scan sets it, later scans only read it).
    pass_code: Mapped[str] = mapped_column(String(PASS_LENGTH), default=new_pass_code)
    visited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    visited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The "send invitations" it came from (its ranking options and control
    # group); NULL for invitations sent before sends were recorded.
    send_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitation_sends.id", ondelete="SET NULL")
    )

    customer: Mapped[Customer] = relationship(lazy="raise")
    market: Mapped[Market] = relationship(lazy="raise")


class InvitationSend(db.Model):
    """One "send invitations" by staff: the ranking options the customers
    were chosen with, and the control group held back from them. The
    control share and its random seed are kept so the draw can be explained
    (and repeated) later; the held-back customers are ControlCustomer rows."""

    __tablename__ = "invitation_sends"
    __table_args__ = (
        CheckConstraint("control_percent BETWEEN 0 AND 50", name="control_percent_range"),
        CheckConstraint("control_percent = 0 OR control_seed IS NOT NULL", name="control_seeded"),
        CheckConstraint(
            "chosen >= 0 AND invited >= 0 AND held_back >= 0", name="counts_not_negative"
        ),
        Index("ix_invitation_sends_market", "market_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id", ondelete="CASCADE"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The ranking options on screen when staff chose (RankingSnapshot's);
    # NULL when the customers were not chosen from a ranking.
    top_n: Mapped[int | None]
    window_days: Mapped[int | None]
    assigned_vendors_only: Mapped[bool | None]
    min_orders: Mapped[int | None]
    skip_invited_weeks: Mapped[int | None]
    control_percent: Mapped[int] = mapped_column(default=0)
    control_seed: Mapped[int | None] = mapped_column(BigInteger)
    chosen: Mapped[int] = mapped_column(default=0)  # eligible customers chosen
    invited: Mapped[int] = mapped_column(default=0)
    held_back: Mapped[int] = mapped_column(default=0)


class ControlCustomer(db.Model):
    """A customer held back as the control group of a market: never invited
    to it (market.invitations.sending refuses), so the report can compare
    what the invited did online with what these did."""

    __tablename__ = "control_customers"
    __table_args__ = (
        UniqueConstraint("market_id", "customer_id", name="uq_control_customers_market_customer"),
        Index("ix_control_customers_customer", "customer_id"),  # purging customers
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    send_id: Mapped[int] = mapped_column(ForeignKey("invitation_sends.id", ondelete="CASCADE"))
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))


class RankingSnapshot(db.Model):
    """The customer ranking of one market for one set of options, as computed
    at `computed_at` (UTC; the window ends there). The page reads it instead
    of ranking on every view, which takes seconds on ten years of orders.

    Only one per market and options (the unique constraint): recalculating
    replaces it, and of two staff recalculating at once one insert fails
    and that request shows the other's result."""

    __tablename__ = "ranking_snapshots"
    __table_args__ = (
        UniqueConstraint(
            "market_id",
            "top_n",
            "window_days",
            "assigned_vendors_only",
            "min_orders",
            "skip_invited_weeks",
            name="uq_ranking_snapshots_market_options",
        ),
        CheckConstraint("top_n BETWEEN 1 AND 1000", name="top_n_range"),
        CheckConstraint("window_days BETWEEN 1 AND 3650", name="window_days_range"),
        CheckConstraint("min_orders >= 1", name="min_orders_positive"),
        CheckConstraint("skip_invited_weeks >= 0", name="skip_invited_weeks_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id", ondelete="CASCADE"))
    top_n: Mapped[int]
    window_days: Mapped[int]
    assigned_vendors_only: Mapped[bool]
    min_orders: Mapped[int]
    skip_invited_weeks: Mapped[int]
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    computed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class RankingSnapshotRow(db.Model):
    """One ranked customer of a snapshot: the numbers as computed. Name and
    address are read from the customer at view time (no second copy of
    personal data; a purged customer leaves the snapshot with it)."""

    __tablename__ = "ranking_snapshot_rows"
    __table_args__ = (
        UniqueConstraint("snapshot_id", "customer_id", name="uq_ranking_snapshot_rows_customer"),
        Index("ix_ranking_snapshot_rows_customer", "customer_id"),  # purging customers
        CheckConstraint("rank >= 1", name="rank_positive"),
        CheckConstraint("total >= 0", name="total_not_negative"),
        CheckConstraint("orders >= 1", name="orders_positive"),
    )

    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("ranking_snapshots.id", ondelete="CASCADE"), primary_key=True
    )
    rank: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    total: Mapped[int] = mapped_column(BigInteger)
    orders: Mapped[int]
    last_order_at: Mapped[datetime] = mapped_column(UTCDateTime)
