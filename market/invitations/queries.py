"""What staff see of the invitations: counts per market and the list of the
invited, each in one query."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, bindparam, case, func, select

from market.accounts.models import User
from market.core.indexhints import sqlite_index
from market.customers.models import Customer
from market.extensions import db
from market.invitations import mail_state
from market.invitations.models import (
    AnswerSource,
    ControlCustomer,
    Invitation,
    InvitationSend,
    InvitationStatus,
)
from market.markets.models import Market, Venue
from market.outbox.models import OutboxMessage


@dataclass
class AnswerTally:
    accepted: int = 0
    tentative: int = 0
    declined: int = 0

    @property
    def total(self) -> int:
        return self.accepted + self.tentative + self.declined


@dataclass
class InvitationCounts:
    invited: int = 0
    # The states of market.invitations.mail_state (the funnel's), "waiting" as queued:
    delivered: int = 0  # an invitation or update mail of it arrived (delivered_at)
    queued: int = 0  # waiting (sending hours, retries) or being sent
    failed: int = 0
    # Sent, then returned by the recipient's server (market.inbox.bounces):
    # not counted as delivered.
    bounced: int = 0
    withdrawn: int = 0  # never goes out: unsubscribed, or cancelled before it arrived
    accepted: int = 0
    declined: int = 0
    tentative: int = 0
    unsubscribed: int = 0
    # The answers by where they came from (AnswerSource values).
    by_source: dict[str, AnswerTally] = field(
        default_factory=lambda: {source.value: AnswerTally() for source in AnswerSource}
    )
    # Answers about an older time or place than the customer was last sent.
    outdated: int = 0


ANSWERED = {
    InvitationStatus.ACCEPTED: "accepted",
    InvitationStatus.TENTATIVE: "tentative",
    InvitationStatus.DECLINED: "declined",
}


# The mails' states without their rows (market.core.indexhints)
MAIL_STATE_INDEX = "ix_outbox_messages_mail_state"


def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """How many rows meet the condition, as an aggregate (no GROUP BY needed)."""
    return func.count(case((condition, 1)))


def answered_on(source: AnswerSource) -> ColumnElement[bool]:
    # An answer without a recorded source came from the page.
    if source is AnswerSource.PAGE:
        return Invitation.answer_source.is_(None) | (Invitation.answer_source == source)
    return Invitation.answer_source == source


def _counts_statement():
    """Built once: grouped by the market and what the tiles tell apart, the
    mail's state worked out in SQL (mail_state.expression) rather than
    grouped by the four columns it reads."""
    grouped = (
        Invitation.market_id,
        mail_state.expression(),
        Invitation.status,
        Invitation.answer_source,
        Invitation.answer_outdated,
        Customer.unsubscribed_at.is_not(None),
    )
    statement = (
        select(*grouped, func.count(Invitation.id))
        .join(Customer, Customer.id == Invitation.customer_id)
        .outerjoin(OutboxMessage, OutboxMessage.id == Invitation.outbox_message_id)
        .where(Invitation.market_id.in_(bindparam("market_ids", expanding=True)))
        .group_by(*grouped)
    )
    return sqlite_index(statement, OutboxMessage, MAIL_STATE_INDEX)


_COUNTS = _counts_statement()


def invitation_counts(market_ids: Iterable[int]) -> dict[int, InvitationCounts]:
    """Per market, in one grouped query. Where each invitation's mail stands
    follows the funnel's rule (market.invitations.mail_state): delivered
    once an invitation or update mail of it arrived (Invitation.delivered_at),
    even while a later update waits or failed."""
    market_ids = list(market_ids)
    counts = {market_id: InvitationCounts() for market_id in market_ids}
    if not market_ids:
        return counts
    rows = db.session.execute(_COUNTS, {"market_ids": market_ids})
    for market_id, state, answer_status, source, outdated, unsubscribed, number in rows:
        tally = counts[market_id]
        tally.invited += number
        name = "queued" if state == "waiting" else state
        setattr(tally, name, getattr(tally, name) + number)
        if answer_status in ANSWERED:
            answer = ANSWERED[answer_status]
            setattr(tally, answer, getattr(tally, answer) + number)
            by_source = tally.by_source[(source or AnswerSource.PAGE).value]
            setattr(by_source, answer, getattr(by_source, answer) + number)
            if outdated:
                tally.outdated += number
        if unsubscribed:
            tally.unsubscribed += number
    return counts


def invitations_query(market: Market):
    """The invited of one market for the staff list, newest first: plain
    columns, one query per page."""
    return (
        select(
            Invitation.id,
            Invitation.status,
            Invitation.sequence_sent,
            Invitation.created_at,
            Invitation.answered_at,
            Invitation.answer_source,
            Invitation.answer_outdated,
            Customer.id.label("customer_id"),
            Customer.name,
            Customer.email,
            Customer.unsubscribed_at,
            Invitation.outbox_message_id,
            OutboxMessage.status.label("mail_status"),
            OutboxMessage.bounced_at,
        )
        .join(Customer, Customer.id == Invitation.customer_id)
        .outerjoin(OutboxMessage, OutboxMessage.id == Invitation.outbox_message_id)
        .where(Invitation.market_id == market.id)
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    )


def invited_among(market: Market, customer_ids: list[int]) -> set[int]:
    """Which of these customers are already invited to the market."""
    if not customer_ids:
        return set()
    return set(
        db.session.scalars(
            select(Invitation.customer_id).where(
                Invitation.market_id == market.id, Invitation.customer_id.in_(customer_ids)
            )
        )
    )


def held_back_among(market: Market, customer_ids: list[int]) -> set[int]:
    """Which of these customers are in the market's control group."""
    if not customer_ids:
        return set()
    return set(
        db.session.scalars(
            select(ControlCustomer.customer_id).where(
                ControlCustomer.market_id == market.id,
                ControlCustomer.customer_id.in_(customer_ids),
            )
        )
    )


SENDS_SHOWN = 50  # a market has a handful; a page never lists thousands


def sends(market: Market, limit: int = SENDS_SHOWN) -> list:
    """The market's "send invitations", newest first, with who sent them:
    their ranking options, how many were invited and held back, and the
    control group's share and seed. One query."""
    return db.session.execute(
        select(InvitationSend, User.name.label("sent_by"))
        .outerjoin(User, User.id == InvitationSend.sent_by_id)
        .where(InvitationSend.market_id == market.id)
        .order_by(InvitationSend.sent_at.desc(), InvitationSend.id.desc())
        .limit(limit)
    ).all()


CUSTOMER_HISTORY_LIMIT = 100  # years of weekly markets; older ones are not shown


def customer_invitations(customer: Customer, limit: int = CUSTOMER_HISTORY_LIMIT) -> list:
    """A customer's invitations, newest market first, with the market, its
    venue, the answer and its source, and whether the mail went out or came
    back: one query."""
    return db.session.execute(
        select(
            Invitation.id,
            Invitation.status,
            Invitation.created_at,
            Invitation.answered_at,
            Invitation.answer_source,
            Invitation.answer_outdated,
            Market.id.label("market_id"),
            Market.market_date,
            Venue.name.label("venue_name"),
            OutboxMessage.status.label("mail_status"),
            OutboxMessage.sent_at,
            OutboxMessage.bounced_at,
        )
        .join(Market, Market.id == Invitation.market_id)
        .join(Venue, Venue.id == Market.venue_id)
        .outerjoin(OutboxMessage, OutboxMessage.id == Invitation.outbox_message_id)
        .where(Invitation.customer_id == customer.id)
        .order_by(Market.market_date.desc(), Invitation.id.desc())
        .limit(limit)
    ).all()
