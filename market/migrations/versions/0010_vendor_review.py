"""vendor review: a live enterprise's change of name, number or category waits for staff

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 05:10:00

An approved enterprise's new name, business number or category showed
publicly and matched imported orders the moment it was saved. The request
now waits in vendor_changes (one row per enterprise at most: the unique
vendor_id) until staff approve it into the vendors row or reject it.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "vendor_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("business_number", sa.String(length=10), nullable=True),
        sa.Column(
            "category",
            sa.Enum(
                "food",
                "farm",
                "household",
                "clothing",
                "electronics",
                "crafts",
                "other",
                name="category",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "business_number IS NULL OR length(business_number) = 10",
            name=op.f("ck_vendor_changes_change_business_number_digits"),
        ),
        sa.CheckConstraint(
            "name IS NOT NULL OR business_number IS NOT NULL OR category IS NOT NULL",
            name=op.f("ck_vendor_changes_changes_something"),
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["vendors.id"],
            name=op.f("fk_vendor_changes_vendor_id_vendors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_changes")),
        sa.UniqueConstraint("vendor_id", name=op.f("uq_vendor_changes_vendor_id")),
    )


def downgrade():
    op.drop_table("vendor_changes")
