"""What a customer does with an invitation, through the token in its links
(no login): answers it, or unsubscribes from all advertising.

No Flask request in here; the caller commits."""

import enum
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from market.audit.services import record
from market.core.rules import RuleError
from market.customers.consent import suppressed
from market.customers.models import Customer, Suppression
from market.extensions import db
from market.invitations.messages import CATEGORIES
from market.invitations.models import AnswerSource, Invitation, InvitationStatus
from market.invitations.sending import INVITABLE, delete_queued
from market.markets.models import Market
from market.markets.services import ends_at
from market.outbox.models import OutboxMessage, OutboxStatus
from market.validators import normalise_email


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


# What a customer can answer (the page's buttons, a calendar's PARTSTAT).
ANSWERS = (InvitationStatus.ACCEPTED, InvitationStatus.DECLINED, InvitationStatus.TENTATIVE)


class Recorded(enum.StrEnum):
    """What `record_answer` did with an answer."""

    APPLIED = "applied"  # it is the invitation's answer now
    DUPLICATE = "duplicate"  # this very answer was recorded already: nothing changed
    OLDER = "older"  # a newer answer is recorded: nothing changed


@dataclass(frozen=True)
class GivenAnswer:
    status: InvitationStatus  # one of ANSWERS
    source: AnswerSource
    # When the customer gave it: a calendar reply's DTSTAMP, the time of a
    # page answer.
    stamp: datetime
    # The SEQUENCE of the invitation it answers (a page answer: the one sent).
    sequence: int


def record_answer(invitation: Invitation, given: GivenAnswer, now: datetime) -> Recorded:
    """The one rule for every answer, from the page or a calendar app: the
    newest wins, ordered by the SEQUENCE it answers, then by when it was
    given (RFC 5546 3.2.3: replies to an older SEQUENCE are older). An
    answer to an older SEQUENCE than the customer was last sent still
    counts when nothing newer is there, marked as about the old time or
    place. A stamp in the future (a wrong clock) counts as now, so it
    cannot outrank answers given later. The caller commits."""
    if given.status not in ANSWERS:
        raise ValueError(f"not an answer: {given.status}")
    if (
        invitation.status is given.status
        and invitation.answer_source is given.source
        and invitation.answer_sequence == given.sequence
        and (given.source is AnswerSource.PAGE or invitation.answer_stamp == given.stamp)
    ):
        # The same reply read twice; or the same button pressed again,
        # which keeps the time of the first press.
        return Recorded.DUPLICATE
    given_at = min(given.stamp, now)
    if invitation.answered_at is not None and _order(
        invitation.answer_sequence, invitation.answered_at, invitation
    ) > _order(given.sequence, given_at, invitation):
        return Recorded.OLDER
    invitation.status = given.status
    invitation.answered_at = given_at
    invitation.answer_source = given.source
    invitation.answer_stamp = given.stamp
    invitation.answer_sequence = given.sequence
    invitation.answer_outdated = given.sequence < invitation.sequence_sent
    return Recorded.APPLIED


def _order(sequence: int | None, at: datetime, invitation: Invitation) -> tuple[int, datetime]:
    """An answer's place in time. No SEQUENCE: an answer from before they
    were kept, about the invitation as sent then. Higher than was sent: a
    client's mistake, about what was sent."""
    known = invitation.sequence_sent if sequence is None else sequence
    return min(known, invitation.sequence_sent), at


def answer(token: str, choice: InvitationStatus | bool, now: datetime) -> Invitation:
    """Records the customer's answer on the RSVP page (`choice`: an answer
    of ANSWERS; True/False for accept/decline); they may change it until
    the market is over. The caller commits."""
    found = get_invitation(token)
    if found is None:
        raise LookupError("no such invitation")
    invitation, _customer, market = found
    if not can_answer(market, now):
        raise AnswerError(_("This market can no longer be answered."))
    if isinstance(choice, bool):
        choice = InvitationStatus.ACCEPTED if choice else InvitationStatus.DECLINED
    given = GivenAnswer(choice, AnswerSource.PAGE, now, invitation.sequence_sent)
    record_answer(invitation, given, now)
    return invitation


class ReplyVerdict(enum.StrEnum):
    """What became of an answer from a calendar app (`answer_from_calendar`)."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    OLDER = "older"  # a newer answer is recorded
    UNKNOWN_EVENT = "unknown_event"  # the UID is none of our markets
    NOT_INVITED = "not_invited"  # the ATTENDEE is not invited to that market
    SENDER_MISMATCH = "sender_mismatch"  # From is not the ATTENDEE: possibly forged
    SUPPRESSED = "suppressed"  # unsubscribed, or on the suppression list
    CLOSED = "closed"  # the market is over or cancelled


@dataclass(frozen=True)
class ReplyResult:
    verdict: ReplyVerdict
    market_id: int | None = None
    invitation_id: int | None = None
    # Applied, but it answered an older time or place than was last sent.
    outdated: bool = False


def find_invitation(uid: str, attendee: str) -> tuple[Market | None, Invitation | None, bool]:
    """The market whose calendar UID this is, the attendee's invitation to
    it, and whether the customer may no longer be written to (unsubscribed
    or suppressed): two queries."""
    market = db.session.scalar(select(Market).where(Market.uid == uid.strip()))
    if market is None:
        return None, None, False
    row = db.session.execute(
        select(Invitation, (Customer.unsubscribed_at.is_not(None) | suppressed()).label("gone"))
        .join(Customer, Customer.id == Invitation.customer_id)
        .where(Invitation.market_id == market.id, Customer.email == normalise_email(attendee))
    ).first()
    if row is None:
        return market, None, False
    return market, row[0], bool(row[1])


def answer_from_calendar(
    *, uid: str, attendee: str, sender: str, given: GivenAnswer, now: datetime
) -> ReplyResult:
    """An iMIP REPLY (RFC 6047) read from the center's mailbox, as plain
    values: the event's UID, the ATTENDEE's and the From address (without
    mailto: or display names), and the answer. Applied only when the
    attendee is the invited customer and wrote it themselves, still takes
    mail from us, and the market can still be answered. The caller commits."""
    market, invitation, gone = find_invitation(uid, attendee)
    if market is None:
        return ReplyResult(ReplyVerdict.UNKNOWN_EVENT)
    if invitation is None:
        return ReplyResult(ReplyVerdict.NOT_INVITED, market.id)
    found = ReplyResult(ReplyVerdict.APPLIED, market.id, invitation.id)
    if normalise_email(sender) != normalise_email(attendee):
        return _with(found, ReplyVerdict.SENDER_MISMATCH)
    if gone:
        return _with(found, ReplyVerdict.SUPPRESSED)
    if not can_answer(market, now):
        return _with(found, ReplyVerdict.CLOSED)
    recorded = record_answer(invitation, given, now)
    if recorded is Recorded.APPLIED:
        return ReplyResult(
            ReplyVerdict.APPLIED, market.id, invitation.id, invitation.answer_outdated
        )
    return _with(found, ReplyVerdict(recorded.value))


def _with(result: ReplyResult, verdict: ReplyVerdict) -> ReplyResult:
    return ReplyResult(verdict, result.market_id, result.invitation_id)


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
