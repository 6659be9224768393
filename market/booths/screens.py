"""What the booth pages show: the stored assignment, the maps, the attendance
list, and the figures other pages use (dashboard flag, vendor home). Reads
only; the rules are in `services`, `changes`, `withdrawals` and `attendance`."""

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from flask import current_app
from sqlalchemy import bindparam, case, func, select

from market.booths.assignment import MINIMUM_VENDORS
from market.booths.loading import applications_with_vendors, booth_rows
from market.booths.maps import BoothMap, MapBooth, booth_map
from market.booths.models import Booth
from market.booths.services import Plan
from market.core.fragments import cached
from market.extensions import db
from market.markets.models import Market, MarketStatus
from market.vendors.models import Application, ApplicationStatus, Vendor

PUBLIC_MAP_STATUSES = (MarketStatus.ASSIGNED, MarketStatus.HELD, MarketStatus.CLOSED)


@dataclass(frozen=True)
class Row:
    number: int
    booth: Booth | None
    application: Application | None


@dataclass(frozen=True)
class Current:
    """The stored assignment of one market, for the staff screen."""

    market: Market
    rows: tuple[Row, ...]
    waitlist: tuple[Application, ...]
    declined: tuple[Application, ...]
    applications: tuple[Application, ...]  # all, by id

    @property
    def assigned_count(self) -> int:
        return sum(1 for row in self.rows if row.booth is not None)

    @property
    def under_minimum(self) -> bool:
        return self.assigned_count < MINIMUM_VENDORS

    @property
    def empty_numbers(self) -> list[int]:
        return [row.number for row in self.rows if row.booth is None]

    @property
    def taken_numbers(self) -> list[int]:
        return [row.number for row in self.rows if row.booth is not None]

    @property
    def pinnable(self) -> list[Application]:
        live = (ApplicationStatus.APPLIED, ApplicationStatus.ASSIGNED, ApplicationStatus.WAITLISTED)
        found = [a for a in self.applications if a.status in live]
        return sorted(found, key=lambda a: (a.vendor.name, a.id))


def current(market: Market, names_only: bool = False) -> Current:
    """Two queries: the applications with vendors, the booths. `names_only`:
    of the vendors only their names and categories (the staff screen)."""
    applications = applications_with_vendors(market, names_only)
    by_id = {a.id: a for a in applications}
    booths = {
        booth.number: booth
        for booth in db.session.scalars(select(Booth).where(Booth.market_id == market.id))
    }
    numbers = range(1, max([market.booth_count, *booths]) + 1)
    rows = tuple(
        Row(n, booths.get(n), by_id.get(booths[n].application_id) if n in booths else None)
        for n in numbers
    )
    waitlist = sorted(
        (a for a in applications if a.status is ApplicationStatus.WAITLISTED),
        key=lambda a: (a.waitlist_position or 0, a.id),
    )
    declined = [a for a in applications if a.status is ApplicationStatus.DECLINED]
    return Current(market, rows, tuple(waitlist), tuple(declined), tuple(applications))


def staff_map(market: Market, source: Plan | Current) -> BoothMap:
    """The map of a preview or of the stored booths, pins marked."""
    occupied = []
    for row in source.rows:
        if row.application is not None:
            vendor = row.application.vendor
            pinned = row.pinned if isinstance(source, Plan) else row.booth.pinned
            occupied.append(MapBooth(row.number, vendor.name, vendor.category.value, pinned))
    return _map(market.booth_count, occupied)


# Built once: building a statement and its cache key cost more than running it.
_PUBLIC_MAP = (
    select(Booth.number, Vendor.name, Vendor.category)
    .join(Vendor, Vendor.id == Booth.vendor_id)
    .where(Booth.market_id == bindparam("market_id"), Booth.number <= bindparam("booth_count"))
    .order_by(Booth.number)
)


def public_map(market: Market, mine: int | None = None) -> BoothMap | None:
    """Enterprise names and categories only; None until booths are assigned.
    `mine`: the viewing enterprise's booth number, highlighted as theirs."""
    if market.status not in PUBLIC_MAP_STATUSES:
        return None
    rows = db.session.execute(
        _PUBLIC_MAP, {"market_id": market.id, "booth_count": market.booth_count}
    ).all()
    if not rows:
        return None
    return _map(
        market.booth_count,
        [MapBooth(number, name, category.value) for number, name, category in rows],
        mine,
    )


def attendance_rows(market: Market) -> list[tuple[Booth, Vendor]]:
    return booth_rows(market)


# -- figures for other pages ---------------------------------------------------------


@dataclass(frozen=True)
class MarketCount:
    market: Market
    count: int
    assigned: bool  # True: booths assigned; False: open, counting applications


def under_minimum(today: date, weeks: int | None = None) -> list[MarketCount]:
    """Markets in the coming weeks with fewer than the minimum of vendors:
    assigned ones by their booths, open ones by the applications still in play
    (one query: each market counts what its status calls for)."""
    weeks = weeks or current_app.config["BOOTH_WARNING_WEEKS"]
    rows = db.session.execute(_under_minimum_statement(today, weeks))
    return [MarketCount(m, n, m.status is MarketStatus.ASSIGNED) for m, n in rows]


@lru_cache(maxsize=4)
def _under_minimum_statement(today: date, weeks: int):
    # Kept per day: building it cost more than running it.
    until = today + timedelta(weeks=weeks)
    in_play = (ApplicationStatus.APPLIED, ApplicationStatus.ASSIGNED, ApplicationStatus.WAITLISTED)
    booths = select(func.count(Booth.id)).where(Booth.market_id == Market.id).scalar_subquery()
    applications = (
        select(func.count(Application.id))
        .where(Application.market_id == Market.id, Application.status.in_(in_play))
        .scalar_subquery()
    )
    count = case((Market.status == MarketStatus.ASSIGNED, booths), else_=applications)
    return (
        select(Market, count)
        .where(
            Market.market_date >= today,
            Market.market_date <= until,
            Market.status.in_((MarketStatus.ASSIGNED, MarketStatus.OPEN)),
            count < MINIMUM_VENDORS,
        )
        .order_by(Market.market_date, Market.id)
    )


_BOOTH_NUMBERS = select(Booth.application_id, Booth.number).where(
    Booth.application_id.in_(bindparam("ids", expanding=True))
)


def booth_numbers(application_ids: list[int]) -> dict[int, int]:
    """application id -> booth number, for the vendor home (one query)."""
    if not application_ids:
        return {}
    rows = db.session.execute(_BOOTH_NUMBERS, {"ids": application_ids})
    return dict(rows.all())


def _map(booth_count: int, occupied: list[MapBooth], mine: int | None = None) -> BoothMap:
    """Laid out once per set of booths, highlighted booth and language
    (market.core.fragments)."""
    booths = tuple(occupied)
    return cached(
        "booth-map", (booth_count, booths, mine), lambda: booth_map(booth_count, booths, mine)
    )
