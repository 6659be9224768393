"""What a customer does with an invitation, through the token in its links
(no login): answers it, or unsubscribes from all advertising.

No Flask request in here; the caller commits."""

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from market.audit.services import record
from market.core.rules import RuleError
from market.customers.models import Customer, Suppression
from market.extensions import db
from market.invitations.messages import CATEGORIES
from market.invitations.models import Invitation, InvitationStatus
from market.invitations.sending import INVITABLE, delete_queued
from market.markets.models import Market
from market.markets.services import ends_at
from market.outbox.models import OutboxMessage, OutboxStatus


class AnswerError(RuleError):
    """The market can no longer be answered (over, or cancelled)."""


def get_invitation(token: str) -> tuple[Invitation, Customer, Market] | None:
    """The invitation behind a link, with its customer and market (one query)."""
    if not token or len(token) > 64:
        return None
    row = db.session.execute(
        select(Invitation, Customer, Market)
        .join(Customer, Customer.id == Invitation.customer_id)
        .join(Market, Market.id == Invitation.market_id)
        .where(Invitation.token == token)
    ).first()
    return tuple(row) if row else None


def can_answer(market: Market, now: datetime) -> bool:
    return market.status in INVITABLE and ends_at(market) > now


def answer(token: str, accept: bool, now: datetime) -> Invitation:
    """Records the customer's answer; they may change it until the market
    is over. The caller commits."""
    found = get_invitation(token)
    if found is None:
        raise LookupError("no such invitation")
    invitation, _customer, market = found
    if not can_answer(market, now):
        raise AnswerError(_("This market can no longer be answered."))
    status = InvitationStatus.ACCEPTED if accept else InvitationStatus.DECLINED
    if invitation.status is not status:
        invitation.status = status
        invitation.answered_at = now
    return invitation


def unsubscribe(target: str | Customer, now: datetime, source: str = "link") -> Customer:
    """No more advertising for this customer, now and after any re-import or
    purge: sets unsubscribed_at, adds the address's hash to the suppression
    list and withdraws invitation mail still waiting in the queue.
    Idempotent. `target` is an invitation token or the customer; the caller
    commits."""
    if isinstance(target, Customer):
        customer = target
    else:
        found = get_invitation(target)
        if found is None:
            raise LookupError("no such invitation")
        customer = found[1]
    first_time = customer.unsubscribed_at is None
    if first_time:
        customer.unsubscribed_at = now
    if not db.session.scalar(
        select(Suppression.id).where(Suppression.email_hash == customer.email_hash)
    ):
        try:
            with db.session.begin_nested():
                db.session.add(Suppression(email_hash=customer.email_hash, created_at=now))
        except IntegrityError:
            pass  # a second click at the same moment got there first
    withdrawn = withdraw_queued_for(customer)
    if first_time:
        record(
            None,
            "customer.unsubscribe",
            ("customers", customer.id),
            after={"unsubscribed_at": now, "source": source, "withdrawn": withdrawn},
        )
    return customer


def withdraw_queued_for(customer: Customer) -> int:
    """Deletes invitation mail to this address that no worker has taken yet."""
    ids = list(
        db.session.scalars(
            select(OutboxMessage.id).where(
                OutboxMessage.category.in_(CATEGORIES),
                OutboxMessage.status == OutboxStatus.QUEUED,
                OutboxMessage.to_address == customer.email,
            )
        )
    )
    return delete_queued(ids)
