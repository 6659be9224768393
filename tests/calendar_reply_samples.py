"""Calendar replies (iMIP REPLY, RFC 6047) as the customers' programs send
them, byte for byte: written from the formats Gmail, Outlook/Exchange and
Apple Mail are documented and seen to use, never from our own invitation
code (that would only test that we read what we write).

- Gmail (Google Calendar's "Yes/Maybe/No"): multipart/mixed holding
  multipart/alternative (text/plain, text/html, an inline
  ``text/calendar; charset="UTF-8"; method=REPLY``) and the same calendar
  again as an ``application/ics; name="invite.ics"`` attachment; PRODID
  ``-//Google Inc//Google Calendar 70.9054//EN``; subject "Accepted: <title>
  @ <when> (<address>)"; ATTENDEE with CUTYPE, ROLE, CN and X-NUM-GUESTS.
- Outlook / Exchange ("수락"): multipart/alternative of a text/plain part
  (Korean Outlook labels it ``ks_c_5601-1987``) and ``text/calendar;
  charset="utf-8"; method=REPLY`` in base64; PRODID ``Microsoft Exchange
  Server 2010``; subject "수락: <title>"; the address as the person typed it
  (capitals), Windows zone names ("Korea Standard Time") and the
  X-MICROSOFT-CDO-* properties. Outlook.com and some Outlook versions send
  the calendar as an attachment of a multipart/mixed instead (`attached`).
- Apple Mail / Calendar: multipart/mixed with a quoted-printable text/plain
  and the calendar as an attachment ``text/calendar; x-unix-mode=0644;
  name="iCal-….ics"; method=REPLY; charset=utf-8`` in base64; PRODID
  ``-//Apple Inc.//macOS 14.1//EN``; ATTENDEE with EMAIL= and
  REQUEST-STATUS:2.0;Success.

Lines are folded at 75 octets, never inside a UTF-8 character, as those
programs do."""

import base64
import quopri
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.header import Header

CRLF = "\r\n"
KOREA = timedelta(hours=9)


@dataclass(frozen=True)
class Reply:
    """What a reply answers and who writes it."""

    uid: str
    attendee: str  # the address in ATTENDEE
    name: str = "김하나"
    partstat: str = "ACCEPTED"
    stamp: datetime = datetime(2026, 11, 26, 2, 5, 12, tzinfo=UTC)
    sequence: int = 0
    organizer: str = "market@gbsec.example.kr"
    title: str = "(광고) 굿모닝장터 초대: 12월 3일 (목) 경기도청"
    start: str = "20261203T100000"  # Korea time
    end: str = "20261203T150000"
    sender: str | None = None  # From's address, when it is not the attendee
    from_header: str | None = None  # the whole From header, written as given
    method: str = "REPLY"


def fold(line: str) -> str:
    """RFC 5545 3.1: at most 75 octets a line, continued after CRLF and a
    space, never splitting a UTF-8 character."""
    out, current = [], b""
    for char in line:
        encoded = char.encode()
        limit = 75 if not out else 74
        if len(current) + len(encoded) > limit:
            out.append(current.decode())
            current = b""
        current += encoded
    out.append(current.decode())
    return (CRLF + " ").join(out)


def ics(lines: list[str]) -> bytes:
    return (CRLF.join(fold(line) for line in lines) + CRLF).encode()


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _b64(data: bytes) -> str:
    text = base64.b64encode(data).decode()
    return CRLF.join(text[i : i + 76] for i in range(0, len(text), 76))


def _header(text: str, charset: str = "utf-8") -> str:
    return Header(text, charset).encode() if not text.isascii() else text


def _from(reply: Reply) -> str:
    if reply.from_header:
        return reply.from_header
    return f"{_header(reply.name)} <{reply.sender or reply.attendee}>"


def _message(headers: list[tuple[str, str]], body: str) -> bytes:
    head = CRLF.join(f"{name}: {value}" for name, value in headers)
    return (head + CRLF + CRLF + body).encode()


# --- Gmail ------------------------------------------------------------------------------

GMAIL_WORDS = {"ACCEPTED": "Accepted", "DECLINED": "Declined", "TENTATIVE": "Tentatively Accepted"}


def gmail_calendar(reply: Reply) -> bytes:
    start = datetime.strptime(reply.start, "%Y%m%dT%H%M%S")
    end = datetime.strptime(reply.end, "%Y%m%dT%H%M%S")
    return ics(
        [
            "BEGIN:VCALENDAR",
            "PRODID:-//Google Inc//Google Calendar 70.9054//EN",
            "VERSION:2.0",
            "CALSCALE:GREGORIAN",
            f"METHOD:{reply.method}",
            "BEGIN:VEVENT",
            # Google writes UTC times: Korea is +09:00 all year.
            f"DTSTART:{start - KOREA:%Y%m%dT%H%M%S}Z",
            f"DTEND:{end - KOREA:%Y%m%dT%H%M%S}Z",
            f"DTSTAMP:{_stamp(reply.stamp)}",
            f"ORGANIZER;CN=굿모닝장터:mailto:{reply.organizer}",
            f"UID:{reply.uid}",
            "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;"
            f"PARTSTAT={reply.partstat};CN={reply.name};X-NUM-GUESTS=0:mailto:{reply.attendee}",
            "CREATED:20261126T020000Z",
            "DESCRIPTION:일시: 2026년 12월 3일 (목) 10:00–15:00\\n장소: 경기도청",
            "LAST-MODIFIED:20261126T020512Z",
            "LOCATION:경기도청\\, 경기도 수원시 팔달구 효원로 1",
            f"SEQUENCE:{reply.sequence}",
            "STATUS:CONFIRMED",
            f"SUMMARY:{reply.title}",
            "TRANSP:OPAQUE",
            "END:VEVENT",
            "END:VCALENDAR",
        ]
    )


def gmail(reply: Reply) -> bytes:
    calendar = gmail_calendar(reply)
    word = GMAIL_WORDS.get(reply.partstat, "Accepted")
    subject = f"{word}: {reply.title} @ Thu Dec 3, 2026 10am - 3pm (KST) ({reply.attendee})"
    text = f"{reply.name} has {word.lower()} this invitation.\r\n\r\n{reply.title}\r\n"
    html = (
        '<span itemscope itemtype="http://schema.org/InformAction">'
        f"{reply.name} has {word.lower()} this invitation.</span>"
    )
    body = CRLF.join(
        [
            "--000000000000a1b2c3",
            'Content-Type: multipart/alternative; boundary="000000000000a1b2c4"',
            "",
            "--000000000000a1b2c4",
            'Content-Type: text/plain; charset="UTF-8"; format=flowed; delsp=yes',
            "Content-Transfer-Encoding: base64",
            "",
            _b64(text.encode()),
            "--000000000000a1b2c4",
            'Content-Type: text/html; charset="UTF-8"',
            "Content-Transfer-Encoding: quoted-printable",
            "",
            quopri.encodestring(html.encode()).decode(),
            "--000000000000a1b2c4",
            f'Content-Type: text/calendar; charset="UTF-8"; method={reply.method}',
            "Content-Transfer-Encoding: base64",
            "",
            _b64(calendar),
            "--000000000000a1b2c4--",
            "",
            "--000000000000a1b2c3",
            'Content-Type: application/ics; name="invite.ics"',
            'Content-Disposition: attachment; filename="invite.ics"',
            "Content-Transfer-Encoding: base64",
            "",
            _b64(calendar),
            "--000000000000a1b2c3--",
            "",
        ]
    )
    return _message(
        [
            ("MIME-Version", "1.0"),
            ("Date", "Thu, 26 Nov 2026 11:05:13 +0900"),
            ("Message-ID", "<000000000000e8f9a0@google.com>"),
            ("Subject", _header(subject)),
            ("From", _from(reply)),
            ("To", f"{_header('굿모닝장터')} <{reply.organizer}>"),
            ("Content-Type", 'multipart/mixed; boundary="000000000000a1b2c3"'),
        ],
        body,
    )


# --- Outlook / Exchange -----------------------------------------------------------------

OUTLOOK_WORDS = {"ACCEPTED": "수락", "DECLINED": "거절", "TENTATIVE": "미정"}


def outlook_calendar(reply: Reply) -> bytes:
    word = OUTLOOK_WORDS.get(reply.partstat, "수락")
    return ics(
        [
            "BEGIN:VCALENDAR",
            f"METHOD:{reply.method}",
            "PRODID:Microsoft Exchange Server 2010",
            "VERSION:2.0",
            "BEGIN:VTIMEZONE",
            "TZID:Korea Standard Time",
            "BEGIN:STANDARD",
            "DTSTART:16010101T000000",
            "TZOFFSETFROM:+0900",
            "TZOFFSETTO:+0900",
            "END:STANDARD",
            "BEGIN:DAYLIGHT",
            "DTSTART:16010101T000000",
            "TZOFFSETFROM:+0900",
            "TZOFFSETTO:+0900",
            "END:DAYLIGHT",
            "END:VTIMEZONE",
            "BEGIN:VEVENT",
            f"ATTENDEE;PARTSTAT={reply.partstat};CN={reply.name}:mailto:{reply.attendee}",
            "COMMENT;LANGUAGE=ko-KR:\\n",
            f"SUMMARY;LANGUAGE=ko-KR:{word}: {reply.title}",
            f"DTSTART;TZID=Korea Standard Time:{reply.start}",
            f"DTEND;TZID=Korea Standard Time:{reply.end}",
            f"UID:{reply.uid}",
            "CLASS:PUBLIC",
            "PRIORITY:5",
            f"DTSTAMP:{_stamp(reply.stamp)}",
            "TRANSP:OPAQUE",
            "STATUS:CONFIRMED",
            f"SEQUENCE:{reply.sequence}",
            "LOCATION;LANGUAGE=ko-KR:경기도청",
            f"X-MICROSOFT-CDO-APPT-SEQUENCE:{reply.sequence}",
            "X-MICROSOFT-CDO-OWNERAPPTID:-1",
            "X-MICROSOFT-CDO-BUSYSTATUS:BUSY",
            "X-MICROSOFT-CDO-INTENDEDSTATUS:BUSY",
            "X-MICROSOFT-CDO-ALLDAYEVENT:FALSE",
            "X-MICROSOFT-CDO-IMPORTANCE:1",
            "X-MICROSOFT-CDO-INSTTYPE:0",
            "X-MICROSOFT-DONOTFORWARDMEETING:FALSE",
            "X-MICROSOFT-DISALLOW-COUNTER:FALSE",
            "END:VEVENT",
            "END:VCALENDAR",
        ]
    )


def outlook(reply: Reply, attached: bool = False) -> bytes:
    """Outlook desktop on Exchange: the calendar inline in
    multipart/alternative; `attached`: as Outlook.com sends it, a
    multipart/mixed with the calendar as an attachment."""
    calendar = outlook_calendar(reply)
    word = OUTLOOK_WORDS.get(reply.partstat, "수락")
    text = f"{reply.name} 님이 초대에 {word}했습니다.\r\n".encode("cp949")
    boundary = "_000_SL2P216MB1841A2B3C4D5E6F7SL2P216MB1841KORP_"
    kind = "mixed" if attached else "alternative"
    disposition = ['Content-Disposition: attachment; filename="invite.ics"'] if attached else []
    body = CRLF.join(
        [
            f"--{boundary}",
            'Content-Type: text/plain; charset="ks_c_5601-1987"',
            "Content-Transfer-Encoding: base64",
            "",
            _b64(text),
            "",
            f"--{boundary}",
            f'Content-Type: text/calendar; charset="utf-8"; method={reply.method}',
            *disposition,
            "Content-Transfer-Encoding: base64",
            "",
            _b64(calendar),
            "",
            f"--{boundary}--",
            "",
        ]
    )
    return _message(
        [
            ("From", _from(reply)),
            ("To", f"{_header('굿모닝장터')} <{reply.organizer}>"),
            ("Subject", _header(f"{word}: {reply.title}")),
            ("Thread-Topic", _header(reply.title)),
            ("Thread-Index", "AdtF1g2Yx3kq0mNbQ1CkLr2VY8yXvg=="),
            ("Date", "Thu, 26 Nov 2026 02:05:13 +0000"),
            (
                "Message-ID",
                "<SL2P216MB1841A2B3C4D5E6F7@SL2P216MB1841.KORP216.PROD.OUTLOOK.COM>",
            ),
            ("Accept-Language", "ko-KR, en-US"),
            ("Content-Language", "ko-KR"),
            ("X-MS-Has-Attach", ""),
            ("X-MS-TNEF-Correlator", ""),
            ("Content-Type", f'multipart/{kind}; boundary="{boundary}"'),
            ("MIME-Version", "1.0"),
        ],
        body,
    )


# --- Apple Mail / Calendar --------------------------------------------------------------


def apple_calendar(reply: Reply) -> bytes:
    return ics(
        [
            "BEGIN:VCALENDAR",
            "CALSCALE:GREGORIAN",
            "PRODID:-//Apple Inc.//macOS 14.1//EN",
            "VERSION:2.0",
            f"METHOD:{reply.method}",
            "BEGIN:VEVENT",
            f'ATTENDEE;CN="{reply.name}";CUTYPE=INDIVIDUAL;EMAIL="{reply.attendee}";'
            f"PARTSTAT={reply.partstat}:mailto:{reply.attendee}",
            f"DTEND;TZID=Asia/Seoul:{reply.end}",
            f"DTSTAMP:{_stamp(reply.stamp)}",
            f"DTSTART;TZID=Asia/Seoul:{reply.start}",
            f'ORGANIZER;CN="굿모닝장터":mailto:{reply.organizer}',
            "REQUEST-STATUS:2.0;Success",
            f"SEQUENCE:{reply.sequence}",
            f"SUMMARY:{reply.title}",
            f"UID:{reply.uid}",
            "END:VEVENT",
            "END:VCALENDAR",
        ]
    )


def apple(reply: Reply) -> bytes:
    calendar = apple_calendar(reply)
    name = "iCal-20261126-110512.ics"
    text = f'{reply.name} 님이 "{reply.title}" 초대를 수락했습니다.\n'
    boundary = "Apple-Mail=_6F1E2B3A-8C4D-4E5F-9A0B-1C2D3E4F5A6B"
    body = CRLF.join(
        [
            "",
            f"--{boundary}",
            "Content-Transfer-Encoding: quoted-printable",
            "Content-Type: text/plain;",
            "\tcharset=utf-8",
            "",
            quopri.encodestring(text.encode()).decode(),
            f"--{boundary}",
            "Content-Disposition: attachment;",
            f"\tfilename={name}",
            "Content-Type: text/calendar;",
            "\tx-unix-mode=0644;",
            f'\tname="{name}";',
            f"\tmethod={reply.method};",
            "\tcharset=utf-8",
            "Content-Transfer-Encoding: base64",
            "",
            _b64(calendar),
            f"--{boundary}--",
            "",
        ]
    )
    return _message(
        [
            ("From", _from(reply)),
            ("Content-Type", f'multipart/mixed;{CRLF}\tboundary="{boundary}"'),
            ("Mime-Version", "1.0 (Mac OS X Mail 16.0 \\(3774.600.62\\))"),
            ("Subject", _header(f"수락함: {reply.title}")),
            ("Date", "Thu, 26 Nov 2026 11:05:13 +0900"),
            ("Message-Id", "<A1B2C3D4-E5F6-4789-9ABC-DEF012345678@icloud.com>"),
            ("To", f"{_header('굿모닝장터')} <{reply.organizer}>"),
            ("X-Mailer", "Apple Mail (2.3774.600.62)"),
        ],
        body,
    )
