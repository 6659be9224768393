"""Sending invitations: which markets take them, who of the chosen customers
may get one, and their mail queued for the sending hours; the other parts
(updates.py, answers.py) queue and withdraw mail through the helpers here.

No Flask request in here; every function takes plain values and models and
leaves the commit to its caller, so the outbox rows go out with the change
that caused them (or not at all)."""

import random
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, exists, insert, select, update
from sqlalchemy.exc import IntegrityError

from market.audit.services import describe_actions, record
from market.core.rules import RuleError
from market.customers.consent import refusal
from market.customers.models import Customer
from market.extensions import db
from market.invitations import passes
from market.invitations.messages import (
    InvitationBatch,
    MailKind,
    attending_vendors,
)
from market.invitations.models import (
    ControlCustomer,
    Invitation,
    InvitationSend,
    InvitationStatus,
    new_token,
)
from market.invitations.ranking import RankingOptions
from market.markets.models import Market, MarketStatus
from market.markets.services import lock_market, starts_at
from market.outbox.models import OutboxMessage, OutboxStatus
from market.outbox.services import enqueue_rows
from market.timeutil import next_send_time, parse_window

MAX_BATCH = 1000  # customers in one "send invitations"
DEFAULT_CONTROL_PERCENT = 10  # held back as the control group (market.invitations.effect)
MAX_CONTROL_PERCENT = 50

# Markets that can still be invited to (the others are over or cancelled).
INVITABLE = (MarketStatus.PLANNED, MarketStatus.OPEN, MarketStatus.ASSIGNED)


class InvitationError(RuleError):
    """The market takes no invitations now, too many customers at once, or
    someone else invited some of them at the same moment."""


# -- the sending hours ---------------------------------------------------------


def send_window() -> tuple[time, time]:
    return parse_window(current_app.config["SEND_WINDOW"])


# -- who may be invited --------------------------------------------------------


def takes_invitations(market: Market, now: datetime) -> bool:
    """An upcoming market: not over, not cancelled, not yet under way."""
    return market.status in INVITABLE and starts_at(market) > now


def invitations_close_at(market: Market, now: datetime) -> datetime | None:
    """When `takes_invitations` next turns by the clock alone: the market's
    start while it still takes them (a status change is a write); None once
    it does not."""
    return starts_at(market) if takes_invitations(market, now) else None


def check_market_invitable(market: Market, now: datetime) -> None:
    if not takes_invitations(market, now):
        raise InvitationError(_("Invitations can only be sent for an upcoming market."))


@dataclass
class InviteResult:
    invitations: list[Invitation] = field(default_factory=list)
    skipped: dict[str, list[int]] = field(default_factory=dict)  # reason -> customer ids
    not_before: datetime | None = None
    held_back: list[int] = field(default_factory=list)  # the control group drawn
    send: InvitationSend | None = None

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
    and why the others may not: unknown, already_invited, control (held
    back as the market's control group: never invited to it), no_consent,
    unsubscribed, suppressed. Two queries."""
    wanted = list(dict.fromkeys(int(cid) for cid in customer_ids))
    if len(wanted) > MAX_BATCH:
        raise InvitationError(_("At most %(max)d customers at once.", max=MAX_BATCH))
    eligible: list[Customer] = []
    skipped: dict[str, list[int]] = {}
    if not wanted:
        return eligible, skipped
    already = (
        exists()
        .where(Invitation.customer_id == Customer.id, Invitation.market_id == market.id)
        .label("already")
    )
    held_back = (
        exists()
        .where(ControlCustomer.customer_id == Customer.id, ControlCustomer.market_id == market.id)
        .label("held_back")
    )
    rows = {
        customer.id: (customer, refused, is_invited, is_held_back)
        for customer, refused, is_invited, is_held_back in db.session.execute(
            select(Customer, refusal().label("refusal"), already, held_back).where(
                Customer.id.in_(wanted)
            )
        )
    }
    for customer_id in wanted:
        if customer_id not in rows:
            skipped.setdefault("unknown", []).append(customer_id)
            continue
        customer, refused, is_invited, is_held_back = rows[customer_id]
        reason = "already_invited" if is_invited else "control" if is_held_back else refused
        if reason:
            skipped.setdefault(reason, []).append(customer_id)
        else:
            eligible.append(customer)
    return eligible, skipped


def invite(
    market: Market,
    customer_ids: Iterable[int],
    actor,
    now: datetime,
    control_percent: int = 0,
    options: RankingOptions | None = None,
) -> InviteResult:
    """Invites these customers to the market: one Invitation and one queued
    iMIP REQUEST each, sent no earlier than the next sending hour.

    Customers already invited to this market, held back as its control
    group, without consent, unsubscribed or suppressed are skipped (and
    named in the result), whoever asked. Of the others, `control_percent`
    (rounded down) are drawn at random and held back as the market's
    control group instead (draw_control). The send is recorded with the
    ranking `options` the customers were chosen with, if any.
    Adds to the session; the caller commits."""
    # One send per market at a time: the unique constraints keep a customer
    # from being invited twice or held back twice, but not from being held
    # back by one send and invited by another at the same moment.
    lock_market(market.id)
    check_market_invitable(market, now)
    eligible, skipped = classify(market, customer_ids)
    result = InviteResult(skipped=skipped, not_before=next_send_time(now, send_window()))
    if not eligible:
        return result
    result.send, result.held_back, eligible = _hold_back(
        market, eligible, actor, now, control_percent, options
    )
    # The visitor passes, unique in the market (a clash with someone else's
    # send at this moment is refused with the insert below).
    codes = passes.new_codes(market, len(eligible))
    rows = [
        {
            "customer_id": customer.id,
            "market_id": market.id,
            "status": InvitationStatus.INVITED,
            "sequence_sent": market.sequence,
            "created_at": now,
            "token": new_token(),
            "pass_code": code,
            "send_id": result.send.id,
        }
        for customer, code in zip(eligible, codes, strict=True)
    ]
    if rows:
        # Their mail, made once for the batch but for each one's own parts
        # (InvitationBatch), and queued with them in two INSERTs, the outbox
        # rows and then the invitations naming theirs, whatever their number
        # (it was two statements per customer).
        batch = InvitationBatch(market, attending_vendors(market), MailKind.INVITE, now)
        mails = [
            batch.message(customer, row["token"], row["sequence_sent"], row["pass_code"])
            for customer, row in zip(eligible, rows, strict=True)
        ]
        try:
            with db.session.begin_nested():
                category = MailKind.INVITE.category
                queued = enqueue_rows(mails, category=category, not_before=result.not_before)
                for row, outbox_id in zip(rows, queued, strict=True):
                    row["outbox_message_id"] = outbox_id
                db.session.execute(insert(Invitation), rows)
        except IntegrityError as error:
            # uq_invitations_customer_market (or a pass code): someone else
            # invited them at the same moment. This send's mail goes with them.
            raise InvitationError(
                _("Someone else sent invitations at the same time. Please try again.")
            ) from error
        made = db.session.scalars(select(Invitation).where(Invitation.send_id == result.send.id))
        by_customer = {invitation.customer_id: invitation for invitation in made}
        result.invitations = [by_customer[customer.id] for customer in eligible]
        record(
            actor,
            "invitation.send",
            market,
            after={
                "invited": result.invited,
                "held_back": len(result.held_back),
                "control_percent": control_percent,
                "skipped": result.skipped_count,
                "not_before": result.not_before,
                "sequence": market.sequence,
            },
        )
    return result


def control_size(eligible: int, percent: int) -> int:
    """How many of `eligible` customers a send holds back at `percent`:
    rounded down (10 % of 15 is 1), so a share is never exceeded. The
    confirmation page shows it and draw_control draws it: one rule."""
    return eligible * percent // 100


def draw_control(eligible_ids: Iterable[int], percent: int, seed: int | None) -> list[int]:
    """Which of the eligible customers are held back as the control group:
    `percent` of them, rounded down (10 % of 15 is 1), sampled with
    random.Random(seed) from their ids in ascending order. The send records
    the seed and the share, and the eligible are its invitations and its
    control rows, so the draw can be repeated and checked later."""
    ordered = sorted(eligible_ids)
    size = control_size(len(ordered), percent)
    if not size:
        return []
    return sorted(random.Random(seed).sample(ordered, size))


def _hold_back(
    market: Market,
    eligible: list[Customer],
    actor,
    now: datetime,
    percent: int,
    options: RankingOptions | None,
) -> tuple[InvitationSend, list[int], list[Customer]]:
    """Records the send and draws its control group (ControlCustomer rows):
    the send, the ids held back and the customers left to invite."""
    if not 0 <= percent <= MAX_CONTROL_PERCENT:
        raise InvitationError(
            _("Hold back from 0 to %(max)d %% of the customers.", max=MAX_CONTROL_PERCENT)
        )
    seed = secrets.randbits(63) if percent else None
    held = draw_control((customer.id for customer in eligible), percent, seed)
    send = InvitationSend(
        market_id=market.id,
        sent_at=now,
        sent_by_id=getattr(actor, "id", None),
        top_n=options.top_n if options else None,
        window_days=options.window_days if options else None,
        assigned_vendors_only=options.assigned_vendors_only if options else None,
        min_orders=options.min_orders if options else None,
        skip_invited_weeks=options.skip_invited_weeks if options else None,
        control_percent=percent,
        control_seed=seed,
        chosen=len(eligible),
        invited=len(eligible) - len(held),
        held_back=len(held),
    )
    db.session.add(send)
    db.session.flush()  # its id, for the invitations and the control rows
    db.session.add_all(
        ControlCustomer(send_id=send.id, market_id=market.id, customer_id=customer_id)
        for customer_id in held
    )
    left = set(held)
    return send, held, [customer for customer in eligible if customer.id not in left]


# -- withdrawing mail still waiting in the queue -----------------------------------


def delete_queued(ids: list[int]) -> int:
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


def withdraw_if_waiting(message_id: int | None) -> bool:
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


# The audit log's words for the whole area (updates.py and answers.py record
# too): here, since the app always loads this module with the area's views.
describe_actions(
    {
        "invitation.send": _l("Invitations sent"),
        "invitation.update": _l("Invitation updates queued"),
        "invitation.cancel": _l("Invitation cancellations queued"),
        "customer.unsubscribe": _l("Customer unsubscribed"),
    },
    {"invitations": _l("Invitation")},
)
