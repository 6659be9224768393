"""Changes to a confirmed assignment: staff moves, swaps, pins, take-backs and
additions from the waitlist.

Each locks the market row first (`services.locked_market`), so two staff
changing the same market queue up instead of interleaving, and each keeps the
database's own rules at every flush: no booth with two vendors, no vendor with
two booths, one pin per booth. Every change is audited, and the vendor whose
booth changed gets a mail. The caller commits.
"""

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from market.audit.services import record
from market.booths import reasons
from market.booths.loading import BoothRuleError
from market.booths.mails import News, queue
from market.booths.models import Booth
from market.booths.services import concurrent_change, locked_market
from market.core.rules import flush_or_refuse
from market.extensions import db
from market.markets.models import Market, MarketStatus
from market.timeutil import utcnow
from market.vendors.models import Application, ApplicationStatus

PINNABLE = (MarketStatus.OPEN, MarketStatus.ASSIGNED)

PIN_STATUSES = (ApplicationStatus.APPLIED, ApplicationStatus.ASSIGNED, ApplicationStatus.WAITLISTED)


# -- lookups -------------------------------------------------------------------------


def _manual_market(market_id: int) -> Market:
    market = locked_market(market_id)
    if market.status is not MarketStatus.ASSIGNED:
        raise BoothRuleError(
            _("Booths can be changed by hand once they are assigned, until the market is held.")
        )
    return market


def _check_number(market: Market, number: int | None) -> int:
    if number is None or not 1 <= number <= market.booth_count:
        raise BoothRuleError(_("Choose a booth from 1 to %(count)d.", count=market.booth_count))
    return number


def _booth_at(market: Market, number: int) -> Booth | None:
    return db.session.scalar(
        select(Booth).where(Booth.market_id == market.id, Booth.number == number)
    )


def taken_booth(market: Market, number: int) -> Booth:
    booth = _booth_at(market, _check_number(market, number))
    if booth is None:
        raise BoothRuleError(_("Booth %(number)d is empty.", number=number))
    return booth


def _application(market: Market, application_id: int | None) -> Application:
    application = db.session.scalar(
        select(Application)
        .join(Application.vendor)
        .options(contains_eager(Application.vendor))
        .where(Application.id == application_id, Application.market_id == market.id)
    )
    if application is None:
        raise BoothRuleError(_("Choose an application of this market."))
    return application


def _pin_holder(market: Market, number: int, *not_ids: int) -> Application | None:
    return db.session.scalar(
        select(Application)
        .join(Application.vendor)
        .options(contains_eager(Application.vendor))
        .where(
            Application.market_id == market.id,
            Application.pinned_booth == number,
            Application.id.not_in(not_ids),
        )
    )


def set_outcome(application: Application, status, reason: str, now: datetime) -> None:
    application.status, application.status_reason = status, reason
    application.status_changed_at = now


# -- staff changes -----------------------------------------------------------------


def move(market_id: int, from_number: int, to_number: int, actor) -> Booth:
    """Move the vendor of one booth to an empty booth; a pin moves along."""
    market = _manual_market(market_id)
    booth = taken_booth(market, from_number)
    _check_number(market, to_number)
    if _booth_at(market, to_number) is not None:
        raise BoothRuleError(
            _("Booth %(number)d is taken; swap the two booths instead.", number=to_number)
        )
    application = _application(market, booth.application_id)
    now = utcnow()
    booth.number = to_number
    if application.pinned_booth == from_number:
        free = _pin_holder(market, to_number, application.id) is None
        application.pinned_booth = to_number if free else None
    booth.pinned = application.pinned_booth == to_number
    set_outcome(
        application,
        ApplicationStatus.ASSIGNED,
        reasons.moved_by_staff(from_number, to_number),
        now,
    )
    flush_or_refuse(concurrent_change())
    record(
        actor,
        "booths.move",
        booth,
        before={"number": from_number},
        after={"number": to_number, "vendor_id": booth.vendor_id},
    )
    queue(application, market, News.MOVED, to_number)
    return booth


def swap(market_id: int, first_number: int, second_number: int, actor) -> None:
    """Exchange the vendors of two booths, pins included.

    The unique constraints allow no moment with two rows on one number, and
    booth numbers must stay within 1..10, so the second row is taken out, the
    first moved to its number, and the second put back on the first's number.
    """
    if first_number == second_number:
        raise BoothRuleError(_("Choose two different booths."))
    market = _manual_market(market_id)
    first, second = taken_booth(market, first_number), taken_booth(market, second_number)
    one = _application(market, first.application_id)
    other = _application(market, second.application_id)
    kept = {
        name: getattr(second, name)
        for name in ("vendor_id", "application_id", "assigned_at", "attendance", "attendance_at")
    }
    pins = (
        second_number if one.pinned_booth == first_number else one.pinned_booth,
        first_number if other.pinned_booth == second_number else other.pinned_booth,
    )
    one.pinned_booth = other.pinned_booth = None  # free both pins before setting them again
    db.session.delete(second)
    flush_or_refuse(concurrent_change())
    first.number = second_number
    flush_or_refuse(concurrent_change())
    second = Booth(market_id=market.id, number=first_number, **kept)
    db.session.add(second)
    for application, pin in zip((one, other), pins, strict=True):
        if pin is not None and _pin_holder(market, pin, one.id, other.id) is None:
            application.pinned_booth = pin
    first.pinned = one.pinned_booth == second_number
    second.pinned = other.pinned_booth == first_number
    now = utcnow()
    set_outcome(
        one, ApplicationStatus.ASSIGNED, reasons.swapped_by_staff(first_number, second_number), now
    )
    set_outcome(
        other,
        ApplicationStatus.ASSIGNED,
        reasons.swapped_by_staff(second_number, first_number),
        now,
    )
    flush_or_refuse(concurrent_change())
    record(
        actor,
        "booths.swap",
        market,
        before={str(first_number): one.vendor_id, str(second_number): other.vendor_id},
        after={str(first_number): other.vendor_id, str(second_number): one.vendor_id},
    )
    queue(one, market, News.MOVED, second_number)
    queue(other, market, News.MOVED, first_number)


def pin(market_id: int, application_id: int, number: int, actor) -> bool:
    """Pin a vendor to a booth for every (re)assignment of this market.

    Returns True when the vendor already stands there (the pin holds now);
    otherwise the pin takes effect at the next assignment."""
    market = locked_market(market_id)
    if market.status not in PINNABLE:
        raise BoothRuleError(
            _("Pins can be set while a market is open for applications or assigned.")
        )
    _check_number(market, number)
    application = _application(market, application_id)
    if application.status not in PIN_STATUSES:
        raise BoothRuleError(
            _("Only an application that is applied, assigned or waitlisted can be pinned.")
        )
    holder = _pin_holder(market, number, application.id)
    if holder is not None:
        raise BoothRuleError(
            _(
                "Booth %(number)d is already pinned to %(name)s; remove that pin first.",
                number=number,
                name=holder.vendor.name,
            )
        )
    before = application.pinned_booth
    application.pinned_booth = number
    booth = db.session.scalar(select(Booth).where(Booth.application_id == application.id))
    if booth is not None:
        booth.pinned = booth.number == number
    flush_or_refuse(concurrent_change())
    record(
        actor,
        "booths.pin",
        application,
        before={"pinned_booth": before},
        after={"pinned_booth": number},
    )
    return booth is not None and booth.number == number


def unpin(market_id: int, application_id: int, actor) -> None:
    market = locked_market(market_id)
    application = _application(market, application_id)
    before = application.pinned_booth
    if before is None:
        return
    application.pinned_booth = None
    booth = db.session.scalar(select(Booth).where(Booth.application_id == application.id))
    if booth is not None:
        booth.pinned = False
    flush_or_refuse(concurrent_change())
    record(actor, "booths.unpin", application, before={"pinned_booth": before}, after=None)


def unassign(market_id: int, number: int, actor) -> Application:
    """Take a booth back: the booth stays empty, the vendor goes to the end of
    the waitlist (staff fill the booth deliberately with `add_from_waitlist`)."""
    market = _manual_market(market_id)
    booth = taken_booth(market, number)
    application = _application(market, booth.application_id)
    last = db.session.scalar(
        select(func.max(Application.waitlist_position)).where(
            Application.market_id == market.id,
            Application.status == ApplicationStatus.WAITLISTED,
        )
    )
    position = (last or 0) + 1
    db.session.delete(booth)
    application.waitlist_position, application.pinned_booth = position, None
    set_outcome(
        application,
        ApplicationStatus.WAITLISTED,
        reasons.unassigned_by_staff(number, position),
        utcnow(),
    )
    flush_or_refuse(concurrent_change())
    record(
        actor,
        "booths.unassign",
        application,
        before={"booth": number},
        after={"waitlist_position": position},
    )
    queue(application, market, News.UNASSIGNED)
    return application


def add_from_waitlist(market_id: int, application_id: int, number: int, actor) -> Booth:
    """Give an empty booth to a waiting vendor, in any place of the waitlist."""
    market = _manual_market(market_id)
    _check_number(market, number)
    if _booth_at(market, number) is not None:
        raise BoothRuleError(_("Booth %(number)d is taken.", number=number))
    application = _application(market, application_id)
    if application.status is not ApplicationStatus.WAITLISTED:
        raise BoothRuleError(_("Only a vendor on the waitlist can be added to a booth."))
    now = utcnow()
    gone = application.waitlist_position or 0
    booth = Booth(
        market_id=market.id,
        number=number,
        vendor_id=application.vendor_id,
        application_id=application.id,
        pinned=application.pinned_booth == number,
        assigned_at=now,
    )
    db.session.add(booth)
    application.waitlist_position = None
    set_outcome(application, ApplicationStatus.ASSIGNED, reasons.added_by_staff(number, gone), now)
    flush_or_refuse(concurrent_change())
    _close_gap(market, gone, now)
    record(
        actor,
        "booths.add",
        booth,
        before={"waitlist_position": gone},
        after={"number": number, "vendor_id": application.vendor_id},
    )
    queue(application, market, News.ASSIGNED, number)
    return booth


def _close_gap(market: Market, gone: int, now: datetime) -> None:
    """Everyone behind `gone` on the waitlist moves one place up."""
    behind = db.session.scalars(
        select(Application)
        .where(
            Application.market_id == market.id,
            Application.status == ApplicationStatus.WAITLISTED,
            Application.waitlist_position > gone,
        )
        .order_by(Application.waitlist_position, Application.id)
    )
    for position, application in enumerate(behind, gone):
        application.waitlist_position = position
        reason = reasons.moved_up_after_promotion(position)
        set_outcome(application, ApplicationStatus.WAITLISTED, reason, now)
    flush_or_refuse(concurrent_change())
