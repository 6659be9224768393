"""SQLite's INDEXED BY, through SQLAlchemy's per-table hints (`with_hint`),
which the SQLite dialect otherwise drops.

Why: SQLite reads a joined row's columns from the row itself when it finds
the row by its id, even where an index holds every column the query needs.
A column stored after a large value (an outbox mail's status after its
MIME bytes) then costs a walk through every overflow page of that value:
counting the mail states of 5,000 mails of 30 KB took 85 ms through the
rows and under 1 ms through ix_outbox_messages_mail_state. PostgreSQL
keeps large values apart (TOAST) and gets no hint."""

from sqlalchemy import FromClause, Select
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler


def _from_hint_text(self, table, text):
    return text


# The default compiler returns None here, dropping every hint for SQLite.
SQLiteCompiler.get_from_hint_text = _from_hint_text


def sqlite_index(statement: Select, table: FromClause, index: str) -> Select:
    """`statement` reading `table` through `index` on SQLite (the index must
    exist: SQLite refuses the statement otherwise)."""
    return statement.with_hint(table, f"INDEXED BY {index}", dialect_name="sqlite")
