"""Invitations: who may get one, queueing them in the sending hours, answers,
updates and cancellations, unsubscribing.

No Flask request in here; every function takes plain values and models and
leaves the commit to its caller, so the outbox rows go out with the change
that caused them (or not at all)."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError

from market.audit.services import describe_actions, record
from market.customers.models import Customer, Suppression
from market.extensions import db
from market.invitations.messages import (
    CATEGORIES,
    AttendingVendor,
    MailKind,
    attending_vendors,
    invitation_message,
)
from market.invitations.models import Invitation, InvitationStatus, new_token
from market.markets.models import Market, MarketStatus
from market.markets.services import ends_at, starts_at
from market.outbox.models import OutboxMessage, OutboxStatus
from market.outbox.services import enqueue
from market.timeutil import next_send_time, parse_window

MAX_BATCH = 1000  # customers in one "send invitations"

# Markets that can still be invited to (the others are over or cancelled).
INVITABLE = (MarketStatus.PLANNED, MarketStatus.OPEN, MarketStatus.ASSIGNED)
# Readable (Korean, it goes into the mail) names of what changed.
CHANGE_NAMES_KO = {
    "market_date": "날짜",
    "start_time": "시간",
    "end_time": "시간",
    "venue_id": "장소",
    "location": "장소",  # the venue's name or address corrected
    "status": "상태",
}


class InvitationError(ValueError):
    pass


# -- the sending hours ---------------------------------------------------------


def send_window() -> tuple[time, time]:
    return parse_window(current_app.config["SEND_WINDOW"])


# -- who may be invited --------------------------------------------------------


def _suppressed():
    return exists().where(Suppression.email_hash == Customer.email_hash)


def may_receive_advertising():
    """SQL condition: recorded consent, not unsubscribed, not on the
    suppression list. Checked again at every send; never trust the caller."""
    return and_(Customer.consent.is_(True), Customer.unsubscribed_at.is_(None), ~_suppressed())


def _refusal(customer: Customer, suppressed: bool) -> str | None:
    if suppressed:
        return "suppressed"
    if customer.unsubscribed_at is not None:
        return "unsubscribed"
    if not customer.consent or customer.consent_at is None:
        return "no_consent"
    return None


def check_market_invitable(market: Market, now: datetime) -> None:
    if market.status not in INVITABLE:
        raise InvitationError(f"market {market.id} is {market.status.value}")
    if starts_at(market) <= now:
        raise InvitationError(f"market {market.id} has already started")


@dataclass
class InviteResult:
    invitations: list[Invitation] = field(default_factory=list)
    skipped: dict[str, list[int]] = field(default_factory=dict)  # reason -> customer ids
    not_before: datetime | None = None

    @property
    def invited(self) -> int:
        return len(self.invitations)

    @property
    def skipped_count(self) -> int:
        return sum(len(ids) for ids in self.skipped.values())


def classify(
    market: Market, customer_ids: Iterable[int]
) -> tuple[list[Customer], dict[str, list[int]]]:
    """Who of these may be invited to this market now (in the order given),
    and why the others may not: unknown, already_invited, no_consent,
    unsubscribed, suppressed. Two queries."""
    wanted = list(dict.fromkeys(int(cid) for cid in customer_ids))
    if len(wanted) > MAX_BATCH:
        raise InvitationError(f"at most {MAX_BATCH} customers at once")
    eligible: list[Customer] = []
    skipped: dict[str, list[int]] = {}
    if not wanted:
        return eligible, skipped
    suppressed = _suppressed().label("suppressed")
    already = (
        exists()
        .where(Invitation.customer_id == Customer.id, Invitation.market_id == market.id)
        .label("already")
    )
    rows = {
        customer.id: (customer, is_suppressed, is_invited)
        for customer, is_suppressed, is_invited in db.session.execute(
            select(Customer, suppressed, already).where(Customer.id.in_(wanted))
        )
    }
    for customer_id in wanted:
        if customer_id not in rows:
            skipped.setdefault("unknown", []).append(customer_id)
            continue
        customer, is_suppressed, is_invited = rows[customer_id]
        reason = "already_invited" if is_invited else _refusal(customer, is_suppressed)
        if reason:
            skipped.setdefault(reason, []).append(customer_id)
        else:
            eligible.append(customer)
    return eligible, skipped


def invite(market: Market, customer_ids: Iterable[int], actor, now: datetime) -> InviteResult:
    """Invites these customers to the market: one Invitation and one queued
    iMIP REQUEST each, sent no earlier than the next sending hour.

    Customers already invited to this market, without consent, unsubscribed
    or suppressed are skipped (and named in the result), whoever asked.
    Adds to the session; the caller commits."""
    check_market_invitable(market, now)
    eligible, skipped = classify(market, customer_ids)
    result = InviteResult(skipped=skipped, not_before=next_send_time(now, send_window()))
    if not eligible:
        return result
    vendors = attending_vendors(market)
    pending: list[tuple[Invitation, OutboxMessage]] = []
    for customer in eligible:
        invitation = Invitation(
            customer_id=customer.id,
            market_id=market.id,
            status=InvitationStatus.INVITED,
            sequence_sent=market.sequence,
            created_at=now,
            token=new_token(),
        )
        row = _queue(invitation, customer, market, vendors, MailKind.INVITE, now, result.not_before)
        db.session.add(invitation)
        pending.append((invitation, row))
        result.invitations.append(invitation)
    if pending:
        try:
            with db.session.begin_nested():
                db.session.flush()
        except IntegrityError as error:  # someone else invited them at the same moment
            raise InvitationError("some of these customers were invited meanwhile") from error
        for invitation, row in pending:
            invitation.outbox_message_id = row.id
        record(
            actor,
            "invitation.send",
            market,
            after={
                "invited": result.invited,
                "skipped": result.skipped_count,
                "not_before": result.not_before,
                "sequence": market.sequence,
            },
        )
    return result


def _queue(
    invitation: Invitation,
    customer: Customer,
    market: Market,
    vendors: list[AttendingVendor],
    kind: MailKind,
    now: datetime,
    not_before: datetime,
    changed: tuple[str, ...] = (),
) -> OutboxMessage:
    message = invitation_message(
        customer=customer,
        market=market,
        token=invitation.token,
        vendors=vendors,
        kind=kind,
        sequence=invitation.sequence_sent,
        stamp=now,
        changed=changed,
    )
    return enqueue(message, category=kind.category, not_before=not_before)


# -- changes and cancellation ----------------------------------------------------


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
    queued: list[tuple[Invitation, OutboxMessage]] = []
    withdrawn = unreachable
    for invitation, customer, mail_status, mail_category in rows:
        # A mail still waiting in the queue is replaced, not followed by a second one.
        superseded = mail_status is OutboxStatus.QUEUED and _withdraw(invitation.outbox_message_id)
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
        row = _queue(
            invitation,
            customer,
            market,
            vendors,
            MailKind.INVITE if never_invited else kind,
            now,
            not_before,
            changed=names,
        )
        queued.append((invitation, row))
    if queued:
        db.session.flush()
        for invitation, row in queued:
            invitation.outbox_message_id = row.id
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
    return _delete_queued(ids)


def _delete_queued(ids: list[int]) -> int:
    """Deletes these outbox messages if no worker has taken them yet, and
    unlinks them from their invitations; how many were deleted."""
    if not ids:
        return 0
    db.session.execute(
        update(Invitation)
        .where(Invitation.outbox_message_id.in_(ids))
        .values(outbox_message_id=None)
        .execution_options(synchronize_session="fetch")
    )
    result = db.session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.QUEUED
        )
    )
    return result.rowcount


def _withdraw(message_id: int | None) -> bool:
    """Deletes a message that is still waiting in the queue; False if a
    worker has already claimed or sent it (then it goes out, and the new
    one follows it)."""
    if message_id is None:
        return False
    result = db.session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.QUEUED
        )
    )
    return result.rowcount == 1


# -- answers ---------------------------------------------------------------------


class AnswerError(ValueError):
    pass


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
        raise AnswerError("this market can no longer be answered")
    status = InvitationStatus.ACCEPTED if accept else InvitationStatus.DECLINED
    if invitation.status is not status:
        invitation.status = status
        invitation.answered_at = now
    return invitation


# -- unsubscribing -----------------------------------------------------------------


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
    return _delete_queued(ids)


# -- what staff see -----------------------------------------------------------------


@dataclass
class InvitationCounts:
    invited: int = 0
    delivered: int = 0  # the last mail to them was accepted by the mail server
    queued: int = 0  # waiting (sending hours, retries) or being sent
    failed: int = 0
    withdrawn: int = 0  # never sent: unsubscribed, or cancelled before it went out
    accepted: int = 0
    declined: int = 0
    unsubscribed: int = 0


def invitation_counts(market_ids: Iterable[int]) -> dict[int, InvitationCounts]:
    """Per market, in one grouped query. Delivery is the outbox status of
    the last mail sent for each invitation."""
    market_ids = list(market_ids)
    counts = {market_id: InvitationCounts() for market_id in market_ids}
    if not market_ids:
        return counts
    # no bound parameters in it: PostgreSQL must see the same expression in GROUP BY
    unsubscribed = Customer.unsubscribed_at.is_not(None)
    rows = db.session.execute(
        select(
            Invitation.market_id,
            Invitation.status,
            OutboxMessage.status,
            unsubscribed.label("unsubscribed"),
            func.count(Invitation.id),
        )
        .join(Customer, Customer.id == Invitation.customer_id)
        .outerjoin(OutboxMessage, OutboxMessage.id == Invitation.outbox_message_id)
        .where(Invitation.market_id.in_(market_ids))
        .group_by(Invitation.market_id, Invitation.status, OutboxMessage.status, unsubscribed)
    ).all()
    for market_id, answer_status, mail_status, is_unsubscribed, number in rows:
        tally = counts[market_id]
        tally.invited += number
        if answer_status == InvitationStatus.ACCEPTED:
            tally.accepted += number
        elif answer_status == InvitationStatus.DECLINED:
            tally.declined += number
        if mail_status == OutboxStatus.SENT:
            tally.delivered += number
        elif mail_status == OutboxStatus.FAILED:
            tally.failed += number
        elif mail_status in (OutboxStatus.QUEUED, OutboxStatus.SENDING):
            tally.queued += number
        else:
            tally.withdrawn += number
        if is_unsubscribed:
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
            Customer.name,
            Customer.email,
            Customer.unsubscribed_at,
            OutboxMessage.status.label("mail_status"),
            OutboxMessage.next_attempt_at,
        )
        .join(Customer, Customer.id == Invitation.customer_id)
        .outerjoin(OutboxMessage, OutboxMessage.id == Invitation.outbox_message_id)
        .where(Invitation.market_id == market.id)
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    )


describe_actions(
    {
        "invitation.send": _l("Invitations sent"),
        "invitation.update": _l("Invitation updates queued"),
        "invitation.cancel": _l("Invitation cancellations queued"),
        "customer.unsubscribe": _l("Customer unsubscribed"),
    },
    {"invitations": _l("Invitation")},
)
