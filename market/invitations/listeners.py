"""Invitations react to changes of a market (the markets area's signals)
and to customers being purged (the customers area's).

The signals come after the change is flushed (or, for a purge, before the
customers are deleted) and before it is committed, so what invitations do
joins the same transaction: a market change that is rolled back mails no one."""

from flask import Flask

from market.customers.services import customers_purging
from market.markets.models import Market
from market.markets.services import market_calendar_changed, place_change_audience
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


def connect_listeners(app: Flask) -> None:
    """Called by the app factory. Blinker signals are process-wide and a
    receiver connected twice is still called once, so making several apps
    (tests) is harmless; the receiver works on the current app's session."""
    market_calendar_changed.connect(on_market_calendar_changed, weak=False)
    place_change_audience.connect(on_place_change_audience, weak=False)
    customers_purging.connect(on_customers_purging, weak=False)
