"""when an invitation first reached its customer

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 09:00:00

An invitation's outbox_message_id moves on to its newest mail (a time or
place change queues an update), so the funnel's "delivered" followed only
the newest mail: an update still queued counted the invitation as not sent
yet, a failed one as failed, though the invitation itself had arrived.
invitations.delivered_at keeps when the mail server first accepted one of
its invitation or update mails; from now on the outbox worker's sent mark
sets it (market.invitations.listeners).

Backfill: the invitations whose currently linked mail was sent get that
mail's sent time. Older update chains are approximated: where the first
invitation was sent and a later update is still queued or failed, the
earlier mail is no longer linked, so such an invitation stays "not
delivered" (and where the linked update was sent, its time stands for the
first mail's, which was earlier).
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivered_at", sa.DateTime(), nullable=True))
    op.execute(
        "UPDATE invitations SET delivered_at = ("
        " SELECT outbox_messages.sent_at FROM outbox_messages"
        " WHERE outbox_messages.id = invitations.outbox_message_id)"
        " WHERE outbox_message_id IN ("
        " SELECT id FROM outbox_messages WHERE status = 'sent' AND sent_at IS NOT NULL)"
    )


def downgrade():
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_column("delivered_at")
