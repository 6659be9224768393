"""The outbox table's rules: who may claim which message, what a failed
attempt means, retries; and what the staff pages ask of it (lists, counts, a
message opened the way its recipient would see it).

Building messages and talking SMTP live in market.mail, which calls these.
Claims commit at once: a claim has to be visible to the other workers before
any mail goes out."""

import logging
import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import policy
from email.parser import BytesParser

from flask import current_app
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import OperationalError

from market.audit.services import record
from market.extensions import db
from market.outbox.models import OutboxMessage, OutboxStatus
from market.timeutil import in_window, parse_window, utcnow

log = logging.getLogger("market.mail")

DEFAULT_LEASE = timedelta(minutes=5)
RETRY_BASE = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=6)


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.retried + self.failed


class OutboxError(ValueError):
    pass


def _due(now: datetime):
    due = or_(
        and_(OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_until <= now),
    )
    window = parse_window(current_app.config["SEND_WINDOW"])
    if in_window(now, window):
        return due
    # At night advertising waits, even after a retry back-off or a worker
    # outage pushed it past its planned morning slot.
    quiet = [
        OutboxMessage.category.startswith(prefix)
        for prefix in current_app.config["ADVERTISING_CATEGORIES"]
    ]
    return and_(due, ~or_(*quiet)) if quiet else due


def _lease() -> timedelta:
    seconds = current_app.config.get("OUTBOX_LEASE_SECONDS")
    return timedelta(seconds=seconds) if seconds else DEFAULT_LEASE


def claim_due(batch_size: int, worker_id: str, now: datetime) -> list[int]:
    """Marks up to batch_size due messages as ours (status sending until
    now + lease) and commits; returns their ids, oldest first."""
    claim = {
        "status": OutboxStatus.SENDING,
        "claimed_by": worker_id,
        "claimed_until": now + _lease(),
    }
    candidates = (
        select(OutboxMessage.id, OutboxMessage.status)
        .where(_due(now))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(batch_size)
    )
    if db.engine.dialect.name == "postgresql":
        ids = list(
            db.session.scalars(
                candidates.with_only_columns(OutboxMessage.id).with_for_update(skip_locked=True)
            )
        )
        if ids:
            db.session.execute(
                update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(**claim)
            )
        db.session.commit()
        return ids
    # Elsewhere (SQLite): read, then compare-and-set each row. Only one UPDATE
    # can match a row while it is still due, so only one worker wins it.
    won = []
    try:
        for message_id, status in db.session.execute(candidates).all():
            result = db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id, OutboxMessage.status == status, _due(now))
                .values(**claim)
            )
            if result.rowcount == 1:
                won.append(message_id)
        db.session.commit()
    except OperationalError as error:  # "database is locked": another worker is busy
        db.session.rollback()
        log.warning("outbox: could not claim messages this pass: %s", error)
        return []
    return won


def renew_claim(message_id: int, worker_id: str, now: datetime) -> bool:
    """Just before sending: still ours? Then hold it for another lease. False
    means our lease ran out and another worker has it now."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.claimed_by == worker_id,
        )
        .values(claimed_until=max(now, utcnow()) + _lease())
    )
    db.session.commit()
    return result.rowcount == 1


def record_success(message: OutboxMessage, now: datetime, report: DeliveryReport) -> None:
    """The server took it. Every try counts in attempts, the successful one too."""
    message.status = OutboxStatus.SENT
    message.attempts += 1
    message.sent_at = max(now, utcnow())
    message.claimed_until = None
    message.last_error = None
    db.session.commit()
    report.sent += 1


def record_failure(
    message: OutboxMessage, error: Exception, now: datetime, report: DeliveryReport
) -> None:
    """Back in the queue after a back-off, or failed for good."""
    message.attempts += 1
    message.last_error = f"{type(error).__name__}: {error}"[:2000]
    message.claimed_until = None
    if is_permanent(error) or message.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        message.status = OutboxStatus.FAILED
        report.failed += 1
        log.error("outbox: message %s failed for good: %s", message.id, message.last_error)
    else:
        message.status = OutboxStatus.QUEUED
        message.next_attempt_at = now + retry_delay(message.attempts)
        report.retried += 1
        log.warning("outbox: message %s will be retried: %s", message.id, message.last_error)
    db.session.commit()


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
    if message.status not in (OutboxStatus.FAILED, OutboxStatus.QUEUED):
        raise OutboxError(f"message {message.id} is {message.status.value}, not failed")
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


SHOWN_HEADERS = (
    "From",
    "To",
    "Cc",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "List-Unsubscribe",
)
PREVIEW_LIMIT = 20_000  # characters of a text part shown on the page


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


@dataclass
class PartInfo:
    content_type: str
    filename: str | None
    size: int
    preview: str | None = None  # decoded text of text/* parts (a calendar, say)


@dataclass
class OpenedMessage:
    headers: list[tuple[str, str]]
    text: str | None
    html: str | None
    parts: list[PartInfo] = field(default_factory=list)


def open_message(row: OutboxMessage) -> OpenedMessage:
    """The stored MIME parsed back: what the recipient's mail program gets."""
    parsed = BytesParser(policy=policy.default).parsebytes(row.mime)
    text_part = parsed.get_body(preferencelist=("plain",))
    html_part = parsed.get_body(preferencelist=("html",))
    headers = [(name, str(value)) for name in SHOWN_HEADERS for value in parsed.get_all(name, [])]
    others = []
    for part in parsed.walk():
        if part.is_multipart() or part is text_part or part is html_part:
            continue
        payload = part.get_payload(decode=True) or b""
        preview = None
        if part.get_content_maintype() == "text":
            preview = _text_of(part)[:PREVIEW_LIMIT]
        others.append(PartInfo(part.get_content_type(), part.get_filename(), len(payload), preview))
    return OpenedMessage(
        headers=headers,
        text=_text_of(text_part) if text_part is not None else None,
        html=_text_of(html_part) if html_part is not None else None,
        parts=others,
    )


def _text_of(part) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError):  # an unknown or lying charset
        return (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
