"""Takings over a date range, for the staff report and its exports.

Every figure is aggregated by the database (GROUP BY); Python only shapes
the few result rows. A report runs the same fixed number of queries whatever
the range, so ten years of weekly markets cost no more queries than one month.

The exports take every row (build_report). The page (build_overview) leaves
out the two tables that grow with the data, market days and enterprises, and
pages them in SQL instead (market_rows_query, vendor_rows_query): ten years
are 520 market days and thousands of enterprises, too many to read or render.

Sums are cast to BIGINT: PostgreSQL returns SUM(bigint) as numeric.
Averages are rounded to whole won in SQL (half away from zero on both
databases)."""

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from sqlalchemy import BigInteger, and_, cast, distinct, extract, func, literal_column, select

from market.core.aggregates import sum_won
from market.extensions import db
from market.markets.models import Market, Venue
from market.takings.models import Takings
from market.vendors.labels import category_label, enterprise_type_label
from market.vendors.models import Category, EnterpriseType, Vendor

DAY_COLUMNS = 26  # up to half a year of weekly markets charted day by day; more by month
TOP_VENDORS = 10


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
    # The over-time chart: each market day when there are at most DAY_COLUMNS,
    # else `months` (a line of 125 months reads better than 520 columns).
    days: list[MarketRow] = field(default_factory=list)
    top_vendors: list[VendorRow] = field(default_factory=list)

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
            sum_won(Takings.amount).label("total"),
            func.count(Takings.id).label("entries"),
            _average(Takings.amount).label("average"),
        )
        .join(Market, Market.id == Takings.market_id)
        .where(_in_period(start, end))
        .group_by(Takings.market_id)
        .subquery("market_totals")
    )


@lru_cache(maxsize=16)
def _statements(start: date, end: date) -> dict:
    """The report's statements for one period, built once and kept: building
    them (the per-market subquery four times over) and walking them for
    SQLAlchemy's cache key cost about as much as running them on a season.
    A few periods are asked for again and again (this season, this year)."""
    per_market = _market_totals(start, end)
    vendors = _vendor_rows_query(start, end)
    return {
        "summary": _summary_statement(start, end),
        "markets": _market_rows_query(per_market).order_by(Market.market_date, Market.id),
        "best_day": _best_day_statement(per_market),
        "vendors": vendors,
        "top_vendors": vendors.limit(TOP_VENDORS),
        "categories": _groups_statement(Vendor.category, start, end),
        "enterprise_types": _groups_statement(Vendor.enterprise_type, start, end),
        "venues": _venues_statement(per_market),
        "months": _months_statement(per_market),
    }


def build_report(start: date, end: date) -> Report:
    """Every figure and every row, for the exports."""
    statements = _statements(start, end)
    report = Report(start=start, end=end, summary=_summary(statements))
    report.markets = _markets(statements)
    report.best_day = _best_day(statements)
    report.vendors = _vendors(statements["vendors"])
    report.categories = _groups(statements["categories"], category_label)
    report.enterprise_types = _groups(statements["enterprise_types"], enterprise_type_label)
    report.venues = _venues(statements)
    report.months = _months(statements)
    report.days = report.markets if len(report.markets) <= DAY_COLUMNS else []
    report.top_vendors = report.vendors[:TOP_VENDORS]
    return report


def build_overview(start: date, end: date) -> Report:
    """The report page without its two long tables (the page asks for them a
    page at a time). Seven queries whatever the period: the summary's counts
    say whether the chart needs the days or the months, so only one of the
    two is asked for."""
    statements = _statements(start, end)
    report = Report(start=start, end=end, summary=_summary(statements))
    report.best_day = _best_day(statements)
    report.top_vendors = _vendors(statements["top_vendors"])
    report.categories = _groups(statements["categories"], category_label)
    report.enterprise_types = _groups(statements["enterprise_types"], enterprise_type_label)
    report.venues = _venues(statements)
    if report.summary.markets <= DAY_COLUMNS:
        report.days = _markets(statements)
    else:
        report.months = _months(statements)
    return report


def _summary(statements: dict) -> Summary:
    row = db.session.execute(statements["summary"]).one()
    return Summary(*(int(value or 0) for value in row))


def _summary_statement(start: date, end: date):
    market_days = func.count(distinct(Takings.market_id))
    # The mean of the market days' totals is the total over their number, so
    # one pass over the entries does (no second pass over per-market totals).
    # "1.0" keeps the division exact and numeric on PostgreSQL, whose round()
    # then goes half away from zero like SQLite's (a float there would not).
    average_per_market = cast(
        func.coalesce(
            func.round(
                func.sum(Takings.amount) * literal_column("1.0") / func.nullif(market_days, 0)
            ),
            0,
        ),
        BigInteger,
    )
    return (
        select(
            sum_won(Takings.amount),
            func.count(Takings.id),
            market_days,
            func.count(distinct(Takings.vendor_id)),
            average_per_market,
            _average(Takings.amount),
            sum_won(Takings.sales_count),
            sum_won(Takings.cash),
            sum_won(Takings.card),
            sum_won(Takings.voucher),
        )
        .join(Market, Market.id == Takings.market_id)
        .where(_in_period(start, end))
    )


def _market_rows_query(per_market):
    """Labelled like MarketRow, so a page's rows read like one in a template."""
    return select(
        Market.id.label("market_id"),
        Market.market_date,
        Venue.name.label("venue"),
        per_market.c.entries,
        per_market.c.total,
        per_market.c.average,
        Market.takings_ceiling.label("ceiling"),
    ).select_from(per_market.join(Market, Market.id == per_market.c.market_id).join(Venue))


def market_rows_query(start: date, end: date):
    """Market days in date order, for paging (one row per market day with takings)."""
    return _statements(start, end)["markets"]


def _markets(statements: dict) -> list[MarketRow]:
    return [MarketRow(*row) for row in db.session.execute(statements["markets"])]


def market_days(start: date, end: date) -> list[MarketRow]:
    """Each market day's takings, for a short period such as the dashboard's year."""
    return _markets(_statements(start, end))


def months_of(days: list[MarketRow]) -> list[MonthRow]:
    """Market days added up by month, when the days are at hand anyway."""
    months: dict[tuple[int, int], list[int]] = {}
    for day in days:
        months.setdefault((day.market_date.year, day.market_date.month), []).append(day.total)
    return [MonthRow(y, m, len(totals), sum(totals)) for (y, m), totals in sorted(months.items())]


def _best_day(statements: dict) -> MarketRow | None:
    row = db.session.execute(statements["best_day"]).first()
    return MarketRow(*row) if row else None


def _best_day_statement(per_market):
    return (
        _market_rows_query(per_market)
        .order_by(per_market.c.total.desc(), Market.market_date, Market.id)
        .limit(1)
    )


def vendor_rows_query(start: date, end: date):
    """Enterprises by takings, highest first; labelled like VendorRow (kept
    per period, see _statements)."""
    return _statements(start, end)["vendors"]


def _vendor_rows_query(start: date, end: date):
    """Enterprises by takings, highest first; labelled like VendorRow.
    Grouped by the takings' vendor_id alone and joined to the vendors after:
    grouping by the vendors' text columns made SQLite sort wide keys, about
    half again as slow on ten years of takings."""
    per_vendor = (
        select(
            Takings.vendor_id,
            func.count(Takings.id).label("markets"),
            sum_won(Takings.amount).label("total"),
            _average(Takings.amount).label("average"),
            cast(func.max(Takings.amount), BigInteger).label("best"),
        )
        .join(Market, Market.id == Takings.market_id)
        .where(_in_period(start, end))
        .group_by(Takings.vendor_id)
        .subquery("vendor_totals")
    )
    return (
        select(
            Vendor.id.label("vendor_id"),
            Vendor.name,
            Vendor.category,
            Vendor.enterprise_type,
            per_vendor.c.markets,
            per_vendor.c.total,
            per_vendor.c.average,
            per_vendor.c.best,
        )
        .join(per_vendor, per_vendor.c.vendor_id == Vendor.id)
        .order_by(per_vendor.c.total.desc(), Vendor.name, Vendor.id)
    )


def _vendors(statement) -> list[VendorRow]:
    return [VendorRow(*row) for row in db.session.execute(statement)]


def _groups(statement, label) -> list[GroupRow]:
    return [
        GroupRow(key, label(key), count, entries, total, average)
        for key, count, entries, total, average in db.session.execute(statement)
    ]


def _groups_statement(column, start: date, end: date):
    return (
        select(
            column,
            func.count(distinct(Takings.vendor_id)),
            func.count(Takings.id),
            sum_won(Takings.amount),
            _average(Takings.amount),
        )
        .join(Takings, Takings.vendor_id == Vendor.id)
        .join(Market, Market.id == Takings.market_id)
        .where(_in_period(start, end))
        .group_by(column)
        .order_by(sum_won(Takings.amount).desc(), column)
    )


def _venues(statements: dict) -> list[GroupRow]:
    rows = db.session.execute(statements["venues"])
    return [GroupRow(key, name, *numbers) for key, name, *numbers in rows]


def _venues_statement(per_market):
    return (
        select(
            Venue.id,
            Venue.name,
            func.count(per_market.c.market_id),
            cast(func.sum(per_market.c.entries), BigInteger),
            sum_won(per_market.c.total),
            _average(per_market.c.total),
        )
        .select_from(per_market.join(Market, Market.id == per_market.c.market_id).join(Venue))
        .group_by(Venue.id, Venue.name)
        .order_by(sum_won(per_market.c.total).desc(), Venue.name)
    )


def _months(statements: dict) -> list[MonthRow]:
    rows = db.session.execute(statements["months"])
    return [MonthRow(int(y), int(m), markets, total) for y, m, markets, total in rows]


def _months_statement(per_market):
    """From the per-market totals: taking the month of ~500 market days
    rather than of ~5,000 entries halves the cost on SQLite."""
    year = extract("year", Market.market_date)
    month = extract("month", Market.market_date)
    return (
        select(year, month, func.count(per_market.c.market_id), sum_won(per_market.c.total))
        .select_from(per_market.join(Market, Market.id == per_market.c.market_id))
        .group_by(year, month)
        .order_by(year, month)
    )


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
