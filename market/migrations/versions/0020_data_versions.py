"""data versions for whole-page caches

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 11:20:00

One row per kind of data a cached public or RSVP page shows, given a new
random value in the same transaction as every change to that data
(market.core.versions): the page cache keys on it, so no worker or host
serves a page older than the data. No rows to start with: a version never
moved reads as none.
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "data_versions",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_data_versions")),
    )


def downgrade():
    op.drop_table("data_versions")
