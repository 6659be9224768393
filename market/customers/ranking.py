"""The best online customers for one market: one SQL aggregate.

Only customers with recorded consent who have not unsubscribed and are not
on the suppression list can appear; ties break on total, then order count,
then customer id, so the same data always gives the same list."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, select

from market.customers.models import Customer, Order, Suppression
from market.extensions import db
from market.invitations.models import Invitation
from market.markets.models import Market
from market.vendors.models import Application, ApplicationStatus


@dataclass(frozen=True)
class RankingOptions:
    top_n: int = 50
    window_days: int = 365
    assigned_vendors_only: bool = False
    min_orders: int = 1
    skip_invited_weeks: int = 0


@dataclass(frozen=True)
class RankedCustomer:
    rank: int
    customer_id: int
    name: str
    email: str
    total: int
    orders: int
    last_order_at: datetime


def ranking_query(market: Market, options: RankingOptions, now: datetime):
    total = func.sum(Order.amount).label("total")
    orders = func.count(Order.id).label("orders")
    conditions = [
        Order.ordered_at >= now - timedelta(days=options.window_days),
        Order.ordered_at <= now,
        Customer.consent.is_(True),
        Customer.unsubscribed_at.is_(None),
        ~exists().where(Suppression.email_hash == Customer.email_hash),
    ]
    if options.assigned_vendors_only:
        conditions.append(
            Order.vendor_id.in_(
                select(Application.vendor_id).where(
                    Application.market_id == market.id,
                    Application.status == ApplicationStatus.ASSIGNED,
                )
            )
        )
    if options.skip_invited_weeks:
        since = now - timedelta(weeks=options.skip_invited_weeks)
        conditions.append(
            ~exists().where(
                and_(Invitation.customer_id == Customer.id, Invitation.created_at >= since)
            )
        )
    return (
        select(
            Customer.id,
            Customer.name,
            Customer.email,
            total,
            orders,
            func.max(Order.ordered_at).label("last_order_at"),
        )
        .join(Order, Order.customer_id == Customer.id)
        .where(*conditions)
        .group_by(Customer.id, Customer.name, Customer.email)
        .having(func.count(Order.id) >= options.min_orders)
        .order_by(total.desc(), orders.desc(), Customer.id)
        .limit(options.top_n)
    )


def rank_customers(market: Market, options: RankingOptions, now: datetime) -> list[RankedCustomer]:
    rows = db.session.execute(ranking_query(market, options, now)).all()
    return [
        RankedCustomer(
            rank, row.id, row.name, row.email, int(row.total), row.orders, _aware(row.last_order_at)
        )
        for rank, row in enumerate(rows, start=1)
    ]


def _aware(value):
    """max() over our UTC column comes back through the column type already,
    but be explicit for drivers that return it raw."""
    from datetime import UTC

    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)
