"""The sales-support figures: what the market (takings) and the marketplace
(imported orders) brought, per month and per enterprise.

Every figure is aggregated by the database, one statement per table and
question, whatever the data size; Python only shapes the result rows (a few
hundred enterprises, never orders).

Periods are inclusive Seoul dates. Takings belong to a market, whose date is
already a Seoul date. Orders carry `ordered_at` in UTC (stored naive, see
market.timeutil.UTCDateTime) and their Seoul date in `seoul_day`, which
the database generates from it (ordered_at + 9 hours, market.dbtypes.
seoul_date): periods and months are picked and grouped on that stored day,
so no order's time is converted when a report is counted. Korea has kept
UTC+9 without daylight saving since 1988, so a fixed nine hours is exact for
every order the marketplace can have, and neither database needs a
time-zone table.

Money is integer won; sums are cast to BIGINT (PostgreSQL returns
SUM(bigint) as numeric)."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import BigInteger, and_, case, cast, func, null, or_, select, union_all

from market.core.aggregates import sum_won
from market.customers.models import Order
from market.extensions import db
from market.markets.models import Market
from market.sales.periods import (
    date_month,
    months_between,
    seoul_bounds,  # noqa: F401 (the periods' UTC bounds, imported from here too)
    year_earlier,
    year_earlier_end,
)
from market.takings.models import Takings
from market.vendors.models import Category, EnterpriseType, Vendor


def _when(condition, expression):
    """The value inside the condition, NULL outside: conditional aggregation,
    so one pass over the rows gives this period and the year before."""
    return case((condition, expression))


def _month_key(key: str) -> date:
    year, month = key.split("-")
    return date(int(year), int(month), 1)


# -- per month -------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthChannels:
    month: date  # its first day
    offline: int  # takings at the market
    online: int  # orders' sales on the marketplace
    online_orders: int
    market_days: int = 0  # distinct market days with takings (adds up over months)

    @property
    def total(self) -> int:
        return self.offline + self.online


def monthly_channels(
    start: date, end: date, vendor_id: int | None = None, matched_only: bool = False
) -> list[MonthChannels]:
    """Takings and online sales per Seoul month of [start, end], every month
    present (zeros where nothing was sold); with `vendor_id`, that
    enterprise's alone; with `matched_only`, online orders of enterprises
    only (what the report's totals cover), else also unmatched sellers'.
    Two statements: one per table."""
    if start > end:
        return []
    return month_rows(
        start,
        end,
        offline_months(start, end, vendor_id),
        online_months(start, end, vendor_id, matched_only),
    )


def month_rows(
    start: date, end: date, offline: dict[date, tuple], online: dict[date, tuple]
) -> list[MonthChannels]:
    """Every month of [start, end] from the per-month (market days, takings)
    and (orders, sales)."""
    return [
        MonthChannels(
            month=first,
            offline=int(offline.get(first, (0, 0))[1]),
            online=int(online.get(first, (0, 0))[1]),
            online_orders=int(online.get(first, (0, 0))[0]),
            market_days=int(offline.get(first, (0, 0))[0]),
        )
        for first in months_between(start, end)
    ]


def offline_months(start: date, end: date, vendor_id: int | None = None) -> dict[date, tuple]:
    """First day of a Seoul month -> (distinct market days with takings, takings)."""
    month = date_month(Market.market_date)
    offline = (
        select(month, func.count(func.distinct(Takings.market_id)), sum_won(Takings.amount))
        .join(Market, Market.id == Takings.market_id)
        .where(Market.market_date >= start, Market.market_date <= end)
        .group_by(month)
    )
    if vendor_id is not None:
        offline = offline.where(Takings.vendor_id == vendor_id)
    return {_month_key(key): (days, total) for key, days, total in db.session.execute(offline)}


def online_months(
    start: date, end: date, vendor_id: int | None = None, matched_only: bool = False
) -> dict[date, tuple]:
    """First day of a Seoul month -> (orders, sales). Grouped by the orders'
    stored Seoul day (orders.seoul_day: nothing converted per order; read
    from ix_orders_seoul_day in its order, no sort) and added up into months
    here: ten years are some 3,650 rows."""
    online = (
        select(Order.seoul_day, func.count(), sum_won(Order.amount))
        .where(Order.seoul_day >= start, Order.seoul_day <= end)
        .group_by(Order.seoul_day)
    )
    if vendor_id is not None:
        online = online.where(Order.vendor_id == vendor_id)
    elif matched_only:
        online = online.where(Order.vendor_id.is_not(None))
    months: dict[date, tuple] = {}
    for day, count, total in db.session.execute(online):
        first = day.replace(day=1)
        orders, sales = months.get(first, (0, 0))
        months[first] = (orders + count, sales + int(total))
    return months


# -- per enterprise --------------------------------------------------------------------


@dataclass(frozen=True)
class Offline:
    market_days: int = 0  # distinct market days with takings
    total: int = 0
    cash: int = 0  # the split, where the enterprise gave one
    card: int = 0
    voucher: int = 0

    @property
    def unsplit(self) -> int:
        """Takings not split into cash, card and vouchers (an enterprise may
        enter the day's amount alone): shown, so the parts add up to the total."""
        return self.total - self.cash - self.card - self.voucher

    @property
    def average(self) -> int:
        """Per market day with takings, whole won, half up."""
        return per_market(self.total, self.market_days)

    def __add__(self, other: "Offline") -> "Offline":
        # Field by field, written out: a report adds ~2,000 rows into several
        # groups, and the generic zip over getattr was most of its build time.
        return Offline(
            self.market_days + other.market_days,
            self.total + other.total,
            self.cash + other.cash,
            self.card + other.card,
            self.voucher + other.voucher,
        )


@dataclass(frozen=True)
class Online:
    orders: int = 0
    total: int = 0
    # Distinct per enterprise: summed over enterprises (a type's subtotal), a
    # buyer of two enterprises counts twice.
    buyers: int = 0
    repeat_buyers: int = 0  # buyers with two or more orders in the period

    def __add__(self, other: "Online") -> "Online":
        return Online(
            self.orders + other.orders,
            self.total + other.total,
            self.buyers + other.buyers,
            self.repeat_buyers + other.repeat_buyers,
        )


def per_market(total: int, market_days: int) -> int:
    """Won per market day, whole won, half up; 0 without a day."""
    return (2 * total + market_days) // (2 * market_days) if market_days else 0


def _values(figures) -> tuple[int, ...]:
    return tuple(getattr(figures, name) for name in figures.__dataclass_fields__)


@dataclass(frozen=True)
class Figures:
    """Both channels over one period."""

    offline: Offline = field(default_factory=Offline)
    online: Online = field(default_factory=Online)

    @property
    def total(self) -> int:
        return self.offline.total + self.online.total

    @property
    def online_share(self) -> float:
        """Percent of the total sold online (0 when nothing was sold)."""
        return 100 * self.online.total / self.total if self.total else 0.0

    @property
    def offline_share(self) -> float:
        return 100 * self.offline.total / self.total if self.total else 0.0

    def __add__(self, other: "Figures") -> "Figures":
        return Figures(self.offline + other.offline, self.online + other.online)


@dataclass(frozen=True)
class EnterpriseFigures:
    vendor_id: int
    name: str
    enterprise_type: EnterpriseType
    category: Category
    current: Figures
    previous: Figures  # the same dates a year earlier (year_earlier)

    @property
    def active(self) -> bool:
        """Sold anything in the period (the headline counts only these)."""
        return self.current.total > 0 or self.current.online.orders > 0


@dataclass(frozen=True)
class SellerFigures:
    """Orders whose seller matched no enterprise, by the name in the file."""

    seller_name: str
    current: Online
    previous: Online


@dataclass
class PeriodFigures:
    start: date
    end: date
    previous_start: date
    previous_end: date
    enterprises: list[EnterpriseFigures]  # highest current total first
    unmatched: list[SellerFigures]  # highest current sales first
    months: list[MonthChannels] = field(default_factory=list)  # enterprises' (matched) orders


@dataclass(frozen=True)
class OnlinePart:
    """The marketplace's half of a period and the year before: what the
    orders give, by enterprise id and by unmatched seller, and the months.
    The costly half (every order of both periods), so it is kept apart from
    the takings (market.sales.cache): it changes only with the orders and
    their matching, never with a takings entry. Names come with the
    takings half, read live."""

    months: dict[date, tuple[int, int]]  # Seoul month -> (orders, sales), matched orders
    enterprises: dict[int, tuple[int, ...]]  # vendor id -> the 8 _ONLINE_COLUMNS
    unmatched: list[SellerFigures]  # highest current sales first

    def to_json(self) -> dict:
        return {
            "months": [[first.isoformat(), *values] for first, values in self.months.items()],
            "enterprises": [[vendor_id, *values] for vendor_id, values in self.enterprises.items()],
            "unmatched": [
                [row.seller_name, *_values(row.current), *_values(row.previous)]
                for row in self.unmatched
            ],
        }

    @classmethod
    def from_json(cls, data: dict) -> "OnlinePart":
        return cls(
            months={date.fromisoformat(key): tuple(values) for key, *values in data["months"]},
            enterprises={row[0]: tuple(row[1:]) for row in data["enterprises"]},
            unmatched=[
                SellerFigures(name, Online(*values[:4]), Online(*values[4:]))
                for name, *values in data["unmatched"]
            ],
        )


@dataclass(frozen=True)
class OfflinePart:
    """The market's half: takings by enterprise and month (a few thousand
    rows: cheap, read afresh whenever takings change), and every
    enterprise's name, type and category as they are now."""

    months: dict[date, tuple[int, int]]  # Seoul month -> (market days, takings)
    enterprises: dict[int, tuple[int, ...]]  # vendor id -> 7 numbers (_offline_rows)
    vendors: dict[int, tuple]  # vendor id -> (name, type, category), every enterprise


def online_part(start: date, end: date) -> OnlinePart:
    """Two statements over the orders: per month, and per enterprise and
    unmatched seller with the year before."""
    matched, unmatched = _online_rows(start, end, year_earlier(start), year_earlier_end(end))
    return OnlinePart(
        months=online_months(start, end, matched_only=True),
        enterprises={row[0]: tuple(row[1:]) for row in matched},
        unmatched=unmatched,
    )


def offline_part(start: date, end: date) -> OfflinePart:
    """Two statements over the takings: per month, and per enterprise with
    the year before (joined to every enterprise, for the names)."""
    rows = _offline_rows(start, end, year_earlier(start), year_earlier_end(end))
    return OfflinePart(
        months=offline_months(start, end),
        enterprises={row[0]: tuple(row[4:]) for row in rows if row[4] is not None},
        vendors={row[0]: tuple(row[1:4]) for row in rows},
    )


def enterprise_figures(
    start: date, end: date, online: OnlinePart | None = None, offline: OfflinePart | None = None
) -> PeriodFigures:
    """Per enterprise, both channels, for [start, end] and the same dates a
    year earlier, and the months: four statements (two per table) whatever
    the data size, fewer when a half is given (kept, market.sales.cache).
    Enterprises that sold in either period are listed; unmatched sellers
    apart, by name."""
    previous_start, previous_end = year_earlier(start), year_earlier_end(end)
    online = online or online_part(start, end)
    offline = offline or offline_part(start, end)
    enterprises = []
    for vendor_id in {**offline.enterprises, **online.enterprises}:
        if vendor_id not in offline.vendors:
            continue  # deleted meanwhile (its orders fall back to no enterprise)
        name, kind, category = offline.vendors[vendor_id]
        days, total, cash, card, voucher, prev_days, prev_total = offline.enterprises.get(
            vendor_id, (0,) * 7
        )
        sold = online.enterprises.get(vendor_id, (0,) * 8)
        enterprises.append(
            EnterpriseFigures(
                vendor_id=vendor_id,
                name=name,
                enterprise_type=EnterpriseType(kind),
                category=Category(category),
                current=Figures(Offline(days, total, cash, card, voucher), Online(*sold[:4])),
                previous=Figures(Offline(prev_days, prev_total), Online(*sold[4:])),
            )
        )
    enterprises.sort(
        key=lambda row: (-row.current.total, -row.previous.total, row.name, row.vendor_id)
    )
    return PeriodFigures(
        start,
        end,
        previous_start,
        previous_end,
        enterprises,
        list(online.unmatched),
        month_rows(start, end, offline.months, online.months),
    )


def _offline_rows(start: date, end: date, previous_start: date, previous_end: date) -> list[tuple]:
    """(vendor_id, name, type, category, days, total, cash, card, voucher,
    previous days, previous total) for every enterprise, the numbers None
    where it has no takings in either period. Grouped by vendor_id alone,
    joined to the vendors after (as market.takings.reports does: narrower
    keys to sort)."""
    now = and_(Market.market_date >= start, Market.market_date <= end)
    before = and_(Market.market_date >= previous_start, Market.market_date <= previous_end)
    per_vendor = (
        select(
            Takings.vendor_id.label("vendor_id"),
            func.count(_when(now, Takings.id)).label("days"),
            sum_won(_when(now, Takings.amount)).label("total"),
            sum_won(_when(now, Takings.cash)).label("cash"),
            sum_won(_when(now, Takings.card)).label("card"),
            sum_won(_when(now, Takings.voucher)).label("voucher"),
            func.count(_when(before, Takings.id)).label("previous_days"),
            sum_won(_when(before, Takings.amount)).label("previous_total"),
        )
        .join(Market, Market.id == Takings.market_id)
        .where(or_(now, before))
        .group_by(Takings.vendor_id)
        .subquery("offline")
    )
    rows = db.session.execute(
        select(
            Vendor.id,
            Vendor.name,
            Vendor.enterprise_type,
            Vendor.category,
            *(column for name, column in per_vendor.c.items() if name != "vendor_id"),
        ).outerjoin(per_vendor, per_vendor.c.vendor_id == Vendor.id)
    )
    return [
        (*row[:4], *((None,) * 7 if row[4] is None else (int(v) for v in row[4:]))) for row in rows
    ]


# Periods whose two years together span more days than this read a
# SQLite enterprise's orders in buyer order (ix_orders_vendor_customer_day:
# every order once, no sort); shorter ones read their days alone
# (ix_orders_seoul_day) and sort those. PostgreSQL chooses by its statistics.
LONG_PERIOD_DAYS = 3 * 366


def _online_rows(
    start: date, end: date, previous_start: date, previous_end: date
) -> tuple[list[tuple], list[SellerFigures]]:
    """One statement over the orders of both periods, in two branches:
    orders of an enterprise, grouped by enterprise and buyer, and orders
    whose seller matched none, by the seller's name in the file and buyer.
    The inner queries count each buyer's orders in either period; the outer
    ones add the buyers up, so buyers and repeat buyers (two or more orders)
    come from the same pass. Periods are Seoul days (orders.seoul_day)."""
    day = Order.seoul_day
    # Every order read lies in [previous_start, end] (the year before starts
    # and ends no later than the period): within it, the period is the days
    # from `start` on and the year before those up to `previous_end`, one
    # comparison each. Between two periods shorter than a year lies a gap.
    within = [day >= previous_start, day <= end]
    if previous_end + timedelta(days=1) < start:
        within.append(or_(day >= start, day <= previous_end))
    now, before = day >= start, day <= previous_end
    figures = (
        func.count(_when(now, 1)).label("orders"),
        sum_won(_when(now, Order.amount)).label("total"),
        func.count(_when(before, 1)).label("previous_orders"),
        sum_won(_when(before, Order.amount)).label("previous_total"),
    )
    matched = (
        select(Order.vendor_id.label("vendor_id"), *figures)
        .where(Order.vendor_id.is_not(None), *within)
        .group_by(Order.vendor_id, Order.customer_id)
        # In the order the outer query groups: PostgreSQL then streams both
        # levels (or sorts once) rather than hash two years of buyers
        # beyond work_mem onto disk; SQLite's grouping already gives it.
        .order_by(Order.vendor_id, Order.customer_id)
    )
    if (end - previous_start).days > LONG_PERIOD_DAYS:
        matched = matched.with_hint(Order, "INDEXED BY ix_orders_vendor_customer_day", "sqlite")
    unmatched = (
        select(Order.seller_name.label("seller"), *figures)
        .where(Order.vendor_id.is_(None), *within)
        .group_by(Order.seller_name, Order.customer_id)
        .order_by(Order.seller_name, Order.customer_id)
        # The partial index of unmatched orders holds the seller's name;
        # SQLite would otherwise read every unmatched order from the table.
        .with_hint(Order, "INDEXED BY ix_orders_unmatched_day", "sqlite")
    )
    branches = []
    for key, per_buyer in (
        ("vendor_id", matched.subquery("matched")),
        ("seller", unmatched.subquery("unmatched")),
    ):
        b = per_buyer.c
        branches.append(
            select(
                b[key] if key == "vendor_id" else null().label("vendor_id"),
                b[key] if key == "seller" else null().label("seller"),
                cast(func.sum(b.orders), BigInteger).label("orders"),
                cast(func.sum(b.total), BigInteger).label("total"),
                func.count(_when(b.orders > 0, 1)).label("buyers"),
                func.count(_when(b.orders > 1, 1)).label("repeat_buyers"),
                cast(func.sum(b.previous_orders), BigInteger).label("previous_orders"),
                cast(func.sum(b.previous_total), BigInteger).label("previous_total"),
                func.count(_when(b.previous_orders > 0, 1)).label("previous_buyers"),
                func.count(_when(b.previous_orders > 1, 1)).label("previous_repeat"),
            ).group_by(b[key])
        )
    matched_rows, unmatched_rows = [], []
    for vendor_id, seller_name, *numbers in db.session.execute(union_all(*branches)):
        numbers = [int(value or 0) for value in numbers]
        if vendor_id is None:
            unmatched_rows.append(
                SellerFigures(seller_name or "", Online(*numbers[:4]), Online(*numbers[4:]))
            )
        else:
            matched_rows.append((vendor_id, *numbers))
    unmatched_rows.sort(key=lambda row: (-row.current.total, -row.previous.total, row.seller_name))
    return matched_rows, unmatched_rows


_ONLINE_COLUMNS = (
    "orders",
    "total",
    "buyers",
    "repeat_buyers",
    "previous_orders",
    "previous_total",
    "previous_buyers",
    "previous_repeat",
)
