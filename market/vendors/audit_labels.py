"""How the audit log shows enterprises and their applications
(market.audit.labels)."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from market.audit.labels import (
    CHOICE,
    DATE,
    FIELDS,
    REF,
    Field,
    Ref,
    describe_fields,
    describe_record,
    int_ids,
)
from market.extensions import db
from market.markets.audit_labels import market_name
from market.markets.models import Market, Venue
from market.validators import format_business_number, format_phone
from market.vendors.labels import (
    application_status_label,
    category_label,
    enterprise_type_label,
    vendor_status_label,
)
from market.vendors.models import Application, Vendor


def vendor_refs(ids: list[str]) -> dict[str, Ref]:
    query = select(Vendor.id, Vendor.name).where(Vendor.id.in_(int_ids(ids)))
    return {
        str(id_): Ref(name, "vendors_staff.show", {"vendor_id": id_})
        for id_, name in db.session.execute(query)
    }


def application_refs(ids: list[str]) -> dict[str, Ref]:
    query = (
        select(Application.id, Application.market_id, Vendor.name, Market.market_date, Venue.name)
        .join(Vendor, Vendor.id == Application.vendor_id)
        .join(Market, Market.id == Application.market_id)
        .join(Venue, Venue.id == Market.venue_id)
        .where(Application.id.in_(int_ids(ids)))
    )
    return {
        str(id_): Ref(
            f"{vendor} · {market_name(day, venue)}",
            "applications_staff.market_applications",
            {"market_id": market_id},
        )
        for id_, market_id, vendor, day, venue in db.session.execute(query)
    }


def describe() -> None:
    describe_record("vendors", _l("Enterprise"), vendor_refs)
    describe_record("applications", _l("Application"), application_refs)
    describe_fields({"vendor_id": Field(_l("Enterprise"), REF, "vendors")})
    describe_fields(
        {
            "name": _l("Enterprise name"),
            "business_number": Field(
                _l("Business registration number"), CHOICE, choices=format_business_number
            ),
            "enterprise_type": Field(_l("Enterprise type"), CHOICE, choices=enterprise_type_label),
            "cert_issuer": _l("Certified by"),
            "cert_number": _l("Certification number"),
            "cert_issued_on": Field(_l("Certified on"), DATE),
            "cert_expires_on": Field(_l("Certification expires on"), DATE),
            "category": Field(_l("Products"), CHOICE, choices=category_label),
            "description": _l("Short description"),
            "shop_url": _l("Online shop link"),
            "contact_name": _l("Contact person"),
            "phone": Field(_l("Phone"), CHOICE, choices=format_phone),
            "email": _l("Email"),
            "status": Field(_l("Status"), CHOICE, choices=vendor_status_label),
            "status_reason": _l("Reason"),
            "changed": Field(_l("Changed details"), FIELDS),
        },
        "vendors",
    )
    describe_fields(
        {
            "status": Field(_l("Status"), CHOICE, choices=application_status_label),
            "status_reason": _l("Reason"),
            "note": _l("Note"),
        },
        "applications",
    )
