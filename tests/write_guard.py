"""Write guard: every committed write to a watched table moves its data
versions in the same transaction (market.core.versions).

Kept pages (market.core.pagecache) are keyed by data versions; a write that
commits without moving the versions of the tables it wrote leaves a kept
page stale, silently. The ORM session moves them itself; code that writes
on a connection of its own must call `versions.changed`. This plugin checks
that for every test of the suite, whatever the path: it listens on the
`Engine` class, so it sees the app's engine, any engine the code or a test
makes, ORM flushes, Core statements, text() and exec_driver_sql() alike.

Per connection it notes the tables each INSERT/UPDATE/DELETE wrote (a
statement that changed no row is no write) and the scopes each data_versions
upsert moved; at COMMIT, the scopes of the written tables must be among the
moved ones. On an AUTOCOMMIT connection each statement commits by itself, so
a write to a watched table there is checked at once. A ROLLBACK (or a
rollback to a savepoint) forgets what it undid.

A violation does not stop the code under test (the commit goes through, so
the code behaves as it does in production); it fails the test at the end of
its call phase with the table, the scopes not moved, the SQL and where it
was committed. Writes during a test's teardown are not checked: the app is
gone by then and nothing can be served from a kept page (the fixtures empty
every table there).

Not seen (by design): SQL typed by hand in psql (`flask cache clear`), and
rows a driver writes past SQLAlchemy (staging's COPY into its own temporary
table, which no page shows)."""

import re
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine, event

from market.core import versions

# What may write a watched table and move nothing, each with why that cannot
# leave a kept page stale:
# - statements matched here (against the whole statement):
ALLOWED = {
    # lock_market on SQLite inside a transaction: a no-op write that only
    # takes the database's write lock; no value changes.
    re.compile(r"UPDATE markets SET id = id WHERE id = \S+"): "no-op write lock (lock_market)",
}
# - a transaction that empties data_versions (tests/conftest.py
#   _empty_all_tables, which test_bench_seed also calls between two seeds):
#   every version row is gone, and without its row a signed-in page is
#   neither kept nor served (versions.current_many); the next write through
#   the session writes a new row;
# - a write committed while the database is not at the newest migration
#   (migration tests seed rows at an old revision, and a data migration's
#   own UPDATE): the app never serves pages from such a database, and a
#   release's kept pages are keyed by its RELEASE_ID (public) or live in the
#   process the deploy restarts (signed-in);
# - a connection a test marks `.execution_options(**{UNVERSIONED: "why"})`:
#   a test that writes past the versions on purpose (a change made by hand
#   in psql, which `flask cache clear` is for).
UNVERSIONED = "write_guard_unversioned"

# The target of an INSERT/UPDATE/DELETE, or of each DML part of a WITH
# statement (the keyword may be followed by OR REPLACE/IGNORE on SQLite).
_DML = re.compile(
    r"""(?:\bINSERT\s+(?:OR\s+\w+\s+)?INTO|\bREPLACE\s+INTO|(?<!\bDO\s)(?<!\bFOR\s)\bUPDATE(?:\s+OR\s+\w+)?
        |\bDELETE\s+FROM)\s+(?:ONLY\s+)?"?(\w+)""",
    re.IGNORECASE | re.VERBOSE,
)
_WRITING = ("INSERT", "UPDATE", "DELETE", "REPLACE", "WITH", "TRUNCATE")
_TRUNCATE = re.compile(r"\s*TRUNCATE\s+(?:TABLE\s+)?(?:ONLY\s+)?([\w\s,\"]+)", re.I)
_NOT_NAMES = {"RESTART", "CONTINUE", "IDENTITY", "CASCADE", "RESTRICT", "ONLY"}
_FIRST_WORD = re.compile(r"\s*(\w+)")
# The statements SQLAlchemy (or anyone) sends for a savepoint; the
# savepoint events come before the name is made, so the SQL is read instead.
_SAVEPOINT = re.compile(r"\s*(SAVEPOINT|ROLLBACK TO SAVEPOINT|RELEASE SAVEPOINT)\s+\"?(\w+)", re.I)
VERSIONS = "data_versions"
KEY = "write_guard"  # Connection.info (per DBAPI connection)


@dataclass
class _Pending:
    """What one transaction of one connection wrote and moved so far."""

    written: dict[str, str] = field(default_factory=dict)  # table -> first SQL that wrote it
    moved: set[str] = field(default_factory=set)
    emptied: bool = False  # data_versions emptied: no version row is left
    savepoints: list[tuple[str, dict[str, str], set[str]]] = field(default_factory=list)


@dataclass
class _Guard:
    on: bool = False  # during a test's setup and call
    found: list[str] = field(default_factory=list)


_guard = _Guard()


def _pending(conn) -> _Pending:
    pending = conn.info.get(KEY)
    if pending is None:
        pending = conn.info[KEY] = _Pending()
    return pending


def written_tables(statement: str) -> list[str]:
    """The tables `statement` writes (lower case), [] for anything else."""
    first = _FIRST_WORD.match(statement)
    if first is None or first.group(1).upper() not in _WRITING:
        return []
    if first.group(1).upper() == "TRUNCATE":
        names = _TRUNCATE.match(statement)
        words = re.split(r"[\s,]+", names.group(1).replace('"', "")) if names else []
        return [word.lower() for word in words if word and word.upper() not in _NOT_NAMES]
    if first.group(1).upper() != "WITH":
        found = _DML.match(statement, first.start(1))
        return [found.group(1).lower()] if found else []
    return [name.lower() for name in _DML.findall(statement)]


def _moved_scopes(context, parameters) -> set[str]:
    """The scopes a data_versions upsert (versions._move: one row per scope,
    `name` or, for several rows, `name_m0`, `name_m1` ...) moves."""
    if context is not None and getattr(context, "compiled_parameters", None):
        parameters = context.compiled_parameters[0]
    if not isinstance(parameters, dict):
        return set()
    return {value for key, value in parameters.items() if key == "name" or key.startswith("name_m")}


@event.listens_for(Engine, "after_cursor_execute")
def _after_cursor_execute(conn, cursor, statement, parameters, context, executemany):
    tables = written_tables(statement)
    if not tables:
        savepoint = _SAVEPOINT.match(statement)
        if savepoint:
            _savepoint(_pending(conn), savepoint.group(1).upper(), savepoint.group(2))
        return
    if context is not None and context.execution_options.get(UNVERSIONED):
        return
    if VERSIONS in tables:
        verb = statement.lstrip()[:8].upper()
        if tables == [VERSIONS] and verb.startswith("INSERT"):  # the upsert of _move
            _pending(conn).moved.update(_moved_scopes(context, parameters))
            return
        if verb.startswith("TRUNCATE") or (
            verb.startswith("DELETE") and " WHERE " not in statement.upper()
        ):
            _pending(conn).emptied = True
        tables = [table for table in tables if table != VERSIONS]
    if (
        cursor.rowcount == 0
        and not executemany
        and "RETURNING" not in statement.upper()  # SQLite counts those only once fetched
    ):
        return  # changed no row
    if any(pattern.fullmatch(statement.strip()) for pattern in ALLOWED):
        return
    watched = [table for table in tables if versions.scopes_of([table])]
    if not watched:
        return
    pending = _pending(conn)
    for table in watched:
        pending.written.setdefault(table, " ".join(statement.split())[:300])
    if conn._is_autocommit_isolation():  # the statement has committed already
        _committed(conn)


def _savepoint(pending: _Pending, command: str, name: str) -> None:
    if command == "SAVEPOINT":
        pending.savepoints.append((name, dict(pending.written), set(pending.moved)))
        return
    while pending.savepoints:
        at, written, moved = pending.savepoints.pop()
        if at == name:
            if command.startswith("ROLLBACK"):  # what it undid was never written
                pending.written, pending.moved = written, moved
            return


def unmoved(conn) -> str | None:
    """What the connection's transaction wrote without moving its versions,
    as a message; None when every written table's scopes were moved."""
    pending = conn.info.get(KEY)
    if pending is None or not pending.written or pending.emptied:
        return None
    missing = versions.scopes_of(pending.written) - pending.moved
    if not missing:
        return None
    lines = [
        f"committed a write to a watched table without moving its data version "
        f"(scopes not moved: {', '.join(sorted(missing))}; moved: "
        f"{', '.join(sorted(pending.moved)) or 'none'}). Call versions.changed(connection, "
        f"table, ...) in the same transaction, or write through the ORM session."
    ]
    for table, sql in sorted(pending.written.items()):
        scopes = versions.scopes_of([table]) & missing
        if scopes:
            lines.append(f"  table {table} (scopes {', '.join(sorted(scopes))}): {sql}")
    return "\n".join(lines)


def _committed(conn) -> None:
    message = unmoved(conn)
    conn.info.pop(KEY, None)
    if message and _guard.on and _at_newest_migration(conn):
        where = [
            f"    {frame.filename}:{frame.lineno} in {frame.name}"
            for frame in traceback.extract_stack()[:-2]
            if ("/market/" in frame.filename or "/tests/" in frame.filename)
            and not frame.filename.endswith("write_guard.py")
        ]
        _guard.found.append("\n".join([message, "  committed at:", *where[-8:]]))


_HEADS: set[str] = set()


def _at_newest_migration(conn) -> bool:
    """Whether the database's schema is at the newest migration (asked only
    for a violation, on a connection of its own: this one is committing)."""
    if not _HEADS:
        from alembic.script import ScriptDirectory

        folder = Path(versions.__file__).resolve().parents[1] / "migrations"
        _HEADS.update(ScriptDirectory(str(folder)).get_heads())
    try:
        with conn.engine.connect() as other:
            found = set(other.exec_driver_sql("SELECT version_num FROM alembic_version").scalars())
    except Exception:  # no alembic_version: not made by the migrations, check it anyway
        return True
    return found == _HEADS


@event.listens_for(Engine, "commit")
def _commit(conn):
    _committed(conn)


@event.listens_for(Engine, "rollback")
def _rollback(conn):
    conn.info.pop(KEY, None)


@event.listens_for(Engine, "engine_connect")
def _checkout(conn):
    conn.info.pop(KEY, None)  # a fresh transaction: nothing of a former user's


@contextmanager
def caught() -> Iterator[list[str]]:
    """Violations committed inside go to the yielded list instead of failing
    the test (the guard's own tests)."""
    kept, was_on = _guard.found, _guard.on
    _guard.found, _guard.on = [], True
    try:
        yield _guard.found
    finally:
        _guard.found, _guard.on = kept, was_on


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    _guard.found.clear()
    _guard.on = True
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    try:
        result = yield
    except BaseException as error:
        for found in _guard.found:
            error.add_note(f"write guard: {found}")
        _guard.found.clear()
        raise
    if _guard.found:
        found = "\n\n".join(_guard.found)
        _guard.found.clear()
        pytest.fail(f"write guard (tests/write_guard.py):\n{found}", pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    _guard.on = False
    try:
        return (yield)
    finally:
        _guard.found.clear()
