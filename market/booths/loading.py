"""From database rows to the pure core's input, and back to a `MarketState`.

Each function runs a fixed number of queries whatever the number of
applicants (one for the applications with their vendors, one for each history
count), so assigning a market with 500 applicants costs what 20 cost; a test
in tests/test_booths_service.py guards that.

History, counted for the vendors who applied to this market:

- markets attended: booths in the 8 previous market weeks (the 8 latest dates
  before this market that had a market not cancelled) marked present, or with
  no attendance recorded at a market that was held: status held or closed, or
  still "booths assigned" but with its day gone (staff do not always move a
  market on). A no-show is not attendance, nor is a booth at a market to come.
- no-shows: booths marked no-show at markets in the 6 months before this one.
"""

from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import contains_eager

from market.booths.assignment import Applicant, MarketInfo, MarketState, Pin, Waiting
from market.booths.assignment import Booth as CoreBooth
from market.booths.models import Attendance, Booth
from market.core.rules import RuleError
from market.extensions import db
from market.markets.models import Market, MarketStatus
from market.timeutil import today_seoul
from market.vendors.models import Application, ApplicationStatus, Vendor, VendorStatus

HISTORY_MARKET_WEEKS = 8
NO_SHOW_MONTHS = 6
WAS_HELD = (MarketStatus.HELD, MarketStatus.CLOSED)
# Applications the assignment decides about. A declined one (by staff, or by an
# earlier confirmed assignment) stays declined until staff set it back to
# "applied"; a withdrawn one is passed on so a pin on it is reported.
CONSIDERED = (
    ApplicationStatus.APPLIED,
    ApplicationStatus.ASSIGNED,
    ApplicationStatus.WAITLISTED,
    ApplicationStatus.WITHDRAWN,
)


class BoothRuleError(RuleError):
    """A refused booth change, with a message for staff."""


def market_info(market: Market) -> MarketInfo:
    return MarketInfo(
        booth_count=market.booth_count,
        market_date=market.market_date,
        deadline=market.application_deadline,
        category_cap=current_app.config.get("BOOTH_CATEGORY_CAP"),
    )


def applications_with_vendors(market: Market, names_only: bool = False) -> list[Application]:
    """Every application of the market with its vendor, in one query.
    `names_only`: of the vendor only what the booth screen shows (name and
    category; the other 18 columns cost about half of loading the rows)."""
    vendor = contains_eager(Application.vendor)
    if names_only:
        vendor = vendor.load_only(Vendor.name, Vendor.category, raiseload=True)
    return list(
        db.session.scalars(
            select(Application)
            .join(Application.vendor)
            .options(vendor)
            .where(Application.market_id == market.id)
            .order_by(Application.id)
        ).unique()
    )


def was_held(today: date):
    """SQL: the market took place (by its status, or by its date once assigned)."""
    return or_(
        Market.status.in_(WAS_HELD),
        and_(Market.status == MarketStatus.ASSIGNED, Market.market_date < today),
    )


def history(market: Market, today: date | None = None) -> dict[int, tuple[int, int]]:
    """vendor id -> (markets attended recently, recent no-shows), two queries."""
    applicants = select(Application.vendor_id).where(Application.market_id == market.id)
    recent_dates = (
        select(Market.market_date)
        .where(Market.market_date < market.market_date, Market.status != MarketStatus.CANCELLED)
        .group_by(Market.market_date)
        .order_by(Market.market_date.desc())
        .limit(HISTORY_MARKET_WEEKS)
        .subquery()
    )
    attended = db.session.execute(
        select(Booth.vendor_id, func.count())
        .join(Market, Market.id == Booth.market_id)
        .where(
            Booth.vendor_id.in_(applicants),
            Market.market_date.in_(select(recent_dates.c.market_date)),
            or_(
                Booth.attendance == Attendance.PRESENT,
                and_(Booth.attendance.is_(None), was_held(today or today_seoul())),
            ),
        )
        .group_by(Booth.vendor_id)
    ).all()
    since = market.market_date - relativedelta(months=NO_SHOW_MONTHS)
    no_shows = db.session.execute(
        select(Booth.vendor_id, func.count())
        .join(Market, Market.id == Booth.market_id)
        .where(
            Booth.vendor_id.in_(applicants),
            Booth.attendance == Attendance.NO_SHOW,
            Market.market_date >= since,
            Market.market_date < market.market_date,
        )
        .group_by(Booth.vendor_id)
    ).all()
    counts: dict[int, tuple[int, int]] = {}
    for vendor_id, count in attended:
        counts[vendor_id] = (count, 0)
    for vendor_id, count in no_shows:
        counts[vendor_id] = (counts.get(vendor_id, (0, 0))[0], count)
    return counts


def applicant(application: Application, recent: tuple[int, int] = (0, 0)) -> Applicant:
    vendor = application.vendor
    return Applicant(
        vendor_id=vendor.id,
        name=vendor.name,
        category=vendor.category.value,
        approved=vendor.status is VendorStatus.APPROVED,
        certification_expiry=vendor.cert_expires_on,
        applied_at=application.applied_at,
        withdrawn=application.status is ApplicationStatus.WITHDRAWN,
        recent_markets=recent[0],
        recent_no_shows=recent[1],
    )


@dataclass(frozen=True)
class AssignmentInput:
    info: MarketInfo
    applications: dict[int, Application]  # every application, by vendor id
    applicants: tuple[Applicant, ...]
    pins: tuple[Pin, ...]
    declined_pins: tuple[Pin, ...]  # pins on applications left out as declined


def assignment_input(market: Market) -> AssignmentInput:
    """What `assign` needs for this market, in three queries."""
    rows = applications_with_vendors(market)
    recent = history(market)
    considered = [a for a in rows if a.status in CONSIDERED]
    return AssignmentInput(
        info=market_info(market),
        applications={a.vendor_id: a for a in rows},
        applicants=tuple(applicant(a, recent.get(a.vendor_id, (0, 0))) for a in considered),
        pins=tuple(Pin(a.vendor_id, a.pinned_booth) for a in considered if a.pinned_booth),
        declined_pins=tuple(
            Pin(a.vendor_id, a.pinned_booth)
            for a in rows
            if a.pinned_booth and a.status is ApplicationStatus.DECLINED
        ),
    )


# -- the stored assignment ----------------------------------------------------------


def booth_rows(market: Market) -> list[tuple[Booth, Vendor]]:
    return list(
        db.session.execute(
            select(Booth, Vendor)
            .join(Vendor, Vendor.id == Booth.vendor_id)
            .where(Booth.market_id == market.id)
            .order_by(Booth.number)
        )
    )


def waitlisted(market: Market, including: int | None = None) -> list[Application]:
    """Waiting applications in waitlist order, with vendors. `including` adds one
    application that has just left the waitlist (see `changes.release`)."""
    query = (
        select(Application)
        .join(Application.vendor)
        .options(contains_eager(Application.vendor))
        .where(Application.market_id == market.id, Application.waitlist_position.is_not(None))
    )
    waiting = Application.status == ApplicationStatus.WAITLISTED
    query = query.where(waiting if including is None else or_(waiting, Application.id == including))
    query = query.order_by(Application.waitlist_position, Application.id)
    return list(db.session.scalars(query).unique())


def current_state(
    market: Market, including: int | None = None
) -> tuple[MarketState, dict[int, Booth], list[Application]]:
    """The stored booths and waitlist as the pure core's `MarketState`, with the
    booth rows by number and the waiting applications (three queries)."""
    rows = booth_rows(market)
    by_number = {booth.number: booth for booth, _vendor in rows}
    categories = {booth.number: vendor.category.value for booth, vendor in rows}
    outside = [n for n in by_number if n > market.booth_count]
    if outside:
        raise BoothRuleError(out_of_range_message(outside, market.booth_count))
    booths = tuple(
        CoreBooth(n, by_number[n].vendor_id, categories[n], by_number[n].pinned)
        if n in by_number
        else CoreBooth(n)
        for n in range(1, market.booth_count + 1)
    )
    waiting = waitlisted(market, including)
    queue = tuple(Waiting(a.vendor_id, a.vendor.category.value) for a in waiting)
    return MarketState(market_info(market), booths, queue), by_number, waiting


def out_of_range_message(numbers: list[int], booth_count: int) -> str:
    return _(
        "The market now has %(count)d booths, but booth %(numbers)s is still taken. "
        "Move those vendors to a booth within the range first.",
        count=booth_count,
        numbers=", ".join(map(str, numbers)),
    )
