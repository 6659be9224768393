"""calendar answers: where an invitation's answer came from and what it was about

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 05:00:00

Customers now also answer from Gmail, Outlook or Apple Calendar (an iMIP
REPLY read from the center's mailbox), and may say "tentative". So that the
newest answer wins whichever way it came, an invitation keeps the source of
its answer, its stamp (the reply's DTSTAMP, or the time of a page answer)
and the SEQUENCE it answered, and a mark when that SEQUENCE was older than
the one the customer was last sent. Answers given before this migration
came from the page: they are filled in so.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

OLD_STATUSES = ("invited", "accepted", "declined")
NEW_STATUSES = (*OLD_STATUSES, "tentative")


def _status_check(statuses) -> str:
    return "status IN ({})".format(", ".join(f"'{value}'" for value in statuses))


def upgrade():
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "answer_source",
                sa.Enum(
                    "page",
                    "calendar",
                    name="answersource",
                    native_enum=False,
                    create_constraint=True,
                    length=16,
                ),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("answer_stamp", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("answer_sequence", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("answer_outdated", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.drop_constraint(op.f("ck_invitations_invitationstatus"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_invitations_invitationstatus"), _status_check(NEW_STATUSES)
        )
    op.execute(
        "UPDATE invitations SET answer_source = 'page', answer_stamp = answered_at,"
        " answer_sequence = sequence_sent WHERE answered_at IS NOT NULL"
    )


def downgrade():
    # A tentative answer has no place in the old schema: back to no answer.
    op.execute(
        "UPDATE invitations SET status = 'invited', answered_at = NULL WHERE status = 'tentative'"
    )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_invitations_invitationstatus"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_invitations_invitationstatus"), _status_check(OLD_STATUSES)
        )
        # SQLite's batch copy would keep the reflected CHECK of a dropped column.
        batch_op.drop_constraint(op.f("ck_invitations_answersource"), type_="check")
        batch_op.drop_column("answer_outdated")
        batch_op.drop_column("answer_sequence")
        batch_op.drop_column("answer_stamp")
        batch_op.drop_column("answer_source")
