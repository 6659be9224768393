"""How the audit log shows venues and markets (market.audit.labels)."""

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from market.audit.labels import (
    CHOICE,
    COUNT,
    DATE,
    DATETIME,
    MONEY,
    REF,
    Field,
    Ref,
    describe_fields,
    describe_record,
    int_ids,
)
from market.extensions import db
from market.markets.models import Market, Venue
from market.markets.services import status_label
from market.timeutil import format_korean_date


def market_name(market_date: date, venue_name: str) -> str:
    """A market as the audit log names it: its day and where."""
    return f"{format_korean_date(market_date)} · {venue_name}"


def market_refs(ids: list[str]) -> dict[str, Ref]:
    query = (
        select(Market.id, Market.market_date, Venue.name)
        .join(Venue, Venue.id == Market.venue_id)
        .where(Market.id.in_(int_ids(ids)))
    )
    return {
        str(id_): Ref(market_name(day, venue), "markets.show", {"market_id": id_})
        for id_, day, venue in db.session.execute(query)
    }


def venue_refs(ids: list[str]) -> dict[str, Ref]:
    query = select(Venue.id, Venue.name).where(Venue.id.in_(int_ids(ids)))
    return {
        str(id_): Ref(name, "venues.edit", {"venue_id": id_})
        for id_, name in db.session.execute(query)
    }


def describe() -> None:
    describe_record("markets", _l("Market"), market_refs)
    describe_record("venues", _l("Venue"), venue_refs)
    describe_fields({"market_id": Field(_l("Market"), REF, "markets")})
    describe_fields(
        {
            "name": _l("Venue name"),
            "address": _l("Road address"),
            "booth_spots": Field(_l("Booth spots"), COUNT),
            "map_url": _l("Map link"),
        },
        "venues",
    )
    describe_fields(
        {
            "market_date": Field(_l("Date"), DATE),
            "start_time": _l("Starts"),
            "end_time": _l("Ends"),
            "venue_id": Field(_l("Venue"), REF, "venues"),
            "booth_count": Field(_l("Number of booths"), COUNT),
            "application_deadline": Field(_l("Application deadline"), DATETIME),
            "takings_ceiling": Field(_l("Daily takings ceiling"), MONEY),
            "date_exception_reason": _l("Why not a Thursday"),
            "note": _l("Note"),
            "status": Field(_l("Status"), CHOICE, choices=status_label),
            "cancel_reason": _l("Why it was cancelled"),
            "sequence": Field(_l("Calendar version"), COUNT),
            "location": _l("Place shown in calendars"),
        },
        "markets",
    )
