"""Two mail workers at once: each message reaches the SMTP server exactly once.

A batch is claimed by an UPDATE of due rows picked in a subquery. On
PostgreSQL the subquery locks them with SKIP LOCKED; on SQLite the statement
runs under the single write lock, so a second claim sees the rows already
taken. `make test` runs the suite on both, so each path is tested where it
applies and skipped (with the reason) elsewhere."""

import os
import threading
import time

import pytest
from sqlalchemy import func, select

from market.extensions import db
from market.outbox import delivery
from market.outbox import services as outbox
from market.outbox.models import OutboxMessage, OutboxStatus
from market.timeutil import utcnow
from tests.test_outbox import queue, running_smtp

ON_POSTGRES = (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql")


@pytest.fixture
def smtp(app_config):
    with running_smtp(app_config) as handler:
        yield handler


def run_two_workers(app, smtp, count: int = 40) -> None:
    ids = [queue(to=f"guest{n}@example.kr", subject=f"메일 {n}").id for n in range(count)]
    start = threading.Barrier(2)
    errors = []

    def work(name: str) -> None:
        try:
            with app.app_context():
                start.wait()
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    delivery.deliver_due(batch_size=3, worker_id=name)
                    left = db.session.scalar(
                        select(func.count()).where(OutboxMessage.status != OutboxStatus.SENT)
                    )
                    if not left:
                        break
                db.session.remove()
        except Exception as error:  # reported below, in the test's own thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    subjects = sorted(message["Subject"] for message in smtp.messages())
    assert subjects == sorted(f"메일 {n}" for n in range(count)), "each exactly once"
    db.session.expire_all()
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))).all()
    assert {row.status for row in rows} == {OutboxStatus.SENT}
    assert {row.attempts for row in rows} == {1}
    shares = {name: sum(row.claimed_by == name for row in rows) for name in ("one", "two")}
    assert all(shares.values()), f"both workers should have taken part: {shares}"


@pytest.mark.skipif(ON_POSTGRES, reason="the SQLite write-lock path; PostgreSQL below")
def test_two_workers_on_sqlite_send_each_message_once(smtp, app):
    run_two_workers(app, smtp)


@pytest.mark.skipif(not ON_POSTGRES, reason="SKIP LOCKED needs PostgreSQL (TEST_DATABASE_URL)")
def test_two_workers_on_postgres_send_each_message_once(smtp, app):
    run_two_workers(app, smtp)


@pytest.mark.skipif(not ON_POSTGRES, reason="SKIP LOCKED needs PostgreSQL (TEST_DATABASE_URL)")
def test_postgres_claim_skips_rows_another_worker_has_locked(app):
    first, second = queue(to="first@example.kr"), queue(to="second@example.kr")
    locked, release, claimed = threading.Event(), threading.Event(), []

    def hold_lock():
        with app.app_context():
            db.session.execute(
                select(OutboxMessage).where(OutboxMessage.id == first.id).with_for_update()
            )
            locked.set()
            release.wait(10)
            db.session.rollback()
            db.session.remove()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(10)
        with app.app_context():
            claimed = [message.id for message in outbox.claim_due(10, "other", utcnow())]
            db.session.remove()
    finally:
        release.set()
        holder.join(10)
    assert claimed == [second.id]
