"""The signed-in pages' data version ("staff") watches every table but the
excused ones, and the suite-wide write guard (tests/write_guard.py) really
catches a committed write that moves no version. Runs on SQLite and, with
TEST_DATABASE_URL, on PostgreSQL."""

from datetime import UTC, date, datetime

from sqlalchemy import create_engine, func, select, text, update

from market.accounts.models import User
from market.core import versions
from market.customers import jobs
from market.customers.models import CustomerImport, ImportStatus, Order
from market.customers.samples import write_order_file
from market.extensions import db
from market.markets.services import lock_market
from tests import write_guard
from tests.markets_factories import make_market, make_venue
from tests.vendors_factories import make_vendor

END = datetime(2026, 11, 1, tzinfo=UTC)
RENAME = text("UPDATE users SET name = :name WHERE id = :id")


def test_every_table_is_watched_under_staff_or_excused(app):
    tables = {table.name for table in db.metadata.sorted_tables}
    excused = versions.NOT_SHOWN_ON_STAFF_PAGES
    assert set(excused) <= tables, "an excused table that no longer exists"
    assert all(reason.strip() for reason in excused.values()), "each excuse says why"
    for name in sorted(tables):
        watched = versions.STAFF in versions.scopes_of([name])
        assert watched != (name in excused), name
    # The tables whose writers work on connections of their own stay watched.
    for name in ("customers", "orders", "customer_imports", "markets", "users"):
        assert versions.STAFF in versions.scopes_of([name]), name


def test_the_guard_runs_for_every_test():
    # Loaded as a plugin (tests/conftest.py), not merely imported here.
    assert write_guard._guard.on


def test_a_raw_write_that_moves_no_version_is_caught(app, staff):
    with write_guard.caught() as found, db.engine.connect() as conn:
        conn.execute(RENAME, {"name": "바뀐 이름", "id": staff.id})
        assert "users" in write_guard.unmoved(conn)
        conn.commit()
    assert len(found) == 1
    assert "table users" in found[0] and "staff" in found[0]
    assert "UPDATE users SET name" in found[0]
    assert "test_data_versions_watch.py" in found[0]  # where it was committed


def test_the_same_write_with_versions_changed_passes(app, staff):
    with write_guard.caught() as found, db.engine.connect() as conn:
        conn.execute(RENAME, {"name": "바뀐 이름", "id": staff.id})
        versions.changed(conn, "users")
        assert write_guard.unmoved(conn) is None
        conn.commit()
    assert found == []
    assert versions.current(versions.STAFF) is not None


def test_core_statements_and_driver_sql_are_caught_too(app, staff):
    with write_guard.caught() as found:
        with db.engine.begin() as conn:
            conn.execute(update(User).where(User.id == staff.id).values(name="갑"))
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"DELETE FROM users WHERE id = {int(staff.id)}")
    assert len(found) == 2
    assert all("table users" in message for message in found)


def test_another_engine_is_watched_too(app, staff):
    other = create_engine(db.engine.url)
    try:
        with write_guard.caught() as found, other.begin() as conn:
            conn.execute(RENAME, {"name": "을", "id": staff.id})
    finally:
        other.dispose()
    assert len(found) == 1


def test_an_autocommit_write_is_caught_at_once(app, staff):
    autocommit = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    with write_guard.caught() as found, autocommit as conn:
        conn.execute(RENAME, {"name": "병", "id": staff.id})
        assert len(found) == 1  # committed by itself, before any commit()


def test_what_did_not_commit_is_no_write(app, staff):
    with write_guard.caught() as found:
        with db.engine.connect() as conn:
            conn.execute(RENAME, {"name": "정", "id": staff.id})
            conn.rollback()
            conn.execute(RENAME, {"name": "무", "id": staff.id + 1000})  # no such row
            conn.commit()
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            with conn.begin_nested() as savepoint:
                conn.execute(RENAME, {"name": "기", "id": staff.id})
                savepoint.rollback()
            conn.commit()
        with db.engine.connect() as conn:  # closed without commit: rolled back
            conn.execute(RENAME, {"name": "경", "id": staff.id})
    assert found == []
    assert db.session.get(User, staff.id).name != "경"


def test_session_writes_move_their_versions_themselves(app, staff):
    with write_guard.caught() as found:
        staff.name = "신"
        db.session.commit()
        db.session.execute(update(User).where(User.id == staff.id).values(name="임"))
        db.session.commit()
    assert found == []


def test_the_market_lock_is_no_write(app):
    market = make_market(make_venue(), date(2026, 12, 10))
    with write_guard.caught() as found:
        db.session.execute(text("SELECT 1"))  # a transaction is open: SQLite's no-op write
        lock_market(market.id)
        db.session.commit()
    assert found == []


# --- the writers on connections of their own -------------------------------------------


def test_the_import_heartbeat_moves_the_staff_version(app):
    job = CustomerImport(
        filename="orders.csv",
        stored_path="orders.csv",
        size_bytes=1,
        status=ImportStatus.IMPORTING,
        claimed_by="worker-1",
    )
    db.session.add(job)
    db.session.commit()
    before = versions.current(versions.STAFF)
    heartbeat = jobs.Heartbeat(job.id, "worker-1")
    heartbeat._done = _BeatsOnce()  # one beat, in this thread: no waiting
    with write_guard.caught() as found:
        heartbeat._run()
    db.session.expire_all()
    assert db.session.get(CustomerImport, job.id).heartbeat_at is not None
    assert found == []
    assert versions.current(versions.STAFF) not in (None, before)


class _BeatsOnce:
    def __init__(self):
        self.asked = 0

    def wait(self, _seconds) -> bool:
        self.asked += 1
        return self.asked > 1


def test_each_import_chunk_moves_the_versions_of_every_table_it_writes(
    app, runner, tmp_path, monkeypatch
):
    # A scope of its own per table: the chunk must name each table it writes,
    # not count on another table's scopes (vendor home: orders; ranking:
    # customer_imports).
    scopes = dict(versions._SCOPES_OF)
    for name in ("customers", "orders", "customer_imports"):
        scopes[name] = scopes[name] | {f"only_{name}"}
    monkeypatch.setattr(versions, "_SCOPES_OF", scopes)
    app.config.update(IMPORT_DIR=str(tmp_path / "imports"), IMPORT_CHUNK_ROWS=100)
    make_vendor("행복플러스")
    path = write_order_file(tmp_path / "orders.csv", 300, ["행복플러스"], END)
    with write_guard.caught() as found:
        result = runner.invoke(args=["customers", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count(Order.id))) == 300
    assert found == []
    for name in ("customers", "orders", "customer_imports"):
        assert versions.current(f"only_{name}") is not None, name
