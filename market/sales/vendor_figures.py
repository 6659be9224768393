"""One enterprise's own two channels this year, for its home page: the
market (takings) and the marketplace (its matched orders) per Seoul month,
the year's totals and its best market days. Nothing about other
enterprises: every statement is filtered on the enterprise's id.

Three statements whatever the data size: monthly_channels' two (one per
table) and one for the best days."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from market.extensions import db
from market.markets.models import Market, Venue
from market.sales.figures import MonthChannels, monthly_channels
from market.takings.models import Takings

BEST_DAYS = 3


@dataclass(frozen=True)
class BestDay:
    market_date: date
    venue: str
    amount: int


@dataclass(frozen=True)
class VendorYear:
    year: int
    months: list[MonthChannels]  # January to this month, zeros included
    best_days: list[BestDay]  # highest takings first

    @property
    def offline(self) -> int:
        return sum(month.offline for month in self.months)

    @property
    def online(self) -> int:
        return sum(month.online for month in self.months)

    @property
    def online_orders(self) -> int:
        return sum(month.online_orders for month in self.months)

    @property
    def market_days(self) -> int:
        return sum(month.market_days for month in self.months)

    @property
    def total(self) -> int:
        return self.offline + self.online


def vendor_year(vendor_id: int, today: date) -> VendorYear:
    """The Seoul year of `today`, from 1 January to today."""
    start = date(today.year, 1, 1)
    return VendorYear(
        year=today.year,
        months=monthly_channels(start, today, vendor_id=vendor_id),
        best_days=best_market_days(vendor_id, start, today),
    )


def best_market_days(vendor_id: int, start: date, end: date, limit: int = BEST_DAYS):
    """The enterprise's market days in [start, end] with the highest takings;
    of equal amounts the later day first."""
    rows = db.session.execute(
        select(Market.market_date, Venue.name, Takings.amount)
        .join(Market, Market.id == Takings.market_id)
        .join(Venue, Venue.id == Market.venue_id)
        .where(
            Takings.vendor_id == vendor_id,
            Market.market_date >= start,
            Market.market_date <= end,
        )
        .order_by(Takings.amount.desc(), Market.market_date.desc(), Market.id.desc())
        .limit(limit)
    )
    return [BestDay(day, venue, int(amount)) for day, venue, amount in rows]
