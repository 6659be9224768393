"""Advertising never leaves the outbox at night, whatever delayed it."""

from datetime import datetime, timedelta

from market import mail
from market.extensions import db
from market.outbox.models import OutboxMessage, OutboxStatus
from market.timeutil import SEOUL


def _queue(category: str, due: datetime) -> int:
    message = mail.build_message("guest@example.com", f"{category} 메일", "본문")
    row = mail.enqueue(message, category=category, not_before=due)
    db.session.commit()
    return row.id


def test_invitations_wait_for_the_morning_even_when_already_due(app):
    night = datetime(2026, 11, 26, 23, 30, tzinfo=SEOUL)
    invite = _queue("invitation", night - timedelta(hours=3))  # e.g. after a retry back-off
    update = _queue("invitation-update", night - timedelta(hours=3))
    notice = _queue("vendor-approval", night - timedelta(hours=3))
    report = mail.deliver_due(now=night)
    assert report.sent == 1
    statuses = {row.id: row.status for row in db.session.scalars(db.select(OutboxMessage))}
    assert statuses[notice] is OutboxStatus.SENT
    assert statuses[invite] is statuses[update] is OutboxStatus.QUEUED
    morning = datetime(2026, 11, 27, 8, 0, tzinfo=SEOUL)
    assert mail.deliver_due(now=morning).sent == 2
