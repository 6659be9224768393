"""customer search: indexes for the staff's search by name, email or phone

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 06:00:00

The customer page's search matches the start of a name or an email, or a
phone number (whole or its beginning). On PostgreSQL a LIKE 'prefix%' uses
a b-tree only with the pattern operator class (the database's collation is
not C), so these indexes name it; on SQLite they are plain indexes.
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_customers_name_prefix": "name",
    "ix_customers_email_prefix": "email",
    "ix_customers_phone_prefix": "phone",
}


def upgrade():
    for name, column in INDEXES.items():
        op.create_index(name, "customers", [column], postgresql_ops={column: "varchar_pattern_ops"})


def downgrade():
    for name in INDEXES:
        op.drop_index(name, table_name="customers")
