"""What the poller remembers about the center's mailbox.

`InboxFolder` is where reading stopped in a folder (its UIDVALIDITY and the
last UID seen), so a restart neither reads a message again nor skips one.
`InboxMessage` is one message handled: inserting it is the claim (the unique
place constraint lets only one poller have a UID, and the unique Message-ID
lets only one copy of a message take effect), and it is written in the same
transaction as what handling changed, so a crash leaves either both or
neither. `InboxBounce` is one failed recipient of a delivery report: the
count of temporary failures in 30 days and the per-customer history read it.
"""

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from market.dbtypes import value_enum
from market.extensions import db
from market.inbox.outcome import MessageKind, Outcome
from market.timeutil import UTCDateTime, utcnow


class InboxFolder(db.Model):
    __tablename__ = "inbox_folders"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Filing(enum.StrEnum):
    """What was done with the message in the mailbox after handling."""

    PENDING = "pending"  # handled, not yet moved or flagged (retried next poll)
    MOVED = "moved"  # to the Processed folder
    FLAGGED = "flagged"  # left in place, marked seen (and flagged if it failed)


class InboxMessage(db.Model):
    __tablename__ = "inbox_messages"
    __table_args__ = (
        UniqueConstraint("folder", "uidvalidity", "uid", name="uq_inbox_messages_place"),
        Index("ix_inbox_messages_outcome_handled", "outcome", "handled_at"),
        Index("ix_inbox_messages_filing", "folder", "filing"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    folder: Mapped[str] = mapped_column(String(200))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    # Unique: a copy of a message already handled (another UID, or the same
    # message after the folder's UIDVALIDITY changed) is recorded without one
    # and points at the first (duplicate_of_id) instead of taking effect again.
    message_id: Mapped[str | None] = mapped_column(String(500), unique=True)
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbox_messages.id", ondelete="SET NULL")
    )
    from_address: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # its Date header
    kind: Mapped[MessageKind] = mapped_column(value_enum(MessageKind))
    outcome: Mapped[Outcome] = mapped_column(value_enum(Outcome))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict | None] = mapped_column(db.JSON)
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled_by: Mapped[str | None] = mapped_column(String(100))  # host:pid of the poller
    filing: Mapped[Filing] = mapped_column(value_enum(Filing), default=Filing.PENDING)


class InboxBounce(db.Model):
    """One recipient a delivery report says failed. The address is kept as
    its hash only, like the suppression list."""

    __tablename__ = "inbox_bounces"
    __table_args__ = (Index("ix_inbox_bounces_email_hash", "email_hash", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inbox_message_id: Mapped[int] = mapped_column(
        ForeignKey("inbox_messages.id", ondelete="CASCADE")
    )
    email_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(String(16))  # e.g. 5.1.1
    permanent: Mapped[bool] = mapped_column(default=False)
    diagnostic: Mapped[str | None] = mapped_column(Text)  # the server's words
    outbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL")
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
