"""Attendance on market day: each booth present or a no-show, kept per booth
and counted by later rankings (`loading.history`). The caller commits."""

from flask_babel import gettext as _
from sqlalchemy import select

from market.audit.services import record
from market.booths.changes import taken_booth
from market.booths.loading import BoothRuleError
from market.booths.models import Attendance, Booth
from market.booths.services import concurrent_change
from market.core.rules import flush_or_refuse
from market.extensions import db
from market.markets.models import Market, MarketStatus
from market.timeutil import today_seoul, utcnow

ATTENDANCE_STATUSES = (MarketStatus.ASSIGNED, MarketStatus.HELD, MarketStatus.CLOSED)


def mark_attendance(market_id: int, number: int, value: Attendance | None, actor) -> Booth:
    """Present, no-show, or None to clear a mistake; counted by later rankings."""
    market = db.session.get(Market, market_id)
    _check_open(market)
    booth = taken_booth(market, number)
    before = booth.attendance
    booth.attendance = Attendance(value) if value else None
    booth.attendance_at = utcnow() if value else None
    flush_or_refuse(concurrent_change())
    record(
        actor,
        "booths.attendance",
        booth,
        before={"attendance": before},
        after={"attendance": booth.attendance, "vendor_id": booth.vendor_id},
    )
    return booth


def _check_open(market: Market | None) -> None:
    if market is None:
        raise BoothRuleError(_("There is no such market."))
    if market.status not in ATTENDANCE_STATUSES:
        raise BoothRuleError(_("Attendance is taken at markets whose booths are assigned."))
    if market.market_date > today_seoul():
        raise BoothRuleError(_("Attendance can be taken from the market day on."))


def unmarked_booths(market: Market) -> list[Booth]:
    """The taken booths nobody has marked yet, by number."""
    query = (
        select(Booth)
        .where(Booth.market_id == market.id, Booth.attendance.is_(None))
        .order_by(Booth.number)
    )
    return list(db.session.scalars(query))


def mark_all_present(market_id: int, actor) -> int:
    """Every booth not marked yet becomes present, in one go (the bulk
    button of the attendance page); a booth already marked a no-show or
    present is left as staff marked it. Same rules and one audit entry per
    booth as `mark_attendance`; the caller commits. Returns how many."""
    market = db.session.get(Market, market_id)
    _check_open(market)
    booths = unmarked_booths(market)
    now = utcnow()
    for booth in booths:
        booth.attendance, booth.attendance_at = Attendance.PRESENT, now
    flush_or_refuse(concurrent_change())
    for booth in booths:
        record(
            actor,
            "booths.attendance",
            booth,
            before={"attendance": None},
            after={"attendance": booth.attendance, "vendor_id": booth.vendor_id},
        )
    return len(booths)
