"""A vendor leaving a confirmed market, and attendance on market day.

`release` runs when an assigned or waiting vendor leaves (it withdrew before
the deadline, or staff withdrew, declined or reset its application): the booth
is freed, `promotion.promote` picks who fills it, the waitlist closes up, the
promoted vendor is mailed and the audit log says who moved. Attendance is kept
per booth and counted by later rankings (`loading.history`). The caller commits.
"""

from flask_babel import gettext as _
from sqlalchemy import select

from market.audit.services import record
from market.booths.changes import flush_or_refuse, set_outcome, taken_booth
from market.booths.loading import BoothRuleError, current_state, today_in_seoul
from market.booths.mails import News, queue
from market.booths.models import Attendance, Booth
from market.booths.promotion import Promotion, promote
from market.booths.services import STORED_OUTCOMES, lock_market
from market.extensions import db
from market.markets.models import Market, MarketStatus
from market.timeutil import utcnow
from market.vendors.models import Application, ApplicationStatus

PROMOTING = (MarketStatus.OPEN, MarketStatus.ASSIGNED)
ATTENDANCE_STATUSES = (MarketStatus.ASSIGNED, MarketStatus.HELD, MarketStatus.CLOSED)


# -- withdrawals -----------------------------------------------------------------------


def release(application: Application, before_status, actor) -> Promotion | None:
    """An assigned or waiting vendor left (withdrew, or staff set it back or
    declined it): free its booth, promote from the waitlist, close the gap.

    Called from the vendors' status change (see `listeners`), after the new
    status is flushed; the application still holds its old waitlist place."""
    if before_status not in (ApplicationStatus.ASSIGNED, ApplicationStatus.WAITLISTED):
        return None
    market = lock_market(application.market_id)
    if market.status not in PROMOTING:
        return None  # held, closed or cancelled: the booths are history now
    now = utcnow()
    try:
        state, by_number, waiting = current_state(market, including=application.id)
    except BoothRuleError:  # booth numbers out of range: free the booth, move nobody
        booth = db.session.scalar(select(Booth).where(Booth.application_id == application.id))
        if booth is not None:
            db.session.delete(booth)
        application.waitlist_position = None
        flush_or_refuse()
        return None
    promotion = promote(state, application.vendor_id)
    if promotion.freed_booth is not None:
        db.session.delete(by_number[promotion.freed_booth])
        flush_or_refuse()
    application.waitlist_position = None
    applications = {a.vendor_id: a for a in waiting}
    for decision in promotion.decisions:
        if decision.vendor_id == application.vendor_id:
            application.status_reason = application.status_reason or decision.reason
            continue
        changed = applications[decision.vendor_id]
        changed.waitlist_position = decision.waitlist_position
        set_outcome(changed, STORED_OUTCOMES[decision.outcome], decision.reason, now)
    promoted = applications.get(promotion.promoted) if promotion.promoted else None
    if promoted is not None:
        db.session.add(
            Booth(
                market_id=market.id,
                number=promotion.freed_booth,
                vendor_id=promoted.vendor_id,
                application_id=promoted.id,
                pinned=promoted.pinned_booth == promotion.freed_booth,
                assigned_at=now,
            )
        )
    flush_or_refuse()
    record(
        actor,
        "booths.promote",
        market,
        before={"vendor_id": application.vendor_id, "booth": promotion.freed_booth},
        after={
            "promoted": promotion.promoted,
            "waitlist": [w.vendor_id for w in promotion.state.waitlist],
        },
    )
    if promoted is not None:
        queue(promoted, market, News.ASSIGNED, promotion.freed_booth)
    return promotion


# -- attendance ------------------------------------------------------------------------


def mark_attendance(market_id: int, number: int, value: Attendance | None, actor) -> Booth:
    """Present, no-show, or None to clear a mistake; counted by later rankings."""
    market = db.session.get(Market, market_id)
    if market is None:
        raise BoothRuleError(_("There is no such market."))
    if market.status not in ATTENDANCE_STATUSES:
        raise BoothRuleError(_("Attendance is taken at markets whose booths are assigned."))
    if market.market_date > today_in_seoul():
        raise BoothRuleError(_("Attendance can be taken from the market day on."))
    booth = taken_booth(market, number)
    before = booth.attendance
    booth.attendance = Attendance(value) if value else None
    booth.attendance_at = utcnow() if value else None
    flush_or_refuse()
    record(
        actor,
        "booths.attendance",
        booth,
        before={"attendance": before},
        after={"attendance": booth.attendance, "vendor_id": booth.vendor_id},
    )
    return booth
