"""Invitations react to changes of a market (the markets area's signals),
to customers being purged (the customers area's) and to their mail being
accepted by the mail server (the outbox's).

The signals come after the change is flushed (or, for a purge, before the
customers are deleted) and before it is committed, so what invitations do
joins the same transaction: a market change that is rolled back mails no one."""

from flask import Flask
from sqlalchemy import update

from market.customers.services import customers_purging
from market.extensions import db
from market.invitations.messages import MailKind
from market.invitations.models import Invitation
from market.markets.models import Market
from market.markets.services import market_calendar_changed, place_change_audience
from market.outbox.services import messages_sent
from market.timeutil import utcnow


def on_market_calendar_changed(market: Market, changed=(), **_extra) -> None:
    from market.invitations.updates import queue_updates

    queue_updates(market, changed, utcnow())


def on_place_change_audience(_sender, markets=(), now=None, **_extra) -> int:
    from market.invitations.updates import update_recipient_count

    return update_recipient_count(markets, ("location",), now)


def on_customers_purging(_sender, customers=None, **_extra) -> dict[str, int]:
    from market.invitations.purge import forget_customers

    return forget_customers(customers)


ARRIVING = (MailKind.INVITE.category, MailKind.UPDATE.category)


def on_messages_sent(_category, ids=(), at=None, **_extra) -> None:
    """The first invitation or update mail of an invitation the server took
    marks it delivered (connected for those two categories only: a
    cancellation brings no invitation). One UPDATE, in the worker's
    transaction of the sent mark; an invitation already delivered keeps its
    first time."""
    if not ids:
        return
    db.session.execute(
        update(Invitation)
        .where(Invitation.outbox_message_id.in_(ids), Invitation.delivered_at.is_(None))
        .values(delivered_at=at)
        .execution_options(synchronize_session=False)
    )


def connect_listeners(app: Flask) -> None:
    """Called by the app factory. Blinker signals are process-wide and a
    receiver connected twice is still called once, so making several apps
    (tests) is harmless; the receiver works on the current app's session."""
    market_calendar_changed.connect(on_market_calendar_changed, weak=False)
    place_change_audience.connect(on_place_change_audience, weak=False)
    customers_purging.connect(on_customers_purging, weak=False)
    for category in ARRIVING:
        messages_sent.connect(on_messages_sent, sender=category, weak=False)
