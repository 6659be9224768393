"""What one message from the center's mailbox is, and who handles it.

`handle(raw)` reads the bytes the poller fetched and hands the message to
the handler of its kind: a calendar reply to market.inbox.replies, a
delivery report to market.inbox.bounces; auto-replies and anything else
are only counted. It changes the database through the session and never
commits: the poller commits the result with the record of the message, so
a crash leaves both or neither."""

import email
import email.policy
import logging
import re
from email.message import EmailMessage

from flask_babel import gettext as _

from market.inbox import replies
from market.inbox.outcome import Handled, MessageKind, Outcome

log = logging.getLogger("market.inbox")


class Unreadable(ValueError):
    """Not a mail message at all."""


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def handle(raw: bytes, record=None) -> Handled:
    """`record` is the poller's InboxMessage for this message (flushed, so
    it has its id), for handlers that keep rows pointing at it."""
    try:
        message = parse(raw)
        if not message.keys():
            raise Unreadable("no header at all")
        calendar_part = find_calendar_part(message)
        kind = classify(message, calendar_part)
    except Exception as error:  # anything unreadable is listed, never retried
        log.warning("unreadable message: %s", error)
        return Handled(
            MessageKind.UNPARSEABLE,
            Outcome.FAILED,
            _("The message could not be read."),
            {"error": type(error).__name__},
        )
    if kind is MessageKind.CALENDAR_REPLY:
        return replies.handle_calendar(message, calendar_part)
    if kind is MessageKind.BOUNCE:
        from market.inbox import bounces

        return bounces.handle_bounce(message, record)
    return Handled(kind, Outcome.IGNORED)


CALENDAR_TYPES = {"text/calendar", "application/ics"}


def find_calendar_part(message: EmailMessage) -> EmailMessage | None:
    """The first calendar part, inline (Gmail, Outlook: an alternative of the
    body) or attached (Apple Mail: an .ics attachment, sometimes only as
    application/octet-stream with a .ics name)."""
    for part in message.walk():
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        filename = (part.get_filename() or "").lower()
        if content_type in CALENDAR_TYPES or (
            content_type == "application/octet-stream" and filename.endswith(".ics")
        ):
            return part
    return None


def classify(message: EmailMessage, calendar_part) -> MessageKind:
    """Delivery reports first: they quote the message that bounced, our
    invitation with its calendar part included. A calendar part asking
    (REQUEST, CANCEL, PUBLISH) is ours quoted back, say by an out-of-office;
    anything else (REPLY, COUNTER, REFRESH…) is for the replies handler."""
    from market.inbox import bounces

    if bounces.is_bounce(message):
        return MessageKind.BOUNCE
    if calendar_part is not None and calendar_method(calendar_part) not in ASKING_METHODS:
        return MessageKind.CALENDAR_REPLY
    if is_auto_reply(message):
        return MessageKind.AUTO_REPLY
    return MessageKind.OTHER


ASKING_METHODS = {"REQUEST", "CANCEL", "PUBLISH", "ADD"}
METHOD_LINE = re.compile(r"^METHOD:([A-Za-z-]+)", re.MULTILINE)


def calendar_method(part: EmailMessage) -> str | None:
    """The iTIP method, from the body (what counts) or else the Content-Type."""
    try:
        body = part.get_content()
    except (LookupError, ValueError):
        body = ""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    found = METHOD_LINE.search(body or "")
    if found:
        return found.group(1).upper()
    method = part.get_param("method")
    return str(method).upper() if method else None


# Subjects of out-of-office and vacation answers, in the languages our
# customers' mail programs write them (Outlook's "Automatic reply:" and
# "자동 회신:", Gmail's vacation responder leaves the subject as set).
AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto[- ]?reply|autoreply|out of (the )?office|"
    r"abwesenheitsnotiz|réponse automatique|자동\s*회신|자동\s*응답|부재\s*중)",
    re.IGNORECASE,
)


def is_auto_reply(message: EmailMessage) -> bool:
    """RFC 3834's Auto-Submitted, and what older responders write instead."""
    auto_submitted = str(message.get("Auto-Submitted", "")).strip().lower()
    if auto_submitted.startswith("auto-replied") or auto_submitted.startswith("auto-generated"):
        return True
    if message.get("X-Autoreply") or message.get("X-Autorespond"):
        return True
    if str(message.get("Precedence", "")).strip().lower() == "auto_reply":
        return True
    return bool(AUTO_REPLY_SUBJECT.match(str(message.get("Subject", ""))))
