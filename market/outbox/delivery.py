"""Delivery: `deliver_due` (run by `flask outbox deliver`) claims a batch
of due messages, sends them over one connection and records each message's
result in its own short transaction as soon as the server has answered.

Nothing sends from inside a web request: `enqueue` (market.outbox.services)
only adds a row, which the caller commits with its own change.

Delivery is at least once, and a repeat is rare and recognisable: a worker
killed between the server's "250 accepted" and the commit that records it
leaves that one message in flight, which is sent again once its claim lapses;
every message accepted before it is already recorded as sent. The repeat
carries the same Message-ID, since the whole message, headers included, was
written when it was queued, so mail programs that drop duplicates drop it.

An earlier version recorded a batch's results in one transaction at its end,
to spare the database a commit per message; a crash then resent up to a
whole batch (OUTBOX_BATCH_SIZE messages). One short commit per message is
the price of the smaller repeat, and a commit waits for the disk: to a
loopback server, 500 messages took about 1-2 s before and 10-15 s after on
SQLite (its journal is flushed twice a commit), 1 s before and 2-5 s after on
PostgreSQL without fsync (one WAL flush a message more with it). Against a
remote relay, which takes its own time over each message, the share is
smaller.

Advertising may only arrive within SEND_WINDOW (Korea time), so each
advertising message is checked against the clock just before it is sent,
not only when its batch was claimed: a batch claimed at 20:59:58 gives its
advertising back to the queue, due the next morning, once 21:00 has passed;
that is no failed attempt.

Two live workers never send the same message: a batch is claimed in one
short transaction whose rows are locked with SKIP LOCKED (PostgreSQL) or
taken under the single write lock (SQLite), and a batch that outlasts half
its lease renews it before going on. Those rules for the outbox rows
(claims, back-off, giving up, staff retries) are in market.outbox.services;
this module talks SMTP (or writes .eml files).
"""

import os
import secrets
import smtplib
import socket
from datetime import datetime
from pathlib import Path
from time import monotonic

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from market.extensions import db
from market.outbox.mime import eml_filename, envelope
from market.outbox.services import (
    Claimed,
    DeliveryReport,
    claim_due,
    give_back,
    is_advertising,
    lease_seconds,
    log,
    record_results,
    renew_claims,
)
from market.timeutil import in_window, next_send_time, parse_window, utcnow


class TransportUnavailable(Exception):
    """The server could not be reached or refused us: no use trying the rest
    of the batch now."""


def deliver_due(
    batch_size: int | None = None, worker_id: str | None = None, now: datetime | None = None
) -> DeliveryReport:
    """One pass: claim up to batch_size due messages, send them over one SMTP
    connection, and record what the server said about each one, committed,
    before the next goes out.

    Transactions: the claim, one per message tried (its result), (rarely) a
    lease renewal, and one at the end that gives back what was not tried
    (advertising after hours; the rest of a batch cut short). A process
    killed outright leaves only the message in flight unrecorded.

    Commits the session, so call it with nothing pending; the CLI and tests
    do. `now` lets tests move the clock forward; the window is checked at
    `now` plus the time this pass has taken so far."""
    config = current_app.config
    started = utcnow()
    now = now or started
    worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
    batch = claim_due(batch_size or config["OUTBOX_BATCH_SIZE"], worker_id, now)
    report = DeliveryReport()
    if not batch:
        return report
    transport = SMTPTransport(config) if config.get("MAIL_SERVER") else FileTransport(mail_dir())
    window = parse_window(config["SEND_WINDOW"])
    untried = list(batch)  # claimed, and neither in flight nor answered yet
    after_hours: list[int] = []
    morning: datetime | None = None
    lease = _Lease(worker_id, now)
    try:
        while untried:
            message = untried.pop(0)  # in flight from here: never given back below
            if not lease.still_ours(message, [message, *untried]):
                continue  # someone took it over after our lease ran out
            clock = now + (utcnow() - started)
            if is_advertising(message.category) and not in_window(clock, window):
                after_hours.append(message.id)
                morning = next_send_time(clock, window)
                continue
            try:
                transport.send(message)
            except TransportUnavailable as error:
                rest = [other for other in untried if lease.holds(other)]
                untried = []
                record_results([], [(other, error) for other in [message, *rest]], now, report)
            except Exception as error:  # any failure of one message: retry it later
                record_results([], [(message, error)], now, report)
            else:
                record_results([message], [], now, report)
            db.session.commit()
    except BaseException:
        db.session.rollback()  # say, a failed renewal: what is untried still goes back
        raise
    finally:
        transport.close()
        report.deferred = len(after_hours)
        _give_back(after_hours, morning, [m.id for m in untried if lease.holds(m)], worker_id)
    return report


def _give_back(
    after_hours: list[int], morning: datetime | None, untried: list[int], worker_id: str
) -> None:
    """Advertising reached after the window closed waits for the morning;
    the untried rest of a batch cut short (Ctrl-C twice, a database error) is
    due again at once rather than when its claim lapses. If even that fails,
    the claims lapse and the messages go out then."""
    try:
        give_back(after_hours, worker_id, due=morning)
        give_back(untried, worker_id)
        db.session.commit()
    except SQLAlchemyError as error:
        db.session.rollback()
        log.warning("outbox: could not give back untried messages: %s", error)


class _Lease:
    """Our claim on a batch, renewed only when half of it has run out (a
    slow server): checking it before every message would cost a commit each."""

    def __init__(self, worker_id: str, now: datetime):
        self.worker_id, self.now = worker_id, now
        self.seconds = lease_seconds()
        self.renewed = monotonic()
        self.lost: set[int] = set()

    def still_ours(self, message: Claimed, unsent: list[Claimed]) -> bool:
        if monotonic() - self.renewed > self.seconds / 2:
            ids = [other.id for other in unsent if other.id not in self.lost]
            kept = renew_claims(ids, self.worker_id, self.now)
            db.session.commit()
            self.renewed = monotonic()
            self.lost.update(set(ids) - kept)
        return self.holds(message)

    def holds(self, message: Claimed) -> bool:
        return message.id not in self.lost


def mail_dir() -> Path:
    return Path(current_app.config.get("MAIL_DIR") or Path(current_app.instance_path) / "mail")


class SMTPTransport:
    """One connection for the whole batch, opened on the first message."""

    def __init__(self, config):
        self.config = config
        self.smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        try:
            smtp = smtplib.SMTP(
                config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"]
            )
        except (OSError, smtplib.SMTPException) as error:
            raise TransportUnavailable(
                f"cannot connect to {config['MAIL_SERVER']}: {error}"
            ) from error
        try:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        except (OSError, smtplib.SMTPException) as error:
            smtp.close()
            raise TransportUnavailable(f"{type(error).__name__}: {error}") from error
        return smtp

    def send(self, message: Claimed) -> None:
        sender, to = envelope(message.mime)
        if self.smtp is None:
            self.smtp = self._connect()
        try:
            self.smtp.sendmail(sender, to, message.mime)
        except BaseException:
            self.close()  # start the next message on a clean connection
            raise

    def close(self) -> None:
        if self.smtp is not None:
            smtp, self.smtp = self.smtp, None
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()


class FileTransport:
    """Development: each message becomes <id>-<subject>.eml in a folder."""

    def __init__(self, directory: Path):
        self.directory = directory

    def send(self, message: Claimed) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / eml_filename(message)
        partial = target.with_suffix(".eml.part")
        partial.write_bytes(message.mime)
        partial.replace(target)

    def close(self) -> None:
        pass
