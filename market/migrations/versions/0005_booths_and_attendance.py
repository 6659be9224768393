"""booths and attendance

Booths: one row per occupied booth, unique per (market, number) and per
(market, vendor). Applications gain a staff pin and a waitlist position.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 04:34:36.528733

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "booths",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("market_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(), nullable=False),
        sa.Column(
            "attendance",
            sa.Enum(
                "present",
                "no_show",
                name="attendance",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column("attendance_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "(attendance IS NULL) = (attendance_at IS NULL)",
            name=op.f("ck_booths_attendance_has_time"),
        ),
        sa.CheckConstraint("number BETWEEN 1 AND 10", name=op.f("ck_booths_booth_number_range")),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_booths_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["market_id"],
            ["markets.id"],
            name=op.f("fk_booths_market_id_markets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["vendors.id"],
            name=op.f("fk_booths_vendor_id_vendors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booths")),
        sa.UniqueConstraint("application_id", name=op.f("uq_booths_application_id")),
        sa.UniqueConstraint("market_id", "number", name="uq_booths_market_number"),
        sa.UniqueConstraint("market_id", "vendor_id", name="uq_booths_market_vendor"),
    )
    with op.batch_alter_table("booths", schema=None) as batch_op:
        batch_op.create_index("ix_booths_vendor_id", ["vendor_id"], unique=False)

    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pinned_booth", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("waitlist_position", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(
            "uq_applications_market_pinned_booth", ["market_id", "pinned_booth"]
        )
        batch_op.create_check_constraint(
            op.f("ck_applications_pinned_booth_range"), "pinned_booth BETWEEN 1 AND 10"
        )
        batch_op.create_check_constraint(
            op.f("ck_applications_waitlist_position_positive"), "waitlist_position >= 1"
        )


def downgrade():
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_applications_waitlist_position_positive"), type_="check")
        batch_op.drop_constraint(op.f("ck_applications_pinned_booth_range"), type_="check")
        batch_op.drop_constraint("uq_applications_market_pinned_booth", type_="unique")
        batch_op.drop_column("waitlist_position")
        batch_op.drop_column("pinned_booth")

    with op.batch_alter_table("booths", schema=None) as batch_op:
        batch_op.drop_index("ix_booths_vendor_id")

    op.drop_table("booths")
