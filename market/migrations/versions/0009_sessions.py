"""users: a session token that ends every session of a user at once

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 05:00:00

Flask-Login keeps `User.get_id()` in the session and in the remember-me
cookie; it is now the id and this token, and the loader refuses a cookie
whose token is not the user's current one. Logging out, changing or setting
a password and disabling the user give the user a new token, so every
session and remember-me cookie made before stops working. Existing users get
a random token each; their current sessions (made with the id alone) end once.
"""

import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_token", sa.String(length=64), nullable=True))
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("session_token", sa.String))
    connection = op.get_bind()
    for (user_id,) in connection.execute(sa.select(users.c.id)).all():
        connection.execute(
            users.update()
            .where(users.c.id == user_id)
            .values(session_token=secrets.token_urlsafe(32))
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("session_token", existing_type=sa.String(length=64), nullable=False)


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_token")
