"""Customers and orders made directly in the database for ranking tests."""

from datetime import UTC, datetime, timedelta
from itertools import count

from market.customers.models import Customer, Order, email_hash
from market.extensions import db

_orders = count(1)
NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


def make_customer(email: str, consent: bool = True, **extra) -> Customer:
    customer = Customer(
        email=email,
        email_hash=email_hash(email),
        name=extra.pop("name", email.split("@")[0]),
        consent=consent,
        consent_at=NOW - timedelta(days=300) if consent else None,
        consent_source="gmarket-orders.csv" if consent else None,
        consent_wording="v1" if consent else None,
        details_as_of=NOW,
        **extra,
    )
    db.session.add(customer)
    db.session.flush()
    return customer


def add_orders(customer: Customer, *amounts: int, days_ago: int = 10, vendor_id=None) -> None:
    for amount in amounts:
        db.session.add(
            Order(
                order_no=f"T{next(_orders)}",
                customer_id=customer.id,
                ordered_at=NOW - timedelta(days=days_ago),
                seller_name="가게",
                product="상품",
                amount=amount,
                vendor_id=vendor_id,
            )
        )
    db.session.flush()
