"""What staff read about customers: the search by name, email or phone, a
customer's orders in figures, their suppression, and the customer list as
a table to download. Personal data: only staff pages call this.

The search matches the start of a name or an email, or a phone number as
the importer stores it (E.164, market.customers.rows): each a LIKE 'prefix%'
on an index (migration 0015_customers), so a million customers cost what a
few hundred do. `%` and `_` typed by staff are taken literally."""

import re
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from market.core.exports import Table
from market.customers.consent import refusal
from market.customers.models import Customer, Order, Suppression
from market.extensions import db
from market.validators import format_phone, has_control_characters, normalise_email
from market.vendors.models import Vendor

MAX_SEARCH = 100  # no name, address or number is longer; more is a mistake
MIN_PHONE_DIGITS = 3  # "010" matches every mobile: fewer digits find nothing useful
TOP_VENDORS = 5
EXPORT_MAX_ROWS = 100_000  # a download of the whole list stops here; search to narrow it

CONSENT_STATES = {
    None: _l("May receive invitations"),
    "no_consent": _l("No marketing consent"),
    "unsubscribed": _l("Unsubscribed"),
    "suppressed": _l("Unsubscribed or undeliverable"),
}

_PHONE = re.compile(r"\+?[\d\s\-().]+")


class SearchError(ValueError):
    """The search text cannot be searched for (too long, control characters)."""


def search_condition(text: str):
    """The SQL condition for what staff typed, or None for everything.

    An address (with @) matches the start of the stored, normalised email;
    a phone number (digits, spaces, hyphens, a leading +) the start of the
    E.164 number, 010-1234-5678 and +82 10 1234 5678 alike; anything else
    the start of the name or of the email."""
    text = text.strip()
    if not text:
        return None
    if len(text) > MAX_SEARCH:
        raise SearchError(_l("Search for at most %(count)d characters.", count=MAX_SEARCH))
    if has_control_characters(text):
        raise SearchError(_l("The search text holds characters that cannot be typed."))
    if "@" in text:
        return Customer.email.startswith(normalise_email(text), autoescape=True)
    if _PHONE.fullmatch(text):
        prefix = phone_prefix(text)
        if prefix is None:
            raise SearchError(
                _l("Type at least %(count)d digits of the phone number.", count=MIN_PHONE_DIGITS)
            )
        return Customer.phone.startswith(prefix, autoescape=True)
    return or_(
        Customer.name.startswith(text, autoescape=True),
        Customer.email.startswith(normalise_email(text), autoescape=True),
    )


def phone_prefix(text: str) -> str | None:
    """The start of an E.164 number from what staff typed: 010-1234 gives
    +82101234, +82 10 gives +8210. A Korean number without its leading 0
    is not guessed at."""
    digits = re.sub(r"\D", "", text)
    if len(digits) < MIN_PHONE_DIGITS:
        return None
    if text.lstrip().startswith("+"):
        return "+" + digits
    if digits.startswith("0"):
        return "+82" + digits[1:]
    return "+" + digits


def customers_query(text: str):
    """The customers matching `text` (SearchError when it cannot be searched
    for), each with the reason they may not get invitations: all of them
    newest first; those found by name. Not by id when searching: PostgreSQL
    would then walk the whole primary key backwards hoping to meet the few
    matches early (60 ms at 200,000 customers), where the prefix index and a
    small sort take a millisecond."""
    condition = search_condition(text)
    query = select(Customer, refusal().label("refusal"))
    if condition is None:
        return query.order_by(Customer.id.desc())
    return query.where(condition).order_by(Customer.name, Customer.id)


def customers_count(text: str) -> int:
    condition = search_condition(text)
    query = select(func.count()).select_from(Customer)
    return db.session.scalar(query if condition is None else query.where(condition))


@dataclass
class OrderSummary:
    count: int
    total: int
    first_at: datetime | None
    last_at: datetime | None


def order_summary(customer: Customer) -> OrderSummary:
    """One aggregate over the customer's orders (index customer, ordered_at)."""
    count, total, first_at, last_at = db.session.execute(
        select(
            func.count(Order.id),
            func.coalesce(func.sum(Order.amount), 0),
            func.min(Order.ordered_at),
            func.max(Order.ordered_at),
        ).where(Order.customer_id == customer.id)
    ).one()
    return OrderSummary(count, int(total), first_at, last_at)


def top_vendors(customer: Customer, limit: int = TOP_VENDORS) -> list:
    """Where the customer bought most, by amount: the enterprise when the
    seller was matched to one, else the seller's name as in the file."""
    total = func.sum(Order.amount).label("total")
    return db.session.execute(
        select(
            Order.vendor_id,
            func.max(Vendor.name).label("vendor_name"),
            func.max(Order.seller_name).label("seller_name"),
            func.count(Order.id).label("orders"),
            total,
        )
        .outerjoin(Vendor, Vendor.id == Order.vendor_id)
        .where(Order.customer_id == customer.id)
        .group_by(Order.vendor_id, func.coalesce(Vendor.name, Order.seller_name))
        .order_by(total.desc())
        .limit(limit)
    ).all()


def suppression_for(customer: Customer) -> Suppression | None:
    return db.session.scalar(
        select(Suppression).where(Suppression.email_hash == customer.email_hash)
    )


def customers_table(text: str) -> Table:
    """The customers matching `text` (all when empty) with their consent
    state, at most EXPORT_MAX_ROWS, in the order of the page: one query."""
    rows = db.session.execute(customers_query(text).limit(EXPORT_MAX_ROWS))
    return Table(
        "customers",
        str(_l("Customers")),
        [
            str(_l("Name")),
            str(_l("Email")),
            str(_l("Phone")),
            str(_l("Consent")),
            str(_l("Consent given at")),
            str(_l("Unsubscribed at")),
            str(_l("May receive invitations")),
            str(_l("Why not")),
        ],
        [
            [
                customer.name,
                customer.email,
                format_phone(customer.phone),
                str(_l("Yes")) if customer.consent else str(_l("No")),
                customer.consent_at,
                customer.unsubscribed_at,
                str(_l("Yes")) if reason is None else str(_l("No")),
                "" if reason is None else str(CONSENT_STATES[reason]),
            ]
            for customer, reason in rows
        ],
    )
