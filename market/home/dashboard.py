"""What the staff home shows; each later area adds its own figures here."""

from datetime import date
from functools import lru_cache

from sqlalchemy import ScalarSelect, func, select

from market.audit.models import AuditEntry
from market.booths import screens as booths
from market.booths.models import Booth
from market.extensions import db
from market.invitations import funnel as invitation_funnel
from market.markets.models import Market, MarketStatus
from market.outbox.models import OutboxMessage, OutboxStatus
from market.takings import services as takings
from market.takings.report_charts import over_time
from market.takings.reports import DAY_COLUMNS, market_days, months_of
from market.timeutil import next_hour_tick, today_seoul, utcnow
from market.vendors import changes as vendor_changes
from market.vendors import services as vendors
from market.vendors.applications import deadline_passed
from market.vendors.models import Application, ApplicationStatus, Vendor, VendorStatus


def staff_summary(lang: str = "ko") -> dict:
    """Eight statements with the login's, however much data there is."""
    today = today_seoul()
    counts = _counts(today)
    recent = db.session.scalars(_RECENT_AUDIT).all()
    following = next_market(today)
    return {
        **counts,
        "under_minimum": booths.under_minimum(today),
        "takings": takings.latest_market_day(today),
        "recent_audit": recent,
        "next_market": following,
        # The next moment the page changes by the clock alone (its "today"
        # rules change with the date, which the kept page's key holds).
        "changes_at": following["changes_at"] if following else None,
        "today": today,  # on a market day the next market's card offers check-in
        "season": season_takings(today, lang),
    }


# The statements are built once (per day where the day is in them) and kept:
# building a select and walking it for SQLAlchemy's cache key cost more than
# running it (under 0.2 ms each), about half of the dashboard's own time.
_RECENT_AUDIT = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(8)


def _count(query) -> ScalarSelect:
    """How many rows a query has, as a column of another (uncorrelated) select."""
    return select(func.count()).select_from(query.order_by(None).subquery()).scalar_subquery()


def _counts(today: date) -> dict[str, int]:
    """The tiles' counts in one statement: each is a scalar subquery built by
    the area that owns the rule (the expiring certifications by vendors)."""
    names, statement = _counts_statement(today)
    row = db.session.execute(statement).one()
    return dict(zip(names, row, strict=True))


@lru_cache(maxsize=4)
def _counts_statement(today: date) -> tuple:
    outbox = select(OutboxMessage.id)
    figures = {
        "vendors_pending": _count(select(Vendor.id).where(Vendor.status == VendorStatus.PENDING)),
        "certifications_expiring": _count(vendors.expiring_query(today)),
        "vendor_changes": _count(vendor_changes.changes_query()),
        "outbox_failed": _count(outbox.where(OutboxMessage.status == OutboxStatus.FAILED)),
        "outbox_queued": _count(outbox.where(OutboxMessage.status == OutboxStatus.QUEUED)),
    }
    return tuple(figures), select(*figures.values())


def next_market(today: date) -> dict | None:
    """The next market day at a glance: applications by status, booths filled,
    the booth map, the deadline and the invitations. The market and its
    counts are one query; the map (once booths are assigned) and the
    invitations one each."""
    row = db.session.execute(_next_market_statement(today)).first()
    if row is None:
        return None
    market, applications, waitlisted, filled = row
    now = utcnow()
    passed = deadline_passed(market, now)
    return {
        "market": market,
        "applications": applications,
        "waitlisted": waitlisted,
        "filled": filled,
        "map": booths.public_map(market),
        "deadline_passed": passed,
        "deadline_in": market.application_deadline - now,
        # The card says "closed" from the deadline on and counts down the
        # hours before it, with no data changing: the kept page ends at
        # the next of those moments (home.views.staff).
        "changes_at": None
        if passed
        else min(market.application_deadline, next_hour_tick(market.application_deadline, now)),
        # invited · delivered · answers · visited (market.invitations.funnel)
        "invitations": invitation_funnel.glance(market.id),
    }


@lru_cache(maxsize=4)
def _next_market_statement(today: date):
    def applications(*conditions) -> ScalarSelect:
        return (
            select(func.count(Application.id))
            .where(Application.market_id == Market.id, *conditions)
            .scalar_subquery()
        )

    live = applications(Application.status != ApplicationStatus.WITHDRAWN)
    waitlisted = applications(Application.status == ApplicationStatus.WAITLISTED)
    filled = select(func.count(Booth.id)).where(Booth.market_id == Market.id).scalar_subquery()
    return (
        select(Market, live, waitlisted, filled)
        .where(Market.market_date >= today, Market.status != MarketStatus.CANCELLED)
        .order_by(Market.market_date, Market.id)
        .limit(1)
    )


def season_takings(today: date, lang: str) -> dict | None:
    """This year's total and its chart. One query for the year's market days
    (about fifty rows, whatever the years before hold): their sum is the total
    and, past DAY_COLUMNS, their months the line."""
    days = market_days(date(today.year, 1, 1), today)
    if not days:
        return None
    if len(days) <= DAY_COLUMNS:
        chart = over_time(days, [], lang)
    else:
        chart = over_time([], months_of(days), lang)
    return {"total": sum(day.total for day in days), "chart": chart}
