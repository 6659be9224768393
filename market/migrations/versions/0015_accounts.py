"""login sessions (one row per signed-in browser) and confirmed emails

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 05:40:00

login_sessions: every login makes a row; the session and remember-me cookie
name it (User.get_id()), so a user sees where they are signed in and can end
one browser's session; a deleted row ends that browser's session at its next
request. users.email_confirmed_at: an enterprise that signs up confirms its
address by a mailed link before its first login; every existing user is
taken as confirmed (staff made them, or they signed up before this check).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "login_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("browser", sa.String(length=100), nullable=False),
        sa.Column("ip_address", sa.String(length=45), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_login_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_sessions")),
        sa.UniqueConstraint("key", name=op.f("uq_login_sessions_key")),
    )
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_sessions_user_id"), ["user_id"], unique=False)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_confirmed_at", sa.DateTime(), nullable=True))
    users = sa.table(
        "users",
        sa.column("created_at", sa.DateTime()),
        sa.column("email_confirmed_at", sa.DateTime()),
    )
    op.execute(users.update().values(email_confirmed_at=users.c.created_at))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("email_confirmed_at")
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_sessions_user_id"))
    op.drop_table("login_sessions")
