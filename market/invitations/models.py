import enum
import secrets
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.customers.models import Customer
from market.extensions import db
from market.timeutil import UTCDateTime, utcnow


def new_token() -> str:
    """Unguessable: it is the only key to the RSVP and unsubscribe pages."""
    return secrets.token_urlsafe(32)


class InvitationStatus(enum.StrEnum):
    """The customer's answer. Whether the mail was delivered is the outbox
    message's status (joined through outbox_message_id), not copied here."""

    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class Invitation(db.Model):
    """A customer invited to one market, with the calendar SEQUENCE last sent."""

    __tablename__ = "invitations"
    __table_args__ = (
        UniqueConstraint("customer_id", "market_id", name="uq_invitations_customer_market"),
        Index("ix_invitations_market_status", "market_id", "status"),
        Index("ix_invitations_customer_created", "customer_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    status: Mapped[InvitationStatus] = mapped_column(
        Enum(
            InvitationStatus,
            native_enum=False,
            create_constraint=True,
            length=16,
            values_callable=lambda members: [m.value for m in members],
        ),
        default=InvitationStatus.INVITED,
    )
    sequence_sent: Mapped[int] = mapped_column(default=0)
    outbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer: Mapped[Customer] = relationship(lazy="raise")
    market = relationship("Market", lazy="raise")
