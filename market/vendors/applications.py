"""Applications to market days (참가신청): apply, withdraw, staff changes, and
the lists the vendor home and the staff pages show. No Flask request in here.

An enterprise may change its applications only while a market is open and
its deadline has not passed; after that only staff change anything."""

from datetime import date, datetime, timedelta
from functools import lru_cache

from blinker import Namespace
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from market.audit.services import describe_actions, record
from market.extensions import db
from market.markets.models import Market, MarketStatus
from market.markets.services import lock_market
from market.timeutil import format_seoul, utcnow
from market.vendors.labels import application_status_label, vendor_status_label
from market.vendors.models import Application, ApplicationStatus, Vendor, VendorStatus
from market.vendors.services import VendorRuleError, chosen

WITHDRAWABLE = {ApplicationStatus.APPLIED, ApplicationStatus.WAITLISTED, ApplicationStatus.ASSIGNED}
# What staff may set here; booths (and so "assigned") come with booth assignment.
STAFF_STATUSES = (
    ApplicationStatus.APPLIED,
    ApplicationStatus.DECLINED,
    ApplicationStatus.WITHDRAWN,
)
PAST_ON_HOME = 10

signals = Namespace()
# Sent after an application's new status is flushed (not yet committed), with
# `before` (its status and reason before) and `actor`: booths listen, to free a
# booth and promote from the waitlist in the same transaction.
application_status_changed = signals.signal("application-status-changed")
# Asked when an enterprise's private calendar feed is built, with `vendor_id`
# and `market_ids`: each receiver answers {market id: booth number} (the booths
# area), so the feed's events say where to set up without this area knowing
# about booths.
feed_booth_numbers = signals.signal("feed-booth-numbers")


def booth_numbers_for_feed(vendor_id: int, market_ids: list[int]) -> dict[int, int]:
    numbers: dict[int, int] = {}
    if market_ids:
        for _receiver, answer in feed_booth_numbers.send(
            None, vendor_id=vendor_id, market_ids=market_ids
        ):
            numbers.update(answer or {})
    return numbers


def deadline_passed(market: Market, now: datetime) -> bool:
    return now >= market.application_deadline


def next_deadline(markets, now: datetime) -> datetime | None:
    """The first moment `deadline_passed` turns for one of these markets
    (None if every deadline has passed): a page that shows their apply and
    withdraw buttons, or leaves a market out once its deadline is over,
    is out of date from then on, though no data changed
    (market.core.pagecache.valid_until)."""
    return min(
        (m.application_deadline for m in markets if not deadline_passed(m, now)), default=None
    )


def apply_refusal(vendor: Vendor, market: Market, now: datetime) -> str | None:
    """Why this enterprise cannot apply for this market now, or None."""
    if vendor.status is not VendorStatus.APPROVED:
        return _(
            "Only approved enterprises can apply; yours is %(status)s.",
            status=vendor_status_label(vendor.status),
        )
    if market.status is not MarketStatus.OPEN:
        return _("This market is not open for applications.")
    if deadline_passed(market, now):
        return _(
            "The application deadline (%(deadline)s) has passed; contact the center "
            "for any change.",
            deadline=format_seoul(market.application_deadline),
        )
    if not vendor.certification_valid_on(market.market_date):
        return _(
            "Your certification expires on %(date)s, before this market. "
            "Update your certification first.",
            date=vendor.cert_expires_on.isoformat(),
        )
    return None


def find_application(vendor: Vendor, market: Market) -> Application | None:
    return db.session.scalar(
        select(Application).where(
            Application.vendor_id == vendor.id, Application.market_id == market.id
        )
    )


def application_refusal(
    vendor: Vendor, market: Market, mine: Application | None, now: datetime
) -> str | None:
    """Why this vendor may not apply to this market now (`apply_refusal`), or
    that it already has (`mine`: its application there, if any); None if it may."""
    if refusal := apply_refusal(vendor, market, now):
        return refusal
    if mine is not None and mine.status is not ApplicationStatus.WITHDRAWN:
        return already_applied_message()
    return None


def apply(
    vendor: Vendor, market: Market, note: str | None, actor, now: datetime | None = None
) -> Application:
    """Applies, or applies again after a withdrawal (same row, new time).

    The market row is locked first, as a delete of the market locks it
    (markets.planning.delete_market): an application and the delete take
    turns, so the delete either counts the application or has removed the
    market before it is read here, never deleting one saved meanwhile."""
    now = now or utcnow()
    if lock_market(market.id) is None:
        raise VendorRuleError({"market": _("This market no longer exists.")})
    application = find_application(vendor, market)
    if refusal := application_refusal(vendor, market, application, now):
        raise VendorRuleError({"market": refusal})
    note = (note or "").strip() or None
    action = "application.create" if application is None else "application.reapply"
    if application is None:
        application = Application(vendor_id=vendor.id, market_id=market.id)
        db.session.add(application)
    application.status, application.status_reason = ApplicationStatus.APPLIED, None
    application.note, application.applied_at, application.status_changed_at = note, now, now
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:  # the same enterprise applying twice at once
        raise VendorRuleError({"market": already_applied_message()}) from error
    record(actor, action, application, after={"market_id": market.id, "note": note})
    return application


def already_applied_message() -> str:
    return _("Your enterprise has already applied for this market.")


def withdrawable_ids(applications: list[Application], now: datetime) -> set[int]:
    """Which of these applications the enterprise may still take back itself."""
    return {
        a.id
        for a in applications
        if a.status in WITHDRAWABLE and not deadline_passed(a.market, now)
    }


def withdraw(application: Application, market: Market, actor, now: datetime | None = None):
    """The enterprise takes its application back; the row stays (status withdrawn)."""
    now = now or utcnow()
    if deadline_passed(market, now):
        raise VendorRuleError(
            {
                "market": _(
                    "The application deadline (%(deadline)s) has passed; contact the center "
                    "for any change.",
                    deadline=format_seoul(market.application_deadline),
                )
            }
        )
    if application.status not in WITHDRAWABLE:
        raise VendorRuleError(
            {
                "market": _(
                    "An application that is %(status)s cannot be withdrawn.",
                    status=application_status_label(application.status),
                )
            }
        )
    _set_status(application, ApplicationStatus.WITHDRAWN, actor, "application.withdraw", now)


def staff_set_status(
    application: Application, status: ApplicationStatus, actor, reason: str | None = None
) -> None:
    """Staff may change an application at any time, also after the deadline."""
    status = chosen(ApplicationStatus, status, _("Choose a status."))
    reason = (reason or "").strip() or None
    if status not in STAFF_STATUSES:
        raise VendorRuleError({"status": _("Choose a status.")})
    if status is ApplicationStatus.DECLINED and not reason:
        raise VendorRuleError({"reason": _("Write why the application is not selected.")})
    _set_status(application, status, actor, "application.status", utcnow(), reason)


def _set_status(application, status, actor, action, now, reason=None) -> None:
    before = {"status": application.status, "status_reason": application.status_reason}
    application.status, application.status_reason = status, reason
    application.status_changed_at = now
    db.session.flush()
    record(
        actor,
        action,
        application,
        before=before,
        after={"status": status, "status_reason": reason},
        reason=reason,
    )
    application_status_changed.send(application, before=before, actor=actor, action=action)


# -- queries for pages ----------------------------------------------------------


# The vendor home's statements are built once with bound parameters:
# building a statement and its cache key cost more than running it.
_OPEN_WITH_MINE = (
    select(Market, Application)
    .outerjoin(
        Application,
        and_(Application.market_id == Market.id, Application.vendor_id == bindparam("vendor_id")),
    )
    .where(Market.status == MarketStatus.OPEN, Market.application_deadline > bindparam("now"))
    .order_by(Market.market_date, Market.id)
)


def open_markets_with_mine(vendor: Vendor, now: datetime) -> list[tuple[Market, Application]]:
    """Markets open for applications whose deadline has not passed, each with
    this enterprise's application (or None), in one query."""
    rows = db.session.execute(_OPEN_WITH_MINE, {"vendor_id": vendor.id, "now": now})
    return [tuple(row) for row in rows]


def _mine_of(vendor_id):
    """The enterprise's applications with their markets (vendor_id: a number
    or a bound parameter)."""
    return (
        select(Application)
        .join(Application.market)
        .options(contains_eager(Application.market))
        .where(Application.vendor_id == vendor_id)
    )


def _mine(vendor: Vendor):
    return _mine_of(vendor.id)


_UPCOMING = (
    _mine_of(bindparam("vendor_id"))
    .where(Market.market_date >= bindparam("today"))
    .order_by(Market.market_date, Market.id)
)


def upcoming_applications(vendor: Vendor, today: date) -> list[Application]:
    params = {"vendor_id": vendor.id, "today": today}
    return list(db.session.scalars(_UPCOMING, params).unique())


def past_applications_query(vendor: Vendor, today: date):
    query = _mine(vendor).where(Market.market_date < today)
    return query.order_by(Market.market_date.desc(), Market.id.desc())


@lru_cache(maxsize=4)
def _past_statement(limit: int):
    return (
        _mine_of(bindparam("vendor_id"))
        .where(Market.market_date < bindparam("today"))
        .order_by(Market.market_date.desc(), Market.id.desc())
        .limit(limit)
    )


def past_applications(vendor: Vendor, today: date, limit: int = PAST_ON_HOME) -> list:
    params = {"vendor_id": vendor.id, "today": today}
    return list(db.session.scalars(_past_statement(limit), params).unique())


def assigned_markets(vendor: Vendor, today: date) -> list[Market]:
    """The enterprise's own calendar: markets it has a booth at, recent and upcoming."""
    since = today - timedelta(days=current_app.config["CALENDAR_FEED_PAST_DAYS"])
    return list(
        db.session.scalars(
            select(Market)
            .join(Application, Application.market_id == Market.id)
            .where(
                Application.vendor_id == vendor.id,
                Application.status == ApplicationStatus.ASSIGNED,
                Market.market_date >= since,
            )
            .order_by(Market.market_date, Market.id)
        )
    )


def market_applications_query(market: Market, status: ApplicationStatus | None = None):
    query = (
        select(Application)
        .join(Application.vendor)
        .options(contains_eager(Application.vendor))
        .where(Application.market_id == market.id)
    )
    if status is not None:
        query = query.where(Application.status == status)
    return query.order_by(Application.applied_at, Application.id)


def market_status_counts(market: Market) -> dict[ApplicationStatus, int]:
    rows = db.session.execute(
        select(Application.status, func.count())
        .where(Application.market_id == market.id)
        .group_by(Application.status)
    )
    return {ApplicationStatus(status): count for status, count in rows}


def vendor_applications(vendor: Vendor, limit: int = 20) -> list[Application]:
    """The latest applications of one enterprise, for the staff's vendor page."""
    query = _mine(vendor).order_by(Market.market_date.desc(), Market.id.desc()).limit(limit)
    return list(db.session.scalars(query).unique())


describe_actions(
    {
        "application.create": _l("Applied for a market"),
        "application.reapply": _l("Applied again for a market"),
        "application.withdraw": _l("Application withdrawn"),
        "application.status": _l("Application status changed"),
    },
    {"applications": _l("Application")},
)
