"""import jobs: order-file imports are claimed and run by `flask worker`

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 05:05:00

Imports ran in a thread of the web process and died with it, leaving a job
"importing" for ever. The request now only records the job; a worker claims
it (claimed_by), says it is alive (heartbeat_at) and is replaced when it
stops saying so (takeovers counts how often). A write pass resumes after the
last part it committed (parts_done), with the counts written so far.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

COUNTERS = ("takeovers", "parts_done", "orders_written", "customers_written")


def upgrade():
    with op.batch_alter_table("customer_imports") as batch:
        batch.add_column(sa.Column("queued_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("requested_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(), nullable=True))
        for name in COUNTERS:
            batch.add_column(sa.Column(name, sa.Integer(), server_default="0", nullable=False))
        batch.create_foreign_key(
            op.f("fk_customer_imports_requested_by_id_users"),
            "users",
            ["requested_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("customer_imports") as batch:
        batch.drop_constraint(op.f("fk_customer_imports_requested_by_id_users"), type_="foreignkey")
        for name in reversed(COUNTERS):
            batch.drop_column(name)
        batch.drop_column("heartbeat_at")
        batch.drop_column("claimed_by")
        batch.drop_column("requested_by_id")
        batch.drop_column("queued_at")
