"""The outbox table's rules: a message queued with the change that caused
it, who may claim which message, what a failed attempt means, retries; and
what the staff pages ask of it (lists, counts).

Building messages is market.outbox.mime, sending them market.outbox.delivery,
which calls these. `enqueue` only adds a row; the caller commits it with its
own change, so a rolled-back change never mails anyone. Claims commit at
once: a claim has to be visible to the other workers before any mail goes
out. A batch is claimed in one statement; each result is written and
committed as soon as the server has answered for that message, so a worker
that dies leaves at most the message in flight unrecorded."""

import logging
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from blinker import Namespace
from flask import current_app, g
from flask_babel import gettext as _
from sqlalchemy import and_, func, insert, or_, select, text, update
from sqlalchemy.exc import OperationalError

from market.audit.services import record
from market.core.rules import RuleError
from market.extensions import db
from market.outbox.mime import (
    UNBUILDABLE_ERRORS,
    Prepared,
    Unbuildable,
    recipients,
    unbuildable,
)
from market.outbox.models import OutboxMessage, OutboxStatus
from market.timeutil import in_window, parse_window, utcnow

log = logging.getLogger("market.mail")

signals = Namespace()
# Sent by record_results right after it has marked messages sent, once per
# category (the sender: the category string), with `ids` (the messages) and
# `at` (their sent_at), before the caller commits: what a receiver writes
# joins the same transaction as the sent mark. The areas above the outbox
# learn that their mail arrived without the outbox knowing them (the
# invitations area: when an invitation first reached its customer). A
# receiver connects for its categories only, so other mail costs nothing.
messages_sent = signals.signal("outbox-messages-sent")

DEFAULT_LEASE = timedelta(minutes=5)
RETRY_BASE = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=6)


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    # Advertising claimed in the window but reached after it closed: back in
    # the queue for the morning, no attempt counted. Not part of `total`, the
    # messages tried.
    deferred: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.retried + self.failed


class OutboxError(RuleError):
    """A staff action on a message that its state does not allow."""


# --- queueing ---------------------------------------------------------------------


def enqueue(
    message: EmailMessage | Unbuildable,
    category: str = "general",
    not_before: datetime | None = None,
) -> OutboxMessage:
    """Adds the message to the session; the caller commits. A message that
    cannot be built or written is added as failed, with the reason."""
    row = OutboxMessage(**_outbox_values(message, category, not_before or utcnow()))
    db.session.add(row)
    return row


def enqueue_many(
    messages: Iterable[EmailMessage | Unbuildable | Prepared],
    category: str = "general",
    not_before: datetime | None = None,
) -> int:
    """Like `enqueue` for many messages, in one INSERT whatever their number
    (the ORM would insert row by row on SQLite). Runs at once, inside the
    caller's transaction; the caller commits. Returns how many were queued."""
    return len(enqueue_rows(messages, category, not_before))


def enqueue_rows(
    messages: Iterable[EmailMessage | Unbuildable | Prepared],
    category: str = "general",
    not_before: datetime | None = None,
) -> list[int]:
    """`enqueue_many` that returns the new rows' ids, in the order of the
    messages (one INSERT ... RETURNING, executemany on both databases)."""
    when = not_before or utcnow()
    rows = [_outbox_values(message, category, when) for message in messages]
    if not rows:
        return []
    if db.session.get_bind().dialect.name == "sqlite":
        # SQLAlchemy sends an INSERT whose RETURNING must follow the rows'
        # order one row at a time on SQLite. It need not: an INSERT gives
        # its rows the next rowids in the order of its VALUES (one writer
        # at a time), so its ids, sorted, are in the messages' order.
        statement = insert(OutboxMessage).returning(OutboxMessage.id)
        return sorted(db.session.scalars(statement, rows))
    db.session.execute(_LZ4_IN_THIS_TRANSACTION)
    statement = insert(OutboxMessage).returning(OutboxMessage.id, sort_by_parameter_order=True)
    return list(db.session.scalars(statement, rows))


# PostgreSQL compresses each stored mail (TOAST) with pglz unless told
# otherwise, and that was most of the time a campaign's INSERT took on the
# server (0.35 s of 0.4 for 1,000 invitations; lz4 0.08 s, to the same
# size). For this transaction only, and only where the server has lz4
# (PostgreSQL 14 and later, built with it): elsewhere the setting stays as
# it was. Reading needs nothing: each value records how it was compressed.
_LZ4_IN_THIS_TRANSACTION = text(
    "SELECT set_config('default_toast_compression', 'lz4', true)"
    " FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)"
)


def _outbox_values(
    message: EmailMessage | Unbuildable | Prepared, category: str, not_before: datetime
) -> dict:
    if isinstance(message, Prepared):
        return {
            "category": category,
            "to_address": message.to_address[:254],
            "subject": message.subject[:500],
            "mime": message.mime,
            "status": OutboxStatus.QUEUED,
            "attempts": 0,
            "next_attempt_at": not_before,
            "last_error": None,
        }
    if not isinstance(message, Unbuildable):
        try:  # some headers are only refused when the message is written
            return {
                "category": category,
                "to_address": ", ".join(recipients(message))[:254],
                "subject": str(message["Subject"] or "")[:500],
                "mime": bytes(message),
                "status": OutboxStatus.QUEUED,
                "attempts": 0,
                "next_attempt_at": not_before,
                "last_error": None,  # every row of one INSERT names the same columns
            }
        except UNBUILDABLE_ERRORS as error:
            message = unbuildable(str(message["To"] or ""), str(message["Subject"] or ""), error)
    g.unbuilt_mails = unbuilt_count() + 1
    return {
        "category": category,
        "to_address": message.to_text[:254],
        "subject": str(message["Subject"])[:500],
        "mime": b"",
        "status": OutboxStatus.FAILED,
        "attempts": 0,
        "next_attempt_at": not_before,
        "last_error": message.reason,
    }


def unbuilt_count() -> int:
    """How many messages were recorded as failed, not queued, because they
    could not be built, in this app context (a request, a CLI command). A
    page that says "the enterprise gets an email" compares it before and
    after its action, so it never claims a mail that was not queued."""
    return g.get("unbuilt_mails", 0)


def _due(now: datetime) -> list:
    """Two kinds of due message, each a range of the (status, next_attempt_at)
    index on its own: waiting ones, and the claims of a worker that died.
    Claimed separately, each is read in index order and the read stops after
    a batch; joined by OR, every due row was read and sorted for each claim,
    which grows with the queue (10,000 invitations: 30 ms a claim)."""
    kinds = [
        and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_until <= now),
        and_(OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.next_attempt_at <= now),
    ]
    window = parse_window(current_app.config["SEND_WINDOW"])
    if in_window(now, window):
        return kinds
    # At night advertising waits, even after a retry back-off or a worker
    # outage pushed it past its planned morning slot.
    quiet = [
        OutboxMessage.category.startswith(prefix)
        for prefix in current_app.config["ADVERTISING_CATEGORIES"]
    ]
    return [and_(kind, ~or_(*quiet)) for kind in kinds] if quiet else kinds


def _lease() -> timedelta:
    seconds = current_app.config.get("OUTBOX_LEASE_SECONDS")
    return timedelta(seconds=seconds) if seconds else DEFAULT_LEASE


@dataclass(frozen=True)
class Claimed:
    """A claimed message, with all that sending and recording it need, so
    the worker never loads a row on its own."""

    id: int
    attempts: int  # before this try
    subject: str
    mime: bytes
    category: str = "general"


def claim_due(batch_size: int, worker_id: str, now: datetime) -> list[Claimed]:
    """Marks up to batch_size due messages as ours (status sending until
    now + lease) and commits; returns them, oldest first. Lapsed claims are
    taken before waiting messages: they have waited longest.

    Each kind of due message is claimed by one UPDATE that picks its rows in
    a subquery. PostgreSQL locks them there with SKIP LOCKED, so concurrent
    workers take disjoint rows without waiting on each other. SQLite ignores
    the FOR UPDATE but runs a writing statement under its single write lock:
    a second worker's claim waits (pysqlite's busy timeout, 5 s) and then
    sees the rows as sending, not due. Either way it is one short write
    transaction, not one per row, and no read comes before the first write
    in it, so SQLite never has to refuse a lock upgrade with "database is
    locked" without waiting."""
    claim = {
        "status": OutboxStatus.SENDING,
        "claimed_by": worker_id,
        "claimed_until": now + _lease(),
    }
    rows = []
    try:
        for kind in _due(now):
            if len(rows) < batch_size:
                rows += _claim(kind, batch_size - len(rows), claim)
        if rows:
            db.session.commit()
        else:  # an idle poll writes nothing (nor moves the kept pages' data version)
            db.session.rollback()
    except OperationalError as error:
        db.session.rollback()
        if db.engine.dialect.name != "sqlite":
            raise
        # Still locked after the busy timeout: another writer is slow. Try
        # again next pass rather than fail the worker.
        log.warning("outbox: could not claim messages this pass: %s", error)
        return []
    rows.sort()  # RETURNING keeps no order
    return [Claimed(row.id, row.attempts, row.subject, row.mime, row.category) for row in rows]


def _claim(kind, limit: int, values: dict) -> list:
    picked = (
        select(OutboxMessage.id)
        .where(kind)
        .order_by(OutboxMessage.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(picked))
        .values(**values)
        .returning(
            OutboxMessage.next_attempt_at,
            OutboxMessage.id,
            OutboxMessage.attempts,
            OutboxMessage.subject,
            OutboxMessage.mime,
            OutboxMessage.category,
        )
        .execution_options(synchronize_session=False)
    ).all()


def renew_claims(ids: list[int], worker_id: str, now: datetime) -> set[int]:
    """Holds the still unsent messages of a long batch for another lease;
    returns those that are still ours (a lapsed claim may have been taken
    over by another worker, which then sends it). The caller commits."""
    if not ids:
        return set()
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(ids),
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.claimed_by == worker_id,
        )
        .values(claimed_until=max(now, utcnow()) + _lease())
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    return set(result.scalars())


def lease_seconds() -> float:
    return _lease().total_seconds()


def is_advertising(category: str) -> bool:
    """Whether the send window (SEND_WINDOW) applies to messages of this
    category; the same prefixes `_due` holds back at night."""
    return category.startswith(tuple(current_app.config["ADVERTISING_CATEGORIES"]))


def give_back(ids: list[int], worker_id: str, due: datetime | None = None) -> None:
    """Returns claimed messages we did not try to the queue (due again at
    `due`, or as they were), with no attempt counted: advertising reached
    after the window closed, or the rest of a batch whose worker is stopping.
    Only our own claims: one that lapsed belongs to whoever took it over.
    The caller commits."""
    if not ids:
        return
    values = {"status": OutboxStatus.QUEUED, "claimed_until": None}
    if due is not None:
        values["next_attempt_at"] = due
    db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(ids),
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.claimed_by == worker_id,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def record_results(
    sent: list[Claimed],
    failures: list[tuple[Claimed, Exception]],
    now: datetime,
    report: DeliveryReport,
) -> None:
    """What the server said: one UPDATE for the sent messages (then the
    messages_sent signal, per category) and one (executemany) for the failed
    ones; the caller commits. Delivery calls it for each message as soon as
    the server has answered.

    Every try counts in attempts, the successful one too. A failed message
    goes back into the queue after a back-off, or fails for good."""
    if sent:
        sent_at = max(now, utcnow())
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([message.id for message in sent]))
            .values(
                status=OutboxStatus.SENT,
                attempts=OutboxMessage.attempts + 1,
                sent_at=sent_at,
                claimed_until=None,
                last_error=None,
            )
            .execution_options(synchronize_session=False)
        )
        report.sent += len(sent)
        by_category: dict[str, list[int]] = {}
        for message in sent:
            by_category.setdefault(message.category, []).append(message.id)
        for category, ids in by_category.items():
            messages_sent.send(category, ids=ids, at=sent_at)
    if failures:
        db.session.execute(
            update(OutboxMessage),
            [_failure_values(message, error, now, report) for message, error in failures],
        )


def _failure_values(message: Claimed, error: Exception, now: datetime, report) -> dict:
    attempts = message.attempts + 1
    values = {
        "id": message.id,
        "attempts": attempts,
        "last_error": f"{type(error).__name__}: {error}"[:2000],
        "claimed_until": None,
    }
    if is_permanent(error) or attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        values["status"] = OutboxStatus.FAILED
        report.failed += 1
        log.error("outbox: message %s failed for good: %s", message.id, values["last_error"])
    else:
        values["status"] = OutboxStatus.QUEUED
        values["next_attempt_at"] = now + retry_delay(attempts)
        report.retried += 1
        log.warning("outbox: message %s will be retried: %s", message.id, values["last_error"])
    return values


def is_permanent(error: Exception) -> bool:
    """The server said no for good (5xx) to the recipients or the content;
    retrying will not help. Other 5xx (say, authentication) are our own
    configuration, so those messages wait for it to be fixed."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    return isinstance(error, smtplib.SMTPDataError) and error.smtp_code >= 500


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4, 8 ... minutes after the 1st, 2nd, 3rd, 4th ... failure, at most 6 hours."""
    return min(RETRY_BASE * 2 ** max(attempts - 1, 0), RETRY_CAP)


def retry(message: OutboxMessage, actor=None, now: datetime | None = None) -> None:
    """Staff asked to try again: a failed (or waiting) message is due now with
    a fresh count of attempts. The caller commits."""
    # A message that could not be built (see last_error) has nothing to
    # send: correcting the data and repeating the change queues a new one.
    if message.status not in (OutboxStatus.FAILED, OutboxStatus.QUEUED) or not message.mime:
        raise OutboxError(_("Only a failed or waiting message can be retried."))
    before = {"status": message.status, "attempts": message.attempts}
    message.status = OutboxStatus.QUEUED
    message.attempts = 0
    message.next_attempt_at = now or utcnow()
    message.claimed_until = None
    record(
        actor,
        "outbox.retry",
        message,
        before=before,
        after={"status": message.status, "attempts": 0},
    )


# --- what the staff pages show ---------------------------------------------------


def messages_query(
    status: str | None = None, category: str | None = None, search: str | None = None
):
    """Newest first. An unknown status filters nothing rather than erroring."""
    query = select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    if status in set(OutboxStatus):
        query = query.where(OutboxMessage.status == OutboxStatus(status))
    if category:
        query = query.where(OutboxMessage.category == category)
    if search:
        pattern = f"%{search.strip().lower()}%"
        query = query.where(
            or_(
                func.lower(OutboxMessage.to_address).like(pattern),
                func.lower(OutboxMessage.subject).like(pattern),
            )
        )
    return query


def status_counts() -> dict[OutboxStatus, int]:
    rows = db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    counts = dict.fromkeys(OutboxStatus, 0)
    counts.update({OutboxStatus(status): number for status, number in rows})
    return counts


def categories() -> list[str]:
    return list(
        db.session.scalars(
            select(OutboxMessage.category).distinct().order_by(OutboxMessage.category)
        )
    )
