"""indexes for the invitation counts and list

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 11:30:00

A campaign of 10,000 invitations to one market: the invitations page
listed them newest first by sorting all of them for each page of 50
(ix_invitations_market_created reads one page in order), and the
dashboard's and the page's counts read each mail's status and bounce from
its outbox row, which on SQLite sit after the MIME bytes, so every
overflow page of every mail was read (ix_outbox_messages_mail_state holds
them; the counts name it on SQLite, market.core.indexhints).
"""

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_invitations_market_created", "invitations", ["market_id", "created_at", "id"]
    )
    op.create_index(
        "ix_outbox_messages_mail_state",
        "outbox_messages",
        ["id", "status", "category", "bounced_at"],
    )


def downgrade():
    op.drop_index("ix_outbox_messages_mail_state", table_name="outbox_messages")
    op.drop_index("ix_invitations_market_created", table_name="invitations")
