"""How the audit log shows customers and order files (market.audit.labels)."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from market.audit.labels import (
    COUNT,
    Field,
    Ref,
    describe_actions,
    describe_fields,
    describe_record,
    int_ids,
)
from market.customers.models import Customer, CustomerImport
from market.extensions import db

# The staff page of one customer, where the app has it (the audit page links
# only to endpoints that exist).
CUSTOMER_ENDPOINT = "customer_pages.show"


def customer_refs(ids: list[str]) -> dict[str, Ref]:
    query = select(Customer.id, Customer.name).where(Customer.id.in_(int_ids(ids)))
    return {
        str(id_): Ref(name, CUSTOMER_ENDPOINT, {"customer_id": id_})
        for id_, name in db.session.execute(query)
    }


def import_refs(ids: list[str]) -> dict[str, Ref]:
    query = select(CustomerImport.id, CustomerImport.filename).where(
        CustomerImport.id.in_(int_ids(ids))
    )
    return {
        str(id_): Ref(filename, "customers.show_import", {"import_id": id_})
        for id_, filename in db.session.execute(query)
    }


def describe() -> None:
    describe_record("customers", _l("Customer"), customer_refs)
    describe_record("customer_imports", _l("Order file"), import_refs)
    describe_fields(
        {
            "filename": _l("File name"),
            "bytes": Field(_l("Size (bytes)"), COUNT),
            "orders_new": Field(_l("New orders"), COUNT),
            "customers_new": Field(_l("New customers"), COUNT),
            "rows_skipped": Field(_l("Rows skipped"), COUNT),
        },
        "customer_imports",
    )
    describe_fields(
        {
            "inactive_days": Field(_l("Days without an order"), COUNT),
            "customers": Field(_l("Customers deleted"), COUNT),
            "orders": Field(_l("Orders deleted"), COUNT),
            "invitations": Field(_l("Invitations deleted"), COUNT),
            "mails": Field(_l("Emails deleted"), COUNT),
            "control_group": Field(_l("Control group places deleted"), COUNT),
        },
        "customers",
    )
    # An unmatched seller's orders connected to an enterprise (market.customers.sellers):
    # recorded on the enterprise, so the audit page links to it.
    describe_actions({"customers.attach_seller": _l("Seller's orders connected to an enterprise")})
    describe_fields(
        {
            "seller_name": _l("Seller in the order file"),
            "orders_attached": Field(_l("Orders connected"), COUNT),
        },
        "vendors",
    )
