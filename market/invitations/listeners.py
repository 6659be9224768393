"""Invitations react to changes of a market (the markets area's signal).

The signal comes after the change is flushed and before it is committed, so
the updates and cancellations join the same transaction: a market change
that is rolled back mails no one."""

from flask import Flask

from market.markets.models import Market
from market.markets.services import market_calendar_changed, place_change_audience
from market.timeutil import utcnow


def on_market_calendar_changed(market: Market, changed=(), **_extra) -> None:
    from market.invitations.services import queue_updates

    queue_updates(market, changed, utcnow())


def on_place_change_audience(_sender, markets=(), now=None, **_extra) -> int:
    from market.invitations.services import update_recipient_count

    return update_recipient_count(markets, ("location",), now)


def connect_listeners(app: Flask) -> None:
    """Called by the app factory. Blinker signals are process-wide and a
    receiver connected twice is still called once, so making several apps
    (tests) is harmless; the receiver works on the current app's session."""
    market_calendar_changed.connect(on_market_calendar_changed, weak=False)
    place_change_audience.connect(on_place_change_audience, weak=False)
