"""The outbox worker dies or runs past 21:00 in the middle of a batch.

Each message is recorded as sent as soon as the SMTP server accepts it, so a
worker killed with SIGKILL resends at most the one message in flight, with
its Message-ID unchanged; advertising is checked against the send window
message by message, so a batch claimed at 20:59:58 sends none after 21:00.
A real `flask outbox deliver` process and a real aiosmtpd server on
loopback; the suite runs this on SQLite and, with TEST_DATABASE_URL, on
PostgreSQL."""

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from market.extensions import db
from market.outbox import delivery, mime
from market.outbox import services as outbox
from market.outbox.models import OutboxMessage, OutboxStatus
from market.timeutil import SEOUL, set_clock, utcnow
from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
PARSER = BytesParser(policy=policy.default)


class Server:
    """Keeps what it receives. `hold_after=N`: the (N+1)th message is taken
    in (it counts as received) but not answered until `release` is set, so
    the worker is stuck waiting for the 250 at a known point.
    `on_message(count)` runs after each message is taken in."""

    def __init__(self, hold_after: int | None = None, on_message=None):
        self.hold_after, self.on_message = hold_after, on_message
        self.received: list[bytes] = []
        self.release = threading.Event()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.received.append(envelope.original_content)
            count = len(self.received)
        if self.on_message:
            self.on_message(count)
        if self.hold_after is not None and count > self.hold_after:
            while not self.release.is_set():  # the event loop stays free meanwhile
                await asyncio.sleep(0.02)
        return "250 Message accepted for delivery"

    def messages(self):
        with self.lock:
            return [PARSER.parsebytes(raw) for raw in self.received]


@contextmanager
def smtp_server(handler: Server):
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port
    finally:
        handler.release.set()
        controller.stop()


def queue_many(count: int, category: str = "general") -> list[OutboxMessage]:
    rows = [
        outbox.enqueue(
            mime.build_message(f"guest{n}@example.kr", f"메일 {n}", "본문"), category=category
        )
        for n in range(count)
    ]
    db.session.commit()
    return rows


def message_ids(rows) -> dict[int, str]:
    db.session.expire_all()
    return {row.id: PARSER.parsebytes(row.mime)["Message-ID"] for row in rows}


# --- SIGKILL in the middle of a batch ------------------------------------------------


def worker_environment(tmp_path: Path, database_url: str, port: int) -> dict[str, str]:
    """A fresh instance folder whose config points at the test database and
    the loopback server, with a short lease so a dead worker's claims lapse
    within the test."""
    (tmp_path / "config.py").write_text(
        "OUTBOX_LEASE_SECONDS = 2\nMAIL_TIMEOUT = 20\nSECRET_KEY = 'crash-test'\n"
    )
    environ = {
        name: value
        for name, value in os.environ.items()
        if name not in {"MARKET_ENV", "CLOCK", "SECRET_KEY", "TEST_DATABASE_URL"}
    }
    return {
        **environ,
        "MARKET_INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": database_url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(port),
    }


def flask_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "market", *args]


def sent_count() -> int:
    count = db.session.scalar(select(func.count()).where(OutboxMessage.status == OutboxStatus.SENT))
    db.session.rollback()  # hold no read lock on SQLite while the worker writes
    return count


def wait_until(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_kill_9_mid_batch_resends_only_the_message_in_flight(app, database_url, tmp_path):
    rows = queue_many(8)
    stored_ids = message_ids(rows)
    server = Server(hold_after=3)  # the 4th message is in flight when the worker dies
    with smtp_server(server) as port:
        env = worker_environment(tmp_path, database_url, port)
        worker = subprocess.Popen(
            flask_command("outbox", "deliver", "--poll", "0.2", "--batch-size", "20"),
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(lambda: len(server.received) == 4, 60, "the 4th message to arrive")
            # The three the server answered are recorded as sent before the
            # worker goes on (before issue 15 they waited for the batch's end).
            wait_until(lambda: sent_count() == 3, 10, "three messages recorded as sent")
        except AssertionError as error:
            worker.kill()
            raise AssertionError(f"{error}; the worker said:\n{worker.communicate()[0]}") from None
        worker.send_signal(signal.SIGKILL)
        output = worker.communicate(timeout=10)[0].decode()
        assert worker.returncode == -signal.SIGKILL, output
        server.release.set()
        assert sent_count() == 3, "nothing more was recorded after the kill"

        # A new worker takes the dead one's claims over once they lapse
        # (OUTBOX_LEASE_SECONDS = 2) and sends what the server has not answered.
        rerun = subprocess.Popen(
            flask_command("outbox", "deliver", "--poll", "0.2"),
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            wait_until(lambda: sent_count() == 8, 60, "every message recorded as sent")
        finally:
            rerun.terminate()  # SIGTERM: the pass ends, then the worker stops
            output = rerun.communicate(timeout=30)[0]
        assert rerun.returncode == 0 and "Stopped." in output, output
        assert "sent 5, retried 0, failed 0" in output, output

    received = server.messages()
    subjects = [message["Subject"] for message in received]
    assert sorted(set(subjects)) == sorted(f"메일 {n}" for n in range(8)), "every one delivered"
    repeated = [subject for subject in set(subjects) if subjects.count(subject) > 1]
    assert repeated == ["메일 3"], "only the message in flight, once"
    copies = [message["Message-ID"] for message in received if message["Subject"] == "메일 3"]
    assert copies == [stored_ids[rows[3].id]] * 2, "the repeat has the queued Message-ID"
    db.session.expire_all()
    assert {row.status for row in db.session.scalars(select(OutboxMessage))} == {OutboxStatus.SENT}


def test_the_message_id_is_written_when_queued_not_when_sent(app, app_config):
    server = Server()
    with smtp_server(server) as port:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=5)
        rows = queue_many(2)
        stored = message_ids(rows)
        assert all(stored.values()) and len(set(stored.values())) == 2
        assert delivery.deliver_due().sent == 2
    by_subject = {message["Subject"]: message["Message-ID"] for message in server.messages()}
    assert by_subject == {"메일 0": stored[rows[0].id], "메일 1": stored[rows[1].id]}


# --- the send window, message by message ------------------------------------------


def test_a_batch_claimed_just_before_nine_pm_sends_no_advertising_after_nine(app, clock):
    clock.set(datetime(2026, 11, 26, 20, 59, 58, tzinfo=SEOUL))
    nine_pm = datetime(2026, 11, 26, 21, 0, 1, tzinfo=SEOUL)
    invitations = queue_many(4, category="invitation")
    notice = outbox.enqueue(
        mime.build_message("vendor@example.kr", "입점 승인", "본문"), category="vendor-approval"
    )
    db.session.commit()

    def slow_first_message(count):
        if count == 1:  # the first invitation took three seconds to go out
            set_clock(nine_pm)

    server = Server(on_message=slow_first_message)
    with smtp_server(server) as port:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=5)
        report = delivery.deliver_due(batch_size=10)
        assert sorted(message["Subject"] for message in server.messages()) == [
            "메일 0",
            "입점 승인",
        ], "no invitation after 21:00; the vendor notice is no advertising"
        assert (report.sent, report.retried, report.failed, report.deferred) == (2, 0, 0, 3)

        db.session.expire_all()
        morning = datetime(2026, 11, 27, 8, 0, tzinfo=SEOUL)
        for row in invitations[1:]:
            row = db.session.get(OutboxMessage, row.id)
            assert (row.status, row.attempts, row.next_attempt_at) == (
                OutboxStatus.QUEUED,
                0,
                morning,
            ), "back in the queue for the morning, no attempt counted"
            assert row.claimed_until is None and row.last_error is None
        assert db.session.get(OutboxMessage, notice.id).status is OutboxStatus.SENT

        clock.set(morning - timedelta(seconds=1))
        assert delivery.deliver_due().total == 0
        clock.set(morning)
        assert delivery.deliver_due().sent == 3
    assert len(server.received) == 5


def test_a_pass_cut_short_gives_the_untried_rest_back_at_once(app, monkeypatch):
    """Ctrl-C twice stops the worker during the second message: that one is
    in flight (its claim lapses: perhaps the server has it), the rest is due
    again now rather than after the lease."""
    rows = queue_many(4)  # no MAIL_SERVER in tests: .eml files
    send = delivery.FileTransport.send

    def interrupted(transport, message):
        if message.id == rows[1].id:
            raise KeyboardInterrupt
        send(transport, message)

    monkeypatch.setattr(delivery.FileTransport, "send", interrupted)
    start = utcnow()
    with pytest.raises(KeyboardInterrupt):
        delivery.deliver_due(worker_id="stopping", now=start)
    db.session.expire_all()
    states = [db.session.get(OutboxMessage, row.id) for row in rows]
    assert [row.status for row in states] == [
        OutboxStatus.SENT,
        OutboxStatus.SENDING,
        OutboxStatus.QUEUED,
        OutboxStatus.QUEUED,
    ]
    assert states[1].claimed_until is not None
    assert all(row.claimed_until is None and row.attempts == 0 for row in states[2:])
