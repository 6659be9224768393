"""Attendance on market day: each booth present or a no-show, kept per booth
and counted by later rankings (`loading.history`). The caller commits."""

from flask_babel import gettext as _

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
    if market is None:
        raise BoothRuleError(_("There is no such market."))
    if market.status not in ATTENDANCE_STATUSES:
        raise BoothRuleError(_("Attendance is taken at markets whose booths are assigned."))
    if market.market_date > today_seoul():
        raise BoothRuleError(_("Attendance can be taken from the market day on."))
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
