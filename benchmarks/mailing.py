"""Invitations: building and queueing 10,000 (scale 1) with the app's own
service, then delivering them to a local SMTP server (aiosmtpd, loopback)
with one and with four worker processes, next to a bare smtplib loop
sending the same MIME bytes over one connection (and over four, the most
the server takes from four clients).

The invitations are made in the scratch database of the import step (its
customers come from the imported file). The app's sending hours (08:00-21:00
Korea time, the advertising law) hold no outbox category back for these
runs only (ADVERTISING_CATEGORIES empty; the mail goes to a local test
server), so the benchmark gives the same numbers at any hour."""

import json
import multiprocessing
import smtplib
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from benchmarks.common import BIN, ROOT, Context, Database, free_port, make_app, say

FULL_INVITATIONS = 10_000
BOUNDED_MESSAGES = 2_000  # the slow-relay runs, and SQLite when PostgreSQL does the full work
CHUNK = 1000  # market.invitations.sending.MAX_BATCH
ANY_HOUR = ()  # ADVERTISING_CATEGORIES: none waits for the sending hours
PUBLIC_BASE_URL = "https://market.example.kr"  # links in mail built outside a request
RELAY_DELAY_MS = 20  # what the "realistic relay" SMTP server waits per message


def _app(db: Database, ctx: Context):
    return make_app(
        db, ctx.instance, {"ADVERTISING_CATEGORIES": ANY_HOUR, "PUBLIC_BASE_URL": PUBLIC_BASE_URL}
    )


def queue_invitations(db: Database, ctx: Context, count: int) -> dict:
    from market.accounts.models import User
    from market.customers.consent import may_receive_advertising
    from market.customers.models import Customer
    from market.extensions import db as sqla
    from market.invitations import sending
    from market.markets.models import Market
    from market.timeutil import SEOUL, utcnow

    app = _app(db, ctx)
    with app.app_context():
        today = utcnow().astimezone(SEOUL).date()
        market = sqla.session.scalar(
            select(Market)
            .where(Market.market_date > today, Market.status.in_(sending.INVITABLE))
            .order_by(Market.market_date)
        )
        staff = sqla.session.scalar(select(User).where(User.email == "staff@bench.market.kr"))
        ids = list(
            sqla.session.scalars(
                select(Customer.id)
                .where(may_receive_advertising())
                .order_by(Customer.id)
                .limit(count)
            )
        )
        if len(ids) < count:
            raise RuntimeError(f"only {len(ids)} customers may be invited; {count} wanted")
        say(f"building and queueing {count:,} invitations to the market of {market.market_date}")
        started = time.perf_counter()
        invited = 0
        for start in range(0, count, CHUNK):
            result = sending.invite(market, ids[start : start + CHUNK], staff, utcnow())
            sqla.session.commit()
            invited += result.invited
        seconds = time.perf_counter() - started
        sqla.engine.dispose()
    say(f"queued {invited:,} invitations in {seconds:.1f} s ({invited / seconds:,.0f}/s)")
    return {"invitations": invited, "seconds": seconds, "per_s": invited / seconds}


class SmtpSink:
    def __init__(self, ctx: Context, delay_ms: int):
        self.port = free_port()
        self.count_file = ctx.cache / f"smtp-sink-{self.port}.count"
        self.command = [sys.executable, "-m", "benchmarks.smtp_sink", str(self.port)]
        self.command += [str(delay_ms), str(self.count_file)]
        self.received = 0

    def __enter__(self) -> "SmtpSink":
        self.process = subprocess.Popen(self.command, cwd=ROOT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the SMTP sink did not start")

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.received = int(self.count_file.read_text())
        self.count_file.unlink()


def _reset_outbox(db: Database, ctx: Context) -> int:
    """Every invitation mail back to queued and due, as before the first run."""
    from market.extensions import db as sqla
    from market.outbox.models import OutboxMessage, OutboxStatus

    app = _app(db, ctx)
    with app.app_context():
        result = sqla.session.execute(
            update(OutboxMessage).values(
                status=OutboxStatus.QUEUED,
                attempts=0,
                next_attempt_at=datetime.now(UTC) - timedelta(minutes=1),
                claimed_by=None,
                claimed_until=None,
                sent_at=None,
                last_error=None,
            )
        )
        sqla.session.commit()
        sqla.engine.dispose()
    return result.rowcount


def deliver_with_workers(db: Database, ctx: Context, sink: SmtpSink, workers: int) -> dict:
    queued = _reset_outbox(db, ctx)
    env = db.env(ctx.instance)
    env.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=str(sink.port))
    processes = [
        subprocess.Popen(
            [str(BIN / "python"), "-m", "benchmarks.deliver_worker"],
            env=env,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    # A fixed delay was not always enough on a busy machine: a worker that
    # came up seconds late found the queue empty and its lateness was timed.
    # Now the start is set once every worker is connected and waiting.
    for process in processes:
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError("a delivery worker did not start")
    start_at = time.time() + 0.5
    for process in processes:
        process.stdin.write(f"{start_at}\n")
        process.stdin.flush()
    reports = []
    for process in processes:
        out, _ = process.communicate(timeout=1800)
        if process.returncode:
            raise RuntimeError(f"a delivery worker failed ({process.returncode})")
        reports.append(json.loads(out.strip().splitlines()[-1]))
    seconds = max(r["finished"] for r in reports) - start_at
    sent = sum(r["sent"] for r in reports)
    late = max(r["late"] for r in reports)
    say(
        f"{workers} worker(s): {sent:,} of {queued:,} sent in {seconds:.1f} s "
        f"({sent / seconds:,.0f}/s)" + (f"; a worker started {late:.1f} s late" if late > 0 else "")
    )
    return {
        "workers": workers,
        "queued": queued,
        "sent": sent,
        "seconds": seconds,
        "per_s": sent / seconds,
        "per_worker_sent": [r["sent"] for r in reports],
        "errors": sum(r["errors"] for r in reports),
        "failed": sum(r["failed"] for r in reports),
    }


def bare_smtplib(db: Database, ctx: Context, sink: SmtpSink, connections: int = 1) -> dict:
    """The same messages, read from the outbox first, then sent in a plain
    loop over one connection: no claims, no parsing, no bookkeeping.

    With several connections, as many processes each send their share at
    the same time: the most this server (and machine) takes from that many
    clients, the ceiling for as many workers. Against the instant server one
    bare connection already comes close to it, so four workers cannot be 3x
    one worker that is within 2x of the bare loop; this shows how near the
    ceiling they get."""
    from email.utils import parseaddr

    from market.extensions import db as sqla
    from market.outbox.models import OutboxMessage

    app = _app(db, ctx)
    with app.app_context():
        messages = sqla.session.execute(
            select(OutboxMessage.to_address, OutboxMessage.mime).order_by(OutboxMessage.id)
        ).all()
        sender = parseaddr(app.config["MAIL_FROM"])[1]
        sqla.engine.dispose()
    shares = [(sink.port, sender, messages[n::connections]) for n in range(connections)]
    if connections == 1:
        started = time.perf_counter()
        _send_bare(shares[0])
        seconds = time.perf_counter() - started
    else:
        # Forked before the clock starts, so process start-up is not timed.
        with multiprocessing.get_context("fork").Pool(connections) as pool:
            pool.map(_nothing, range(connections))
            started = time.perf_counter()
            pool.map(_send_bare, shares, chunksize=1)
            seconds = time.perf_counter() - started
    rate = len(messages) / seconds
    label = "bare smtplib" + (f", {connections} connections" if connections > 1 else "")
    say(f"{label}: {len(messages):,} sent in {seconds:.1f} s ({rate:,.0f}/s)")
    return {"sent": len(messages), "seconds": seconds, "per_s": rate, "connections": connections}


def _send_bare(share: tuple[int, str, list]) -> None:
    port, sender, messages = share
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        for to_address, mime in messages:
            smtp.sendmail(sender, [to_address], mime)


def _nothing(_) -> None:
    pass


def measure_delivery(db: Database, ctx: Context, delay_ms: int, limit: int | None = None) -> dict:
    """One, then four workers, then the bare loop over one and over four
    connections, against one sink. With `limit`, only the first `limit`
    messages stay in the outbox (a bounded run for the slow relay)."""
    if limit is not None:
        _keep_first(db, ctx, limit)
    with SmtpSink(ctx, delay_ms) as sink:
        say(f"SMTP sink on 127.0.0.1:{sink.port}, {delay_ms} ms per message")
        one = deliver_with_workers(db, ctx, sink, 1)
        four = deliver_with_workers(db, ctx, sink, 4)
        bare = bare_smtplib(db, ctx, sink)
        bare_four = bare_smtplib(db, ctx, sink, connections=4)
    expected = one["sent"] + four["sent"] + bare["sent"] + bare_four["sent"]
    if sink.received != expected:
        raise RuntimeError(f"the SMTP sink received {sink.received}, expected {expected}")
    return {
        "delay_ms": delay_ms,
        "one": one,
        "four": four,
        "bare": bare,
        "bare_four": bare_four,
        "four_of_ceiling": four["per_s"] / bare_four["per_s"],
        "speedup": four["per_s"] / one["per_s"],
        "one_vs_bare": bare["per_s"] / one["per_s"],
        "received": sink.received,
    }


def _keep_first(db: Database, ctx: Context, limit: int) -> None:
    from sqlalchemy import delete

    from market.extensions import db as sqla
    from market.invitations.models import Invitation
    from market.outbox.models import OutboxMessage

    app = _app(db, ctx)
    with app.app_context():
        last = sqla.session.scalar(
            select(OutboxMessage.id).order_by(OutboxMessage.id).offset(limit - 1).limit(1)
        )
        if last is not None:
            extra = select(OutboxMessage.id).where(OutboxMessage.id > last)
            sqla.session.execute(
                update(Invitation)
                .where(Invitation.outbox_message_id.in_(extra))
                .values(outbox_message_id=None)
            )
            sqla.session.execute(delete(OutboxMessage).where(OutboxMessage.id > last))
            sqla.session.commit()
        sqla.engine.dispose()
