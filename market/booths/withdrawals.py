"""A vendor leaving a confirmed market.

`release` runs when an assigned or waiting vendor leaves (it withdrew before
the deadline, or staff withdrew, declined or reset its application): the booth
is freed, `promotion.promote` picks who fills it, the waitlist closes up, the
promoted vendor is mailed and the audit log says who moved. The caller commits.
"""

from sqlalchemy import select

from market.audit.services import record
from market.booths.changes import set_outcome
from market.booths.loading import BoothRuleError, current_state
from market.booths.mails import News, queue
from market.booths.models import Booth
from market.booths.promotion import Promotion, promote
from market.booths.services import STORED_OUTCOMES, concurrent_change, locked_market
from market.core.rules import flush_or_refuse
from market.extensions import db
from market.markets.models import MarketStatus
from market.timeutil import utcnow
from market.vendors.models import Application, ApplicationStatus

PROMOTING = (MarketStatus.OPEN, MarketStatus.ASSIGNED)


def release(application: Application, before_status, actor) -> Promotion | None:
    """An assigned or waiting vendor left (withdrew, or staff set it back or
    declined it): free its booth, promote from the waitlist, close the gap.

    Called from the vendors' status change (see `listeners`), after the new
    status is flushed; the application still holds its old waitlist place."""
    if before_status not in (ApplicationStatus.ASSIGNED, ApplicationStatus.WAITLISTED):
        return None
    market = locked_market(application.market_id)
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
        flush_or_refuse(concurrent_change())
        return None
    promotion = promote(state, application.vendor_id)
    if promotion.freed_booth is not None:
        db.session.delete(by_number[promotion.freed_booth])
        flush_or_refuse(concurrent_change())
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
    flush_or_refuse(concurrent_change())
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
