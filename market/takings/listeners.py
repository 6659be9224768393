"""Takings answer the markets area's questions about them (blinker signals)."""

from flask import Flask

from market.markets.services import ceiling_floor
from market.takings import services


def on_ceiling_floor(_sender, market_id: int, **_extra) -> int:
    """A market's ceiling may not go below the takings already entered."""
    return services.market_total(market_id)


def connect_listeners(app: Flask) -> None:
    """Called by the app factory; connecting twice (several apps in tests) is harmless."""
    ceiling_floor.connect(on_ceiling_floor, weak=False)
