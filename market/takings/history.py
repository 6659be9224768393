"""What an enterprise sees of its own takings: the markets it may enter
now, its history and a summary. Every query is bound to one vendor."""

from datetime import date, timedelta

from flask import current_app
from sqlalchemy import and_, bindparam, func, or_, select

from market.extensions import db
from market.markets.models import Market, Venue
from market.takings.models import Takings
from market.takings.services import participants
from market.vendors.models import Vendor


def open_entries(vendor: Vendor, today: date) -> list[tuple[Market, Takings | None]]:
    """Markets the enterprise may enter takings for today, with its entry."""
    days = int(current_app.config["TAKINGS_WINDOW_DAYS"])
    params = {"vendor_id": vendor.id, "today": today, "since": today - timedelta(days=days)}
    rows = db.session.execute(_OPEN_ENTRIES, params)
    return [(market, takings) for market, takings in rows if not market.is_cancelled]


def vendor_history_query(vendor: Vendor, today: date):
    """The enterprise's market days up to today, newest first (markets only,
    so it can be paginated; `takings_for` adds the entries of one page)."""
    return (
        _vendor_markets(vendor, with_stray=True)
        .with_only_columns(Market)
        .where(Market.market_date <= today)
        .order_by(Market.market_date.desc(), Market.id.desc())
    )


def takings_for(vendor: Vendor, markets: list[Market]) -> list[tuple[Market, Takings | None]]:
    """Each market with the enterprise's takings there, in one query."""
    ids = [market.id for market in markets]
    found = (
        {
            takings.market_id: takings
            for takings in db.session.scalars(
                select(Takings).where(Takings.vendor_id == vendor.id, Takings.market_id.in_(ids))
            )
        }
        if ids
        else {}
    )
    return [(market, found.get(market.id)) for market in markets]


def vendor_summary(vendor: Vendor, today: date) -> dict:
    """Total, number of entries, average, and the best day with its date
    (the latest of equal best days), in one query."""
    mine = (Takings.vendor_id == vendor.id, Market.market_date <= today)
    best_date = (
        select(Market.market_date)
        .join(Takings, Takings.market_id == Market.id)
        .where(*mine)
        .order_by(Takings.amount.desc(), Market.market_date.desc())
        .limit(1)
        .scalar_subquery()
    )
    total, count, best, best_on = db.session.execute(
        select(
            func.coalesce(func.sum(Takings.amount), 0),
            func.count(Takings.id),
            func.coalesce(func.max(Takings.amount), 0),
            best_date,
        )
        .join(Market, Market.id == Takings.market_id)
        .where(*mine)
    ).one()
    total, count = int(total), int(count)
    return {
        "total": total,
        "count": count,
        "average": (2 * total + count) // (2 * count) if count else 0,
        "best": int(best),
        "best_date": best_on if count else None,
    }


def _vendor_markets(vendor: Vendor | None, with_stray: bool = False):
    """Markets the enterprise takes part in, each with its takings; with
    `with_stray` also one it no longer takes part in but has takings for.
    `vendor` None: the bound parameter vendor_id stands for it."""
    vendor_id = bindparam("vendor_id") if vendor is None else vendor.id
    part = participants()
    on_part = and_(part.c.market_id == Market.id, part.c.vendor_id == vendor_id)
    query = select(Market, Takings)
    query = query.outerjoin(part, on_part) if with_stray else query.join(part, on_part)
    query = query.outerjoin(
        Takings, and_(Takings.market_id == Market.id, Takings.vendor_id == vendor_id)
    )
    if with_stray:
        query = query.where(or_(part.c.vendor_id.is_not(None), Takings.id.is_not(None)))
    return query


# The vendor home's statement, built once: building it cost more than running it.
_OPEN_ENTRIES = (
    _vendor_markets(None)
    .where(Market.market_date <= bindparam("today"), Market.market_date >= bindparam("since"))
    .order_by(Market.market_date.desc(), Market.id.desc())
)


def recent_points(vendor: Vendor, today: date, limit: int = 20) -> list[tuple[date, str, int]]:
    """(date, venue, amount) of the enterprise's latest entries, oldest first, for its chart."""
    rows = db.session.execute(
        select(Market.market_date, Venue.name, Takings.amount)
        .join(Takings, Takings.market_id == Market.id)
        .join(Venue, Venue.id == Market.venue_id)
        .where(Takings.vendor_id == vendor.id, Market.market_date <= today)
        .order_by(Market.market_date.desc(), Market.id.desc())
        .limit(limit)
    )
    return [tuple(row) for row in reversed(rows.all())]
