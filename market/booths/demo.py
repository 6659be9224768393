"""Demo booths (idempotent): history at past markets and the nearest market
assigned by the real service, so the rotation and the reasons show.

Past markets get a booth for each vendor the vendors demo marked assigned,
with attendance: mostly present, some no-shows, so rankings differ. The
nearest upcoming market, if still open and without booths, gets a pin, one
application that must be declined (an expired certification), and then a
real `services.confirm`, mails included (they go to instance/mail in
development). Markets that already have booths are left alone."""

from datetime import timedelta

from sqlalchemy import select

from market.booths import services
from market.booths.models import Attendance, Booth
from market.extensions import db
from market.markets.models import Market, MarketStatus
from market.timeutil import today_seoul, utcnow
from market.vendors.models import Application, ApplicationStatus, Vendor

PINNED_VENDOR = "한국컴퓨터재생센터"  # needs the power outlet next to booth 1
EXPIRED_VENDOR = "햇살공방"  # its certification lapsed: declined, with the reason


def seed_booths() -> list[str]:
    today = today_seoul()
    created = []
    markets = db.session.scalars(
        select(Market).where(Market.status != MarketStatus.CANCELLED).order_by(Market.market_date)
    ).all()
    with_booths = set(db.session.scalars(select(Booth.market_id).distinct()))
    count = 0
    for index, market in enumerate(m for m in markets if m.market_date < today):
        if market.id not in with_booths:
            count += _history(market, index)
    if count:
        created.append(f"{count} booths at past markets")
    upcoming = [m for m in markets if m.market_date >= today]
    if upcoming and upcoming[0].status is MarketStatus.OPEN and upcoming[0].id not in with_booths:
        market = upcoming[0]
        _prepare(market)
        plan = services.confirm(market.id, actor=None)
        created.append(
            f"booths for {market.market_date}: {plan.assigned_count} assigned, "
            f"{len(plan.waitlist)} waiting, {len(plan.declined)} declined"
        )
    return created


def _history(market: Market, index: int) -> int:
    """Booths for the assigned applications of a past market, with attendance."""
    rows = db.session.execute(
        select(Application, Vendor)
        .join(Vendor, Vendor.id == Application.vendor_id)
        .where(
            Application.market_id == market.id,
            Application.status == ApplicationStatus.ASSIGNED,
        )
        .order_by(Vendor.name)
    ).all()
    for number, (application, vendor) in enumerate(rows[: market.booth_count], 1):
        no_show = (index + vendor.id) % 7 == 0
        db.session.add(
            Booth(
                market_id=market.id,
                number=number,
                vendor_id=vendor.id,
                application_id=application.id,
                assigned_at=application.status_changed_at,
                attendance=Attendance.NO_SHOW if no_show else Attendance.PRESENT,
                attendance_at=application.status_changed_at + timedelta(days=10),
            )
        )
        application.status_reason = f"{number}번 부스 배정"
    db.session.flush()
    return min(len(rows), market.booth_count)


def _prepare(market: Market) -> None:
    """A staff pin, and a late-coming application that will be declined."""
    vendors = {
        v.name: v
        for v in db.session.scalars(
            select(Vendor).where(Vendor.name.in_((PINNED_VENDOR, EXPIRED_VENDOR)))
        )
    }
    applied = {
        a.vendor_id: a
        for a in db.session.scalars(select(Application).where(Application.market_id == market.id))
    }
    pinned = vendors.get(PINNED_VENDOR)
    if pinned is not None and pinned.id in applied:
        applied[pinned.id].pinned_booth = 1
    expired = vendors.get(EXPIRED_VENDOR)
    if expired is not None and expired.id not in applied:
        # late-coming, but made by today (the deadline may be weeks ahead)
        when = min(market.application_deadline - timedelta(days=4), utcnow() - timedelta(hours=3))
        db.session.add(
            Application(
                vendor_id=expired.id,
                market_id=market.id,
                applied_at=when,
                status_changed_at=when,
                note="인증 갱신 서류를 준비 중입니다.",
            )
        )
    db.session.flush()
