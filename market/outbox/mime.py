"""Mail as bytes: a message built (headers, text and HTML bodies, calendar
parts and attachments), the stand-in for one that cannot be built, and a
stored message read back.

Nothing here touches the database or the network: queueing is
market.outbox.services, sending is market.outbox.delivery, and the Korean
words of each mail are templates under templates/mail/ rendered by
market.outbox.compose.
"""

import base64
import binascii
import logging
import random
import re
import secrets
import socket
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email import policy, quoprimime
from email.contentmanager import _encode_base64, _encode_text
from email.errors import HeaderDefect, NonASCIILocalPartDefect
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr
from html import escape

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from market.outbox.models import OutboxMessage
from market.timeutil import to_seoul, utcnow
from market.validators import one_line

log = logging.getLogger("market.mail")

# CRLF line ends and RFC 2047 headers; 7-bit bodies (base64 / quoted-printable)
# so no relay has to know 8BITMIME.
MAIL_POLICY = policy.SMTP.clone(cte_type="7bit")
READ_POLICY = policy.default


@dataclass(frozen=True)
class Part:
    """One extra MIME part: an alternative body (``text/calendar`` with
    ``params={"method": "REQUEST"}``), an attachment (``application/ics``
    with a filename) or an image the HTML shows (with a ``cid``, which the
    HTML names as ``cid:<cid>``). Text parts may be given as ``str``; they
    go out UTF-8."""

    maintype: str
    subtype: str
    content: bytes | str
    params: Mapping[str, str] = field(default_factory=dict)
    filename: str | None = None
    cid: str | None = None  # Content-ID without its angle brackets


def build_message(
    to: str | Address | Sequence[str | Address],
    subject: str,
    text: str,
    html: str | None = None,
    headers: Mapping[str, str] | None = None,
    attachments: Iterable[Part] = (),
    alternatives: Iterable[Part] = (),
    reply_to: str | None = None,
    related: Iterable[Part] = (),
) -> EmailMessage:
    """A complete message, From the configured MAIL_FROM, with a Reply-To
    of INVITATION_REPLY_ADDRESS (the mailbox the app reads) when one is set.

    The layout is what Gmail, Outlook and Apple Mail expect for an invite:
    multipart/mixed (only when there are attachments) holding
    multipart/alternative of text/plain, text/html and any ``alternatives``.
    Images the HTML shows (``related``, each with its ``cid``) go with it
    in a multipart/related, where the alternative had the text/html:
    Gmail and Outlook show no inline SVG and no data: URI, only these."""
    sender = current_app.config["MAIL_FROM"]
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = sender
    message["To"] = to if isinstance(to, str | Address) else ", ".join(map(str, to))
    set_subject(message, subject)
    message["Date"] = format_datetime(to_seoul(utcnow()))
    message["Message-ID"] = make_msgid(domain=sender_domain(sender))
    reply_to = reply_to or current_app.config.get("INVITATION_REPLY_ADDRESS")
    if reply_to:
        message["Reply-To"] = one_line(reply_to)
    for name, value in (headers or {}).items():
        message[name] = one_line(value)
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
        html_part = message.get_payload()[-1]
        for part in related:
            content, options = _content(part)
            html_part.add_related(
                content,
                **options,
                cid=f"<{part.cid}>",
                disposition="inline",
                filename=part.filename,
            )
        if related:
            # RFC 2387 §3.1: multipart/related must name its root's type.
            html_part.set_param("type", "text/html")
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


def set_subject(message: EmailMessage, subject: str) -> None:
    """The Subject, on one line, as encoded words that keep their spaces.

    A line break in a header value is refused by the email package (and
    would be a header injection): names stored before the forms refused them
    are folded onto one line. A Korean subject longer than a line is split
    by the email package's folder at a space that it leaves between two
    encoded words, where every reader drops it ("잔다리마을공동체 기업" came
    back as "잔다리마을공동체기업"); email.header.Header puts each space inside
    a word, so the subject reads back as written."""
    subject = one_line(subject)
    if subject.isascii():
        message["Subject"] = subject
        return
    set_raw(message, "Subject", Header(subject, "utf-8", header_name="Subject").encode())


def set_raw(part: EmailMessage, name: str, value: str) -> None:
    """Stores a header as raw text, the way a parsed message holds it, so it
    goes out exactly as written instead of re-folded or re-quoted (the
    message's policy needs refold_source="none" for that). Only for plain
    ASCII values under the 998-octet line limit."""
    line = f"{name}: {value}"
    if not line.isascii() or len(line) > 998:
        raise ValueError(f"{name} cannot be written raw")
    del part[name]
    part.set_raw(*part.policy.header_source_parse([line + "\r\n"]))


def reply_address() -> str:
    """Where answers to our mail go: the center's mailbox the app reads
    (INVITATION_REPLY_ADDRESS, market.inbox), else MAIL_FROM's address. The
    ORGANIZER of every invitation, so calendar apps send their replies there."""
    configured = current_app.config.get("INVITATION_REPLY_ADDRESS")
    return parseaddr(configured or current_app.config["MAIL_FROM"])[1]


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
        set_subject(self, subject)
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
        return unbuildable(to, subject, error)


def unbuildable(to: str, subject: str, error: Exception) -> Unbuildable:
    """The Unbuildable for `error`, its reason in the staff's words. The
    technical detail is for the server log; staff read words only."""
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


# --- one message for many recipients -------------------------------------------------

# Where a Layout has a gap: @@<mark>-<name>@@, the mark drawn afresh in each
# process: the text around the gaps holds what people typed (an enterprise's
# name, a venue, a note), and a fixed mark typed there would be taken for a
# gap (a name "@@mime-x@@" stopped every invitation of its market).
GAP_MARK = secrets.token_hex(8)
GAP_PATTERN = f"@@{GAP_MARK}-(\\w+)@@"
_GAP = re.compile(GAP_PATTERN.encode())
_CONTENT_ID_GAP = re.compile(f"Content-ID: <{GAP_PATTERN}>\r\n".encode())
LAYOUT_RECIPIENT = "recipient@layout.invalid"  # the To of the message a Layout is made of


@dataclass(frozen=True)
class Prepared:
    """A message already written as bytes (by a Layout), with what the
    outbox row records of it."""

    to_address: str
    subject: str
    mime: bytes


def gap(name: str) -> str:
    return f"@@{GAP_MARK}-{name}@@"


class Layout:
    """A message that thousands get with a few values changed (a campaign),
    as bytes with gaps: built once with the email package (build_message,
    exactly as a single message is), then written for each recipient by
    filling the gaps, instead of building and re-serialising a whole
    EmailMessage per recipient (the email package's header objects were a
    third of an invitation's cost).

    `bodies` names each leaf part (in walk order) whose content differs per
    recipient; `fill` writes those named in `texts` (set from a str) as the
    email package's content manager would (the same transfer encoding for
    the same text) and takes the others' bytes as given. Written per
    message as the package writes them: the To header (the message was
    built for LAYOUT_RECIPIENT), a new Message-ID, new multipart boundaries,
    and each Content-ID whose value is a gap (its value given). Any other
    gap (in a raw header, say) takes the bytes given. Raises ValueError for
    a message it cannot lay out so (the caller builds one by one)."""

    def __init__(
        self, message: EmailMessage, bodies: Sequence[str | None], texts: Iterable[str] = ()
    ):
        self.subject = str(message["Subject"] or "")
        self.domain = sender_domain(str(message["From"]))
        self.policy = message.policy
        leaves = [part for part in message.walk() if not part.is_multipart()]
        if len(leaves) != len(bodies):
            raise ValueError("one name (or None) per leaf part")
        self.texts = set(texts)
        for part, name in zip(leaves, bodies, strict=True):
            if name is None:
                continue
            if name in self.texts:
                part.replace_header("Content-Transfer-Encoding", gap(f"{name}_cte"))
            part.set_payload(gap(name))
        # A gap as long as the boundaries email.generator makes (36 characters),
        # so that Content-Type is folded as it will be.
        self.boundaries = [
            f"boundary{number}".ljust(36 - len(gap("")), "_")
            for number, _part in enumerate(p for p in message.walk() if p.is_multipart())
        ]
        multiparts = (part for part in message.walk() if part.is_multipart())
        for part, name in zip(multiparts, self.boundaries, strict=True):
            part.set_boundary(gap(name))
        raw = message.as_bytes(policy=self.policy)
        message_id = f"Message-ID: {message['Message-ID']}\r\n".encode()
        to = f"To: {LAYOUT_RECIPIENT}\r\n".encode()
        if raw.count(message_id) != 1 or raw.count(to) != 1:
            raise ValueError("To or Message-ID not found as written")
        raw = raw.replace(message_id, gap("message_id").encode()).replace(to, gap("to").encode())
        self.content_ids = {}  # the gap of a Content-ID line: the gap of its value
        for found in _CONTENT_ID_GAP.finditer(raw):
            self.content_ids[f"{found[1].decode()}_line"] = found[1].decode()
        raw = _CONTENT_ID_GAP.sub(lambda found: gap(f"{found[1].decode()}_line").encode(), raw)
        pieces = _GAP.split(raw)
        self.pieces = [piece.decode() if n % 2 else piece for n, piece in enumerate(pieces)]
        self.uses = {name: self.pieces.count(name) for name in self.boundaries}
        self._to: dict[str, tuple[bytes, bytes]] = {}
        self._quoted: dict[bytes, str] = {}  # a line: its quoted-printable

    def fill(self, to: Address, values: Mapping[str, bytes | str]) -> bytes:
        """The message for `to`: `values` holds each text body's content
        (str), written as build_message writes it, each Content-ID (str,
        without its angle brackets) and the bytes of every other gap (a
        binary body as `base64` writes it)."""
        filled: dict[str, bytes] = {
            "to": self.to_header(to),
            "message_id": self._line("Message-ID", make_msgid(domain=self.domain)),
        }
        for line, name in self.content_ids.items():
            filled[line] = self._line("Content-ID", f"<{values[name]}>")
        for name, value in values.items():
            if name in self.texts:
                cte, body = self._encode_text(value)
                filled[name] = body.replace("\n", "\r\n").encode("ascii")
                filled[f"{name}_cte"] = cte.encode()
            elif name not in self.content_ids.values():
                filled[name] = value
        while True:
            for name in self.boundaries:  # as email.generator makes them
                filled[name] = b"=" * 15 + b"%019d" % random.randrange(sys.maxsize) + b"=="
            message = b"".join(
                filled[piece] if n % 2 else piece for n, piece in enumerate(self.pieces)
            )
            # A boundary must not occur in the parts it separates (base64 and
            # quoted-printable bodies cannot hold one; a 7-bit text might).
            if all(message.count(filled[name]) == self.uses[name] for name in self.boundaries):
                return message

    def _encode_text(self, value: str) -> tuple[str, str]:
        """What the content manager makes of a text body (its transfer
        encoding and the encoded text, "\n" line ends): exactly
        email.contentmanager._encode_text for UTF-8 (a test compares them),
        with each line's quoted-printable kept for the next message. A
        campaign's HTML is the same lines but for the few that hold the
        recipient's values, and quoting every character of it again was
        most of writing a message. Quoted-printable is made line by line
        (quoprimime.body_encode quotes each character, then splits at the
        line ends it leaves alone, CR and LF, and folds each line on its
        own), so the lines' codes joined are the body's."""
        policy = self.policy
        if policy.cte_type != "7bit":
            return _encode_text(value, "utf-8", None, policy)
        lines = value.encode().splitlines()
        limit = policy.max_line_length
        if max((len(line) for line in lines), default=0) <= limit:
            try:
                return "7bit", (b"\n".join(lines) + b"\n").decode("ascii")
            except UnicodeDecodeError:
                pass
        # The content manager's choice: quoted-printable unless the first ten
        # lines are shorter in base64.
        linesep = policy.linesep.encode("ascii")
        sniff_qp = "".join(self._quote(line) + "\n" for line in lines[:10])
        if len(sniff_qp) > len(binascii.b2a_base64(linesep.join(lines[:10]) + linesep)):
            return "base64", _encode_base64(linesep.join(lines) + linesep, limit)
        if len(lines) <= 10:
            return "quoted-printable", sniff_qp
        return "quoted-printable", "".join(self._quote(line) + "\n" for line in lines)

    def _quote(self, line: bytes) -> str:
        quoted = self._quoted.get(line)
        if quoted is None:
            quoted = quoprimime.body_encode(line.decode("latin-1"), self.policy.max_line_length)
            if len(self._quoted) < _QUOTED_LINES:
                self._quoted[line] = quoted
        return quoted

    def base64(self, data: bytes) -> bytes:
        """A binary body as build_message writes it (base64, CRLF lines)."""
        return _encode_base64(data, self.policy.max_line_length).replace("\n", "\r\n").encode()

    def _line(self, name: str, value: str) -> bytes:
        """A header the package writes as it is when it fits on a line."""
        line = f"{name}: {value}\r\n"
        if len(line) <= self.policy.max_line_length + 2 and line.isascii():
            return line.encode()
        return self.policy.header_factory(name, value).fold(policy=self.policy).encode("ascii")

    def to_header(self, to: Address) -> bytes:
        """The To line the email package writes for `to`. Its display name
        is encoded as the package encodes a Korean name, else folded by the
        package once per distinct name (that cost 0.4 ms a message); the
        address is put in as the package writes a plain one.
        Anything else (a long line, an address that needs quoting) goes
        through the package as a whole."""
        cached = self._to.get(to.display_name)
        if cached is None and _HANGUL_NAME.fullmatch(to.display_name):
            # Most of our customers: one encoded word when the line fits,
            # which the check below makes sure of (and tests compare).
            encoded = base64.b64encode(to.display_name.encode()).decode()
            cached = (f"To: =?utf-8?b?{encoded}?= <".encode(), b">\r\n")
        if cached is None:
            sample = self._fold_to(Address(to.display_name, addr_spec=LAYOUT_RECIPIENT))
            head, found, tail = sample.rpartition(LAYOUT_RECIPIENT.encode())
            cached = (head, tail) if found and b"\r\n " not in sample else (b"", b"")
            self._to[to.display_name] = cached
        head, tail = cached
        line = head + to.addr_spec.encode() + tail
        if not head or not _PLAIN_ADDRESS.fullmatch(to.addr_spec) or len(line) > 80:
            return self._fold_to(to)
        return line

    def _fold_to(self, to: Address) -> bytes:
        # What message["To"] = to and the generator make of it.
        return self.policy.header_factory("To", to).fold(policy=self.policy).encode("ascii")


# Lines whose quoted-printable a Layout keeps: the lines the recipients
# share, and the first recipients' own (a few each) until there are this many.
_QUOTED_LINES = 2000

# A Korean name, words of Hangul syllables with a space between.
_HANGUL_NAME = re.compile(r"[가-힣]+(?: [가-힣]+)*")
# An address the email package writes as it is (ASCII, a dot-atom on both sides).
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_ADDRESS = re.compile(rf"{_ATOM}(\.{_ATOM})*@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def sender_domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or socket.getfqdn()


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


# --- a stored message, opened for the staff pages ---------------------------------


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
    parsed = parse(row.mime)
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
        html=with_images(parsed, _text_of(html_part)) if html_part is not None else None,
        parts=others,
    )


# Images a staff page may show of a mail, written in as data: URIs.
SHOWN_IMAGES = ("image/png", "image/jpeg", "image/gif")


def with_images(message: EmailMessage, html: str) -> str:
    """The HTML with its `cid:` images (the parts of its multipart/related)
    written in as data: URIs: a cid: link resolves only in a mail program,
    and the staff pages show the HTML in a sandboxed frame whose policy
    (outbox.views.HTML_PART_POLICY) allows images from data: only."""
    images = {}
    for part in message.walk():
        if part.get_content_type() != "multipart/related":
            continue
        for inner in part.iter_parts():
            cid = str(inner.get("Content-ID", "")).strip().strip("<>")
            if cid and inner.get_content_type() in SHOWN_IMAGES:
                data = base64.b64encode(inner.get_payload(decode=True) or b"").decode()
                images[f"cid:{cid}"] = f"data:{inner.get_content_type()};base64,{data}"
    for link, data_uri in images.items():
        html = html.replace(link, data_uri)
    return html


def _text_of(part) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError):  # an unknown or lying charset
        return (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
