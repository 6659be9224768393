"""upload storage: the bytes of an uploaded order file, in the database

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 05:00:00

An uploaded order file was saved in the instance folder of the web host that
received it, which no worker on another host can read, and it stayed there
after the import. Its bytes now live in rows of about a megabyte keyed by
the job and a sequence number, deleted when the job ends (and with the job:
ON DELETE CASCADE).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "customer_import_chunks",
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["customer_imports.id"],
            name=op.f("fk_customer_import_chunks_import_id_customer_imports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("import_id", "seq", name=op.f("pk_customer_import_chunks")),
    )


def downgrade():
    op.drop_table("customer_import_chunks")
