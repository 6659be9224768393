"""How the audit log shows invitations (market.audit.labels). Sending is
recorded on the market; an unsubscription on the customer."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from market.audit.labels import (
    CHOICE,
    COUNT,
    DATETIME,
    FIELDS,
    Field,
    Ref,
    describe_fields,
    describe_record,
    int_ids,
)
from market.customers.models import Customer
from market.extensions import db
from market.invitations.models import Invitation
from market.markets.audit_labels import market_name
from market.markets.models import Market, Venue

UNSUBSCRIBED_FROM = {
    "link": _l("the link in an invitation"),
    "page": _l("the unsubscribe page"),
    "one-click": _l("the mail program's unsubscribe button"),
}


def unsubscribed_from(value) -> str:
    return str(UNSUBSCRIBED_FROM[value])


def invitation_refs(ids: list[str]) -> dict[str, Ref]:
    """An invitation is shown on its market's invitations page."""
    query = (
        select(Invitation.id, Invitation.market_id, Customer.name, Market.market_date, Venue.name)
        .join(Customer, Customer.id == Invitation.customer_id)
        .join(Market, Market.id == Invitation.market_id)
        .join(Venue, Venue.id == Market.venue_id)
        .where(Invitation.id.in_(int_ids(ids)))
    )
    return {
        str(id_): Ref(
            f"{customer} · {market_name(day, venue)}",
            "invitations.index",
            {"market_id": market_id},
        )
        for id_, market_id, customer, day, venue in db.session.execute(query)
    }


def describe() -> None:
    describe_record("invitations", _l("Invitation"), invitation_refs)
    describe_fields(
        {
            "invited": Field(_l("Invited"), COUNT),
            "skipped": Field(_l("Left out"), COUNT),
            "held_back": Field(_l("Held back as the control group"), COUNT),
            "control_percent": Field(_l("Control group share (%)"), COUNT),
            "not_before": Field(_l("Sent from"), DATETIME),
            "queued": Field(_l("Mails queued"), COUNT),
            "withdrawn": Field(_l("Waiting mails withdrawn"), COUNT),
            "changed": Field(_l("Changed details"), FIELDS),
        },
        "markets",
    )
    describe_fields(
        {
            "unsubscribed_at": Field(_l("Unsubscribed at"), DATETIME),
            "source": Field(_l("Unsubscribed through"), CHOICE, choices=unsubscribed_from),
            "withdrawn": Field(_l("Waiting mails withdrawn"), COUNT),
        },
        "customers",
    )
