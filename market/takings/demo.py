"""Demo takings for past market days (idempotent).

About ₩1,000,000 per enterprise on an ordinary day, more for refurbished
electronics and less for crafts; the market day just before Chuseok comes
close to the ₩30,000,000 ceiling. Amounts come from a random generator seeded
with the date and the business number, so a second run would make the same
numbers, and it makes none because existing entries are skipped.

Written as rows, not through the services: demo history, not changes anyone
made, so no audit entries. Markets whose entry window is still open keep
some enterprises (always the demo login's) unreported, so the demo shows
both the vendor's entry page and the staff's "not reported yet" list."""

import random
from datetime import date, datetime, time, timedelta

import holidays
from flask import current_app
from sqlalchemy import select

from market.accounts.models import User
from market.booths.models import Attendance, Booth
from market.extensions import db
from market.markets.models import Market, MarketStatus
from market.takings.models import Takings
from market.takings.services import participants
from market.timeutil import SEOUL, today_seoul
from market.vendors.demo import DEMO_VENDOR_LOGIN, DEMO_VENDOR_NAME
from market.vendors.models import Application, ApplicationStatus, Category, Vendor

ORDINARY_DAY = 1_000_000
PEAK_TOTAL = 29_400_000  # under the ₩30,000,000 ceiling
CATEGORY_FACTOR = {
    Category.ELECTRONICS: 1.7,
    Category.FOOD: 1.0,
    Category.FARM: 1.1,
    Category.CLOTHING: 0.8,
    Category.HOUSEHOLD: 0.8,
    Category.CRAFTS: 0.6,
    Category.OTHER: 0.7,
}


def seed_takings() -> list[str]:
    today = today_seoul()
    _assign_demo_vendor_to_last_market(today)
    db.session.flush()
    part = participants()
    rows = db.session.execute(
        select(Market, Vendor)
        .join(part, part.c.market_id == Market.id)
        .join(Vendor, Vendor.id == part.c.vendor_id)
        .where(Market.market_date <= today, Market.status != MarketStatus.CANCELLED)
        .order_by(Market.market_date, Market.id, Vendor.id)
    ).all()
    existing = set(db.session.execute(select(Takings.vendor_id, Takings.market_id)))
    # An enterprise marked absent sold nothing that day: no takings for it.
    absent = set(
        db.session.execute(
            select(Booth.vendor_id, Booth.market_id).where(Booth.attendance == Attendance.NO_SHOW)
        )
    )
    demo_user = db.session.scalar(select(User).where(User.email == DEMO_VENDOR_LOGIN))
    window = timedelta(days=int(current_app.config["TAKINGS_WINDOW_DAYS"]))
    peaks = _days_before_chuseok({market.market_date for market, _vendor in rows})
    by_market: dict[int, tuple[Market, list[Vendor]]] = {}
    for market, vendor in rows:
        entry = by_market.setdefault(market.id, (market, []))
        if (vendor.id, market.id) not in absent:  # the day's takings are the present ones'
            entry[1].append(vendor)
    created = 0
    for market, vendors in by_market.values():
        still_open = market.market_date + window >= today
        amounts = _amounts(market, vendors, market.market_date in peaks)
        for vendor in vendors:
            if (vendor.id, market.id) in existing:
                continue
            if still_open and (vendor.name == DEMO_VENDOR_NAME or vendor.id % 2):
                continue  # left for the demo to enter, and for "not reported yet"
            entered_by = demo_user.id if demo_user and demo_user.vendor_id == vendor.id else None
            db.session.add(_takings(market, vendor, amounts[vendor.id], entered_by))
            created += 1
    return [f"{created} takings entries"] if created else []


def _assign_demo_vendor_to_last_market(today: date) -> None:
    """The demo login needs a market day whose takings it can enter now."""
    vendor = db.session.scalar(select(Vendor).where(Vendor.name == DEMO_VENDOR_NAME))
    market = db.session.scalar(
        select(Market)
        .where(Market.market_date <= today, Market.status != MarketStatus.CANCELLED)
        .order_by(Market.market_date.desc())
        .limit(1)
    )
    if vendor is None or market is None:
        return
    if db.session.scalar(
        select(Booth.id).where(Booth.vendor_id == vendor.id, Booth.market_id == market.id)
    ):
        return
    taken = set(db.session.scalars(select(Booth.number).where(Booth.market_id == market.id)))
    free = [n for n in range(1, market.booth_count + 1) if n not in taken]
    if not free:
        return
    when = datetime.combine(market.market_date - timedelta(days=7), time(10), tzinfo=SEOUL)
    application = db.session.scalar(
        select(Application).where(
            Application.vendor_id == vendor.id, Application.market_id == market.id
        )
    )
    if application is None:
        application = Application(vendor_id=vendor.id, market_id=market.id, applied_at=when)
        db.session.add(application)
    application.status, application.status_changed_at = ApplicationStatus.ASSIGNED, when
    db.session.flush()
    db.session.add(
        Booth(
            market_id=market.id,
            number=free[0],
            vendor_id=vendor.id,
            application_id=application.id,
            assigned_at=when,
        )
    )


def _days_before_chuseok(market_days: set[date]) -> set[date]:
    """For each Chuseok, the last market day in the two weeks before it."""
    if not market_days:
        return set()
    years = range(min(market_days).year, max(market_days).year + 1)
    chuseok = [
        day for day, name in holidays.KR(years=years, language="ko").items() if name == "추석"
    ]
    peaks = set()
    for holiday in chuseok:
        before = [d for d in market_days if holiday - timedelta(days=14) <= d < holiday]
        if before:
            peaks.add(max(before))
    return peaks


def _rng(market: Market, vendor: Vendor) -> random.Random:
    return random.Random(f"{market.market_date.isoformat()}-{vendor.business_number}")


def _amounts(market: Market, vendors: list[Vendor], peak: bool) -> dict[int, int]:
    weights = {
        v.id: CATEGORY_FACTOR.get(v.category, 1.0) * _rng(market, v).uniform(0.6, 1.4)
        for v in vendors
    }
    if not peak:
        return {key: int(round(ORDINARY_DAY * weight, -3)) for key, weight in weights.items()}
    whole = sum(weights.values())
    return {key: int(PEAK_TOTAL * weight / whole) // 1000 * 1000 for key, weight in weights.items()}


def _takings(market: Market, vendor: Vendor, amount: int, entered_by: int | None) -> Takings:
    rng = _rng(market, vendor)
    rng.random()  # not the same draw as the amount's
    entered_at = datetime.combine(market.market_date, time(15, 10), tzinfo=SEOUL) + timedelta(
        minutes=rng.randint(0, 300)
    )
    takings = Takings(
        vendor_id=vendor.id,
        market_id=market.id,
        amount=amount,
        sales_count=max(1, amount // rng.randint(12_000, 30_000)) if amount else 0,
        entered_by_id=entered_by,
        updated_by_id=entered_by,
        entered_at=entered_at,
        updated_at=entered_at,
    )
    if rng.random() < 0.7:  # most enterprises also note how customers paid
        card = int(round(amount * rng.uniform(0.5, 0.7), -3))
        voucher = int(round(amount * rng.uniform(0.03, 0.15), -3))
        takings.card, takings.voucher = card, voucher
        takings.cash = amount - card - voucher
    return takings
