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
    from market.invitations.models import ControlCustomer, Invitation
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
        # Not those the seeded campaign (benchmarks.dataset.invitations)
        # already invited to this market or held back from it: invite()
        # would skip them.
        taken = select(Invitation.customer_id).where(Invitation.market_id == market.id)
        held = select(ControlCustomer.customer_id).where(ControlCustomer.market_id == market.id)
        ids = list(
            sqla.session.scalars(
                select(Customer.id)
                .where(may_receive_advertising(), Customer.id.not_in(taken))
                .where(Customer.id.not_in(held))
                .order_by(Customer.id)
                .limit(count)
            )
        )
        if len(ids) < count:
            raise RuntimeError(f"only {len(ids)} customers may be invited; {count} wanted")
        say(f"building and queueing {count:,} invitations to the market of {market.market_date}")
        started, cpu = time.perf_counter(), time.process_time()
        invited = 0
        for start in range(0, count, CHUNK):
            result = sending.invite(market, ids[start : start + CHUNK], staff, utcnow())
            sqla.session.commit()
            invited += result.invited
        seconds = time.perf_counter() - started
        # This process's CPU time: on a busy machine the wall time is mostly waiting.
        cpu_seconds = time.process_time() - cpu
        say(f"queued {invited:,} invitations in {seconds:.1f} s ({invited / seconds:,.0f}/s)")
        cpu_before = time.process_time()
        bare_count, bare_seconds, _sample = bare_queue(market, ids, sqla.engine)
        bare_cpu_seconds = time.process_time() - cpu_before
        sqla.engine.dispose()
    say(
        f"bare loop: {bare_count:,} messages built and inserted in {bare_seconds:.1f} s "
        f"({bare_count / bare_seconds:,.0f}/s); the app took {seconds / bare_seconds:.1f}x "
        f"(CPU time of this process: app {cpu_seconds:.1f} s, bare {bare_cpu_seconds:.1f} s)"
    )
    return {
        "invitations": invited,
        "seconds": seconds,
        "per_s": invited / seconds,
        "cpu_seconds": cpu_seconds,
        "bare_count": bare_count,
        "bare_seconds": bare_seconds,
        "bare_cpu_seconds": bare_cpu_seconds,
    }


# -- the bare loop the app is compared with -------------------------------------------

BARE_TABLE = "bench_bare_outbox"


def bare_queue(market, customer_ids: list[int], engine) -> tuple[int, float, bytes]:
    """The same invitations as the app queues, built with the standard
    library alone and inserted with `executemany` into a plain table of the
    same database: what a short script doing only this would take.

    Untimed, as such a script would have them as constants: the mail's
    words with gaps (the app's templates rendered once, as its batch does),
    the calendar around the customer's two lines, the headers. Timed, per
    recipient: the words filled in (HTML-escaped), the ATTENDEE and
    DESCRIPTION lines escaped and folded (RFC 5545), the QR code made with
    segno and written as the same PNG (a real program must make it too),
    base64 and quoted-printable bodies, the headers (RFC 2047 names), the
    multipart assembly with random boundaries; then one executemany per
    1,000 (the app's batch) and a commit. Returns how many, the seconds and
    the first message (to compare with the app's)."""
    import base64
    import html
    import random
    import secrets
    from email import quoprimime
    from email.header import Header
    from email.utils import format_datetime, make_msgid

    import segno
    from sqlalchemy import text

    from market.customers.models import Customer
    from market.extensions import db as sqla
    from market.invitations import messages, passes
    from market.invitations.models import PASS_ALPHABET
    from market.timeutil import to_seoul, utcnow

    now = utcnow()
    batch = messages.InvitationBatch(
        market, messages.attending_vendors(market), messages.MailKind.INVITE, now
    )
    frame = batch._frame(market.sequence, True)
    context = frame.context
    text_pieces, html_pieces = frame.text, frame.html
    calendar_head, calendar_tail = frame.calendar
    rsvp_head, rsvp_tail = batch._urls["rsvp"]
    unsubscribe_head, unsubscribe_tail = batch._urls["unsubscribe"]
    pass_head, pass_tail = batch._urls["pass"]
    from_line = frame.layout.pieces[0].split(b"\r\n")[0] + b"\r\n"  # From: as configured
    subject = "Subject: " + Header(frame.layout.subject, "utf-8", header_name="Subject").encode()
    date = "Date: " + format_datetime(to_seoul(now))
    domain = frame.layout.domain
    people = [
        (customer.name or "", customer.email, messages.consent_text(customer))
        for customer in sqla.session.scalars(
            select(Customer).where(Customer.id.in_(customer_ids)).order_by(Customer.id)
        )
    ]
    sqla.session.rollback()

    def fill(pieces, values):
        return "".join(values[p] if n % 2 else p for n, p in enumerate(pieces))

    def fold(line: str) -> bytes:  # RFC 5545 §3.1: 75 octets, not inside a character
        out, size = [], 0
        for char in line:
            width = len(char.encode())
            size += width
            if size >= 75:
                out.append("\r\n ")
                size = width
            out.append(char)
        return "".join(out).encode() + b"\r\n"

    def ical_text(value: str) -> str:
        value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
        return value.replace("\n", "\\n")

    def b64(data: bytes) -> bytes:
        return base64.encodebytes(data).replace(b"\n", b"\r\n")

    def boundary() -> str:
        return "=" * 15 + f"{random.randrange(2**63 - 1):019d}" + "=="

    def build(name: str, email: str, consent: str) -> tuple[str, str, bytes]:
        token = secrets.token_urlsafe(32)
        code = "".join(secrets.choice(PASS_ALPHABET) for _ in range(6))
        rsvp = f"{rsvp_head}{token}{rsvp_tail}"
        unsubscribe = f"{unsubscribe_head}{token}{unsubscribe_tail}"
        qr = segno.make(f"{pass_head}{code}{pass_tail}", error="m", micro=False, mask=7)
        png, size = passes.png_of(qr)
        cid = make_msgid("pass", domain=domain)[1:-1]
        local, _, host = email.partition("@")
        values = {
            "customer_name": name,
            "consent_text": consent,
            "masked_email": f"{local[:1]}***@{host}",
            "rsvp_url": rsvp,
            "accept_url": f"{rsvp}?answer=accept",
            "decline_url": f"{rsvp}?answer=decline",
            "unsubscribe_url": unsubscribe,
            "pass_code": code,
            "pass_image": f"cid:{cid}",
            "pass_size": str(size),
        }
        body_text = fill(text_pieces, values)
        body_html = fill(html_pieces, {k: html.escape(v, quote=True) for k, v in values.items()})
        description = messages.calendar_description({**context, "rsvp_url": rsvp})
        cn = f'"{name}"' if any(c in name for c in ',;:"') else name
        attendee = (
            f"ATTENDEE;CN={cn};CUTYPE=INDIVIDUAL;PARTSTAT=NEEDS-ACTION;"
            f"ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:{email}"
        )
        ics = calendar_head + fold(attendee) + fold("DESCRIPTION:" + ical_text(description))
        ics = b64(ics + calendar_tail)
        mixed, alternative, related = boundary(), boundary(), boundary()
        to = f"To: {Header(name, 'utf-8').encode()} <{email}>" if name else f"To: {email}"
        text_lines = body_text.encode().splitlines()
        html_lines = body_html.encode().splitlines()
        html_qp = quoprimime.body_encode(b"\n".join(html_lines).decode("latin-1") + "\n", 78)
        head = "\r\n".join(
            (
                to,
                subject,
                date,
                f"Message-ID: {make_msgid(domain=domain)}",
                "MIME-Version: 1.0",
                f'Content-Type: multipart/mixed; boundary="{mixed}"',
                f"List-Unsubscribe: <{unsubscribe}>",
                "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
                "",
                f"--{mixed}",
                f'Content-Type: multipart/alternative; boundary="{alternative}"',
                "",
                f"--{alternative}",
                'Content-Type: text/plain; charset="utf-8"',
                "Content-Transfer-Encoding: base64",
                "",
                "",
            )
        ).encode()
        message = b"".join(
            (
                from_line,
                head,
                b64(b"\r\n".join(text_lines) + b"\r\n"),
                (
                    f"\r\n--{alternative}\r\n"
                    f'Content-Type: multipart/related; boundary="{related}"; type="text/html"\r\n'
                    f"\r\n--{related}\r\n"
                    'Content-Type: text/html; charset="utf-8"\r\n'
                    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                ).encode(),
                html_qp.replace("\n", "\r\n").encode(),
                (
                    f"\r\n--{related}\r\nContent-Type: image/png\r\n"
                    "Content-Transfer-Encoding: base64\r\n"
                    'Content-Disposition: inline; filename="pass.png"\r\n'
                    f"Content-ID: <{cid}>\r\nMIME-Version: 1.0\r\n\r\n"
                ).encode(),
                b64(png),
                (
                    f"\r\n--{related}--\r\n\r\n--{alternative}\r\n"
                    "Content-Type: text/calendar; method=REQUEST; charset=UTF-8\r\n"
                    "Content-Transfer-Encoding: base64\r\nMIME-Version: 1.0\r\n\r\n"
                ).encode(),
                ics,
                (
                    f"\r\n--{alternative}--\r\n\r\n--{mixed}\r\n"
                    'Content-Type: application/ics; name="invite.ics"\r\n'
                    "Content-Transfer-Encoding: base64\r\n"
                    'Content-Disposition: attachment; filename="invite.ics"\r\n'
                    "MIME-Version: 1.0\r\n\r\n"
                ).encode(),
                ics,
                f"\r\n--{mixed}--\r\n".encode(),
            )
        )
        return email, frame.layout.subject, message

    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE IF EXISTS {BARE_TABLE}"))
        kind = "BYTEA" if engine.dialect.name == "postgresql" else "BLOB"
        connection.execute(
            text(
                f"CREATE TABLE {BARE_TABLE} (id INTEGER PRIMARY KEY, "
                f"to_address VARCHAR(254), subject VARCHAR(500), mime {kind})"
            )
        )
        if engine.dialect.name == "postgresql":
            connection.execute(
                text(f"ALTER TABLE {BARE_TABLE} ALTER id ADD GENERATED BY DEFAULT AS IDENTITY")
            )
    raw = engine.raw_connection()
    try:
        marker = "%s" if engine.dialect.name == "postgresql" else "?"
        insert = (
            f"INSERT INTO {BARE_TABLE} (to_address, subject, mime) "
            f"VALUES ({marker}, {marker}, {marker})"
        )
        started = time.perf_counter()
        for start in range(0, len(people), CHUNK):
            rows = [build(*person) for person in people[start : start + CHUNK]]
            cursor = raw.cursor()
            cursor.executemany(insert, rows)
            cursor.close()
            raw.commit()
        seconds = time.perf_counter() - started
        cursor = raw.cursor()
        cursor.execute(f"SELECT mime FROM {BARE_TABLE} ORDER BY id LIMIT 1")
        sample = bytes(cursor.fetchone()[0])
        cursor.execute(f"DROP TABLE {BARE_TABLE}")
        cursor.close()
        raw.commit()
    finally:
        raw.close()
    return len(people), seconds, sample


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
