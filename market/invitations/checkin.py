"""Check-in at the market: staff find an invited customer by the pass they
show (its QR code or its short code) or by name and the last four digits of
their phone, and mark the invitation visited, once.

Anyone invited may come, whatever they answered: the answer is shown, not
required. Check-in happens only on the market's own day (Asia/Seoul) and not
for a cancelled market. `visited_by_id` is the record of who checked them
in; the audit log is not filled with every visitor.

No Flask request in here; the caller commits."""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from market.accounts.models import User
from market.core.rules import RuleError
from market.customers.models import Customer
from market.extensions import db
from market.invitations.models import PASS_ALPHABET, PASS_LENGTH, PASS_LOOK_ALIKES, Invitation
from market.markets.models import Market
from market.timeutil import format_korean_date, to_seoul

# A typed code may carry the spaces and hyphens people put in to read it
# (ABC-DEF, ABC DEF; a phone keyboard's wide space or dash too); nothing
# else is guessed at, and a control character makes it a wrong code.
_SEPARATORS = re.compile(r"[ \u00a0\u3000\-\u2010-\u2015\u2212]+")
# Characters the alphabet leaves out because they look like others (kept
# next to it, models.PASS_LOOK_ALIKES): a code typed with one of them is a
# misread pass, said so.
LOOK_ALIKES = frozenset(PASS_LOOK_ALIKES)
# Longer input is refused before any work: no pass code or name is this long.
MAX_TYPED = 100
# The most invitees the name search lists: at a gate more is no help.
MAX_MATCHES = 20
PHONE_DIGITS = 4


class CheckInError(RuleError):
    """Check-in refused (another day, a cancelled market) or a code that
    cannot be a pass code; the message says which, for staff at the gate."""


@dataclass(frozen=True)
class Visitor:
    """An invitee as staff at the gate see them: no full email or phone."""

    invitation: Invitation
    customer: Customer
    checked_in_by: str | None  # the staff member's name, once checked in

    @property
    def phone_last4(self) -> str | None:
        phone = self.customer.phone or ""
        digits = re.sub(r"\D", "", phone)
        return digits[-PHONE_DIGITS:] if len(digits) >= PHONE_DIGITS else None

    @property
    def visited_time(self) -> str | None:
        """14:05, in Korea: the day is the market's."""
        visited_at = self.invitation.visited_at
        return to_seoul(visited_at).strftime("%H:%M") if visited_at else None


@dataclass(frozen=True)
class CheckIn:
    """What a check-in did: `fresh` when this request marked the visit;
    otherwise the visitor had been checked in before (at `visited_at`)."""

    fresh: bool
    visited_at: datetime
    checked_in_by: str | None


# -- finding -------------------------------------------------------------------------


def _fold(character: str) -> str:
    """One typed character as NFKC reads it: a Korean keyboard's full-width
    Ａ or ７ is A or 7, an ideographic space a space. A character NFKC makes
    several of (the ligature ﬀ is ff) was no code character: it becomes
    one no code holds, so "ﬀﬀﬀ" is no six-letter code."""
    folded = unicodedata.normalize("NFKC", character)
    return folded if len(folded) == 1 else "\ufffd"


def normalise_code(text: str | None) -> str:
    """The pass code staff typed or a link carried, upper-case without
    spaces or hyphens; CheckInError when it cannot be a pass code. Only
    ASCII is upper-cased: what NFKC leaves outside it is refused, never
    turned into letters by Unicode's upper-casing (ß is SS)."""
    folded = "".join(map(_fold, (text or "")[:MAX_TYPED]))
    code = _SEPARATORS.sub("", folded)
    if code.isascii():
        code = code.upper()
    if not code:
        raise CheckInError({"code": _("Type the 6-character code printed under the QR code.")})
    if LOOK_ALIKES & set(code):
        raise CheckInError(
            {
                "code": _(
                    "Pass codes never contain 0, O, 1, I or L. Check the code on the pass again."
                )
            }
        )
    if len(code) != PASS_LENGTH or not set(code) <= set(PASS_ALPHABET):
        raise CheckInError(
            {
                "code": _(
                    "A pass code is %(count)d letters and digits, like 7KQ4MX. "
                    "Check the code on the pass again.",
                    count=PASS_LENGTH,
                )
            }
        )
    return code


def _visitor_query(market: Market):
    return (
        select(Invitation, Customer, User.name)
        .join(Customer, Customer.id == Invitation.customer_id)
        .outerjoin(User, User.id == Invitation.visited_by_id)
        .where(Invitation.market_id == market.id)
    )


def find_by_code(market: Market, code: str) -> Visitor | None:
    """The invitee of this market holding the pass `code` (normalised), in one query."""
    row = db.session.execute(_visitor_query(market).where(Invitation.pass_code == code)).first()
    return Visitor(*row) if row else None


def phone_digits(text: str | None) -> str:
    """The last four digits of what staff typed as the phone (a whole
    number is fine too); CheckInError when there are fewer than four."""
    digits = re.sub(r"\D", "", (text or "")[:MAX_TYPED])
    if len(digits) < PHONE_DIGITS:
        raise CheckInError(
            {"phone": _("Type the last %(count)d digits of the phone number.", count=PHONE_DIGITS)}
        )
    return digits[-PHONE_DIGITS:]


def _name_key(name: str) -> str:
    # "김 민지" and "김민지", "Kim" and "kim" are the same person at a gate.
    return re.sub(r"\s+", "", name).casefold()


def find_by_name_and_phone(market: Market, name: str, last4: str) -> list[Visitor]:
    """The invitees of this market whose phone ends in `last4` and whose name
    starts with `name` (spaces and case ignored: a surname alone is enough
    when the digits tell them apart). The phone narrows the search in SQL to
    a handful; the name is compared here, where spaces can be ignored."""
    wanted = _name_key(name[:MAX_TYPED])
    if not wanted:
        raise CheckInError({"name": _("Type the visitor's name.")})
    rows = db.session.execute(
        _visitor_query(market)
        .where(Customer.phone.endswith(last4, autoescape=True))
        .order_by(Customer.name, Invitation.id)
    ).all()
    found = [Visitor(*row) for row in rows if _name_key(row[1].name).startswith(wanted)]
    return found[:MAX_MATCHES]


# -- checking in -------------------------------------------------------------------------


def refusal(market: Market, today: date) -> str | None:
    """Why no one can be checked in at this market today, or None."""
    if market.is_cancelled:
        return _("This market is cancelled: no one can be checked in.")
    if market.market_date != today:
        return _(
            "Check-in is only possible on the market day, %(day)s.",
            day=format_korean_date(market.market_date),
        )
    return None


ALREADY = _l("Already checked in at %(time)s.")
ALREADY_BY = _l("Already checked in at %(time)s by %(name)s.")


def already_message(visited_at: datetime, by: str | None) -> str:
    """이미 14:05에 입장 확인됨 (the time in Korea)."""
    time = to_seoul(visited_at).strftime("%H:%M")
    return str(ALREADY_BY % {"time": time, "name": by} if by else ALREADY % {"time": time})


def check_in(market: Market, invitation_id: int, actor: User, now: datetime) -> CheckIn:
    """Marks the invitation visited, once. One conditional UPDATE: of two
    staff scanning the same pass at the same moment exactly one sets it (on
    PostgreSQL the second waits for the first's row lock, then finds
    visited_at set); the other is told when, and by whom, it was done."""
    if reason := refusal(market, to_seoul(now).date()):
        raise CheckInError(reason)
    marked = db.session.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation_id,
            Invitation.market_id == market.id,
            Invitation.visited_at.is_(None),
        )
        .values(visited_at=now, visited_by_id=actor.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if marked == 1:
        return CheckIn(fresh=True, visited_at=now, checked_in_by=actor.name)
    row = db.session.execute(
        select(Invitation.visited_at, User.name)
        .outerjoin(User, User.id == Invitation.visited_by_id)
        .where(Invitation.id == invitation_id, Invitation.market_id == market.id)
    ).first()
    if row is None or row.visited_at is None:  # not this market's (callers found it in it)
        raise CheckInError(_("This is not a pass for this market."))
    return CheckIn(fresh=False, visited_at=row.visited_at, checked_in_by=row.name)


@dataclass(frozen=True)
class Tally:
    visited: int
    invited: int
    # "오늘" only on the market's day: on another day the page refuses
    # check-in and says 입장 N명 / 초대 M명.
    on_market_day: bool = False


def tally(market: Market, today: date | None = None) -> Tally:
    """(오늘) 입장 N명 / 초대 M명, in one query; `today` in Korea."""
    invited, visited = db.session.execute(
        select(func.count(Invitation.id), func.count(Invitation.visited_at)).where(
            Invitation.market_id == market.id
        )
    ).one()
    return Tally(visited=visited, invited=invited, on_market_day=today == market.market_date)
