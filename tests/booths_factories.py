"""Factories for the booth tests: a market open for applications with
applicants, and stored booth history at earlier markets."""

from datetime import datetime, timedelta

from market.booths.models import Attendance, Booth
from market.extensions import db
from market.markets import services as markets
from market.markets.models import Market, MarketStatus
from market.timeutil import utcnow
from market.vendors.models import Application, ApplicationStatus, Category
from tests.markets_factories import make_market, make_venue, next_thursday
from tests.vendors_factories import make_vendor, today

CATEGORIES = list(Category)


def open_market(weeks: int = 2, booths: int = 6, venue=None) -> Market:
    venue = venue or make_venue("경기도청", 10)
    market = make_market(venue, next_thursday(today(), weeks=weeks), booths=booths)
    markets.change_status(market, MarketStatus.OPEN)
    db.session.commit()
    return market


def applicant(
    market: Market,
    name: str,
    category: Category = Category.FOOD,
    *,
    applied: datetime | None = None,
    **vendor_changes,
) -> Application:
    vendor = make_vendor(name, category=category, **vendor_changes)
    when = applied or market.application_deadline - timedelta(days=5)
    application = Application(
        vendor_id=vendor.id,
        market_id=market.id,
        status=ApplicationStatus.APPLIED,
        applied_at=when,
        status_changed_at=when,
    )
    db.session.add(application)
    db.session.commit()
    return application


def applicants(market: Market, count: int, start: int = 0) -> list[Application]:
    """`count` applicants of rotating categories, applied one hour apart."""
    first = market.application_deadline - timedelta(days=6)
    return [
        applicant(
            market,
            f"기업{start + i:03d}",
            CATEGORIES[(start + i) % len(CATEGORIES)],
            applied=first + timedelta(hours=start + i),
        )
        for i in range(count)
    ]


def past_booth(
    vendor_id: int,
    market: Market,
    number: int,
    attendance: Attendance | None = Attendance.PRESENT,
) -> Booth:
    """A booth at an earlier market, as history (application and booth rows)."""
    application = Application(
        vendor_id=vendor_id,
        market_id=market.id,
        status=ApplicationStatus.ASSIGNED,
        applied_at=market.application_deadline - timedelta(days=3),
    )
    db.session.add(application)
    db.session.flush()
    booth = Booth(
        market_id=market.id,
        number=number,
        vendor_id=vendor_id,
        application_id=application.id,
        attendance=attendance,
        attendance_at=utcnow() if attendance else None,
    )
    db.session.add(booth)
    db.session.commit()
    return booth


def past_market(venue, weeks_ago: int, status: MarketStatus = MarketStatus.CLOSED) -> Market:
    market = make_market(venue, next_thursday(today(), weeks=-weeks_ago - 1))
    market.status = status
    if status is MarketStatus.CANCELLED:
        market.cancel_reason = "우천"
    db.session.commit()
    return market
