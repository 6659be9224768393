"""Takings rules: who may enter what and when, the daily ceiling and raising
it. No Flask request in here: views, CLI commands and tests call these with
plain values and models, and the caller commits (or rolls back on a refusal).

The ceiling is a rule over many rows (the sum of one market's takings), so
no row constraint can keep it. Every write takes a lock on the market row
first (markets.services.lock_market) and reads the sum only after that, so two vendors
saving at the same moment are served one after the other and the second sees
the first's entry."""

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from functools import lru_cache

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select

from market.audit.services import describe_actions, record
from market.booths.models import Booth
from market.core.rules import RuleError
from market.extensions import db
from market.markets.models import Market, MarketStatus
from market.markets.services import ceiling_error, lock_market, record_ceiling_change
from market.takings.models import Takings
from market.timeutil import format_korean_date, format_won, today_seoul
from market.vendors.models import Vendor

SPLIT_FIELDS = ("cash", "card", "voucher")


class TakingsRuleError(RuleError):
    """A refused entry (the key "split" is the cash/card/voucher group)."""


@dataclass(frozen=True)
class TakingsValues:
    amount: int
    sales_count: int | None = None
    cash: int | None = None
    card: int | None = None
    voucher: int | None = None

    @property
    def has_split(self) -> bool:
        return any(getattr(self, name) is not None for name in SPLIT_FIELDS)

    @property
    def split_total(self) -> int:
        return sum(getattr(self, name) or 0 for name in SPLIT_FIELDS)


def takings_values(takings: Takings | None) -> dict | None:
    if takings is None:
        return None
    return asdict(
        TakingsValues(
            amount=takings.amount,
            sales_count=takings.sales_count,
            cash=takings.cash,
            card=takings.card,
            voucher=takings.voucher,
        )
    )


# -- who takes part in a market ----------------------------------------------------


def participants():
    """(market_id, vendor_id, booth_number) of every vendor with a booth at a
    market day, as a subquery the other queries join."""
    return select(
        Booth.market_id.label("market_id"),
        Booth.vendor_id.label("vendor_id"),
        Booth.number.label("booth_number"),
    ).subquery("participants")


def is_participant(vendor_id: int, market_id: int) -> bool:
    part = participants()
    query = select(part.c.vendor_id).where(
        part.c.vendor_id == vendor_id, part.c.market_id == market_id
    )
    return db.session.scalar(query) is not None


def market_vendors(market: Market) -> list[tuple[Vendor, int | None, Takings | None]]:
    """Each vendor of the market with its booth number and takings (or None),
    in one query; also a vendor no longer taking part whose takings remain."""
    part = participants()
    query = (
        select(Vendor, part.c.booth_number, Takings)
        .outerjoin(part, and_(part.c.vendor_id == Vendor.id, part.c.market_id == market.id))
        .outerjoin(Takings, and_(Takings.vendor_id == Vendor.id, Takings.market_id == market.id))
        .where(or_(part.c.vendor_id.is_not(None), Takings.id.is_not(None)))
        .order_by(part.c.booth_number.nulls_last(), Vendor.name, Vendor.id)
    )
    return [tuple(row) for row in db.session.execute(query)]


def market_total(market_id: int, except_vendor_id: int | None = None) -> int:
    query = select(func.coalesce(func.sum(Takings.amount), 0)).where(Takings.market_id == market_id)
    if except_vendor_id is not None:
        query = query.where(Takings.vendor_id != except_vendor_id)
    return int(db.session.scalar(query))


def latest_market_day(today: date) -> dict | None:
    """For the staff dashboard: the latest market day up to today, its total
    and how many of its vendors have not reported yet (one query)."""
    row = db.session.execute(_latest_market_day_statement(today)).first()
    if row is None:
        return None
    market, expected, reported, total = row
    return {"market": market, "total": int(total), "missing": expected - reported}


@lru_cache(maxsize=4)
def _latest_market_day_statement(today: date):
    # Kept per day: building it cost more than running it.
    part = participants()
    of_market = part.c.market_id == Market.id
    expected = select(func.count(part.c.vendor_id)).where(of_market).scalar_subquery()
    reported = (
        select(func.count(Takings.id))
        .select_from(part)
        .join(
            Takings,
            and_(Takings.market_id == part.c.market_id, Takings.vendor_id == part.c.vendor_id),
        )
        .where(of_market)
        .scalar_subquery()
    )
    total = select(func.coalesce(func.sum(Takings.amount), 0)).where(Takings.market_id == Market.id)
    return (
        select(Market, expected, reported, total.scalar_subquery())
        .where(Market.market_date <= today, Market.status != MarketStatus.CANCELLED)
        .order_by(Market.market_date.desc(), Market.id.desc())
        .limit(1)
    )


def best_market_day() -> tuple[date, int] | None:
    """The market day with the highest total takings on record (its date and
    total), in one aggregate query; None before any takings. Staff help texts
    quote it instead of a number written into the page."""
    per_market = (
        select(Takings.market_id, func.sum(Takings.amount).label("total"))
        .group_by(Takings.market_id)
        .subquery()
    )
    row = db.session.execute(
        select(Market.market_date, per_market.c.total)
        .join(per_market, per_market.c.market_id == Market.id)
        .order_by(per_market.c.total.desc(), Market.market_date.desc())
        .limit(1)
    ).first()
    return (row[0], int(row[1])) if row else None


def find_takings(vendor_id: int, market_id: int) -> Takings | None:
    return db.session.scalar(
        select(Takings)
        .where(Takings.vendor_id == vendor_id, Takings.market_id == market_id)
        .execution_options(populate_existing=True)
    )


# -- the entry window ----------------------------------------------------------------


def entry_window(market: Market) -> tuple[date, date]:
    """First and last Korean date on which the vendor may enter (both included)."""
    days = int(current_app.config["TAKINGS_WINDOW_DAYS"])
    return market.market_date, market.market_date + timedelta(days=days)


def window_is_open(market: Market, today: date) -> bool:
    opens, closes = entry_window(market)
    return opens <= today <= closes and not market.is_cancelled


def vendor_refusal(vendor: Vendor, market: Market, today: date) -> str | None:
    """Why this enterprise cannot enter or correct takings for this market now."""
    if market.is_cancelled:
        return _("This market was cancelled; there are no takings to enter.")
    if not is_participant(vendor.id, market.id):
        return _("Your enterprise does not take part in this market.")
    opens, closes = entry_window(market)
    if today < opens:
        return _(
            "Takings can be entered from the market day, %(date)s.",
            date=format_korean_date(opens),
        )
    if today > closes:
        return _(
            "Takings for this market could be entered until %(date)s. "
            "Ask the center if they need a correction.",
            date=format_korean_date(closes),
        )
    return None


# -- saving --------------------------------------------------------------------------


def check_values(values: TakingsValues) -> dict[str, str]:
    """Rules on one entry alone; an empty dict means it may be saved."""
    errors = {}
    if values.amount is None:
        errors["amount"] = _("Enter an amount in won.")
    elif values.amount < 0:
        errors["amount"] = _("The amount cannot be negative.")
    if values.sales_count is not None and values.sales_count < 0:
        errors["sales_count"] = _("The number of sales cannot be negative.")
    for name in SPLIT_FIELDS:
        if (getattr(values, name) or 0) < 0:
            errors[name] = _("The amount cannot be negative.")
    if values.has_split and "amount" not in errors and values.split_total != values.amount:
        errors["split"] = _(
            "Cash, card and vouchers add up to %(split)s but the takings are %(amount)s. "
            "Make them add up, or leave all three empty.",
            split=format_won(values.split_total),
            amount=format_won(values.amount),
        )
    return errors


def save_by_vendor(
    vendor: Vendor, market: Market, values: TakingsValues, actor, today: date | None = None
) -> Takings:
    """The enterprise enters or corrects its own takings, within the window."""
    refusal = vendor_refusal(vendor, market, today or today_seoul())
    if refusal:
        raise TakingsRuleError({"form": refusal})
    return _save(vendor, market, values, actor, reason=None)


def save_by_staff(
    vendor: Vendor,
    market: Market,
    values: TakingsValues,
    actor,
    reason: str | None,
    today: date | None = None,
) -> Takings:
    """Staff enter or correct any vendor's takings from the market day on (no
    closing date); a correction needs a reason, which goes into the audit log."""
    if market.is_cancelled:
        raise TakingsRuleError({"form": _("This market was cancelled; there are no takings.")})
    if market.market_date > (today or today_seoul()):
        raise TakingsRuleError(
            {
                "form": _(
                    "Takings can be entered from the market day, %(date)s.",
                    date=format_korean_date(market.market_date),
                )
            }
        )
    if find_takings(vendor.id, market.id) is None and not is_participant(vendor.id, market.id):
        raise TakingsRuleError({"form": _("This enterprise does not take part in this market.")})
    return _save(vendor, market, values, actor, reason=(reason or "").strip() or None, staff=True)


def _save(
    vendor: Vendor, market: Market, values: TakingsValues, actor, reason, staff: bool = False
) -> Takings:
    errors = check_values(values)
    if errors:
        raise TakingsRuleError(errors)
    ceiling = lock_market(market.id).takings_ceiling
    # Read only now, under the lock: what another request committed meanwhile counts.
    takings = find_takings(vendor.id, market.id)
    before, after = takings_values(takings), asdict(values)
    if before == after:
        return takings
    if staff and before is not None and not reason:
        raise TakingsRuleError({"reason": _("Write why the takings are corrected.")})
    others = market_total(market.id, except_vendor_id=vendor.id)
    grows = values.amount > (takings.amount if takings else 0)
    if grows and others + values.amount > ceiling:
        # A correction downwards is always let through, even where a lowered
        # ceiling is already passed: it brings the day nearer the rule.
        # Only staff hear what is left: ceiling less the rest is what every
        # other stall took together, which a vendor must not work out.
        message = (
            ceiling_message(ceiling, headroom(ceiling, others))
            if staff
            else vendor_ceiling_message()
        )
        raise TakingsRuleError({"amount": message})
    if takings is None:
        takings = Takings(vendor_id=vendor.id, market_id=market.id, entered_by_id=actor_id(actor))
        db.session.add(takings)
    for name, value in after.items():
        setattr(takings, name, value)
    takings.updated_by_id = actor_id(actor)
    db.session.flush()
    action = "takings.create" if before is None else "takings.update"
    record(actor, action, takings, before=before, after=after, reason=reason)
    return takings


def headroom(ceiling: int, taken: int) -> int:
    """What is left of the ceiling once `taken` is counted (never below 0:
    a lowered ceiling can already be passed)."""
    return max(ceiling - taken, 0)


def ceiling_message(ceiling: int, left: int) -> str:
    """`left` is the most this entry may be: the ceiling less everyone
    else's takings (for a new entry, what is left of the ceiling)."""
    return _(
        "The daily takings ceiling of this market is %(ceiling)s and %(left)s remains. "
        "Check the amount; if the day really took more, the center can raise the ceiling.",
        ceiling=format_won(ceiling),
        left=format_won(left),
    )


def vendor_ceiling_message() -> str:
    """What a vendor hears when the entry would pass the ceiling: no
    amount at all (neither the ceiling nor what remains of it)."""
    return _(
        "This amount cannot be saved: it would pass this market's daily takings ceiling. "
        "Check the amount; if it is right, please call the center staff."
    )


def actor_id(actor) -> int | None:
    return getattr(actor, "id", None)


# -- the ceiling -----------------------------------------------------------------------


def raise_ceiling(market: Market, new_ceiling: int | None, reason: str | None, actor) -> Market:
    """Staff raise one market's daily ceiling, with a reason (audited)."""
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = _("Write why the ceiling is raised.")
    if new_ceiling is None:
        errors["new_ceiling"] = _("Enter the new ceiling in won.")
    elif message := ceiling_error(new_ceiling):
        errors["new_ceiling"] = message
    if errors:
        raise TakingsRuleError(errors)
    current = lock_market(market.id).takings_ceiling
    if new_ceiling <= current:
        raise TakingsRuleError(
            {
                "new_ceiling": _(
                    "The new ceiling must be more than the current %(ceiling)s.",
                    ceiling=format_won(current),
                )
            }
        )
    market.takings_ceiling = new_ceiling
    db.session.flush()
    record_ceiling_change(actor, market, current, reason)  # as the market form does
    return market


describe_actions(
    {
        "takings.create": _l("Takings entered"),
        "takings.update": _l("Takings corrected"),
        # "takings.ceiling": markets.services, which the market form shares
    },
    {"takings": _l("Takings")},
)
