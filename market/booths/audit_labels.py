"""How the audit log shows booths and the assignment's entries
(market.audit.labels). An assignment is recorded on the market, one key per
booth ("booth 3" -> enterprise id; a swap: "3" -> enterprise id)."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from market.audit.labels import (
    CHOICE,
    REF,
    REFS,
    Field,
    Ref,
    describe_field_pattern,
    describe_fields,
    describe_record,
    int_ids,
)
from market.booths.models import Attendance, Booth
from market.extensions import db
from market.markets.audit_labels import market_name
from market.markets.models import Market, Venue

ATTENDANCE = {Attendance.PRESENT: _l("Present"), Attendance.NO_SHOW: _l("No-show")}


def attendance_label(value) -> str:
    return str(ATTENDANCE[Attendance(value)])


def booth_refs(ids: list[str]) -> dict[str, Ref]:
    query = (
        select(Booth.id, Booth.number, Booth.market_id, Market.market_date, Venue.name)
        .join(Market, Market.id == Booth.market_id)
        .join(Venue, Venue.id == Market.venue_id)
        .where(Booth.id.in_(int_ids(ids)))
    )
    return {
        str(id_): Ref(
            _("Booth %(number)s", number=number) + f" · {market_name(day, venue)}",
            "booths.index",
            {"market_id": market_id},
        )
        for id_, number, market_id, day, venue in db.session.execute(query)
    }


def describe() -> None:
    describe_record("booths", _l("Booth"), booth_refs)
    booth_holder = Field(_l("Booth %(number)s"), REF, "vendors")
    describe_field_pattern("markets", r"booth (?P<number>[0-9]+)", booth_holder)
    describe_field_pattern("markets", r"(?P<number>[0-9]+)", booth_holder)
    describe_fields(
        {
            "waitlist": Field(_l("Waitlist"), REFS, "vendors"),
            "declined": Field(_l("Not selected"), REFS, "vendors"),
            "pin_problems": _l("Pins that could not be kept"),
            "promoted": Field(_l("Moved up from the waitlist"), REF, "vendors"),
            "booth": _l("Booth number"),
        },
        "markets",
    )
    describe_fields(
        {
            "number": _l("Booth number"),
            "attendance": Field(_l("Attendance"), CHOICE, choices=attendance_label),
            "waitlist_position": _l("Place on the waitlist"),
        },
        "booths",
    )
    describe_fields(
        {
            "pinned_booth": _l("Pinned booth"),
            "booth": _l("Booth number"),
            "waitlist_position": _l("Place on the waitlist"),
        },
        "applications",
    )
