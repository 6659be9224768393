"""The invitation email: an iMIP message (RFC 6047) as docs/calendar.md
describes it, with what the advertising law (정보통신망법 제50조) asks of it.

    multipart/mixed
      multipart/alternative
        text/plain; charset=UTF-8
        multipart/related                        (text/html alone in a cancellation)
          text/html; charset=UTF-8
          image/png; the visitor pass            (inline, Content-ID: cid: in the HTML)
        text/calendar; method=REQUEST|CANCEL; charset=UTF-8   (base64, inline)
      application/ics; name=invite.ics                         (attachment, same bytes)

The invitation and its updates carry the visitor pass (market.invitations.
passes): its code in both bodies, its QR code as the PNG the HTML shows
(Gmail and Outlook show no SVG in a mail). A cancellation carries none.

The bodies are templates/mail/invitation.txt and .html, written as every
mail is (market.outbox.compose): Korean whatever language the staff member
sending them reads, links absolute (PUBLIC_BASE_URL when it is set, else
SERVER_NAME or the current request's host)."""

import enum
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from functools import cached_property

from flask import current_app
from markupsafe import escape
from sqlalchemy import select

from market import calendar
from market.customers.consent import consent_source_text
from market.customers.models import Customer
from market.extensions import db
from market.invitations import passes
from market.markets.models import Market
from market.markets.services import ends_at, starts_at
from market.outbox import mime
from market.outbox.compose import ascii_url, center, public_url, write
from market.timeutil import format_korean_date, to_seoul
from market.validators import one_line, plain_lines
from market.vendors.models import Application, ApplicationStatus, Category, Vendor

log = logging.getLogger("market.mail")

# Outbox categories: the first invitation, an update, a cancellation.
CATEGORIES = ("invitation", "invitation-update", "invitation-cancel")
ADVERTISING_PREFIX = "(광고)"
ONE_CLICK = "List-Unsubscribe=One-Click"

# Korean regardless of the UI language: the mail always goes out in Korean.
CATEGORY_LABELS_KO = {
    Category.FOOD: "식품",
    Category.FARM: "농산물",
    Category.HOUSEHOLD: "생활용품",
    Category.CLOTHING: "의류·잡화",
    Category.ELECTRONICS: "재생 전자제품",
    Category.CRAFTS: "공예품",
    Category.OTHER: "기타",
}


class MailKind(enum.StrEnum):
    INVITE = "invite"  # the first REQUEST
    UPDATE = "update"  # REQUEST again: same UID, higher SEQUENCE
    CANCEL = "cancel"  # CANCEL with STATUS:CANCELLED

    @property
    def method(self) -> str:
        return "CANCEL" if self is MailKind.CANCEL else "REQUEST"

    @property
    def category(self) -> str:
        return CATEGORIES[list(MailKind).index(self)]


@dataclass(frozen=True)
class AttendingVendor:
    name: str
    category: str  # Korean label


def attending_vendors(market: Market) -> list[AttendingVendor]:
    """Vendors with an assigned booth at this market, by name (one query)."""
    rows = db.session.execute(
        select(Vendor.name, Vendor.category)
        .join(Application, Application.vendor_id == Vendor.id)
        .where(Application.market_id == market.id, Application.status == ApplicationStatus.ASSIGNED)
        .order_by(Vendor.name, Vendor.id)
    ).all()
    return [
        AttendingVendor(one_line(name), CATEGORY_LABELS_KO.get(category, "기타"))
        for name, category in rows
    ]


def organizer() -> tuple[str, str]:
    """The center's real, monitored address and its name: the mailbox the
    app reads calendar replies from (INVITATION_REPLY_ADDRESS), else the
    From address."""
    name = parseaddr(current_app.config["MAIL_FROM"])[0]
    return mime.reply_address(), name or current_app.config["CENTER_NAME"]


def mask_email(email: str) -> str:
    """h***@example.com: enough for staff and the customer to recognise it."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else f"{email[:1]}***"


def subject_for(market: Market, kind: MailKind) -> str:
    day = f"{market.market_date.month}월 {market.market_date.day}일"
    weekday = format_korean_date(market.market_date).rsplit(" ", 1)[1]
    where = one_line(market.venue.name)
    if kind is MailKind.CANCEL:
        return (
            f"{ADVERTISING_PREFIX} [취소] 굿모닝장터 {day} {weekday} {where} 장터가 취소되었습니다"
        )
    if kind is MailKind.UPDATE:
        return f"{ADVERTISING_PREFIX} [변경] 굿모닝장터 {day} {weekday} {where} 일정 안내"
    return f"{ADVERTISING_PREFIX} 굿모닝장터 초대: {day} {weekday} {where}"


def mail_context(
    *,
    customer: Customer,
    market: Market,
    token: str,
    vendors: list[AttendingVendor],
    kind: MailKind,
    changed: tuple[str, ...] = (),
    pass_code: str | None = None,
) -> dict:
    start, end = starts_at(market), ends_at(market)
    rsvp_url = public_url("invitations.rsvp", token=token)
    return {
        "kind": kind.value,
        # The visitor pass: not in a cancellation (nothing to check in to).
        "pass_code": pass_code if kind is not MailKind.CANCEL else None,
        # Names and places are one line each, also when stored before the
        # forms and the import refused line breaks.
        "customer_name": one_line(customer.name),
        "market": market,
        "date_text": format_korean_date(market.market_date),
        "time_text": f"{start:%H:%M}–{end:%H:%M}",
        "venue_name": one_line(market.venue.name),
        "venue_address": one_line(market.venue.address),
        "map_url": ascii_url(one_line(market.venue.map_url)),
        "cancel_reason": plain_lines(market.cancel_reason),
        "changed": changed,
        "vendors": vendors,
        "rsvp_url": rsvp_url,
        "accept_url": f"{rsvp_url}?answer=accept",
        "decline_url": f"{rsvp_url}?answer=decline",
        "unsubscribe_url": public_url("invitations.unsubscribe", token=token),
        "market_url": public_url("public.market", market_id=market.id),
        **center(),  # the calendar description names them too
        "center_email": organizer()[0],
        "consent_text": consent_text(customer),
        # In the customer's words whatever is stored: older imports stored
        # the uploaded file's name there.
        "consent_source": consent_source_text(),
        "masked_email": mask_email(customer.email),
    }


def consent_text(customer: Customer) -> str:
    """When the customer said yes, in Korea time: 2026년 11월 20일 14:03."""
    if customer.consent_at is None:
        return ""
    local = to_seoul(customer.consent_at)
    return f"{local.year}년 {local.month}월 {local.day}일 {local:%H:%M}"


def calendar_description(context: dict) -> str:
    lines = []
    if context["kind"] == MailKind.CANCEL:
        lines.append(f"취소된 장터입니다. 사유: {context['cancel_reason'] or '-'}")
    lines += [
        f"일시: {context['date_text']} {context['time_text']}",
        f"장소: {context['venue_name']}",
        f"주소: {context['venue_address']}",
    ]
    if context["map_url"]:
        lines.append(f"지도: {context['map_url']}")
    if context["kind"] != MailKind.CANCEL:
        lines.append(f"참석 여부: {context['rsvp_url']}")
    lines.append(f"보낸 곳: {context['center_name']} ({context['center_phone']})")
    return "\n".join(lines)


@dataclass(frozen=True)
class PreviewParts:
    subject: str
    list_unsubscribe: str
    text: str


def preview_parts(
    *,
    customer: Customer,
    market: Market,
    token: str,
    vendors: list[AttendingVendor],
    pass_code: str | None = None,
) -> PreviewParts:
    """What the staff page shows of an invitation (subject, List-Unsubscribe,
    text part), from the same pieces `invitation_message` puts together,
    without building the calendar and the whole message and parsing it
    back: that took most of the ranking page's time. The HTML part is shown
    by the preview route, which builds the complete message."""
    context = mail_context(
        customer=customer,
        market=market,
        token=token,
        vendors=vendors,
        kind=MailKind.INVITE,
        pass_code=pass_code,
    )
    return PreviewParts(
        subject=subject_for(market, MailKind.INVITE),
        list_unsubscribe=_list_unsubscribe(context["unsubscribe_url"]),
        text=write("invitation", html=False, **context).text,
    )


def invitation_message(
    *,
    customer: Customer,
    market: Market,
    token: str,
    vendors: list[AttendingVendor],
    kind: MailKind,
    sequence: int,
    stamp: datetime,
    changed: tuple[str, ...] = (),
    pass_code: str | None = None,
) -> EmailMessage | mime.Unbuildable:
    """The complete message for one customer: only that customer is the
    ATTENDEE and the only recipient. With the visitor pass of `pass_code`
    (not in a cancellation). For an address the mailer cannot take
    (stored before the import checked them strictly), an Unbuildable that
    the outbox records as failed, so the rest of a batch, or the change to
    the market, still goes through."""

    def build() -> EmailMessage:
        context = mail_context(
            customer=customer,
            market=market,
            token=token,
            vendors=vendors,
            kind=kind,
            changed=changed,
            pass_code=pass_code,
        )
        return _assemble(context, customer, market, kind, sequence, stamp)

    return mime.build_or_fail(build, to=customer.email, subject=subject_for(market, kind))


def _assemble(
    context: dict,
    customer: Customer,
    market: Market,
    kind: MailKind,
    sequence: int,
    stamp: datetime,
) -> EmailMessage:
    """The MIME message from the mail's words (`context`): text, HTML and the
    calendar invite, inline and attached."""
    organizer_email, organizer_name = organizer()
    ics = calendar.invitation_calendar(
        market,
        method=kind.method,
        organizer_email=organizer_email,
        organizer_name=organizer_name,
        attendee_email=customer.email,
        attendee_name=context["customer_name"],
        sequence=sequence,
        stamp=stamp,
        url=context["market_url"],
        description=calendar_description(context),
    ).to_ical()
    related = []
    if context["pass_code"]:
        png, size = passes.qr_png(passes.check_in_url(market.id, context["pass_code"]))
        cid = make_msgid("pass", domain=mime.sender_domain(organizer_email))[1:-1]
        context = {**context, "pass_image": f"cid:{cid}", "pass_size": size}
        related.append(mime.Part("image", "png", png, filename="pass.png", cid=cid))
    written = write("invitation", **context)
    to = mime.recipient(customer.name, customer.email)
    return _compose(written, to, market, kind, ics, related, context["unsubscribe_url"])


def _compose(
    written, to, market: Market, kind: MailKind, ics: bytes, related: list, unsubscribe_url: str
) -> EmailMessage:
    message = mime.build_message(
        to,
        subject_for(market, kind),
        written.text,
        html=written.html,
        alternatives=[
            mime.Part("text", "calendar", ics, {"method": kind.method, "charset": "UTF-8"})
        ],
        attachments=[
            mime.Part("application", "ics", ics, {"name": "invite.ics"}, filename="invite.ics")
        ],
        related=related,
    )
    _tidy_calendar_part(message, kind.method)
    # One line each (a folded URL is one more thing for a provider to misread):
    # raw headers go out as written; the others are still folded as usual.
    message.policy = message.policy.clone(refold_source="none")
    mime.set_raw(message, "List-Unsubscribe", _list_unsubscribe(unsubscribe_url))
    mime.set_raw(message, "List-Unsubscribe-Post", ONE_CLICK)
    return message


# --- many customers at once -------------------------------------------------------

# What differs from one customer's invitation to the next: in the words of
# the mail (mail_context), and the pass image's Content-ID and size.
PER_CUSTOMER = (
    "customer_name",
    "consent_text",
    "masked_email",
    "rsvp_url",
    "accept_url",
    "decline_url",
    "unsubscribe_url",
    "pass_code",
    "pass_image",
    "pass_size",
)
_GAPS = re.compile(mime.GAP_PATTERN)
_URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")  # tokens and pass codes: no quoting in a URL


@dataclass
class _Frame:
    """What every message of one batch shares (for one SEQUENCE, with or
    without the pass): the words with gaps, the calendar around the
    customer's two lines, the MIME layout."""

    context: dict
    text: list[str]
    html: list[str]
    calendar: tuple[bytes, bytes]
    layout: mime.Layout
    checked: bool = False  # the first customer's words compared with a real rendering
    usable: bool = True


class InvitationBatch:
    """The mail of one kind about one market for many customers (`invite`
    and the updates queue thousands at once): the message each customer
    gets is exactly invitation_message's (a test compares their bytes), but
    what they all share is made once per batch (the calendar and its
    VTIMEZONE, the text and HTML with the vendor list, the headers, the
    MIME structure: mime.Layout) and only the customer's name, address,
    links, pass code and QR code are written per message (9.5 ms a message
    before, two thirds of it the email package, icalendar and segno's mask
    search; now about half of what is left is segno making the QR code).

    A customer this cannot write (an address the email package must quote
    or refuses, a token or code a URL would quote) gets invitation_message's
    own result, an Unbuildable included."""

    def __init__(
        self,
        market: Market,
        vendors: list[AttendingVendor],
        kind: MailKind,
        stamp: datetime,
        changed: tuple[str, ...] = (),
    ):
        self.market, self.vendors, self.kind = market, vendors, kind
        self.stamp, self.changed = stamp, changed
        self.organizer = organizer()
        self.domain = mime.sender_domain(self.organizer[0])
        self._frames: dict[tuple[int, bool], _Frame | None] = {}  # None: cannot be built
        self._urls = {
            "rsvp": _url_around(public_url("invitations.rsvp", token="TOKEN"), "TOKEN"),
            "unsubscribe": _url_around(
                public_url("invitations.unsubscribe", token="TOKEN"), "TOKEN"
            ),
            "pass": _url_around(passes.check_in_url(market.id, "CODE"), "CODE"),
        }

    def message(
        self, customer: Customer, token: str, sequence: int, pass_code: str | None = None
    ) -> "mime.Prepared | EmailMessage | mime.Unbuildable":
        pass_code = pass_code if self.kind is not MailKind.CANCEL else None
        try:
            frame = self._frame(sequence, bool(pass_code))
            if frame is None or not (frame.usable and _URL_SAFE.fullmatch(token)):
                return self._single(customer, token, sequence, pass_code)
            if pass_code and not _URL_SAFE.fullmatch(pass_code):
                return self._single(customer, token, sequence, pass_code)
            return self._write(frame, customer, token, sequence, pass_code)
        except (*mime.UNBUILDABLE_ERRORS, LookupError):
            # What the batch cannot lay out is built one by one, as before it.
            return self._single(customer, token, sequence, pass_code)

    def _single(self, customer, token, sequence, pass_code):
        return invitation_message(
            customer=customer,
            market=self.market,
            token=token,
            vendors=self.vendors,
            kind=self.kind,
            sequence=sequence,
            stamp=self.stamp,
            changed=self.changed,
            pass_code=pass_code,
        )

    def _write(self, frame: _Frame, customer, token, sequence, pass_code) -> "mime.Prepared":
        name = one_line(customer.name)
        rsvp_url = self._url("rsvp", token)
        unsubscribe_url = self._url("unsubscribe", token)
        values = {
            "customer_name": name,
            "consent_text": consent_text(customer),
            "masked_email": mask_email(customer.email),
            "rsvp_url": rsvp_url,
            "accept_url": f"{rsvp_url}?answer=accept",
            "decline_url": f"{rsvp_url}?answer=decline",
            "unsubscribe_url": unsubscribe_url,
            "pass_code": pass_code or "",
            "pass_image": "",
            "pass_size": "",
        }
        gaps: dict[str, bytes | str] = {"unsubscribe": unsubscribe_url.encode()}
        if pass_code:
            png, size = self._pass_images.png(pass_code)
            cid = make_msgid("pass", domain=self.domain)[1:-1]
            values.update(pass_image=f"cid:{cid}", pass_size=str(size))
            gaps.update(png=frame.layout.base64(png), cid=cid)
        text = _fill(frame.text, values)
        html = _fill(frame.html, {key: str(escape(value)) for key, value in values.items()})
        if not frame.checked:
            # The templates may one day use a customer's value other than
            # printed as it is (a filter, a condition): then this batch
            # renders each message as invitation_message does.
            context = {**frame.context, **values, "pass_size": values["pass_size"]}
            real = write("invitation", **context)
            frame.checked, frame.usable = True, (real.text, real.html) == (text, html)
            if not frame.usable:
                log.warning("invitation batch: the templates changed; writing one by one")
                return self._single(customer, token, sequence, pass_code)
        description = calendar_description({**frame.context, "rsvp_url": rsvp_url})
        lines = calendar.invitation_lines(
            organizer_email=self.organizer[0],
            attendee_email=customer.email,
            attendee_name=name,
            description=description,
        )
        head, tail = frame.calendar
        gaps.update(text=text, html=html, ics=frame.layout.base64(head + lines + tail))
        to = mime.recipient(customer.name, customer.email)
        return mime.Prepared(to.addr_spec, frame.layout.subject, frame.layout.fill(to, gaps))

    @cached_property
    def _pass_images(self) -> passes.PassImages:
        # Made on the first pass (a cancellation has none).
        return passes.PassImages(self.market.id)

    def _url(self, kind: str, value: str) -> str:
        head, tail = self._urls[kind]
        return f"{head}{value}{tail}"

    def _frame(self, sequence: int, with_pass: bool) -> _Frame | None:
        """The frame, or None when it cannot be built: tried once per batch,
        not again for each of its thousands of customers (each attempt
        renders the words, the calendar and the MIME layout, and was thrown
        away before the customer was built one by one all the same)."""
        key = (sequence, with_pass)
        if key not in self._frames:
            try:
                self._frames[key] = self._make_frame(sequence, with_pass)
            except (*mime.UNBUILDABLE_ERRORS, LookupError) as error:
                log.warning("invitation batch: no shared layout (%r); writing one by one", error)
                self._frames[key] = None
        return self._frames[key]

    def _make_frame(self, sequence: int, with_pass: bool) -> _Frame:
        market, kind = self.market, self.kind
        stand_in = Customer(name="-", email=mime.LAYOUT_RECIPIENT)
        context = mail_context(
            customer=stand_in,
            market=market,
            token="TOKEN",
            vendors=self.vendors,
            kind=kind,
            changed=self.changed,
            pass_code="CODE" if with_pass else None,
        )
        gapped = {**context, **{key: mime.gap(key) for key in PER_CUSTOMER}}
        if not with_pass:
            gapped.update(pass_code=None, pass_image=None, pass_size=None)
        written = write("invitation", **gapped)
        organizer_email, organizer_name = self.organizer
        calendar_frame = calendar.invitation_frame(
            market,
            method=kind.method,
            organizer_email=organizer_email,
            organizer_name=organizer_name,
            sequence=sequence,
            stamp=self.stamp,
            url=context["market_url"],
        )
        related = []
        bodies = ["text", "html", "ics", "ics"]
        if with_pass:
            related.append(
                mime.Part("image", "png", b"-", filename="pass.png", cid=mime.gap("cid"))
            )
            bodies.insert(2, "png")
        to = mime.recipient(None, mime.LAYOUT_RECIPIENT)
        message = _compose(written, to, market, kind, b"-", related, mime.gap("unsubscribe"))
        return _Frame(
            context=context,
            text=_GAPS.split(written.text),
            html=_GAPS.split(written.html),
            calendar=calendar_frame,
            layout=mime.Layout(message, bodies, texts=("text", "html")),
        )


def _url_around(url: str, placeholder: str) -> tuple[str, str]:
    head, found, tail = url.rpartition(placeholder)
    if not found:
        raise ValueError(f"{placeholder} not in {url}")
    return head, tail


def _fill(pieces: list[str], values: dict[str, str]) -> str:
    """Template pieces (text, gap name, text, ...) with the values in."""
    return "".join(values[piece] if n % 2 else piece for n, piece in enumerate(pieces))


def _list_unsubscribe(url: str) -> str:
    """The one-click link (RFC 8058), and a mailto where one is configured."""
    value = f"<{url}>"
    mailto = current_app.config.get("UNSUBSCRIBE_MAILTO")
    if mailto:
        value += f", <mailto:{mailto}?subject=unsubscribe>"
    return value


def _tidy_calendar_part(message: EmailMessage, method: str) -> None:
    """The calendar part's Content-Type as docs/calendar.md and Outlook's
    documentation write it, ``text/calendar; method=REQUEST; charset=UTF-8``
    (the email package would quote every parameter)."""
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            mime.set_raw(part, "Content-Type", f"text/calendar; method={method}; charset=UTF-8")
