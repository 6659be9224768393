"""Invitations follow their market: a new date, time or place re-sends the
calendar entry (same UID, higher SEQUENCE), a cancellation sends a CANCEL,
and staff are told beforehand how many customers a change would mail.

No Flask request in here; the caller commits, so the mail goes out with the
change that caused it (or not at all)."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, func, select

from market.audit.services import record
from market.customers.consent import may_receive_advertising
from market.customers.models import Customer
from market.extensions import db
from market.invitations.messages import InvitationBatch, MailKind, attending_vendors
from market.invitations.models import Invitation, InvitationStatus
from market.invitations.sending import (
    INVITABLE,
    delete_queued,
    send_window,
    withdraw_if_waiting,
)
from market.markets.models import Market, MarketStatus
from market.markets.services import ends_at
from market.outbox.models import OutboxMessage, OutboxStatus
from market.outbox.services import enqueue_rows
from market.timeutil import next_send_time

# Readable (Korean, it goes into the mail) names of what changed.
CHANGE_NAMES_KO = {
    "market_date": "날짜",
    "start_time": "시간",
    "end_time": "시간",
    "venue_id": "장소",
    "location": "장소",  # the venue's name or address corrected
    "status": "상태",
}


def calendar_relevant(market: Market, changed: Iterable[str]) -> bool:
    """Worth a mail to the invited: a new date, time or place, or the
    market being cancelled or brought back. Internal steps (applications
    open, booths assigned, held, closed) change nothing in anyone's calendar."""
    changed = set(changed)
    if changed - {"status"}:
        return market.status in (*INVITABLE, MarketStatus.CANCELLED)
    return "status" in changed and market.status in (MarketStatus.CANCELLED, MarketStatus.PLANNED)


def _mails_on_change(market: Market, changed: tuple[str, ...], now: datetime) -> bool:
    """This change of the market mails its invitees: it is in their calendar,
    and the market is not over (nothing left to change in anyone's calendar)."""
    return calendar_relevant(market, changed) and ends_at(market) > now


def _update_recipients(market_ids: list[int]):
    """SQL condition (Invitation joined with Customer): the invitations a
    change of these markets mails: not declined, and the customer may
    still receive advertising."""
    return and_(
        Invitation.market_id.in_(market_ids),
        Invitation.status != InvitationStatus.DECLINED,
        may_receive_advertising(),
    )


def update_recipient_count(markets: Iterable[Market], changed: Iterable[str], now: datetime) -> int:
    """How many customers queue_updates would mail if these markets changed
    so (a customer invited to two of them counts once): what staff are told
    before they save. Same rule as queue_updates, nothing is written."""
    changed = tuple(changed)
    ids = [market.id for market in markets if _mails_on_change(market, changed, now)]
    if not ids:
        return 0
    return db.session.scalar(
        select(func.count(func.distinct(Invitation.customer_id)))
        .join(Customer, Customer.id == Invitation.customer_id)
        .where(_update_recipients(ids))
    )


def queue_updates(market: Market, changed: Iterable[str], now: datetime) -> int:
    """After a change to the market (already flushed): everyone invited who
    has not declined and may still receive advertising gets a REQUEST with
    the same UID and a higher SEQUENCE, or a CANCEL if the market is
    cancelled. An invitation still waiting in the queue is replaced instead
    of followed by a second mail (and simply withdrawn on a cancellation).
    Returns how many messages were queued; the caller commits."""
    changed = tuple(changed)
    if not _mails_on_change(market, changed, now):
        return 0
    kind = MailKind.CANCEL if market.status is MarketStatus.CANCELLED else MailKind.UPDATE
    unreachable = _withdraw_unreachable(market)
    rows = db.session.execute(
        select(Invitation, Customer, OutboxMessage.status, OutboxMessage.category)
        .join(Customer, Customer.id == Invitation.customer_id)
        .outerjoin(OutboxMessage, OutboxMessage.id == Invitation.outbox_message_id)
        .where(_update_recipients([market.id]))
        .order_by(Invitation.id)
    ).all()
    if not rows:
        return 0
    vendors = [] if kind is MailKind.CANCEL else attending_vendors(market)
    not_before = next_send_time(now, send_window())
    names = tuple(dict.fromkeys(CHANGE_NAMES_KO[name] for name in changed if name != "status"))
    # The mail of each kind made once for all (InvitationBatch) and queued
    # in one INSERT per kind, not one statement per customer.
    batches: dict[MailKind, InvitationBatch] = {}
    queued: list[tuple[Invitation, MailKind, object]] = []
    withdrawn = unreachable
    for invitation, customer, mail_status, mail_category in rows:
        # A mail still waiting in the queue is replaced, not followed by a second one.
        superseded = mail_status is OutboxStatus.QUEUED and withdraw_if_waiting(
            invitation.outbox_message_id
        )
        if superseded:
            invitation.outbox_message_id = None
        # Nothing of this invitation ever left: the queued first mail was just
        # withdrawn, or an earlier one was (a cancellation before 08:00).
        never_invited = (
            superseded and mail_category == MailKind.INVITE.category
        ) or mail_status is None
        if never_invited and kind is MailKind.CANCEL:
            withdrawn += superseded  # they never heard of it: nothing to cancel
            continue
        invitation.sequence_sent = max(market.sequence, invitation.sequence_sent + 1)
        # An answer given before this change was about the old time or place
        # (market.invitations.answers): marked until the customer answers again.
        if invitation.answered_at is not None:
            invitation.answer_outdated = True
        mail_kind = MailKind.INVITE if never_invited else kind
        batch = batches.get(mail_kind)
        if batch is None:
            batch = batches[mail_kind] = InvitationBatch(
                market, vendors, mail_kind, now, changed=names
            )
        mail = batch.message(
            customer, invitation.token, invitation.sequence_sent, invitation.pass_code
        )
        queued.append((invitation, mail_kind, mail))
    for mail_kind in batches:
        group = [(invitation, mail) for invitation, k, mail in queued if k is mail_kind]
        ids = enqueue_rows(
            [mail for _, mail in group], category=mail_kind.category, not_before=not_before
        )
        for (invitation, _mail), outbox_id in zip(group, ids, strict=True):
            invitation.outbox_message_id = outbox_id
    if queued or withdrawn:
        record(
            None,
            "invitation.cancel" if kind is MailKind.CANCEL else "invitation.update",
            market,
            after={
                "queued": len(queued),
                "withdrawn": withdrawn,
                "sequence": market.sequence,
                "changed": list(changed),
            },
        )
    return len(queued)


def _withdraw_unreachable(market: Market) -> int:
    """Deletes this market's invitation mail still waiting for customers who
    may no longer get advertising: the suppression list counts on its own,
    whatever the customer row says, so a change never lets the waiting
    invitation go out to them."""
    ids = list(
        db.session.scalars(
            select(OutboxMessage.id)
            .join(Invitation, Invitation.outbox_message_id == OutboxMessage.id)
            .join(Customer, Customer.id == Invitation.customer_id)
            .where(
                Invitation.market_id == market.id,
                OutboxMessage.status == OutboxStatus.QUEUED,
                ~may_receive_advertising(),
            )
        )
    )
    return delete_queued(ids)
