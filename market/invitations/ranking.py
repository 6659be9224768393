"""The best online customers for one market, to invite: one SQL aggregate.

Only customers who may receive advertising (market.customers.consent) can
appear, and optionally none invited lately (nor held back as a control
group lately: market.invitations.effect says why); ties break on total, then order
count, then customer id, so the same data always gives the same list."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import BigInteger, and_, cast, exists, func, select

from market.customers.consent import may_receive_advertising
from market.customers.models import Customer, Order
from market.extensions import db
from market.invitations.models import ControlCustomer, Invitation, InvitationSend
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


def ranking_query(market: Market, options: RankingOptions, now: datetime, presorted: bool = True):
    """Sums each customer's orders in the window, then goes down the sums,
    biggest first, keeping the customers who may be invited until N are kept.

    The sums come from the covering index on orders (window, customer,
    amount) alone. Who may be invited is checked per summed customer (a
    primary-key lookup and a suppression probe), no longer by matching every
    order against the set of all invitable customers: building that set read
    the whole customers table on every ranking (2.4x the bare aggregate at
    scale 1, benchmarks/results.md).

    `presorted` (for PostgreSQL) sorts the sums inside `spend` in the order
    the outer query asks for: PostgreSQL then reads them through a nested
    loop and stops after about N customers instead of checking every buyer.
    SQLite cannot use that order and would only sort twice, so it goes
    without. The date of the last order is looked up for the N kept only
    (ix_orders_customer_ordered), not carried through the whole aggregate.
    The sum is cast to bigint: whole won, and numeric sorts slower."""
    total = cast(func.sum(Order.amount), BigInteger).label("total")
    orders = func.count().label("orders")
    conditions = [
        Order.ordered_at >= now - timedelta(days=options.window_days),
        Order.ordered_at <= now,
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
    spend = (
        select(Order.customer_id, total, orders)
        .where(*conditions)
        .group_by(Order.customer_id)
        .having(func.count() >= options.min_orders)
    )
    if presorted:
        spend = spend.order_by(total.desc(), orders.desc(), Order.customer_id)
    spend = spend.subquery("spend")
    eligible = [may_receive_advertising()]
    if options.skip_invited_weeks:
        since = now - timedelta(weeks=options.skip_invited_weeks)
        eligible.append(
            ~exists().where(
                and_(Invitation.customer_id == Customer.id, Invitation.created_at >= since)
            )
        )
        # Held back in those weeks counts as invited: otherwise a market's
        # control customers would be invited to the next market inside its
        # "after" window more often than its invited ones, bending the
        # comparison (market.invitations.effect).
        eligible.append(
            ~exists().where(
                and_(
                    ControlCustomer.customer_id == Customer.id,
                    InvitationSend.id == ControlCustomer.send_id,
                    InvitationSend.sent_at >= since,
                )
            )
        )
    top = (
        select(Customer.id, Customer.name, Customer.email, spend.c.total, spend.c.orders)
        .join(spend, spend.c.customer_id == Customer.id)
        .where(*eligible)
        .order_by(spend.c.total.desc(), spend.c.orders.desc(), spend.c.customer_id)
        .limit(options.top_n)
        .subquery("top")
    )
    last_order_at = (
        select(func.max(Order.ordered_at))
        .where(Order.customer_id == top.c.id, *conditions)
        .scalar_subquery()
        .label("last_order_at")
    )
    return select(
        top.c.id, top.c.name, top.c.email, top.c.total, top.c.orders, last_order_at
    ).order_by(top.c.total.desc(), top.c.orders.desc(), top.c.id)


def rank_customers(market: Market, options: RankingOptions, now: datetime) -> list[RankedCustomer]:
    presorted = db.session.get_bind().dialect.name == "postgresql"
    rows = db.session.execute(ranking_query(market, options, now, presorted)).all()
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
