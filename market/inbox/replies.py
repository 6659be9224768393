"""Calendar replies (iTIP over iMIP, RFC 5546 and 6047) read from the
center's mailbox: what a customer's Gmail, Outlook or Apple Calendar sends
when they press 참석/Yes/수락.

This module only reads the calendar part into plain values and says, in
words staff understand, what came of it; whether an answer counts and which
answer wins is market.invitations.answers (`answer_from_calendar`), the same
rule the RSVP page's answers go through. market.inbox.handling finds the
calendar part (inline or attached) and calls `handle_calendar`; the caller
commits."""

import codecs
from datetime import UTC, date, datetime, time
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime

from flask_babel import gettext as _
from icalendar import Calendar

from market.inbox.outcome import Handled, MessageKind, Outcome
from market.invitations.answers import GivenAnswer, ReplyVerdict, answer_from_calendar
from market.invitations.models import AnswerSource, InvitationStatus
from market.timeutil import utcnow
from market.validators import normalise_email

PARTSTATS = {
    "ACCEPTED": InvitationStatus.ACCEPTED,
    "DECLINED": InvitationStatus.DECLINED,
    "TENTATIVE": InvitationStatus.TENTATIVE,
}
# Korean Outlook labels its parts ks_c_5601-1987, which is really Windows' cp949.
CHARSETS = {"ks_c_5601-1987": "cp949", "ks_c_5601": "cp949", "euc-kr": "cp949"}


def handle_calendar(message: EmailMessage, calendar_part: EmailMessage) -> Handled:
    """What one calendar part (text/calendar or application/ics) of a mail
    came to: an answer applied to an invitation, or why not."""
    try:
        calendar = Calendar.from_ical(_text(calendar_part))
    except Exception as error:  # icalendar raises many kinds on garbage; none may stop the poll
        return Handled(
            MessageKind.UNPARSEABLE,
            Outcome.FAILED,
            _("The calendar file in this mail could not be read."),
            {"error": str(error)[:200]},
        )
    method = str(calendar.get("METHOD") or calendar_part.get_param("method", "") or "").upper()
    events = calendar.walk("VEVENT")
    if method not in ("REPLY", "COUNTER", "REFRESH", "DECLINECOUNTER") or not events:
        # An invitation someone sent the center, a published event: a
        # person's mail, nothing for the invitations.
        return Handled(MessageKind.OTHER, Outcome.IGNORED, details={"method": method or None})
    event = events[0]
    sender = _sender(message)
    attendee, partstat = _attendee(event, sender)
    details = {
        "method": method,
        "uid": str(event.get("UID", "")).strip() or None,
        "attendee": attendee,
        "sender": sender,
        "partstat": partstat,
        "sequence": _sequence(event),
    }
    if not details["uid"] or not attendee:
        return _refused(
            _("The calendar reply lacks the event or the person who answered."), details
        )
    if method != "REPLY":
        return _proposal(method, details)
    status = PARTSTATS.get(partstat or "")
    if status is None:
        return _refused(
            _(
                "The reply does not say whether the customer is coming (%(partstat)s).",
                partstat=partstat or "-",
            ),
            details,
        )
    now = utcnow()
    stamp = _stamp(event, message, now)
    details["dtstamp"] = stamp.isoformat()
    result = answer_from_calendar(
        uid=details["uid"],
        attendee=attendee,
        sender=sender or "",
        given=GivenAnswer(status, AnswerSource.CALENDAR, stamp, details["sequence"]),
        now=now,
    )
    details.update(
        verdict=result.verdict.value,
        market_id=result.market_id,
        invitation_id=result.invitation_id,
    )
    if result.verdict is ReplyVerdict.APPLIED:
        details["outdated"] = result.outdated
        return Handled(MessageKind.CALENDAR_REPLY, Outcome.APPLIED, details=details)
    if result.verdict is ReplyVerdict.DUPLICATE:
        return Handled(
            MessageKind.CALENDAR_REPLY,
            Outcome.IGNORED,
            _("This reply was already counted; nothing changed."),
            details,
        )
    return _refused(_reason(result.verdict, details), details)


def _reason(verdict: ReplyVerdict, details: dict) -> str:
    if verdict is ReplyVerdict.UNKNOWN_EVENT:
        return _("The reply is about an event that is none of our markets.")
    if verdict is ReplyVerdict.NOT_INVITED:
        return _(
            "The person who answered (%(attendee)s) is not invited to this market.",
            attendee=details["attendee"],
        )
    if verdict is ReplyVerdict.SENDER_MISMATCH:
        return _(
            "The reply came from %(sender)s but answers for %(attendee)s: it may be forged, "
            "so it was not counted.",
            sender=details["sender"] or "-",
            attendee=details["attendee"],
        )
    if verdict is ReplyVerdict.SUPPRESSED:
        return _("The customer has unsubscribed from our mail, so the answer was not counted.")
    if verdict is ReplyVerdict.CLOSED:
        return _("The market is over or cancelled, so the answer was not counted.")
    return _("A newer answer from this customer is already recorded; this one was not counted.")


def _proposal(method: str, details: dict) -> Handled:
    """COUNTER, REFRESH, DECLINECOUNTER: listed for staff, never applied."""
    if method == "COUNTER":
        reason = _(
            "The customer proposes another time or place. Proposals are not applied: "
            "contact them yourself if needed."
        )
    elif method == "REFRESH":
        reason = _(
            "The customer's calendar asks for the invitation again. It is not sent automatically."
        )
    else:
        reason = _("A calendar declined a proposal; there is nothing to apply.")
    return _refused(reason, details)


def _refused(reason: str, details: dict) -> Handled:
    return Handled(MessageKind.CALENDAR_REPLY, Outcome.NOT_APPLIED, reason, details)


def _text(part: EmailMessage) -> str:
    """The part's calendar text, in whatever charset it was labelled
    (iCalendar is UTF-8 by default)."""
    data = part.get_payload(decode=True) or b""
    charset = (part.get_content_charset() or "utf-8").lower()
    charset = CHARSETS.get(charset, charset)
    try:
        codecs.lookup(charset)
    except LookupError:
        charset = "utf-8"
    return data.decode(charset, errors="replace")


def _address(value) -> str | None:
    """A calendar address (mailto:, any case) or a mail address, as the
    customers table stores them; None for anything else."""
    text = str(value or "").strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    text = normalise_email(text)
    return text if "@" in text else None


def _sender(message: EmailMessage) -> str | None:
    """The From address, without display name (several: none counts)."""
    found = [address for _name, address in getaddresses(message.get_all("From", []))]
    return _address(found[0]) if len(found) == 1 else None


def _attendee(event, sender: str | None) -> tuple[str | None, str | None]:
    """The replying ATTENDEE and its PARTSTAT: the one written by the
    sender if the reply names several, else the first."""
    attendees = event.get("ATTENDEE") or []
    if not isinstance(attendees, list):
        attendees = [attendees]
    chosen = [(_address(a), str(a.params.get("PARTSTAT", "")).upper() or None) for a in attendees]
    chosen = [pair for pair in chosen if pair[0]]
    if not chosen:
        return None, None
    return next((pair for pair in chosen if pair[0] == sender), chosen[0])


def _sequence(event) -> int:
    try:
        return max(0, int(event.get("SEQUENCE", 0)))
    except (TypeError, ValueError):
        return 0


def _stamp(event, message: EmailMessage, now: datetime) -> datetime:
    """When the customer answered: the DTSTAMP (UTC), else the mail's Date,
    else now."""
    found = event.get("DTSTAMP")
    value = getattr(found, "dt", None)
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    try:
        sent = parsedate_to_datetime(str(message.get("Date", "")))
    except (TypeError, ValueError):
        return now
    return sent.astimezone(UTC) if sent.tzinfo else sent.replace(tzinfo=UTC)
