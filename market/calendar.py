"""Pure functions that build iCalendar objects (RFC 5545, 7986).

They take markets and plain values and return `icalendar` objects; callers
serialise with `to_ical()`. Invitations (iTIP/iMIP) reuse `market_event`.
docs/calendar.md says what real clients need, and why."""

import copy
import functools
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

from icalendar import Calendar, Event, Timezone, vCalAddress, vDuration, vText
from icalendar.parser import Contentline

from market.markets.models import Market, MarketStatus
from market.markets.services import ends_at, market_location, starts_at
from market.validators import one_line, plain_lines

PRODID = "-//Gyeonggi Social Economy Center//Good Morning Market//KO"
FEED_REFRESH = timedelta(hours=6)
# Korea kept daylight saving time in 1987-88; a VTIMEZONE starting after that
# is one compact STANDARD +0900 block that no client misreads.
TIMEZONE_FROM = date(1990, 1, 1)


# Text from the database goes through one_line (names, places) or
# plain_lines (descriptions): icalendar escapes LF in some properties but
# not in others (X-WR-CALNAME, NAME: an AssertionError) and writes CR and
# NUL as they are, so a name stored with a line break broke every feed.


def market_summary(market: Market, booth: int | None = None) -> str:
    """`booth`: the enterprise's booth number, in its private feed."""
    summary = f"굿모닝장터 · {one_line(market.venue.name)}"
    return f"{summary} · {booth}번 부스" if booth else summary


def market_event(
    market: Market,
    *,
    stamp: datetime,
    url: str | None = None,
    description: str | None = None,
    sequence: int | None = None,
    booth: int | None = None,
) -> Event:
    """One VEVENT. `stamp` is when this copy was made (DTSTAMP, UTC)."""
    event = Event()
    event.add("UID", market.uid)
    event.add("DTSTAMP", stamp)
    event.add("DTSTART", starts_at(market))
    event.add("DTEND", ends_at(market))
    event.add("SEQUENCE", market.sequence if sequence is None else sequence)
    event.add("SUMMARY", market_summary(market, booth))
    event.add("LOCATION", market_location(market))
    event.add("STATUS", "CANCELLED" if market.status is MarketStatus.CANCELLED else "CONFIRMED")
    event.add("LAST-MODIFIED", market.updated_at)
    event.add("TRANSP", "OPAQUE")
    if description:
        event.add("DESCRIPTION", plain_lines(description))
    if url:
        event.add("URL", one_line(url))
    return event


def describe_market(market: Market, booth: int | None = None) -> str:
    lines = [
        f"{market.market_date.isoformat()} {market.start_time:%H:%M}–{market.end_time:%H:%M}",
        market_location(market),
    ]
    if market.venue.map_url:
        lines.append(one_line(market.venue.map_url))
    if market.status is MarketStatus.CANCELLED:
        lines.insert(0, f"취소됨: {one_line(market.cancel_reason)}")
    if booth:
        lines.insert(0, f"내 부스: {booth}번")
    return "\n".join(lines)


def _calendar(name: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    if name:
        name = one_line(name)
        calendar.add("X-WR-CALNAME", name)
        calendar.add("NAME", name)
        calendar.add("X-WR-TIMEZONE", "Asia/Seoul")
    return calendar


def _finish(calendar: Calendar) -> Calendar:
    """Adds the VTIMEZONE of every zone the events use (before the events,
    as add_missing_timezones does), each built once per process."""
    position = len(calendar.timezones)
    for tzid in sorted(calendar.get_missing_tzids()):
        timezone = _timezone(tzid)
        if timezone is not None:
            calendar.subcomponents.insert(position, copy.deepcopy(timezone))
            position += 1
    return calendar


@functools.lru_cache(maxsize=8)
def _timezone(tzid: str) -> Timezone | None:
    """Building a VTIMEZONE walks the zone's transitions from TIMEZONE_FROM
    on and took about 50 ms, more than all else in a feed or an invitation
    (benchmarks/results.md); the result depends only on the zone."""
    try:
        return Timezone.from_tzid(tzid, first_date=TIMEZONE_FROM)
    except ValueError:  # a zone icalendar does not know: left out, as before
        return None


def market_feed(
    markets: Iterable[Market],
    *,
    name: str,
    stamp: datetime,
    url_for: Callable[[Market], str] | None = None,
    refresh: timedelta = FEED_REFRESH,
    booth_for: Callable[[Market], int | None] | None = None,
) -> Calendar:
    """A subscribable feed: no METHOD, no ATTENDEE, cancelled markets kept.
    `booth_for`: an enterprise's booth number per market (its private feed)."""
    calendar = _calendar(name)
    calendar.add("REFRESH-INTERVAL", refresh, parameters={"VALUE": "DURATION"})
    calendar.add("X-PUBLISHED-TTL", vDuration(refresh))
    for market in markets:
        booth = booth_for(market) if booth_for else None
        calendar.add_component(
            market_event(
                market,
                stamp=stamp,
                url=url_for(market) if url_for else None,
                description=describe_market(market, booth),
                booth=booth,
            )
        )
    return _finish(calendar)


def market_download(market: Market, *, stamp: datetime, url: str | None = None) -> Calendar:
    """One market as a file to open in a calendar (PUBLISH-less, like the feed)."""
    calendar = _calendar()
    calendar.add_component(
        market_event(market, stamp=stamp, url=url, description=describe_market(market))
    )
    return _finish(calendar)


def google_subscribe_link(webcal_url: str) -> str:
    """Opens Google Calendar's "add this calendar" for a feed; Google takes
    the webcal:// address in `cid` (an https one it may refuse)."""
    return "https://calendar.google.com/calendar/r?" + urlencode({"cid": webcal_url})


def google_calendar_link(market: Market, details: str = "") -> str:
    """A 'TEMPLATE' link that opens Google Calendar's new-event form."""

    def utc(value: datetime) -> str:
        return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

    query = urlencode(
        {
            "action": "TEMPLATE",
            "text": market_summary(market),
            "dates": f"{utc(starts_at(market))}/{utc(ends_at(market))}",
            "location": market_location(market),
            "details": details or describe_market(market),
            "ctz": "Asia/Seoul",
        }
    )
    return f"https://calendar.google.com/calendar/render?{query}"


# -- invitations (iTIP over iMIP: RFC 5546, 6047) ----------------------------

INVITATION_METHODS = ("REQUEST", "CANCEL")


def invitation_calendar(
    market: Market,
    *,
    method: str,
    organizer_email: str,
    organizer_name: str,
    attendee_email: str,
    attendee_name: str,
    sequence: int,
    stamp: datetime,
    url: str | None = None,
    description: str | None = None,
) -> Calendar:
    """One invitation for one customer: METHOD:REQUEST (invite or update, same
    UID with a higher SEQUENCE) or METHOD:CANCEL (STATUS:CANCELLED). The
    center is the ORGANIZER, the customer the only ATTENDEE; the two must
    differ or Gmail shows no invite. No VALARM, ever."""
    if method not in INVITATION_METHODS:
        raise ValueError(f"method must be one of {INVITATION_METHODS}, not {method!r}")
    if organizer_email.strip().lower() == attendee_email.strip().lower():
        raise ValueError("the ORGANIZER and the ATTENDEE must be different addresses")
    calendar = _calendar()
    calendar.add("METHOD", method)
    event = market_event(
        market,
        stamp=stamp.astimezone(UTC),
        url=url,
        description=description,
        sequence=sequence,
    )
    event.pop("STATUS", None)
    event.add("STATUS", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("ORGANIZER", _address(organizer_email, CN=organizer_name))
    event.add("ATTENDEE", _attendee(attendee_email, attendee_name))
    calendar.add_component(event)
    return _finish(calendar)


def _attendee(email: str, name: str) -> vCalAddress:
    return _address(
        email,
        CN=name,
        CUTYPE="INDIVIDUAL",
        ROLE="REQ-PARTICIPANT",
        PARTSTAT="NEEDS-ACTION",
        RSVP="TRUE",
    )


# A campaign sends the same invitation to thousands: the calendar is made
# once (invitation_frame) and only the two lines that name the customer are
# written for each (invitation_lines), as invitation_calendar would write
# them. icalendar writes ATTENDEE and DESCRIPTION next to each other (the
# properties after SEQUENCE go in name order, and nothing of ours sorts
# between the two).
_FRAME_ATTENDEE = "attendee@frame.invalid"


def invitation_frame(market: Market, **values) -> tuple[bytes, bytes]:
    """invitation_calendar(market, **values).to_ical() before and after its
    ATTENDEE and DESCRIPTION lines (the attendee and the description given
    are stand-ins, left out)."""
    values.update(attendee_email=_FRAME_ATTENDEE, attendee_name="-", description="-")
    lines = invitation_calendar(market, **values).to_ical().split(b"\r\n")
    start = next(n for n, line in enumerate(lines) if line.startswith(b"ATTENDEE"))
    end = start + 1
    while lines[end].startswith((b" ", b"DESCRIPTION")):  # folded lines go on with a space
        end += 1
    return b"\r\n".join(lines[:start]) + b"\r\n", b"\r\n".join(lines[end:])


def invitation_lines(
    *, organizer_email: str, attendee_email: str, attendee_name: str, description: str
) -> bytes:
    """The ATTENDEE and DESCRIPTION lines of invitation_calendar for these
    values (escaped and folded by icalendar as there), ending in CRLF: what
    goes between the two halves of invitation_frame."""
    if organizer_email.strip().lower() == attendee_email.strip().lower():
        raise ValueError("the ORGANIZER and the ATTENDEE must be different addresses")
    # What Event.add and Event.to_ical make of the two (a third faster).
    attendee = _attendee(attendee_email, attendee_name)
    text = vText(plain_lines(description))
    return b"".join(
        fold(Contentline.from_parts(name, value.params, value, sorted=True)) + b"\r\n"
        for name, value in (("ATTENDEE", attendee), ("DESCRIPTION", text))
    )


def fold(line: str) -> bytes:
    """Contentline(line).to_ical(): the line folded as icalendar folds it
    (a test compares them), RFC 5545's 75 octets, never inside a character
    nor right after a backslash or a caret of an escape. icalendar weighs
    each character in Python (a third of writing an invitation once its QR
    code was quick); here the fold is found on the UTF-8 bytes, once per 74
    of them: each piece is as long as fits under 75 octets, ending before a
    character's first byte, and gives its last character to the next piece
    when that is a \\ or ^ (and not its only one)."""
    if "\n" in line:
        raise ValueError("a line break in a content line")
    data = line.encode()
    pieces, start = [], 0
    while len(data) - start > _FOLD_OCTETS:
        end = start + _FOLD_OCTETS
        while data[end] & 0xC0 == 0x80:  # a UTF-8 continuation byte
            end -= 1
        if end - start > 1 and data[end - 1] in _ESCAPES:
            end -= 1
        pieces.append(data[start:end])
        start = end
    pieces.append(data[start:])
    return b"\r\n ".join(pieces)


_FOLD_OCTETS = 74  # the most a piece of a folded line holds (less than 75)
_ESCAPES = b"\\^"


def _address(email: str, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email.strip()}")
    for name, value in params.items():
        if value:
            address.params[name] = one_line(value)
    return address
