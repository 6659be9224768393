"""Takings over a date range, for the staff report and its exports.

Every figure is aggregated by the database (GROUP BY); Python only shapes
the few result rows. A report runs the same fixed number of queries whatever
the range, so ten years of weekly markets cost no more queries than one month.

Sums are cast to BIGINT: PostgreSQL returns SUM(bigint) as numeric.
Averages are rounded to whole won in SQL (half away from zero on both
databases)."""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import BigInteger, and_, cast, distinct, extract, func, select

from market.extensions import db
from market.markets.models import Market, Venue
from market.takings.models import Takings
from market.vendors.labels import category_label, enterprise_type_label
from market.vendors.models import Category, EnterpriseType, Vendor


def _won(expression):
    return cast(func.coalesce(func.sum(expression), 0), BigInteger)


def _average(expression):
    return cast(func.coalesce(func.round(func.avg(expression)), 0), BigInteger)


@dataclass(frozen=True)
class Summary:
    total: int
    entries: int
    markets: int
    vendors: int
    average_per_market: int
    average_per_entry: int  # one vendor's takings on one market day
    sales_count: int
    cash: int
    card: int
    voucher: int


@dataclass(frozen=True)
class MarketRow:
    market_id: int
    market_date: date
    venue: str
    entries: int
    total: int
    average: int  # per vendor that reported
    ceiling: int


@dataclass(frozen=True)
class VendorRow:
    vendor_id: int
    name: str
    category: Category
    enterprise_type: EnterpriseType
    markets: int
    total: int
    average: int  # per market day
    best: int

    @property
    def label(self) -> str:
        return self.name


@dataclass(frozen=True)
class GroupRow:
    """One category, enterprise type or venue. `count` is vendors (category,
    type) or market days (venue); `average` is per entry or per market day."""

    key: object
    label: str
    count: int
    entries: int
    total: int
    average: int


@dataclass(frozen=True)
class MonthRow:
    year: int
    month: int
    markets: int
    total: int


@dataclass
class Report:
    start: date
    end: date
    summary: Summary
    markets: list[MarketRow] = field(default_factory=list)
    vendors: list[VendorRow] = field(default_factory=list)
    categories: list[GroupRow] = field(default_factory=list)
    enterprise_types: list[GroupRow] = field(default_factory=list)
    venues: list[GroupRow] = field(default_factory=list)
    months: list[MonthRow] = field(default_factory=list)
    best_day: MarketRow | None = None

    def share(self, amount: int) -> float:
        """Percentage of the period's total, for tables and charts."""
        return 100 * amount / self.summary.total if self.summary.total else 0.0


def _in_period(start: date, end: date):
    return and_(Market.market_date >= start, Market.market_date <= end)


def _market_totals(start: date, end: date):
    """Per market day: its total and number of entries (a subquery)."""
    return (
        select(
            Takings.market_id.label("market_id"),
            _won(Takings.amount).label("total"),
            func.count(Takings.id).label("entries"),
            _average(Takings.amount).label("average"),
        )
        .join(Market, Market.id == Takings.market_id)
        .where(_in_period(start, end))
        .group_by(Takings.market_id)
        .subquery("market_totals")
    )


def build_report(start: date, end: date) -> Report:
    per_market = _market_totals(start, end)
    report = Report(start=start, end=end, summary=_summary(start, end, per_market))
    report.markets = _markets(per_market)
    report.best_day = _best_day(per_market)
    report.vendors = _vendors(start, end)
    report.categories = _groups(Vendor.category, category_label, start, end)
    report.enterprise_types = _groups(Vendor.enterprise_type, enterprise_type_label, start, end)
    report.venues = _venues(per_market)
    report.months = _months(start, end)
    return report


def _summary(start: date, end: date, per_market) -> Summary:
    average_per_market = select(_average(per_market.c.total)).scalar_subquery()
    row = db.session.execute(
        select(
            _won(Takings.amount),
            func.count(Takings.id),
            func.count(distinct(Takings.market_id)),
            func.count(distinct(Takings.vendor_id)),
            average_per_market,
            _average(Takings.amount),
            _won(Takings.sales_count),
            _won(Takings.cash),
            _won(Takings.card),
            _won(Takings.voucher),
        )
        .join(Market, Market.id == Takings.market_id)
        .where(_in_period(start, end))
    ).one()
    return Summary(*(int(value or 0) for value in row))


def _market_rows_query(per_market):
    return select(
        Market.id,
        Market.market_date,
        Venue.name,
        per_market.c.entries,
        per_market.c.total,
        per_market.c.average,
        Market.takings_ceiling,
    ).select_from(per_market.join(Market, Market.id == per_market.c.market_id).join(Venue))


def _markets(per_market) -> list[MarketRow]:
    rows = db.session.execute(
        _market_rows_query(per_market).order_by(Market.market_date, Market.id)
    )
    return [MarketRow(*row) for row in rows]


def _best_day(per_market) -> MarketRow | None:
    query = _market_rows_query(per_market).order_by(
        per_market.c.total.desc(), Market.market_date, Market.id
    )
    row = db.session.execute(query.limit(1)).first()
    return MarketRow(*row) if row else None


def _vendors(start: date, end: date) -> list[VendorRow]:
    rows = db.session.execute(
        select(
            Vendor.id,
            Vendor.name,
            Vendor.category,
            Vendor.enterprise_type,
            func.count(Takings.id),
            _won(Takings.amount),
            _average(Takings.amount),
            cast(func.max(Takings.amount), BigInteger),
        )
        .join(Takings, Takings.vendor_id == Vendor.id)
        .join(Market, Market.id == Takings.market_id)
        .where(_in_period(start, end))
        .group_by(Vendor.id, Vendor.name, Vendor.category, Vendor.enterprise_type)
        .order_by(_won(Takings.amount).desc(), Vendor.name, Vendor.id)
    )
    return [VendorRow(*row) for row in rows]


def _groups(column, label, start: date, end: date) -> list[GroupRow]:
    rows = db.session.execute(
        select(
            column,
            func.count(distinct(Takings.vendor_id)),
            func.count(Takings.id),
            _won(Takings.amount),
            _average(Takings.amount),
        )
        .join(Takings, Takings.vendor_id == Vendor.id)
        .join(Market, Market.id == Takings.market_id)
        .where(_in_period(start, end))
        .group_by(column)
        .order_by(_won(Takings.amount).desc(), column)
    )
    return [
        GroupRow(key, label(key), count, entries, total, average)
        for key, count, entries, total, average in rows
    ]


def _venues(per_market) -> list[GroupRow]:
    rows = db.session.execute(
        select(
            Venue.id,
            Venue.name,
            func.count(per_market.c.market_id),
            cast(func.sum(per_market.c.entries), BigInteger),
            _won(per_market.c.total),
            _average(per_market.c.total),
        )
        .select_from(per_market.join(Market, Market.id == per_market.c.market_id).join(Venue))
        .group_by(Venue.id, Venue.name)
        .order_by(_won(per_market.c.total).desc(), Venue.name)
    )
    return [GroupRow(key, name, *numbers) for key, name, *numbers in rows]


def _months(start: date, end: date) -> list[MonthRow]:
    year = extract("year", Market.market_date)
    month = extract("month", Market.market_date)
    rows = db.session.execute(
        select(
            year,
            month,
            func.count(distinct(Takings.market_id)),
            _won(Takings.amount),
        )
        .join(Market, Market.id == Takings.market_id)
        .where(_in_period(start, end))
        .group_by(year, month)
        .order_by(year, month)
    )
    return [MonthRow(int(y), int(m), markets, total) for y, m, markets, total in rows]


def years_with_takings() -> list[int]:
    """For the report's shortcuts: every year from the last takings back to the first."""
    first, last = db.session.execute(
        select(func.min(Market.market_date), func.max(Market.market_date)).join(
            Takings, Takings.market_id == Market.id
        )
    ).one()
    if first is None:
        return []
    return list(range(last.year, first.year - 1, -1))
