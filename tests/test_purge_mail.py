"""Purging inactive customers also removes the invitation mails that hold
their addresses (the first one and any update), sent or still queued; other
customers' mails and staff/vendor mail stay."""

from datetime import time, timedelta

from sqlalchemy import select

from market.customers import services as customers
from market.extensions import db
from market.invitations import sending
from market.markets import services as market_services
from market.outbox import delivery
from market.outbox.models import OutboxMessage, OutboxStatus
from market.timeutil import utcnow
from tests.test_invitations import (  # noqa: F401  (market, now, smtp: fixtures)
    make_customer,
    make_order,
    market,
    market_details,
    now,
    smtp,
)


def _addresses() -> list[tuple[str, str, OutboxStatus]]:
    db.session.expire_all()
    return [
        (m.to_address, m.category, m.status)
        for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
    ]


def test_purge_removes_the_mails_holding_a_purged_address(smtp, market, now):  # noqa: F811
    stale = make_customer("stale@example.com", "오래전")
    active = make_customer("active@example.com", "최근")
    make_order(stale, 10_000, utcnow() - timedelta(days=1000))
    make_order(active, 10_000, utcnow() - timedelta(days=10))
    sending.invite(market, [stale.id, active.id], None, now)
    db.session.commit()
    delivery.deliver_due(now=now + timedelta(days=1))  # the invitations leave
    market_services.update_market(market, market_details(market, start_time=time(11, 0)))
    db.session.commit()  # an update for each, queued
    before = _addresses()
    assert [(c, s) for a, c, s in before if a == "stale@example.com"] == [
        ("invitation", OutboxStatus.SENT),
        ("invitation-update", OutboxStatus.QUEUED),
    ]

    report = customers.purge_inactive(730)
    db.session.commit()

    after = _addresses()
    assert report.mails == 2
    assert all(address != "stale@example.com" for address, *_ in after)
    assert sum(1 for address, *_ in after if address == "active@example.com") == 2
    assert len(after) == len(before) - 2
