"""The staging file between the import's two passes: rows grouped in runs
of parts, so the write pass loads one chunk at a time, and on PostgreSQL
two connections writing chunks at once, committed in the file's order."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, select

from market.customers import services
from market.customers.models import Customer, CustomerImport, ImportStatus, Order
from market.customers.samples import write_order_file
from market.customers.staging import PARTS, RUNS, staged_path
from market.extensions import db

ROWS = 3000


@pytest.fixture(autouse=True)
def _settings(app, tmp_path):
    app.config.update(IMPORT_DIR=str(tmp_path / "imports"), IMPORT_CHUNK_ROWS=500)


def _checked(tmp_path) -> CustomerImport:
    path = write_order_file(
        tmp_path / "orders.csv", ROWS, ["행복플러스"], end=datetime(2026, 11, 26, tzinfo=UTC)
    )
    job = services.register_file(path)
    db.session.commit()
    job = services.run_check(job.id)
    assert job.status is ImportStatus.CHECKED and job.rows_bad == 0
    return job


def test_the_stage_keeps_its_rows_in_runs_of_parts(tmp_path):
    job = _checked(tmp_path)
    with staged_path(job).open(encoding="utf-8") as stage:
        header = stage.readline()
        runs = [int(line.split("\t")[1]) * RUNS // PARTS for line in stage]
    counts = [int(run.split("/")[0]) for run in header[1:].split()]
    assert header.startswith("#") and len(counts) == RUNS
    assert runs == sorted(runs), "each run of parts is one stretch of the file"
    assert [runs.count(run) for run in range(RUNS)] == counts
    assert len(runs) == ROWS


def test_every_chunk_is_written_once_in_the_files_order(tmp_path):
    job = _checked(tmp_path)
    connections, marks = set(), []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("INSERT INTO orders"):
            connections.add(id(conn.connection.driver_connection))
        if "parts_done" in statement and statement.lstrip().startswith("UPDATE"):
            marks.append(context.compiled_parameters[0]["parts_done"])

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        job = services.run_import(job.id)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert job.status is ImportStatus.DONE
    assert (job.orders_new, job.customers_new) == (ROWS, ROWS // 8)
    assert db.session.scalar(select(func.count(Order.id))) == ROWS
    assert marks == sorted(marks) and marks[-1] == PARTS and len(marks) > 2
    # PostgreSQL writes two chunks at once, each on its own connection;
    # SQLite has one writer at a time.
    assert len(connections) == (2 if db.engine.dialect.name == "postgresql" else 1)
    newest = dict(
        db.session.execute(
            select(Order.customer_id, func.max(Order.ordered_at)).group_by(Order.customer_id)
        ).all()
    )
    customers = db.session.scalars(select(Customer)).all()
    assert all(customer.details_as_of == newest[customer.id] for customer in customers)


def test_a_stage_written_by_an_older_version_is_staged_again(tmp_path):
    job = _checked(tmp_path)
    stage = staged_path(job)
    lines = stage.read_text(encoding="utf-8").splitlines(keepends=True)[1:]
    stage.write_text("".join(lines), encoding="utf-8")  # rows without the '#' line
    job = services.run_import(job.id)
    assert job.status is ImportStatus.DONE and job.orders_new == ROWS
    assert db.session.scalar(select(func.count(Order.id))) == ROWS
