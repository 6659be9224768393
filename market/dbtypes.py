"""Column types shared by the models."""

import enum

from sqlalchemy import Date, Enum
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


def value_enum(cls: type[enum.Enum], length: int = 16) -> Enum:
    """A Python enum stored as its values (not its member names) in a
    VARCHAR with a CHECK constraint: the same on SQLite and PostgreSQL, and
    adding a member needs no ALTER TYPE."""
    return Enum(
        cls,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [m.value for m in members],
    )


class seoul_date(FunctionElement):
    """The Seoul calendar date of a stored UTC time (naive, see
    market.timeutil.UTCDateTime): the time plus nine hours. Korea has kept
    UTC+9 without daylight saving since 1988, so a fixed nine hours is exact
    for every date the app stores, and neither database needs a time-zone
    table. Immutable on both databases, so it may generate a column
    (orders.seoul_day) and be indexed."""

    type = Date()
    inherit_cache = True
    name = "seoul_date"


@compiles(seoul_date, "sqlite")
def _seoul_date_sqlite(element, compiler, **kw):
    # SQLite keeps the time as text 'YYYY-MM-DD HH:MM:SS[.ffffff]'.
    return f"date({compiler.process(element.clauses, **kw)}, '+9 hours')"


@compiles(seoul_date)
def _seoul_date_postgresql(element, compiler, **kw):
    # Written as PostgreSQL reflects it, so Alembic's comparison agrees.
    return f"({compiler.process(element.clauses, **kw)} + '09:00:00'::interval)::date"
