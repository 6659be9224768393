"""Delivery reports: which address could not be reached, and what follows.

Standard reports (RFC 3464: multipart/report; report-type=delivery-status,
as Postfix, Exim, Exchange and today's Gmail send them) are read field by
field: Final-Recipient, Action, Status, Diagnostic-Code. Reports in plain
words (older Gmail, Exim without DSN, relays that rewrap) are recognised by
a small table of patterns; anything else from a mailer daemon is not a
bounce we can read, and is left for a person.

A permanent failure (5.x.x) puts the address on the suppression list as
"undeliverable", with the date and the server's words: the ranking and the
sending already skip suppressed addresses. Temporary failures (4.x.x) are
counted; the third within 30 days counts as permanent. The outbox message
that bounced is marked, found by the Message-ID the report quotes, or else
as the newest mail sent to that address."""

import re
from dataclasses import dataclass
from datetime import timedelta
from email import message_from_string
from email.message import EmailMessage, Message
from email.utils import parseaddr

from flask_babel import gettext as _
from sqlalchemy import func, select

from market.customers.models import Suppression, email_hash
from market.extensions import db
from market.inbox.models import InboxBounce
from market.inbox.outcome import Handled, MessageKind, Outcome
from market.outbox.models import OutboxMessage, OutboxStatus
from market.timeutil import utcnow
from market.validators import normalise_email

TEMPORARY_LIMIT = 3  # temporary failures within TEMPORARY_WINDOW that count as permanent
TEMPORARY_WINDOW = timedelta(days=30)
UNDELIVERABLE = "undeliverable"
DIAGNOSTIC_LENGTH = 1000

STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")
STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
MESSAGE_ID_LINE = re.compile(r"^\s*Message-ID:\s*(<[^>\s]+>)", re.IGNORECASE | re.MULTILINE)
SMTP_REPLY = re.compile(r"\b([45])\d\d\b")
DAEMONS = {"mailer-daemon", "postmaster", "mail-daemon", "mailer_daemon"}
BOUNCE_SUBJECT = re.compile(
    r"(undeliver|undelivered mail|delivery status notification|delivery failure|"
    r"mail delivery failed|returned mail|failure notice|delivery has failed|"
    r"전송 실패|반송)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Failure:
    """One recipient a report says was not (yet) reached."""

    address: str
    status: str | None  # "5.1.1"
    permanent: bool
    diagnostic: str | None


@dataclass(frozen=True)
class Report:
    failures: list[Failure]
    original_message_id: str | None


@dataclass(frozen=True)
class Pattern:
    """A report in plain words: where the address is, whether it is final,
    and what introduces the server's own words."""

    name: str
    recipient: re.Pattern
    permanent: bool
    diagnostic: re.Pattern | None = None


def _words(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.IGNORECASE | re.DOTALL)


ADDRESS = r"<?([^\s<>@]+@[^\s<>@]+?\.[A-Za-z0-9-]+)>?"
PATTERNS = (
    # Gmail's plain-text bounce ("Delivery Status Notification (Failure)",
    # from mailer-daemon@googlemail.com) and its delay notice.
    Pattern(
        "gmail",
        _words(r"Delivery to the following recipients? failed permanently:\s+" + ADDRESS),
        True,
        _words(r"The error that the other server returned was:\s*(.+?)(?:\n\s*\n|\Z)"),
    ),
    Pattern(
        "gmail-delay",
        _words(r"Delivery to the following recipients? has been delayed:\s+" + ADDRESS),
        False,
        _words(r"The error that the other server returned was:\s*(.+?)(?:\n\s*\n|\Z)"),
    ),
    # Gmail's wording since 2016, when the report's machine part is missing.
    Pattern(
        "gmail-2016",
        _words(r"Your message wasn't delivered to\s+" + ADDRESS),
        True,
        _words(r"The response(?: from the remote server)? was:\s*(.+?)(?:\n\s*\n|\Z)"),
    ),
    Pattern(
        "gmail-2016-delay",
        _words(r"There was a temporary problem delivering your message to\s+" + ADDRESS),
        False,
        _words(r"The response(?: from the remote server)? was:\s*(.+?)(?:\n\s*\n|\Z)"),
    ),
    # Exim's plain report ("Mail delivery failed: returning message to sender").
    Pattern(
        "exim",
        _words(r"The following address\(es\) failed:\s+" + ADDRESS),
        True,
        _words(r"failed:\s+\S+\s+(.+?)(?:\n\s*\n|\Z)"),
    ),
)


# --- recognising and reading -------------------------------------------------------


def is_bounce(message: EmailMessage) -> bool:
    if _is_dsn(message):
        return True
    return _from_daemon(message) and _plain_report(message) is not None


def _is_dsn(message: Message) -> bool:
    return (
        message.get_content_type() == "multipart/report"
        and str(message.get_param("report-type", "")).lower() == "delivery-status"
    )


def _from_daemon(message: Message) -> bool:
    local = parseaddr(str(message.get("From", "")))[1].partition("@")[0].lower()
    return local in DAEMONS or bool(BOUNCE_SUBJECT.search(str(message.get("Subject", ""))))


def read_report(message: EmailMessage) -> Report:
    if _is_dsn(message):
        report = _dsn_report(message)
        if report.failures:
            return report
    plain = _plain_report(message)
    return plain or Report([], _returned_message_id(message))


def _dsn_report(message: EmailMessage) -> Report:
    failures = []
    for part in message.walk():
        if part.get_content_type() not in STATUS_TYPES:
            continue
        blocks = _status_blocks(part)
        for block in blocks[1:]:  # the first block is about the message, the rest per recipient
            failure = _failure(block)
            if failure is not None:
                failures.append(failure)
    return Report(failures, _returned_message_id(message))


def _status_blocks(part: Message) -> list[Message]:
    """The report's header blocks. Python parses message/delivery-status
    into one Message per block; a report sent base64 or oddly wrapped may
    arrive as text instead, read here block by block."""
    payload = part.get_payload()
    if isinstance(payload, list) and payload and all(isinstance(p, Message) for p in payload):
        return payload
    text = payload if isinstance(payload, str) else ""
    if part.get("Content-Transfer-Encoding", "").lower() in ("base64", "quoted-printable"):
        text = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    text = text.replace("\r\n", "\n")
    return [message_from_string(block.strip() + "\n") for block in re.split(r"\n\s*\n", text)]


def _failure(block: Message) -> Failure | None:
    action = str(block.get("Action", "")).strip().lower()
    recipient = _address_field(block.get("Final-Recipient")) or _address_field(
        block.get("Original-Recipient")
    )
    if not recipient or action not in ("failed", "delayed"):
        return None  # delivered, relayed, expanded: not a failure
    status = STATUS.search(str(block.get("Status", "")))
    diagnostic = _clean(str(block.get("Diagnostic-Code", "") or ""))
    diagnostic = re.sub(r"^\s*smtp\s*;\s*", "", diagnostic, flags=re.IGNORECASE) or None
    code = status.group(0) if status else None
    if code is None and diagnostic:
        found = STATUS.search(diagnostic)
        code = found.group(0) if found else None
    # Without a code, "failed" is final and "delayed" is not (RFC 3464 2.3.3).
    permanent = code.startswith("5") if code else action == "failed"
    return Failure(recipient, code, permanent, diagnostic)


def _address_field(value) -> str | None:
    """ "rfc822; kim@example.net" (the address type, then the address)."""
    if not value:
        return None
    text = str(value)
    address = text.split(";", 1)[1] if ";" in text else text
    address = address.strip().strip("<>").strip()
    return address if "@" in address else None


def _plain_report(message: EmailMessage) -> Report | None:
    text = _plain_text(message)
    if not text:
        return None
    for pattern in PATTERNS:
        found = pattern.recipient.search(text)
        if not found:
            continue
        diagnostic = None
        if pattern.diagnostic is not None:
            words = pattern.diagnostic.search(text)
            diagnostic = _clean(words.group(1)) if words else None
        status = STATUS.search(diagnostic or "") or STATUS.search(text)
        code = status.group(0) if status else None
        if code is None:
            reply = SMTP_REPLY.search(diagnostic or "")
            code = f"{reply.group(1)}.0.0" if reply else None
        permanent = code.startswith("5") if code else pattern.permanent
        failure = Failure(found.group(1), code, permanent, diagnostic)
        # Gmail quotes the returned message's headers as text.
        quoted = MESSAGE_ID_LINE.search(text[found.end() :])
        original = _returned_message_id(message) or (quoted.group(1) if quoted else None)
        return Report([failure], original)
    return None


def _plain_text(message: EmailMessage) -> str:
    """The report's readable words: its first text/plain part, not the
    returned message's."""
    for part in message.walk():
        if part.get_content_type() == "message/rfc822":
            break
        if part.get_content_type() == "text/plain" and not part.get_filename():
            try:
                return str(part.get_content()).replace("\r\n", "\n")
            except (LookupError, ValueError):
                return (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    return ""


def _returned_message_id(message: EmailMessage) -> str | None:
    """The Message-ID of the mail that bounced, from the returned message
    (message/rfc822) or its headers only (text/rfc822-headers)."""
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message) and inner.get("Message-ID"):
                return str(inner["Message-ID"]).strip()
        elif content_type == "text/rfc822-headers":
            try:
                text = str(part.get_content())
            except (LookupError, ValueError):
                continue
            found = MESSAGE_ID_LINE.search(text)
            if found:
                return found.group(1)
    return None


def _clean(text: str) -> str:
    return " ".join(text.split())[:DIAGNOSTIC_LENGTH]


# --- what follows -----------------------------------------------------------------


def handle_bounce(message: EmailMessage, record=None) -> Handled:
    """Apply a report: record each failed recipient, suppress the ones that
    will not be reached, mark the outbox message. `record` is the
    InboxMessage being handled (flushed; the poller commits)."""
    report = read_report(message)
    if not report.failures:
        return Handled(
            MessageKind.BOUNCE,
            Outcome.NOT_APPLIED,
            _("A delivery failure report, but the address it is about could not be read."),
        )
    now = utcnow()
    results = []
    for failure in report.failures:
        try:
            address = normalise_email(failure.address)
        except ValueError:
            address = failure.address.strip().lower()
        hashed = email_hash(address)
        outbox = _outbox_message(address, report.original_message_id)
        if record is not None:
            db.session.add(
                InboxBounce(
                    inbox_message_id=record.id,
                    email_hash=hashed,
                    status=failure.status,
                    permanent=failure.permanent,
                    diagnostic=failure.diagnostic,
                    outbox_message_id=outbox.id if outbox is not None else None,
                    occurred_at=now,
                )
            )
            db.session.flush()
        undeliverable = failure.permanent or _temporary_count(hashed, now) >= TEMPORARY_LIMIT
        if undeliverable:
            _suppress(hashed, failure, now)
            # A delay alone is not a bounce: that mail may still arrive.
            if outbox is not None and outbox.bounced_at is None:
                outbox.bounced_at = now
        results.append(
            {
                "status": failure.status,
                "permanent": failure.permanent,
                "undeliverable": undeliverable,
                "outbox_message_id": outbox.id if outbox is not None else None,
                "diagnostic": failure.diagnostic,
            }
        )
    return Handled(MessageKind.BOUNCE, Outcome.APPLIED, None, {"failures": results})


def _temporary_count(hashed: str, now) -> int:
    return db.session.scalar(
        select(func.count(InboxBounce.id)).where(
            InboxBounce.email_hash == hashed,
            InboxBounce.permanent.is_(False),
            InboxBounce.occurred_at > now - TEMPORARY_WINDOW,
        )
    )


def _suppress(hashed: str, failure: Failure, now) -> None:
    """An unsubscribed address keeps its reason (the stronger one: the
    customer asked); the bounce's date and words are added."""
    row = db.session.scalars(select(Suppression).where(Suppression.email_hash == hashed)).first()
    words = failure.diagnostic or failure.status
    if row is None:
        db.session.add(
            Suppression(
                email_hash=hashed,
                reason=UNDELIVERABLE,
                created_at=now,
                bounced_at=now,
                bounce_diagnostic=words,
            )
        )
    else:
        row.bounced_at = now
        row.bounce_diagnostic = words
    db.session.flush()


OUTBOX_CANDIDATES = 20


def _outbox_message(address: str, message_id: str | None) -> OutboxMessage | None:
    """The mail that bounced: among the newest sent to the address, the one
    whose Message-ID the report quotes, else the newest."""
    candidates = db.session.scalars(
        select(OutboxMessage)
        .where(
            func.lower(OutboxMessage.to_address) == address,
            OutboxMessage.status == OutboxStatus.SENT,
        )
        .order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc())
        .limit(OUTBOX_CANDIDATES)
    ).all()
    if message_id:
        for candidate in candidates:
            if _mime_message_id(candidate.mime) == message_id:
                return candidate
    return candidates[0] if candidates else None


def _mime_message_id(mime: bytes) -> str | None:
    head = mime.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    found = re.search(rb"^Message-ID:\s*(<[^>\s]+>)", head, re.IGNORECASE | re.MULTILINE)
    return found.group(1).decode("ascii", "replace") if found else None
