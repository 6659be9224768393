"""Timings inside one process: the customer ranking next to the bare SQL
aggregate it is built on, and booth assignment of a market with 500
applicants (the pure core, and the database-backed preview the booth screen uses)."""

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from benchmarks.common import Context, Database, make_app, median_of, say

RUNS = 5
APPLICANTS = 500

# The aggregate the ranking is built on: spend per customer in the window,
# biggest first, with no join, no consent filter and no suppression check.
BARE_RANKING = text(
    "SELECT customer_id, SUM(amount) AS total, COUNT(*) AS orders FROM orders "
    "WHERE ordered_at >= :since AND ordered_at <= :now "
    "GROUP BY customer_id ORDER BY total DESC LIMIT :top"
)


def _next_market(anchor):
    from market.extensions import db
    from market.markets.models import Market

    return db.session.scalar(
        select(Market).where(Market.market_date >= anchor).order_by(Market.market_date)
    )


def measure_ranking(db: Database, ctx: Context) -> dict:
    from market.extensions import db as sqla
    from market.invitations.ranking import RankingOptions, rank_customers

    app = make_app(db, ctx.instance)
    with app.app_context():
        market = _next_market(db.anchor)
        options = RankingOptions()
        now = datetime.now(UTC)
        ranked, runs = median_of(lambda: rank_customers(market, options, now), RUNS)
        params = {
            "since": (now - timedelta(days=options.window_days)).replace(tzinfo=None),
            "now": now.replace(tzinfo=None),
            "top": options.top_n,
        }
        bare, bare_runs = median_of(lambda: sqla.session.execute(BARE_RANKING, params).all(), RUNS)
        rows = len(rank_customers(market, options, now))
        sqla.session.rollback()
        sqla.engine.dispose()
    say(f"ranking: {ranked * 1000:.0f} ms, bare aggregate {bare * 1000:.0f} ms ({rows} rows)")
    return {
        "app_ms": ranked * 1000,
        "bare_ms": bare * 1000,
        "ratio": ranked / bare,
        "window_days": options.window_days,
        "top_n": options.top_n,
        "runs_ms": [t * 1000 for t in runs],
        "bare_runs_ms": [t * 1000 for t in bare_runs],
    }


def _applicants(vendors, deadline, rng):
    from market.booths.assignment import Applicant
    from market.vendors.models import VendorStatus

    return [
        Applicant(
            vendor_id=vendor.id,
            name=vendor.name,
            category=vendor.category.value,
            approved=vendor.status is VendorStatus.APPROVED,
            certification_expiry=vendor.cert_expires_on,
            applied_at=deadline - timedelta(minutes=rng.randrange(-600, 20 * 24 * 60)),
            withdrawn=rng.random() < 0.02,
            recent_markets=rng.randrange(0, 5),
            recent_no_shows=int(rng.random() < 0.05),
        )
        for vendor in vendors
    ]


def measure_assignment(db: Database, ctx: Context) -> dict:
    from market.booths.assignment import MarketInfo, assign
    from market.extensions import db as sqla
    from market.vendors.models import Vendor

    app = make_app(db, ctx.instance)
    with app.app_context():
        market = _next_market(db.anchor)
        vendors = sqla.session.scalars(select(Vendor).order_by(Vendor.id).limit(APPLICANTS)).all()
        info = MarketInfo(
            booth_count=market.booth_count,
            market_date=market.market_date,
            deadline=market.application_deadline,
        )
        applicants = _applicants(vendors, market.application_deadline, random.Random(db.seed))
        core, _runs = median_of(lambda: assign(info, applicants), RUNS)
        say(f"assign(): {core * 1000:.1f} ms for {len(applicants)} applicants")
        result = {
            "applicants": len(applicants),
            "core_ms": core * 1000,
            "db_ms": _measure_db_assignment(vendors, market) * 1000,
        }
        sqla.session.rollback()
        sqla.engine.dispose()
    return result


def _measure_db_assignment(vendors, market) -> float:
    """500 applications added to the next market inside a transaction that
    is rolled back afterwards, so the cached database stays as seeded."""
    from market.booths.services import preview
    from market.extensions import db as sqla
    from market.vendors.models import Application, ApplicationStatus

    mine = set(
        sqla.session.scalars(
            select(Application.vendor_id).where(Application.market_id == market.id)
        )
    )
    for vendor in vendors:
        if vendor.id not in mine:
            sqla.session.add(
                Application(
                    vendor_id=vendor.id,
                    market_id=market.id,
                    status=ApplicationStatus.APPLIED,
                    applied_at=market.application_deadline - timedelta(days=2),
                )
            )
    sqla.session.flush()
    took, _runs = median_of(lambda: preview(market), 3)
    sqla.session.rollback()
    say(f"database-backed booth assignment: {took * 1000:.0f} ms")
    return took
