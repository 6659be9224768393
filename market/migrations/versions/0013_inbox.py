"""inbox: the center's mailbox read over IMAP, bounces and undeliverable addresses

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 05:05:00

`flask inbox poll` reads the center's mailbox. inbox_folders keeps where
reading stopped in each folder (UIDVALIDITY, last UID); inbox_messages is
one message handled (unique by its place in the folder, which is the claim
two pollers race for, and by Message-ID, so a copy never takes effect
twice); inbox_bounces is one failed recipient of a delivery report, hashed
like the suppression list. A permanent bounce adds the address to the
suppression list as "undeliverable" with the date and the server's words
(suppressions.bounced_at, bounce_diagnostic); the outbox message it
returned is marked (outbox_messages.bounced_at).
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

KINDS = ("calendar_reply", "bounce", "auto_reply", "other", "unparseable")
OUTCOMES = ("applied", "not_applied", "ignored", "failed")
FILINGS = ("pending", "moved", "flagged")


def upgrade():
    op.create_table(
        "inbox_folders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=True),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.Column("checked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_folders")),
        sa.UniqueConstraint("name", name=op.f("uq_inbox_folders_name")),
    )
    op.create_table(
        "inbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("folder", sa.String(length=200), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("uid", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.String(length=500), nullable=True),
        sa.Column("duplicate_of_id", sa.Integer(), nullable=True),
        sa.Column("from_address", sa.String(length=320), nullable=True),
        sa.Column("subject", sa.String(length=500), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                *KINDS, name="messagekind", native_enum=False, create_constraint=True, length=16
            ),
            nullable=False,
        ),
        sa.Column(
            "outcome",
            sa.Enum(
                *OUTCOMES, name="outcome", native_enum=False, create_constraint=True, length=16
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("handled_at", sa.DateTime(), nullable=False),
        sa.Column("handled_by", sa.String(length=100), nullable=True),
        sa.Column(
            "filing",
            sa.Enum(*FILINGS, name="filing", native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of_id"],
            ["inbox_messages.id"],
            name=op.f("fk_inbox_messages_duplicate_of_id_inbox_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_messages")),
        sa.UniqueConstraint("folder", "uidvalidity", "uid", name="uq_inbox_messages_place"),
        sa.UniqueConstraint("message_id", name=op.f("uq_inbox_messages_message_id")),
    )
    with op.batch_alter_table("inbox_messages", schema=None) as batch_op:
        batch_op.create_index("ix_inbox_messages_filing", ["folder", "filing"], unique=False)
        batch_op.create_index(
            "ix_inbox_messages_outcome_handled", ["outcome", "handled_at"], unique=False
        )
    op.create_table(
        "inbox_bounces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inbox_message_id", sa.Integer(), nullable=False),
        sa.Column("email_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("permanent", sa.Boolean(), nullable=False),
        sa.Column("diagnostic", sa.Text(), nullable=True),
        sa.Column("outbox_message_id", sa.Integer(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inbox_message_id"],
            ["inbox_messages.id"],
            name=op.f("fk_inbox_bounces_inbox_message_id_inbox_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["outbox_message_id"],
            ["outbox_messages.id"],
            name=op.f("fk_inbox_bounces_outbox_message_id_outbox_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_bounces")),
    )
    with op.batch_alter_table("inbox_bounces", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inbox_bounces_email_hash", ["email_hash", "occurred_at"], unique=False
        )
    with op.batch_alter_table("suppressions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bounced_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("bounce_diagnostic", sa.Text(), nullable=True))
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bounced_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_column("bounced_at")
    with op.batch_alter_table("suppressions", schema=None) as batch_op:
        batch_op.drop_column("bounce_diagnostic")
        batch_op.drop_column("bounced_at")
    with op.batch_alter_table("inbox_bounces", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_bounces_email_hash")
    op.drop_table("inbox_bounces")
    with op.batch_alter_table("inbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_messages_outcome_handled")
        batch_op.drop_index("ix_inbox_messages_filing")
    op.drop_table("inbox_messages")
    op.drop_table("inbox_folders")
