"""The outbox: build a message, enqueue it with the change that caused it,
deliver it later from a worker.

Nothing here sends from inside a web request. `enqueue` only adds a row to the
session; the caller commits it together with its own change, so a rolled-back
change never mails anyone. `deliver_due` (run by `flask outbox deliver`) claims
a batch of due rows, sends them over one connection and records the results
of the whole batch in one transaction.

Delivery is at least once: a worker that dies after the SMTP server accepted
messages but before it recorded them will have them sent again once its claim
lapses (at most one batch). Two live workers never send the same message: a
batch is claimed in one short transaction whose rows are locked with SKIP
LOCKED (PostgreSQL) or taken under the single write lock (SQLite), and a
batch that outlasts half its lease renews it before going on. Those rules for the outbox
rows (claims, back-off, giving up, staff retries) are in
market.outbox.services; this module builds MIME and talks SMTP.
"""

import logging
import os
import re
import secrets
import smtplib
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.errors import HeaderDefect, NonASCIILocalPartDefect
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr
from html import escape
from pathlib import Path
from time import monotonic

from flask import current_app, g
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import insert

from market.extensions import db
from market.outbox.models import OutboxMessage, OutboxStatus
from market.outbox.services import (
    Claimed,
    DeliveryReport,
    OutboxError,
    claim_due,
    lease_seconds,
    record_results,
    renew_claims,
    retry,
    retry_delay,
)
from market.timeutil import to_seoul, utcnow
from market.validators import one_line

log = logging.getLogger("market.mail")

# CRLF line ends and RFC 2047 headers; 7-bit bodies (base64 / quoted-printable)
# so no relay has to know 8BITMIME.
MAIL_POLICY = policy.SMTP.clone(cte_type="7bit")
READ_POLICY = policy.default

__all__ = [
    "DeliveryReport",
    "OutboxError",
    "Part",
    "Unbuildable",
    "build_message",
    "build_or_fail",
    "claim_due",
    "deliver_due",
    "enqueue",
    "enqueue_many",
    "retry",
    "retry_delay",
    "text_message_to",
]


@dataclass(frozen=True)
class Part:
    """One extra MIME part: an alternative body (``text/calendar`` with
    ``params={"method": "REQUEST"}``) or an attachment (``application/ics``
    with a filename). Text parts may be given as ``str``; they go out UTF-8."""

    maintype: str
    subtype: str
    content: bytes | str
    params: Mapping[str, str] = field(default_factory=dict)
    filename: str | None = None


def build_message(
    to: str | Address | Sequence[str | Address],
    subject: str,
    text: str,
    html: str | None = None,
    headers: Mapping[str, str] | None = None,
    attachments: Iterable[Part] = (),
    alternatives: Iterable[Part] = (),
    reply_to: str | None = None,
) -> EmailMessage:
    """A complete message, From the configured MAIL_FROM.

    The layout is what Gmail, Outlook and Apple Mail expect for an invite:
    multipart/mixed (only when there are attachments) holding
    multipart/alternative of text/plain, text/html and any ``alternatives``."""
    sender = current_app.config["MAIL_FROM"]
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = sender
    message["To"] = to if isinstance(to, str | Address) else ", ".join(map(str, to))
    # A line break in a header value is refused by the email package (and
    # would be a header injection): names stored before the forms refused
    # them are folded onto one line here.
    message["Subject"] = one_line(subject)
    message["Date"] = format_datetime(to_seoul(utcnow()))
    message["Message-ID"] = make_msgid(domain=sender_domain(sender))
    if reply_to:
        message["Reply-To"] = one_line(reply_to)
    for name, value in (headers or {}).items():
        message[name] = one_line(value)
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for part in alternatives:
        content, options = _content(part)
        message.add_alternative(content, **options)
    for part in attachments:
        content, options = _content(part)
        message.add_attachment(content, **options, filename=part.filename)
    return message


def _content(part: Part) -> tuple[bytes | str, dict]:
    """Arguments for the stdlib content manager: str only for text/* parts."""
    options = {"subtype": part.subtype, "params": dict(part.params)}
    if isinstance(part.content, str) and part.maintype == "text":
        return part.content, options
    content = part.content.encode() if isinstance(part.content, str) else part.content
    return content, {**options, "maintype": part.maintype}


def recipient(name: str | None, address: str) -> Address:
    """A To address whose display name is folded onto one line. Raises
    ValueError for an address the email package cannot write (build it
    inside `build_or_fail`)."""
    return Address(display_name=one_line(name), addr_spec=address)


def text_message_to(
    name: str | None, address: str, subject: str, text: str
) -> "EmailMessage | Unbuildable":
    """A plain-text mail to one person (an enterprise's contact), or the
    Unbuildable the outbox records as failed when their address or name
    cannot be written."""
    return build_or_fail(
        lambda: build_message(recipient(name, address), subject, text), to=address, subject=subject
    )


class Unbuildable(EmailMessage):
    """The stand-in for a message that could not be built from the data it
    was given. `enqueue` records it as a failed outbox message with the
    reason, so staff see it on the outbox page while the change that caused
    it still goes through; a preview shows the reason as the message."""

    def __init__(self, to: str, subject: str, reason: str):
        super().__init__(policy=MAIL_POLICY)
        self.to_text, self.reason = one_line(to), reason
        self["Subject"] = one_line(subject)
        # One HTML part (a multipart would make parts of this class).
        self.set_content(f"<p>{escape(reason)}</p>", subtype="html")


# What the email package and icalendar raise for a value they cannot write:
# ValueError (with UnicodeError and the header defects), TypeError, and the
# assertion icalendar makes about line breaks in a content line.
UNBUILDABLE_ERRORS = (ValueError, TypeError, AssertionError)


def build_or_fail(
    build: Callable[[], EmailMessage], *, to: str, subject: str
) -> EmailMessage | Unbuildable:
    """`build()`, or the reason it failed as an Unbuildable. `enqueue` and
    `enqueue_many` take either, so one recipient's bad address (stored
    before the import checked addresses strictly) neither breaks the staff
    action nor hides what went wrong."""
    try:
        return build()
    except UNBUILDABLE_ERRORS as error:
        return _unbuildable(to, subject, error)


def _unbuildable(to: str, subject: str, error: Exception) -> Unbuildable:
    # The technical detail is for the server log; staff read words only.
    log.warning("mail to %r could not be built: %s: %s", to, type(error).__name__, error)
    with force_locale("ko"):
        # No button builds a failed message again (its data was wrong): staff
        # can correct the record, so later mail goes out, and tell the person.
        advice = _(
            "So this mail could not be built and was not sent. Correct the recipient's "
            "details so that later mail reaches them (an enterprise on its page, a customer "
            "in the order file). This mail will not be sent again: if it matters, tell them "
            "yourself. The change itself was saved."
        )
        reason = f"{_cause(error)} {advice}"
    return Unbuildable(to, subject, reason)


def _cause(error: Exception) -> str:
    """What was wrong, in the staff's words, for the failures we know."""
    text = str(error)
    if isinstance(error, NonASCIILocalPartDefect):
        return _(
            "The recipient's email address has letters other than English ones (such as "
            "Korean) before the @."
        )
    if isinstance(error, HeaderDefect) or "addr_spec" in text:
        return _("The recipient's email address is not a valid address.")
    if isinstance(error, AssertionError) or "linefeed or carriage return" in text:
        return _(
            "A name, title or address in the mail has a line break or another control character."
        )
    return _("Some of the mail's details cannot be written in an email.")


def sender_domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or socket.getfqdn()


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
    messages: Iterable[EmailMessage | Unbuildable],
    category: str = "general",
    not_before: datetime | None = None,
) -> int:
    """Like `enqueue` for many messages, in one INSERT whatever their number
    (the ORM would insert row by row on SQLite). Runs at once, inside the
    caller's transaction; the caller commits. Returns how many were queued."""
    when = not_before or utcnow()
    rows = [_outbox_values(message, category, when) for message in messages]
    if rows:
        db.session.execute(insert(OutboxMessage), rows)
    return len(rows)


def _outbox_values(
    message: EmailMessage | Unbuildable, category: str, not_before: datetime
) -> dict:
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
            message = _unbuildable(str(message["To"] or ""), str(message["Subject"] or ""), error)
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


def recipients(message) -> list[str]:
    found = []
    for name in ("To", "Cc"):
        for header in message.get_all(name, []):
            found.extend(address.addr_spec for address in header.addresses)
    return found


def slug(text: str, limit: int = 40) -> str:
    return re.sub(r"[^\w]+", "-", text).strip("-_")[:limit].strip("-_") or "message"


def eml_filename(message: OutboxMessage) -> str:
    return f"{message.id}-{slug(message.subject)}.eml"


# --- delivery -----------------------------------------------------------------


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


def parse(mime: bytes) -> EmailMessage:
    return BytesParser(policy=READ_POLICY).parsebytes(mime)


def envelope(mime: bytes) -> tuple[str, list[str]]:
    """Sender and recipients, from the header block alone. The compat32
    parser and `getaddresses` take a fraction of what the default policy's
    header objects cost (those were a third of the worker's time per
    message); for headers that build_message wrote they give the same
    addresses, and the display names, which differ, are not used."""
    head = mime.partition(b"\r\n\r\n")[0]
    headers = BytesHeaderParser(policy=policy.compat32).parsebytes(head)
    sender = parseaddr(headers.get("From", ""))[1]
    fields = headers.get_all("To", []) + headers.get_all("Cc", [])
    return sender, [address for _, address in getaddresses(fields) if address]
