import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from market.dbtypes import value_enum
from market.extensions import db
from market.timeutil import UTCDateTime, utcnow


class OutboxStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for next_attempt_at (also after a failed try)
    SENDING = "sending"  # claimed by a worker until claimed_until
    SENT = "sent"
    FAILED = "failed"  # gave up after OUTBOX_MAX_ATTEMPTS; staff can retry


class OutboxMessage(db.Model):
    """An email, written in the same transaction as the change that caused it
    and delivered later by `flask outbox deliver`. Holds the full MIME bytes,
    so what staff open is exactly what the recipient gets."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
        # What the invitation counts read of a mail, without the row: SQLite
        # keeps status and bounced_at after the MIME bytes (tens of KB, in
        # overflow pages), so reading them from the row walks every page of
        # the mail (market.core.indexhints).
        Index("ix_outbox_messages_mail_state", "id", "status", "category", "bounced_at"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    category: Mapped[str] = mapped_column(String(40), default="general")
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(500))
    mime: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[OutboxStatus] = mapped_column(
        value_enum(OutboxStatus),
        default=OutboxStatus.QUEUED,
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Sent, then returned: a delivery report in the center's mailbox named
    # this message (market.inbox.bounces). The status stays "sent": the
    # server took it; this says the recipient never got it.
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
