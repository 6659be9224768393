"""Delivery: `deliver_due` (run by `flask outbox deliver`) claims a batch
of due messages, sends them over one connection and records the results of
the whole batch in one transaction.

Nothing sends from inside a web request: `enqueue` (market.outbox.services)
only adds a row, which the caller commits with its own change.

Delivery is at least once: a worker that dies after the SMTP server accepted
messages but before it recorded them will have them sent again once its claim
lapses (at most one batch). Two live workers never send the same message: a
batch is claimed in one short transaction whose rows are locked with SKIP
LOCKED (PostgreSQL) or taken under the single write lock (SQLite), and a
batch that outlasts half its lease renews it before going on. Those rules for the outbox
rows (claims, back-off, giving up, staff retries) are in
market.outbox.services; this module talks SMTP (or writes .eml files).
"""

import os
import secrets
import smtplib
import socket
from datetime import datetime
from pathlib import Path
from time import monotonic

from flask import current_app

from market.extensions import db
from market.outbox.mime import eml_filename, envelope
from market.outbox.services import (
    Claimed,
    DeliveryReport,
    claim_due,
    lease_seconds,
    record_results,
    renew_claims,
)
from market.timeutil import utcnow


class TransportUnavailable(Exception):
    """The server could not be reached or refused us: no use trying the rest
    of the batch now."""


def deliver_due(
    batch_size: int | None = None, worker_id: str | None = None, now: datetime | None = None
) -> DeliveryReport:
    """One pass: claim up to batch_size due messages, send them over one SMTP
    connection, then record what the server said about all of them at once.

    Three short transactions per batch, none per message: the claim, (rarely)
    a lease renewal, the results. The results are written after the batch,
    also when a send raises something unexpected, but not if the process is
    killed outright: then the messages the server had already accepted are
    sent again once their claim lapses. That is the at-least-once promise,
    now with up to one batch (OUTBOX_BATCH_SIZE) of repeats instead of one
    message, the price of not committing per message.

    Commits the session, so call it with nothing pending; the CLI and tests
    do. `now` lets tests move the clock forward."""
    config = current_app.config
    now = now or utcnow()
    worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
    batch = claim_due(batch_size or config["OUTBOX_BATCH_SIZE"], worker_id, now)
    report = DeliveryReport()
    if not batch:
        return report
    transport = SMTPTransport(config) if config.get("MAIL_SERVER") else FileTransport(mail_dir())
    sent: list[int] = []
    failures: list[tuple[Claimed, Exception]] = []
    lease = _Lease(worker_id, now)
    try:
        for index, message in enumerate(batch):
            if not lease.still_ours(message, batch[index:]):
                continue  # someone took it over after our lease ran out
            try:
                transport.send(message)
            except TransportUnavailable as error:
                failures += [(other, error) for other in batch[index:] if lease.holds(other)]
                break
            except Exception as error:  # any failure of one message: retry it later
                failures.append((message, error))
            else:
                sent.append(message.id)
    except BaseException:
        db.session.rollback()  # say, a failed renewal: the results below must still go in
        raise
    finally:
        transport.close()
        record_results(sent, failures, now, report)
        db.session.commit()
    return report


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
