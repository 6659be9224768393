"""URL converters for every route of the app.

Werkzeug's `int` converter takes any run of digits, so `/markets/2147483648`
reached the database with a number no id column can hold: PostgreSQL's
`integer` stops at 2**31 - 1 and SQLite's at 2**63 - 1, and both answered
with an error (a 500) instead of "no such page". The bounded converter below
replaces `int` app-wide, so every `<int:...>` route answers 404 for a number
no row can have, before any query runs."""

from flask import Flask
from werkzeug.routing import IntegerConverter

# The largest id both databases can store (PostgreSQL's `integer`).
MAX_ID = 2**31 - 1


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` limited to 0..MAX_ID unless the route sets its own max."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def register_converters(app: Flask) -> None:
    """Must run before any blueprint is registered: a rule picks its
    converter when it is added to the map."""
    app.url_map.converters["int"] = BoundedIntConverter


def parse_id(value: str | None) -> int | None:
    """An id from a query argument (`?preview=12`), or None when it is not a
    number or one no row can have."""
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if 0 <= number <= MAX_ID else None
