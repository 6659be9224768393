"""What the staff page "받은 메일" asks of the mailbox records."""

from sqlalchemy import func, or_, select

from market.customers.models import Customer, Suppression
from market.extensions import db
from market.inbox.bounces import UNDELIVERABLE
from market.inbox.models import InboxFolder, InboxMessage
from market.inbox.outcome import MessageKind, Outcome

# What staff have to look at: understood but not applied, or not readable.
NEEDS_A_LOOK = (Outcome.NOT_APPLIED, Outcome.FAILED)


def kind_counts() -> dict[MessageKind, int]:
    rows = db.session.execute(
        select(InboxMessage.kind, func.count()).group_by(InboxMessage.kind)
    ).all()
    counts = dict.fromkeys(MessageKind, 0)
    counts.update({MessageKind(kind): number for kind, number in rows})
    return counts


def needs_a_look_count() -> int:
    return db.session.scalar(select(func.count()).where(InboxMessage.outcome.in_(NEEDS_A_LOOK)))


def messages_query(kind: MessageKind | None, problems_only: bool):
    """Newest first; the outcome index serves the default list."""
    query = select(InboxMessage)
    if problems_only:
        query = query.where(InboxMessage.outcome.in_(NEEDS_A_LOOK))
    if kind is not None:
        query = query.where(InboxMessage.kind == kind)
    return query.order_by(InboxMessage.handled_at.desc(), InboxMessage.id.desc())


# An address is undeliverable when a bounce suppressed it, or when it was
# already suppressed (unsubscribed) and a bounce came later (bounced_at).
IS_UNDELIVERABLE = or_(Suppression.reason == UNDELIVERABLE, Suppression.bounced_at.is_not(None))


def undeliverable_query():
    """Addresses mail cannot reach, newest bounce first, with the customer
    where one still has the address (the suppression keeps only its hash)."""
    return (
        select(Suppression, Customer)
        .outerjoin(Customer, Customer.email_hash == Suppression.email_hash)
        .where(IS_UNDELIVERABLE)
        .order_by(Suppression.bounced_at.desc().nulls_last(), Suppression.id.desc())
    )


def undeliverable_count() -> int:
    return db.session.scalar(select(func.count()).where(IS_UNDELIVERABLE))


def last_checked():
    """When a poller last opened the mailbox (None: never), so staff can
    tell mail not yet read from a poller that is not running."""
    return db.session.scalar(select(func.max(InboxFolder.checked_at)))
