"""Bench data for what happens on a market day: booths with attendance, and
takings. Written after the applications, from the assigned ones.

Every value is derived from the seed and the rows already written (never
from the clock), so the same seed gives the same booths and takings."""

import math
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from benchmarks.dataset.generate import Plan
from market.booths.models import Attendance, Booth
from market.extensions import db
from market.markets.models import Market, MarketStatus
from market.takings.models import Takings
from market.timeutil import SEOUL
from market.vendors.models import Application, ApplicationStatus

HELD = (MarketStatus.HELD, MarketStatus.CLOSED)
NO_SHOW_SHARE = 0.05
TYPICAL_TAKINGS = 1_000_000  # won per vendor on an ordinary day
BATCH = 10_000


def _assigned():
    """Every assigned application with its market, in booth order (application
    id) within each market."""
    return db.session.execute(
        select(
            Application.id,
            Application.market_id,
            Application.vendor_id,
            Market.status,
            Market.takings_ceiling,
            Market.market_date,
            Market.start_time,
            Market.end_time,
            Market.application_deadline,
        )
        .join(Market, Market.id == Application.market_id)
        .where(Application.status == ApplicationStatus.ASSIGNED)
        .order_by(Application.market_id, Application.id)
    ).all()


def _at(day, clock) -> datetime:
    return datetime.combine(day, clock, tzinfo=SEOUL).astimezone(UTC)


def _write(table, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        db.session.execute(insert(table), rows[start : start + BATCH])
        db.session.commit()


def seed_market_days(plan: Plan) -> str:
    """Booths 1..n per market for its assigned applications; on held and
    closed markets attendance (5% no-shows) and takings for those present
    (about ₩1,000,000 each, log-normal, never above the market's ceiling),
    split into cash, card and vouchers that add up."""
    rng = plan.rng("market-days")
    booths: list[dict] = []
    takings: list[dict] = []
    totals: dict[int, int] = {}
    number, last_market = 0, None
    for row in _assigned():
        number = number + 1 if row.market_id == last_market else 1
        last_market = row.market_id
        booth = {
            "market_id": row.market_id,
            "vendor_id": row.vendor_id,
            "application_id": row.id,
            "number": number,
            "pinned": False,
            "assigned_at": row.application_deadline + timedelta(hours=1),
            "attendance": None,
            "attendance_at": None,
        }
        booths.append(booth)
        if row.status not in HELD:
            continue
        present = rng.random() >= NO_SHOW_SHARE
        booth["attendance"] = Attendance.PRESENT if present else Attendance.NO_SHOW
        booth["attendance_at"] = _at(row.market_date, row.start_time)
        if not present:
            continue
        amount = round(rng.lognormvariate(math.log(TYPICAL_TAKINGS), 0.6), -3)
        amount = int(min(amount, row.takings_ceiling - totals.get(row.market_id, 0)))
        if amount <= 0:
            continue
        totals[row.market_id] = totals.get(row.market_id, 0) + amount
        cash = int(amount * rng.uniform(0.1, 0.5)) // 1000 * 1000
        voucher = int(amount * rng.uniform(0.0, 0.1)) // 1000 * 1000
        entered = _at(row.market_date, row.end_time)
        takings.append(
            {
                "market_id": row.market_id,
                "vendor_id": row.vendor_id,
                "amount": amount,
                "sales_count": max(1, amount // rng.randrange(8_000, 30_000)),
                "cash": cash,
                "card": amount - cash - voucher,
                "voucher": voucher,
                "entered_by_id": None,
                "updated_by_id": None,
                "entered_at": entered,
                "updated_at": entered,
            }
        )
    _write(Booth.__table__, booths)
    _write(Takings.__table__, takings)
    held = sum(1 for b in booths if b["attendance"] is not None)
    return (
        f"booths: {len(booths):,} ({held:,} with attendance); "
        f"takings: {len(takings):,} entries over {len(totals):,} markets"
    )
