"""Order imports run by `flask worker`, and surviving its death.

The web request only records a job; a worker claims it from the database,
says it is alive while it runs, and a job whose worker died is taken over
and its write pass resumed after the last part committed. Real `flask
worker` processes are killed (SIGKILL) and stopped (SIGTERM) in the middle
of a 120,000-row import; the rest runs the worker's own pass in-process
(services.run_next / run_pending_jobs). SQLite by default, PostgreSQL with
TEST_DATABASE_URL."""

import io
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update

from market.core import versions
from market.customers import jobs, services
from market.customers.models import Customer, CustomerImport, ImportStatus, Order
from market.customers.samples import write_order_file
from market.extensions import db
from market.inbox.models import InboxMessage
from market.outbox import mime
from market.outbox import services as outbox
from market.outbox.models import OutboxMessage, OutboxStatus
from market.timeutil import utcnow
from tests import dovecot_fixtures, inbox_samples

dovecot = dovecot_fixtures.dovecot
mailbox_config = dovecot_fixtures.mailbox_config

ROOT = Path(__file__).resolve().parent.parent
BIG = 120_000  # the kill test: a file as large as a month of orders
SOME = 30_000
END = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _settings(app, tmp_path):
    app.config.update(
        IMPORT_DIR=str(tmp_path / "imports"),
        IMPORT_CHUNK_ROWS=500,
        IMPORT_HEARTBEAT_SECONDS=0.2,
        IMPORT_STALE_SECONDS=2,
    )


def _queued_check(path: Path, name: str = "orders.csv") -> CustomerImport:
    """What the upload page does: the job is recorded, nothing runs."""
    with path.open("rb") as stream:
        job = services.store_upload(stream, name)
    db.session.commit()
    return job


def _checked(rows: int, tmp_path: Path) -> CustomerImport:
    job = _queued_check(write_order_file(tmp_path / "orders.csv", rows, ["가게"], END))
    assert services.run_pending_jobs() == 1
    job = _fresh(job.id)
    assert job.status is ImportStatus.CHECKED and job.rows_total == rows and not job.rows_bad
    return job


def _queue_import(job: CustomerImport) -> CustomerImport:
    services.prepare_import(job, good_rows_only=False)
    db.session.commit()
    return _fresh(job.id)


def _fresh(job_id: int) -> CustomerImport:
    db.session.expire_all()
    job = db.session.get(CustomerImport, job_id)
    db.session.commit()  # hold no read transaction while a worker writes
    return job


def _orders() -> tuple[int, int]:
    """(orders, distinct order numbers)."""
    counts = db.session.execute(
        select(func.count(Order.id), func.count(func.distinct(Order.order_no)))
    ).one()
    db.session.commit()
    return tuple(counts)


class StopAfter:
    """A stop request that comes after `reports` progress reports (the
    write pass reports after each committed chunk): a worker stopping."""

    def __init__(self, reports: int):
        self.reports = reports

    def is_set(self) -> bool:
        self.reports -= 1
        return self.reports < 0


# --- the request records; the worker runs ---------------------------------------------


def test_a_stale_job_is_taken_over_and_resumes_after_its_last_chunk(app, tmp_path):
    job = _queue_import(_checked(3000, tmp_path))
    assert job.status is ImportStatus.IMPORTING and job.claimed_by is None
    assert jobs.waiting(job) == "queued"

    # A worker writes two chunks, then stops and gives the job back.
    assert services.run_next(StopAfter(2)) is True
    job = _fresh(job.id)
    assert job.status is ImportStatus.IMPORTING and job.claimed_by is None
    written, parts = job.orders_written, job.parts_done
    assert 0 < written < 3000 and 0 < parts < 1024
    assert _orders() == (written, written)

    # Another worker took it and died: its heartbeat is old. An order of an
    # already written part is removed, to see that a resumed pass does not
    # write those parts again.
    db.session.execute(
        update(CustomerImport)
        .where(CustomerImport.id == job.id)
        .values(claimed_by="gone:1:abc", heartbeat_at=utcnow() - timedelta(minutes=10))
    )
    gone = db.session.scalar(select(Order.order_no).limit(1))
    db.session.execute(delete(Order).where(Order.order_no == gone))
    db.session.commit()
    assert jobs.waiting(_fresh(job.id)) == "no_worker"

    assert services.run_pending_jobs() == 1
    job = _fresh(job.id)
    assert job.status is ImportStatus.DONE and job.claimed_by is None
    assert job.takeovers == 1
    assert job.orders_new == 3000, "the counts of both runs, each order once"
    assert _orders() == (2999, 2999)
    assert db.session.scalar(select(func.count()).where(Order.order_no == gone)) == 0
    assert db.session.scalar(select(func.count(Customer.id))) == job.customers_new


def test_a_worker_whose_job_was_taken_over_stops_writing(app, tmp_path):
    """A worker that stalled past IMPORT_STALE_SECONDS and lost its job to
    another finds out at its next chunk and writes nothing more."""
    job = _queue_import(_checked(3000, tmp_path))

    class TakenOverAfterFirstChunk:
        def is_set(self):  # asked at each progress report, after each chunk
            with db.engine.begin() as conn:
                conn.execute(
                    update(CustomerImport)
                    .where(CustomerImport.id == job.id)
                    .values(claimed_by="other:2:def", heartbeat_at=utcnow())
                )
                versions.changed(conn, CustomerImport.__table__)  # as jobs.claim does
            return False

    assert services.run_next(TakenOverAfterFirstChunk()) is True
    job = _fresh(job.id)
    assert job.status is ImportStatus.IMPORTING
    assert job.claimed_by == "other:2:def", "the new worker's claim is left alone"
    assert 0 < job.orders_written < 3000 and _orders()[0] == job.orders_written
    first_chunk = job.orders_written
    assert services.run_pending_jobs() == 0, "the job is the other worker's"
    assert _orders()[0] == first_chunk


def test_a_live_job_is_not_taken_over(app, tmp_path):
    job = _queue_import(_checked(300, tmp_path))
    db.session.execute(
        update(CustomerImport)
        .where(CustomerImport.id == job.id)
        .values(claimed_by="busy:1:abc", heartbeat_at=utcnow())
    )
    db.session.commit()
    assert services.run_pending_jobs() == 0
    assert _fresh(job.id).status is ImportStatus.IMPORTING and _orders() == (0, 0)


def test_a_job_whose_workers_keep_dying_fails_with_a_reason(app, tmp_path, staff_client):
    job = _queue_import(_checked(300, tmp_path))
    db.session.execute(
        update(CustomerImport)
        .where(CustomerImport.id == job.id)
        .values(
            claimed_by="gone:1:abc",
            heartbeat_at=utcnow() - timedelta(minutes=10),
            takeovers=app.config["IMPORT_MAX_TAKEOVERS"],
        )
    )
    db.session.commit()
    assert services.run_pending_jobs() == 1
    job = _fresh(job.id)
    assert job.status is ImportStatus.FAILED and job.claimed_by is None
    assert "여러 번" in job.error and "다시 실행" in job.error
    page = staff_client.get(f"/staff/customers/imports/{job.id}").get_data(as_text=True)
    assert "여러 번" in page and "가져오기 다시 실행" in page

    # "Run the import again" queues it once more, with a fresh count.
    staff_client.post(f"/staff/customers/imports/{job.id}/run", data={})
    assert _fresh(job.id).takeovers == 0
    assert services.run_pending_jobs() == 1
    assert _fresh(job.id).status is ImportStatus.DONE and _orders() == (300, 300)


def test_the_page_says_when_no_worker_seems_to_run(app, tmp_path, staff_client):
    path = write_order_file(tmp_path / "orders.csv", 10, ["가게"], END)
    job = _queued_check(path)
    page = staff_client.get(f"/staff/customers/imports/{job.id}").get_data(as_text=True)
    assert "대기 중" in page and "실행되고 있지 않은 것 같" not in page
    db.session.execute(
        update(CustomerImport)
        .where(CustomerImport.id == job.id)
        .values(queued_at=utcnow() - timedelta(minutes=5))
    )
    db.session.commit()
    page = staff_client.get(f"/staff/customers/imports/{job.id}").get_data(as_text=True)
    assert "실행되고 있지 않은 것 같" in page and "<progress" in page


# --- two clicks, two workers --------------------------------------------------------------


def test_two_clicks_on_run_queue_one_import(app, tmp_path, staff_client):
    job = _checked(300, tmp_path)
    stale = db.session.get(CustomerImport, job.id)  # still "checked" in this session
    staff_client.post(f"/staff/customers/imports/{job.id}/run", data={})
    assert stale.status is ImportStatus.CHECKED and stale.ready_to_import
    with pytest.raises(services.ImportRefused):
        services.prepare_import(stale, good_rows_only=False)  # the second click
    db.session.rollback()
    second = staff_client.post(f"/staff/customers/imports/{job.id}/run", data={})
    assert second.status_code == 302
    assert services.run_pending_jobs() == 1
    assert services.run_pending_jobs() == 0
    job = _fresh(job.id)
    assert job.status is ImportStatus.DONE and job.orders_new == 300
    assert _orders() == (300, 300)


def test_a_failed_check_cannot_be_run(app, tmp_path):
    job = _queued_check(write_order_file(tmp_path / "orders.csv", 10, ["가게"], END))
    job.status, job.error = ImportStatus.FAILED, "stopped"
    db.session.commit()
    for good_rows_only in (False, True):
        with pytest.raises(services.ImportRefused):
            services.prepare_import(job, good_rows_only)
        db.session.rollback()
    assert _fresh(job.id).status is ImportStatus.FAILED


def test_two_workers_at_once_run_one_job_once(app, tmp_path):
    job = _queue_import(_checked(3000, tmp_path))
    ran, errors = [], []
    start = threading.Barrier(2)

    def worker():
        with app.app_context():
            try:
                start.wait()
                ran.append(services.run_next())
            except Exception as error:  # reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors
    assert sorted(ran) == [False, True], "one worker claimed it, the other found nothing"
    job = _fresh(job.id)
    assert job.status is ImportStatus.DONE and job.orders_new == 3000 and job.takeovers == 0
    assert _orders() == (3000, 3000)


# --- real worker processes ------------------------------------------------------------------


def _environment(tmp_path: Path, database_url: str, chunk_rows: int) -> dict[str, str]:
    instance = tmp_path / "worker-instance"
    instance.mkdir()
    (instance / "config.py").write_text(
        "SECRET_KEY = 'worker-test'\n"
        f"IMPORT_DIR = {str(tmp_path / 'imports')!r}\n"
        "IMPORT_POLL_SECONDS = 0.2\nIMPORT_HEARTBEAT_SECONDS = 0.2\n"
        "IMPORT_STALE_SECONDS = 2\nOUTBOX_POLL_SECONDS = 0.2\n"
        f"IMPORT_CHUNK_ROWS = {chunk_rows}\n"
    )
    environ = {
        name: value
        for name, value in os.environ.items()
        if name not in {"MARKET_ENV", "CLOCK", "SECRET_KEY", "TEST_DATABASE_URL", "IMAP_HOST"}
    }
    return {**environ, "MARKET_INSTANCE_PATH": str(instance), "DATABASE_URL": database_url}


def _start_worker(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "market", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _wait_for(condition, seconds: float, what: str, worker: subprocess.Popen | None = None):
    deadline = time.monotonic() + seconds
    while not (found := condition()):
        if worker is not None and worker.poll() is not None:
            pytest.fail(f"the worker ended while waiting for {what}: {worker.stdout.read()}")
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return found


def _stop(worker: subprocess.Popen, sig: int) -> str:
    if worker.poll() is None:
        worker.send_signal(sig)
    return worker.communicate(timeout=30)[0].decode()


def _half_written(job_id: int):
    job = _fresh(job_id)
    return job if job.parts_done and job.status is ImportStatus.IMPORTING else None


def test_a_worker_killed_mid_import_is_finished_by_another(app, tmp_path, database_url):
    job = _queue_import(_checked(BIG, tmp_path))
    env = _environment(tmp_path, database_url, chunk_rows=20_000)  # six chunks
    worker = _start_worker(env)
    try:
        _wait_for(lambda: _half_written(job.id), 120, "the first chunks", worker)
    finally:
        output = _stop(worker, signal.SIGKILL)
    assert worker.returncode == -signal.SIGKILL, output
    job = _fresh(job.id)
    assert job.status is ImportStatus.IMPORTING and job.claimed_by is not None
    written = _orders()[0]
    assert 0 < written < BIG, "killed half-way"
    assert written == job.orders_written, "each chunk moved the resume mark with its orders"

    second = _start_worker(env)
    try:
        done = _wait_for(
            lambda: _fresh(job.id).status is not ImportStatus.IMPORTING, 120, "the import"
        )
    finally:
        output = _stop(second, signal.SIGTERM)
    assert done and second.returncode == 0, output
    assert "resuming at part" in output, output
    job = _fresh(job.id)
    assert job.status is ImportStatus.DONE, job.error
    assert job.takeovers == 1 and job.claimed_by is None
    assert job.orders_new == BIG
    assert _orders() == (BIG, BIG), "every order exactly once"


def test_sigterm_stops_the_worker_and_gives_the_job_back(app, tmp_path, database_url):
    job = _queue_import(_checked(SOME, tmp_path))
    worker = _start_worker(_environment(tmp_path, database_url, chunk_rows=5000))
    try:
        _wait_for(lambda: _half_written(job.id), 120, "the first chunks", worker)
    finally:
        output = _stop(worker, signal.SIGTERM)
    assert worker.returncode == 0 and "Stopped." in output, output
    job = _fresh(job.id)
    assert job.status is ImportStatus.IMPORTING and job.claimed_by is None, "given back"
    assert 0 < job.orders_written < SOME and _orders()[0] == job.orders_written
    assert services.run_pending_jobs() == 1  # the next worker goes on at once
    job = _fresh(job.id)
    assert job.status is ImportStatus.DONE and job.takeovers == 0
    assert _orders() == (SOME, SOME)


def test_an_idle_worker_stops_on_sigterm(app, tmp_path, database_url):
    worker = _start_worker(_environment(tmp_path, database_url, chunk_rows=5000))
    try:
        line = worker.stdout.readline().decode()
        assert "Worker running: mail, imports" in line, line
        time.sleep(0.5)
    finally:
        started = time.monotonic()
        output = _stop(worker, signal.SIGTERM)
    assert worker.returncode == 0 and "Stopped." in output, output
    assert time.monotonic() - started < 5


def test_one_worker_delivers_mail_imports_and_reads_the_mailbox(
    app, tmp_path, database_url, dovecot, mailbox_config
):
    """Each loop in its own thread: a queued mail is sent, a queued order
    file checked, and a message in the center's mailbox read."""
    dovecot.deliver(inbox_samples.person_mail("guest@example.com"))
    outbox.enqueue(mime.build_message("guest@example.kr", "안내", "본문"))
    db.session.commit()
    job = _queued_check(write_order_file(tmp_path / "orders.csv", 100, ["가게"], END))
    env = {
        **_environment(tmp_path, database_url, chunk_rows=5000),
        "IMAP_HOST": dovecot.host,
        "IMAP_PORT": str(dovecot.imap_port),
        "IMAP_USER": dovecot.user,
        "IMAP_PASSWORD": dovecot.password,
        "IMAP_SECURITY": "plain",
    }
    worker = _start_worker(env)
    try:
        _wait_for(lambda: _fresh(job.id).status is ImportStatus.CHECKED, 60, "the check", worker)
        _wait_for(lambda: _count(InboxMessage) == 1, 60, "the mailbox read", worker)
        _wait_for(
            lambda: _count(OutboxMessage, OutboxMessage.status == OutboxStatus.SENT) == 1,
            60,
            "the mail sent",
            worker,
        )
    finally:
        output = _stop(worker, signal.SIGTERM)
    assert worker.returncode == 0, output
    assert "Worker running: mail, imports, sales, inbox" in output


def _count(model, *where) -> int:
    found = db.session.scalar(select(func.count()).select_from(model).where(*where))
    db.session.commit()
    return found


def test_upload_form_does_not_run_the_import_in_the_web_process(app, staff_client, tmp_path):
    content = write_order_file(tmp_path / "o.csv", 50, ["가게"], END).read_bytes()
    staff_client.post(
        "/staff/customers/imports",
        data={"file": (io.BytesIO(content), "o.csv")},
        content_type="multipart/form-data",
    )
    job = db.session.scalar(select(CustomerImport))
    assert job.status is ImportStatus.UPLOADED and job.queued_at is not None
    assert job.rows_total is None and _orders() == (0, 0)
