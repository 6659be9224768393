"""What the staff home shows; each later area adds its own figures here."""

from datetime import date

from sqlalchemy import func, select

from market.audit.models import AuditEntry
from market.booths import screens as booths
from market.booths.models import Booth
from market.extensions import db
from market.invitations.services import invitation_counts
from market.markets.models import Market, MarketStatus
from market.outbox.models import OutboxMessage, OutboxStatus
from market.takings import services as takings
from market.takings.report_charts import over_time
from market.takings.reports import DAY_COLUMNS, market_days, months_of
from market.timeutil import SEOUL, utcnow
from market.vendors import services as vendors
from market.vendors.models import Application, ApplicationStatus, VendorStatus


def staff_summary(lang: str = "ko") -> dict:
    counts = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    recent = db.session.scalars(
        select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(8)
    ).all()
    vendor_counts = vendors.status_counts()
    today = utcnow().astimezone(SEOUL).date()
    return {
        "vendors_pending": vendor_counts.get(VendorStatus.PENDING, 0),
        "certifications_expiring": vendors.expiring_count(today),
        "under_minimum": booths.under_minimum(today),
        "takings": takings.latest_market_day(today),
        "outbox_failed": counts.get(OutboxStatus.FAILED, 0),
        "outbox_queued": counts.get(OutboxStatus.QUEUED, 0),
        "recent_audit": recent,
        "next_market": next_market(today),
        "season": season_takings(today, lang),
    }


def next_market(today: date) -> dict | None:
    """The next market day at a glance: applications by status, booths filled,
    the booth map, the deadline and the invitations (a fixed handful of queries)."""
    market = db.session.scalar(
        select(Market)
        .where(Market.market_date >= today, Market.status != MarketStatus.CANCELLED)
        .order_by(Market.market_date, Market.id)
        .limit(1)
    )
    if market is None:
        return None
    applications = dict(
        db.session.execute(
            select(Application.status, func.count())
            .where(Application.market_id == market.id)
            .group_by(Application.status)
        ).all()
    )
    filled = db.session.scalar(select(func.count()).where(Booth.market_id == market.id))
    return {
        "market": market,
        "applications": sum(
            n for status, n in applications.items() if status is not ApplicationStatus.WITHDRAWN
        ),
        "waitlisted": applications.get(ApplicationStatus.WAITLISTED, 0),
        "filled": filled,
        "map": booths.public_map(market),
        "deadline_passed": market.application_deadline <= utcnow(),
        "deadline_in": market.application_deadline - utcnow(),
        "invitations": invitation_counts([market.id])[market.id],
    }


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
