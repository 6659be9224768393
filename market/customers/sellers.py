"""Attaching an unmatched seller's orders to an enterprise, after the fact.

An order whose seller matched no live enterprise at import keeps only the
seller's name (orders.vendor_id is NULL), and a later import does not look
at it again: a seller written in a way nobody foresaw, or an enterprise
registered after its orders were imported, would leave those sales out of
the 판로지원 실적 for good. Staff attach them here, every order of that seller
at once, in one UPDATE, audited with the count. No Flask request in here.

Later imports do not remember the choice (no seller alias is stored): staff
correct the enterprise's name or shop link so that new files match."""

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from market.audit.services import record
from market.core.rules import RuleError
from market.customers.models import Order
from market.extensions import db
from market.vendors.models import LIVE, Vendor

MAX_ID = 2**31 - 1


class SellerRuleError(RuleError):
    """A refused attachment: nothing was changed."""


@dataclass(frozen=True)
class SellerOrders:
    """An unmatched seller's orders, over all time."""

    seller_name: str
    orders: int
    total: int


def unmatched_orders(seller_name: str | None) -> SellerOrders | None:
    """The seller's orders not attached to any enterprise; None when there
    are none (an unknown seller, or one already attached)."""
    name = _valid_name(seller_name)
    if name is None:
        return None
    orders, total = db.session.execute(
        select(func.count(Order.id), func.coalesce(func.sum(Order.amount), 0)).where(
            Order.vendor_id.is_(None), Order.seller_name == name
        )
    ).one()
    return SellerOrders(name, orders, int(total)) if orders else None


def live_enterprises() -> list[tuple[int, str]]:
    """(id, name) of the enterprises orders may be attached to, by name."""
    query = select(Vendor.id, Vendor.name).where(Vendor.status.in_(LIVE))
    return [tuple(row) for row in db.session.execute(query.order_by(Vendor.name, Vendor.id))]


def attach_seller(seller_name: str | None, vendor_id, actor) -> tuple[Vendor, int]:
    """Every order of `seller_name` without an enterprise now belongs to the
    live enterprise `vendor_id`; the enterprise and the number of orders.
    Orders already attached to an enterprise are never moved."""
    name = _valid_name(seller_name)
    if name is None:
        raise SellerRuleError({"seller": _no_orders_message()})
    vendor = chosen_enterprise(vendor_id)
    attached = db.session.execute(
        update(Order)
        .where(Order.vendor_id.is_(None), Order.seller_name == name)
        .values(vendor_id=vendor.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not attached:  # attached meanwhile by someone else, or never there
        raise SellerRuleError({"seller": _no_orders_message()})
    record(
        actor,
        "customers.attach_seller",
        vendor,
        after={"seller_name": name, "orders_attached": attached},
    )
    return vendor, attached


def _valid_name(seller_name: str | None) -> str | None:
    """The name as orders store it, or None for one no order can have (a
    NUL, which PostgreSQL refuses in text, or longer than the column)."""
    if not seller_name or "\x00" in seller_name:
        return None
    if len(seller_name) > Order.__table__.c.seller_name.type.length:
        return None
    return seller_name


def chosen_enterprise(vendor_id) -> Vendor:
    """The live enterprise a form names (any text), or a refusal."""
    try:
        number = int(vendor_id)
    except (TypeError, ValueError):
        number = 0
    vendor = db.session.get(Vendor, number) if 0 < number <= MAX_ID else None
    if vendor is None or vendor.status not in LIVE:
        raise SellerRuleError(
            {
                "vendor_id": _(
                    "Choose an approved enterprise from the list: orders can be connected "
                    "only to an enterprise that is approved (or suspended)."
                )
            }
        )
    return vendor


def _no_orders_message() -> str:
    return _(
        "This seller has no orders without an enterprise (they may have been connected "
        "already); nothing was changed."
    )
