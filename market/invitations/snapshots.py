"""The customer ranking of a market, computed when staff ask for it and kept
as a snapshot that the invitations page reads.

Ranking sums ten years of orders (seconds on the production data), so the
page cannot rank on every view. `compute` ranks and replaces the snapshot of
the market and options; `latest` reads it back in two queries whatever the
number of orders. Who may receive advertising is read live with the rows
(and checked once more when sending): a snapshot is never trusted for
consent. The caller commits."""

from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import and_, delete, insert, select
from sqlalchemy.exc import IntegrityError

from market.accounts.models import User
from market.customers.consent import may_receive_advertising
from market.customers.models import Customer, CustomerImport, ImportStatus
from market.extensions import db
from market.invitations.models import RankingSnapshot, RankingSnapshotRow
from market.invitations.ranking import RankedCustomer, RankingOptions, rank_customers
from market.markets.models import Market

# RankingOptions field -> RankingSnapshot column: the snapshot's key.
OPTION_COLUMNS = {f.name: getattr(RankingSnapshot, f.name) for f in fields(RankingOptions)}


@dataclass(frozen=True)
class Snapshot:
    id: int
    computed_at: datetime
    computed_by: str | None
    imported_since: datetime | None  # an order import finished after computed_at
    rows: list[RankedCustomer]  # those who may still get advertising, by rank
    left_out: int  # ranked then, but no longer accepting advertising


def _same_options(market: Market, options: RankingOptions):
    return and_(
        RankingSnapshot.market_id == market.id,
        *(column == getattr(options, name) for name, column in OPTION_COLUMNS.items()),
    )


def _delete_previous(market: Market, options: RankingOptions) -> None:
    # Rows first: SQLite does not enforce ON DELETE CASCADE here.
    same = select(RankingSnapshot.id).where(_same_options(market, options))
    db.session.execute(delete(RankingSnapshotRow).where(RankingSnapshotRow.snapshot_id.in_(same)))
    db.session.execute(delete(RankingSnapshot).where(_same_options(market, options)))


def compute(market: Market, options: RankingOptions, actor, now: datetime) -> bool:
    """Ranks now and replaces the market's snapshot for these options.

    False when another request saved one for the same options meanwhile
    (the unique constraint refused ours): theirs is as fresh, so it stays
    the only one and the caller shows it."""
    ranked = rank_customers(market, options, now)
    try:
        with db.session.begin_nested():
            _delete_previous(market, options)
            snapshot = RankingSnapshot(
                market_id=market.id,
                computed_at=now,
                computed_by_id=getattr(actor, "id", None),
                **{name: getattr(options, name) for name in OPTION_COLUMNS},
            )
            db.session.add(snapshot)
            db.session.flush()
            if ranked:
                db.session.execute(
                    insert(RankingSnapshotRow),
                    [
                        {
                            "snapshot_id": snapshot.id,
                            "rank": row.rank,
                            "customer_id": row.customer_id,
                            "total": row.total,
                            "orders": row.orders,
                            "last_order_at": row.last_order_at,
                        }
                        for row in ranked
                    ],
                )
    except IntegrityError:
        return False
    return True


def latest(market: Market, options: RankingOptions) -> Snapshot | None:
    """The snapshot of the market for these options, with the customers'
    current names; customers who no longer accept advertising (unsubscribed
    or suppressed since) are left out and counted. Two queries."""
    imported_since = (
        select(CustomerImport.finished_at)
        .where(
            CustomerImport.status == ImportStatus.DONE,
            CustomerImport.finished_at > RankingSnapshot.computed_at,
        )
        .order_by(CustomerImport.finished_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    head = db.session.execute(
        select(
            RankingSnapshot.id,
            RankingSnapshot.computed_at,
            User.name,
            imported_since.label("imported_since"),
        )
        .outerjoin(User, User.id == RankingSnapshot.computed_by_id)
        .where(_same_options(market, options))
    ).first()
    if head is None:
        return None
    rows = db.session.execute(
        select(
            RankingSnapshotRow.rank,
            Customer.id,
            Customer.name,
            Customer.email,
            RankingSnapshotRow.total,
            RankingSnapshotRow.orders,
            RankingSnapshotRow.last_order_at,
            may_receive_advertising().label("may_advertise"),
        )
        .join(Customer, Customer.id == RankingSnapshotRow.customer_id)
        .where(RankingSnapshotRow.snapshot_id == head.id)
        .order_by(RankingSnapshotRow.rank)
    ).all()
    kept = [RankedCustomer(*row[:-1]) for row in rows if row.may_advertise]
    return Snapshot(
        id=head.id,
        computed_at=head.computed_at,
        computed_by=head.name,
        imported_since=head.imported_since,
        rows=kept,
        left_out=len(rows) - len(kept),
    )
