"""What the staff home shows; each later area adds its own figures here."""

from sqlalchemy import func, select

from market.audit.models import AuditEntry
from market.booths import screens as booths
from market.extensions import db
from market.outbox.models import OutboxMessage, OutboxStatus
from market.takings import services as takings
from market.timeutil import SEOUL, utcnow
from market.vendors import services as vendors
from market.vendors.models import VendorStatus


def staff_summary() -> dict:
    counts = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    recent = db.session.scalars(
        select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(8)
    ).all()
    vendor_counts = vendors.status_counts()
    today = utcnow().astimezone(SEOUL).date()
    return {
        "vendors_pending": vendor_counts.get(VendorStatus.PENDING, 0),
        "certifications_expiring": vendors.expiring_count(today),
        "under_minimum": booths.under_minimum(today),
        "takings": takings.latest_market_day(today),
        "outbox_failed": counts.get(OutboxStatus.FAILED, 0),
        "outbox_queued": counts.get(OutboxStatus.QUEUED, 0),
        "recent_audit": recent,
    }
