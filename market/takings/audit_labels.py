"""How the audit log shows takings (market.audit.labels)."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from market.audit.labels import COUNT, MONEY, Field, Ref, describe_fields, describe_record, int_ids
from market.extensions import db
from market.markets.audit_labels import market_name
from market.markets.models import Market, Venue
from market.takings.models import Takings
from market.vendors.models import Vendor


def takings_refs(ids: list[str]) -> dict[str, Ref]:
    query = (
        select(Takings.id, Takings.market_id, Vendor.name, Market.market_date, Venue.name)
        .join(Vendor, Vendor.id == Takings.vendor_id)
        .join(Market, Market.id == Takings.market_id)
        .join(Venue, Venue.id == Market.venue_id)
        .where(Takings.id.in_(int_ids(ids)))
    )
    return {
        str(id_): Ref(
            f"{vendor} · {market_name(day, venue)}",
            "takings_staff.market_day",
            {"market_id": market_id},
        )
        for id_, market_id, vendor, day, venue in db.session.execute(query)
    }


def describe() -> None:
    describe_record("takings", _l("Takings"), takings_refs)
    describe_fields(
        {
            "amount": Field(_l("Takings of the market day"), MONEY),
            "sales_count": Field(_l("Number of sales"), COUNT),
            "cash": Field(_l("Cash"), MONEY),
            "card": Field(_l("Card"), MONEY),
            "voucher": Field(_l("Gift vouchers"), MONEY),
        },
        "takings",
    )
