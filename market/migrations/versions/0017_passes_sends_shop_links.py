"""visitor passes, invitation sends with control groups, shop links reviewed

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 08:00:00

Each invitation carries a visitor pass: a 6-character code without
look-alike characters, unique within its market, and the time staff checked
the visitor in at the market. Invitations already sent get a code here (the
RSVP page shows it from now on).

Each "send invitations" is recorded with the ranking options it was chosen
with and the control group held back from it (share and random seed), so
the report can compare invited customers with customers never invited.

A vendor's new shop link waits for staff review like its name: the link
matches the marketplace's sellers to the vendor.
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# A copy of market.invitations.models.PASS_ALPHABET as it was when this ran.
PASS_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
OLD_CHANGE_CHECK = "name IS NOT NULL OR business_number IS NOT NULL OR category IS NOT NULL"
NEW_CHANGE_CHECK = OLD_CHANGE_CHECK + " OR shop_url IS NOT NULL"


def upgrade():
    op.create_table(
        "invitation_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("market_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.Column("top_n", sa.Integer(), nullable=True),
        sa.Column("window_days", sa.Integer(), nullable=True),
        sa.Column("assigned_vendors_only", sa.Boolean(), nullable=True),
        sa.Column("min_orders", sa.Integer(), nullable=True),
        sa.Column("skip_invited_weeks", sa.Integer(), nullable=True),
        sa.Column("control_percent", sa.Integer(), nullable=False),
        sa.Column("control_seed", sa.BigInteger(), nullable=True),
        sa.Column("chosen", sa.Integer(), nullable=False),
        sa.Column("invited", sa.Integer(), nullable=False),
        sa.Column("held_back", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "chosen >= 0 AND invited >= 0 AND held_back >= 0",
            name=op.f("ck_invitation_sends_counts_not_negative"),
        ),
        sa.CheckConstraint(
            "control_percent = 0 OR control_seed IS NOT NULL",
            name=op.f("ck_invitation_sends_control_seeded"),
        ),
        sa.CheckConstraint(
            "control_percent BETWEEN 0 AND 50",
            name=op.f("ck_invitation_sends_control_percent_range"),
        ),
        sa.ForeignKeyConstraint(
            ["market_id"],
            ["markets.id"],
            name=op.f("fk_invitation_sends_market_id_markets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sent_by_id"],
            ["users.id"],
            name=op.f("fk_invitation_sends_sent_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitation_sends")),
    )
    op.create_index("ix_invitation_sends_market", "invitation_sends", ["market_id"])

    op.create_table(
        "control_customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("send_id", sa.Integer(), nullable=False),
        sa.Column("market_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_control_customers_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["market_id"],
            ["markets.id"],
            name=op.f("fk_control_customers_market_id_markets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["send_id"],
            ["invitation_sends.id"],
            name=op.f("fk_control_customers_send_id_invitation_sends"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_control_customers")),
        sa.UniqueConstraint(
            "market_id", "customer_id", name="uq_control_customers_market_customer"
        ),
    )
    op.create_index("ix_control_customers_customer", "control_customers", ["customer_id"])

    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pass_code", sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column("visited_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("visited_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("send_id", sa.Integer(), nullable=True))
    _give_passes()
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.alter_column("pass_code", existing_type=sa.String(length=6), nullable=False)
        batch_op.create_unique_constraint(
            "uq_invitations_market_pass_code", ["market_id", "pass_code"]
        )
        batch_op.create_check_constraint(
            op.f("ck_invitations_pass_code_length"), "length(pass_code) = 6"
        )
        batch_op.create_check_constraint(
            op.f("ck_invitations_visit_has_time"),
            "visited_by_id IS NULL OR visited_at IS NOT NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_invitations_send_id_invitation_sends"),
            "invitation_sends",
            ["send_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_invitations_visited_by_id_users"),
            "users",
            ["visited_by_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("vendor_changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shop_url", sa.String(length=500), nullable=True))
        batch_op.drop_constraint(op.f("ck_vendor_changes_changes_something"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_vendor_changes_changes_something"), NEW_CHANGE_CHECK
        )


def _give_passes():
    """A code for every invitation already sent, unique within its market."""
    connection = op.get_bind()
    invitations = sa.table(
        "invitations",
        sa.column("id", sa.Integer),
        sa.column("market_id", sa.Integer),
        sa.column("pass_code", sa.String),
    )
    used: dict[int, set[str]] = {}
    rows = connection.execute(sa.select(invitations.c.id, invitations.c.market_id)).all()
    for invitation_id, market_id in rows:
        taken = used.setdefault(market_id, set())
        code = _new_code()
        while code in taken:
            code = _new_code()
        taken.add(code)
        connection.execute(
            invitations.update().where(invitations.c.id == invitation_id).values(pass_code=code)
        )


def _new_code() -> str:
    return "".join(secrets.choice(PASS_ALPHABET) for _ in range(6))


def downgrade():
    op.execute("DELETE FROM vendor_changes WHERE " + f"NOT ({OLD_CHANGE_CHECK})")
    with op.batch_alter_table("vendor_changes", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_vendor_changes_changes_something"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_vendor_changes_changes_something"), OLD_CHANGE_CHECK
        )
        batch_op.drop_column("shop_url")

    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_invitations_visited_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_invitations_send_id_invitation_sends"), type_="foreignkey"
        )
        batch_op.drop_constraint(op.f("ck_invitations_visit_has_time"), type_="check")
        batch_op.drop_constraint(op.f("ck_invitations_pass_code_length"), type_="check")
        batch_op.drop_constraint("uq_invitations_market_pass_code", type_="unique")
        batch_op.drop_column("send_id")
        batch_op.drop_column("visited_by_id")
        batch_op.drop_column("visited_at")
        batch_op.drop_column("pass_code")

    op.drop_index("ix_control_customers_customer", table_name="control_customers")
    op.drop_table("control_customers")
    op.drop_index("ix_invitation_sends_market", table_name="invitation_sends")
    op.drop_table("invitation_sends")
