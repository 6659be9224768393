"""orders: a covering index for the customer ranking

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 05:00:00

The ranking sums each customer's orders in a date window. With only
(ordered_at) indexed, every order in the window cost a lookup of its row for
customer_id and amount; (ordered_at, customer_id, amount) answers the whole
aggregate from the index (benchmarks/results.md). It starts with ordered_at,
so it also serves everything the old ix_orders_ordered_at served, which it
replaces.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_orders_ordered_customer_amount",
            ["ordered_at", "customer_id", "amount"],
            unique=False,
        )
        batch_op.drop_index("ix_orders_ordered_at")


def downgrade():
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_ordered_at", ["ordered_at"], unique=False)
        batch_op.drop_index("ix_orders_ordered_customer_amount")
