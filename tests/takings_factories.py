"""Factories for takings tests: market days with vendors taking part, and entries."""

from datetime import date, timedelta

from sqlalchemy import select

from market.booths.models import Booth
from market.extensions import db
from market.takings.models import Takings
from market.takings.services import TakingsValues
from market.vendors.models import ApplicationStatus
from tests.markets_factories import make_market, make_venue
from tests.vendors_factories import make_application, make_vendor, make_vendor_login, today


def market_on(day: date, venue=None, ceiling: int = 30_000_000, **changes):
    """A market on any day (not only Thursdays: windows are tested around today)."""
    venue = venue or make_venue(f"장소 {day.isoformat()}")
    if day.weekday() != 3:
        changes.setdefault("date_exception_reason", "시험용 장터")
    return make_market(venue, day, takings_ceiling=ceiling, **changes)


def take_part(vendor, market):
    """An assigned application and the next free booth, as booth assignment leaves them."""
    application = make_application(vendor, market, status=ApplicationStatus.ASSIGNED)
    taken = db.session.scalars(select(Booth.number).where(Booth.market_id == market.id)).all()
    number = next(n for n in range(1, market.booth_count + 1) if n not in taken)
    db.session.add(
        Booth(
            market_id=market.id, number=number, vendor_id=vendor.id, application_id=application.id
        )
    )
    db.session.commit()
    return application


def vendor_at(market, name: str = "잔다리마을공동체", **changes):
    """An approved enterprise with a login, taking part in `market`."""
    vendor = make_vendor(name, **changes)
    take_part(vendor, market)
    return vendor, make_vendor_login(vendor)


def add_takings(vendor, market, amount: int, **changes) -> Takings:
    takings = Takings(vendor_id=vendor.id, market_id=market.id, amount=amount, **changes)
    db.session.add(takings)
    db.session.commit()
    return takings


def values(amount: int, **changes) -> TakingsValues:
    return TakingsValues(amount=amount, **changes)


def days_ago(days: int) -> date:
    return today() - timedelta(days=days)
