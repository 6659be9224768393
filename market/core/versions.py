"""Data versions: one small row per kind of data a cached page shows
("public": markets, venues, booths, enterprises, applications; the areas
say which tables belong to which), given a new random value in the same
transaction as every change to those tables. A page cached under the value
it read is therefore never shown once the change is committed, in any
worker on any host, and reading the value is one primary-key SELECT
(market.core.pagecache).

What moves a version:
- the ORM: a flush that adds, changes or deletes a row of a watched table
  (after_flush), and an UPDATE, DELETE or INSERT statement on one run
  through the session (bulk statements skip the flush events);
- anything else that writes such a table on a connection of its own calls
  `changed(connection, table)` itself (the order file import's SQL does).
A change made by hand in the database moves nothing: cached pages of the
old data stay until they expire (CACHE_DEFAULT_TIMEOUT) or `flask cache clear`.

The value is random, not a counter: a counter restarts when its row is
deleted (tests empty every table), and a restarted counter would meet
pages cached under the same number in a shared cache (Redis) before. The
value is written when the transaction is about to commit, so the row is
locked only for the commit itself, not for a long import or send."""

import os
import secrets
from collections.abc import Iterable

from flask import current_app
from sqlalchemy import URL, BigInteger, Engine, String, Table, create_engine, event, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from market.extensions import db

# Scopes each watched table belongs to (filled by `watch`).
_SCOPES_OF: dict[str, frozenset[str]] = {}
PENDING = "data_versions_pending"  # session.info: scopes to move at commit
COMMITTING = "data_versions_committing"  # session.info: inside before_commit


class DataVersion(db.Model):
    __tablename__ = "data_versions"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


def watch(scope: str, *tables: Table) -> None:
    """Every change to `tables` moves the version `scope`. Each area that
    caches pages says here which tables its pages show."""
    for table in tables:
        _SCOPES_OF[table.name] = _SCOPES_OF.get(table.name, frozenset()) | {scope}


# The logged-in pages (market.core.signed_in_pages) show almost
# everything, so their scope watches every table but these, each named with
# why no kept page depends on it. A table added later is watched unless it
# is named here: a page can be kept too briefly, never too long.
STAFF = "staff"
NOT_SHOWN_ON_STAFF_PAGES = {
    "login_sessions": "touched every few minutes by each signed-in browser; no report shows it",
    "data_versions": "the versions themselves",
    "sales_online_snapshots": "derived from orders; 판로지원 실적 checks its own fingerprint",
    "customer_import_chunks": "an import's progress in flight; its page is never kept",
    "inbox_folders": "where reading the center's mailbox stopped, written at every poll",
}


def watch_all(scope: str, exclude: dict[str, str]) -> None:
    """Every table of the app's models moves `scope`, but those in
    `exclude` (name -> why no page of the scope shows it). Called by the app
    factory once every model is imported."""
    watch(scope, *(table for table in db.metadata.sorted_tables if table.name not in exclude))


def scopes_of(tables: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for name in tables:
        found |= _SCOPES_OF.get(name, frozenset())
    return found


# One small engine per database for reading versions: autocommit and no
# pre-ping, so a read is a single round trip (the app's engine pings on each
# checkout and wraps the read in a transaction: three). Measured in-process
# on PostgreSQL: 53 µs against 160 µs through a raw connection of the app's
# engine and 400 µs through the session; a Redis GET took 70 µs.
_READERS: dict[URL, Engine] = {}
_READ = "SELECT version FROM data_versions WHERE name = '{scope}'"


def _reader() -> Engine:
    url = db.engine.url
    engine = _READERS.get(url)
    if engine is None:
        # The app's own connection arguments (TLS for PostgreSQL, SQLite's
        # timeout), so this engine reaches the database as the app's does.
        options = current_app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}
        engine = _READERS[url] = create_engine(
            url,
            isolation_level="AUTOCOMMIT",
            pool_size=2,
            connect_args=options.get("connect_args", {}),
        )
    return engine


def _forget_in_child() -> None:
    """A forked worker (gunicorn) must not share its parent's connections."""
    for engine in _READERS.values():
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_in_child)


def current(scope: str) -> int | None:
    """The version of `scope`; None while it was never moved (no row)."""
    if not scope.isidentifier():
        raise ValueError(scope)
    engine = _reader()
    for attempt in (1, 2):
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(_READ.format(scope=scope))
            row = cursor.fetchone()
            cursor.close()
            return row[0] if row else None
        except engine.dialect.loaded_dbapi.Error:
            connection.invalidate()  # the server restarted: a new connection, once
            if attempt == 2:
                raise
        finally:
            connection.close()
    return None


# g's name for the staff version the login loader read in its own statement.
READ_WITH_LOGIN = "staff_version_read_with_login"


def read_with(scope: str):
    """The version of `scope` as a column of another statement (the login
    loader's): read in the same snapshot as that statement's rows."""
    return (
        select(DataVersion.version).where(DataVersion.name == scope).scalar_subquery().label(scope)
    )


def current_many(scopes: tuple[str, ...]) -> tuple[int, ...] | None:
    """The versions of `scopes` in one round trip; None when any of them was
    never moved (a freshly seeded or emptied database: nothing may be kept
    or served under it)."""
    if not all(scope.isidentifier() for scope in scopes):
        raise ValueError(scopes)
    if len(scopes) == 1:
        version = current(scopes[0])
        return None if version is None else (version,)
    names = ", ".join(f"'{scope}'" for scope in scopes)
    engine = _reader()
    with engine.connect() as connection:
        found = dict(
            connection.exec_driver_sql(
                f"SELECT name, version FROM data_versions WHERE name IN ({names})"
            ).all()
        )
    if len(found) < len(scopes):
        return None
    return tuple(found[scope] for scope in scopes)


def changed(connection, *tables: Table | str) -> None:
    """For code that writes a watched table on a connection of its own (no
    ORM session events): moves the versions of those tables, in the
    connection's transaction."""
    names = [table if isinstance(table, str) else table.name for table in tables]
    _move(connection, scopes_of(names))


def _move(connection, scopes: Iterable[str]) -> None:
    """One statement for every scope a commit moves (a check-in moves the
    answer pages' and the staff pages'), rows always in one order: two
    committers may wait for each other's row (until the commit) but never
    deadlock."""
    rows = [{"name": scope, "version": secrets.randbits(62)} for scope in sorted(scopes)]
    if not rows:
        return
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    statement = insert(DataVersion).values(rows)
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=[DataVersion.name], set_={"version": statement.excluded.version}
        )
    )


def _note(session: Session, scopes: set[str]) -> None:
    if not scopes:
        return
    if session.info.get(COMMITTING):
        # Flushed by the commit itself, after before_commit moved the
        # versions (another listener added rows): move them again.
        _move(session.connection(), scopes)
        return
    session.info.setdefault(PENDING, set()).update(scopes)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context) -> None:
    touched = set()
    for instance in session.new | session.deleted:
        touched.add(instance.__table__.name)
    for instance in session.dirty:
        name = instance.__table__.name
        if name in _SCOPES_OF and session.is_modified(instance, include_collections=False):
            touched.add(name)
    _note(session, scopes_of(touched))


@event.listens_for(Session, "do_orm_execute")
def _statement(state) -> None:
    if state.is_update or state.is_delete or state.is_insert:
        table = getattr(state.statement, "table", None)
        if table is not None and getattr(table, "name", None):
            _note(state.session, scopes_of([table.name]))


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.flush()  # so that what the commit would flush is noted too
    scopes = session.info.pop(PENDING, None)
    if scopes:
        _move(session.connection(), scopes)
    session.info[COMMITTING] = True


@event.listens_for(Session, "after_transaction_end")
def _transaction_end(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost: committed or rolled back
        session.info.pop(PENDING, None)
        session.info.pop(COMMITTING, None)


def clear_all() -> None:
    """Moves every version (`flask cache clear`): pages cached before are
    never shown again."""
    with db.engine.begin() as connection:
        _move(connection, {scope for scopes in _SCOPES_OF.values() for scope in scopes})
