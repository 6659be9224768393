"""The orders half of a period's 판로지원 실적, stored in the database
(market.sales.models.OnlineSnapshot) so that every web worker and the app
after a restart read it instead of counting two years of orders again; the
background worker counts the default periods as soon as an order import is
done (`warm`), so staff rarely wait for a first look at all.

A stored half is used only under the fingerprint it was counted under (the
orders half's, market.sales.cache): a new order, an import, purge or
attached seller, or an enterprise deleted, and it is counted again. Written
through a connection of its own, so a report page (a GET) commits nothing
of its request; a race between two workers storing the same period ends
with one row, either being as fresh."""

from datetime import date

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError

from market.extensions import db
from market.sales.figures import OnlinePart
from market.sales.models import OnlineSnapshot
from market.timeutil import utcnow


def fingerprint_text(online_key: tuple) -> str:
    return "|".join("" if value is None else str(value) for value in online_key)


def stored_fingerprint(start: date, end: date):
    """A scalar subquery: the fingerprint the period's stored half was
    counted under (read with the fingerprints, in their statement)."""
    return (
        select(OnlineSnapshot.fingerprint)
        .where(OnlineSnapshot.start_date == start, OnlineSnapshot.end_date == end)
        .scalar_subquery()
    )


def load(start: date, end: date, fingerprint: str) -> OnlinePart | None:
    """The stored half of the period under this fingerprint, or None."""
    figures = db.session.scalar(
        select(OnlineSnapshot.figures).where(
            OnlineSnapshot.start_date == start,
            OnlineSnapshot.end_date == end,
            OnlineSnapshot.fingerprint == fingerprint,
        )
    )
    return None if figures is None else OnlinePart.from_json(figures)


def store(start: date, end: date, fingerprint: str, part: OnlinePart) -> None:
    """Replaces the period's stored half, in one statement and a
    transaction of its own."""
    values = {
        "start_date": start,
        "end_date": end,
        "fingerprint": fingerprint,
        "computed_at": utcnow(),
        "figures": part.to_json(),
    }
    insert = postgresql_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    statement = insert(OnlineSnapshot).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[OnlineSnapshot.start_date, OnlineSnapshot.end_date],
        set_={name: statement.excluded[name] for name in ("fingerprint", "computed_at", "figures")},
    )
    try:
        with db.engine.begin() as connection:
            connection.execute(statement)
    except OperationalError as error:
        # Storing only saves the next worker a count: a busy database (SQLite
        # locked by a long import chunk) must not fail the page that counted.
        current_app.logger.warning("sales: orders half not stored: %s", error)


def drop_stale(fingerprint: str) -> int:
    """Deletes the halves counted under another fingerprint: never of use
    again (a fingerprint only moves on). The worker's tidying; commits."""
    with db.engine.begin() as connection:
        return connection.execute(
            delete(OnlineSnapshot).where(OnlineSnapshot.fingerprint != fingerprint)
        ).rowcount
