"""Invitations as the customer's mail program gets them: queued, delivered
over real SMTP (aiosmtpd on loopback) and parsed back, checked against
docs/calendar.md; updates, cancellations, the sending hours, answers and
unsubscribing (services; the pages are in test_invitations_pages.py)."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from market import timeutil
from market.audit.models import AuditEntry
from market.customers.models import Customer, Order, Suppression, email_hash
from market.extensions import db
from market.invitations import answers, queries, sending
from market.invitations.messages import mask_email
from market.invitations.models import Invitation, InvitationStatus
from market.markets import services as market_services
from market.markets.models import MarketStatus
from market.markets.services import MarketDetails
from market.outbox import delivery, mime
from market.outbox.models import OutboxMessage, OutboxStatus
from market.timeutil import SEOUL, format_korean_date
from market.validators import normalise_email
from market.vendors.models import Application, ApplicationStatus, Category, Vendor, VendorStatus
from tests.markets_factories import make_market, make_venue, next_thursday
from tests.test_outbox import running_smtp

ORGANIZER = "mailto:market@gbsec.example.kr"
CONSENT_AT = datetime(2026, 11, 20, 14, 3, tzinfo=SEOUL)
CONSENT_SOURCE = "gmarket-orders-2026-11.csv"


# --- factories (the pages' tests import these too) ---------------------------------


def make_customer(email: str, name: str, consent: bool = True, **extra) -> Customer:
    customer = Customer(
        email=normalise_email(email),
        email_hash=email_hash(email),
        name=name,
        consent=consent,
        consent_at=CONSENT_AT if consent else None,
        consent_source=CONSENT_SOURCE if consent else None,
        consent_wording="v1" if consent else None,
        details_as_of=CONSENT_AT,
        **extra,
    )
    db.session.add(customer)
    db.session.commit()
    return customer


_numbers = iter(range(1_000_000_000, 9_999_999_999))


def make_vendor(name: str, category: str, market=None, status: str = "assigned") -> Vendor:
    vendor = Vendor(
        name=name,
        business_number=str(next(_numbers)),
        enterprise_type="social",
        cert_issuer="고용노동부",
        cert_number="2024-001",
        cert_issued_on=date(2024, 1, 1),
        category=Category(category),
        contact_name="담당자",
        phone="+821012345678",
        email=f"{next(_numbers)}@vendor.example.kr",
        status=VendorStatus.APPROVED,
    )
    db.session.add(vendor)
    db.session.flush()
    if market is not None:
        db.session.add(
            Application(vendor_id=vendor.id, market_id=market.id, status=ApplicationStatus(status))
        )
    db.session.commit()
    return vendor


def make_order(customer: Customer, amount: int, ordered_at: datetime, vendor=None) -> Order:
    order = Order(
        order_no=f"G{next(_numbers)}",
        ordered_at=ordered_at,
        customer_id=customer.id,
        vendor_id=vendor.id if vendor else None,
        seller_name=vendor.name if vendor else "판매자",
        product="유기농 쌀 10kg",
        amount=amount,
    )
    db.session.add(order)
    return order


def market_details(market, **changes) -> MarketDetails:
    values = {
        "market_date": market.market_date,
        "start_time": market.start_time,
        "end_time": market.end_time,
        "venue_id": market.venue_id,
        "booth_count": market.booth_count,
        "application_deadline": market.application_deadline,
        "takings_ceiling": market.takings_ceiling,
        "note": market.note,
    }
    values.update(changes)
    return MarketDetails(**values)


@pytest.fixture
def smtp(app_config):
    with running_smtp(app_config) as handler:
        yield handler


@pytest.fixture
def market(app):
    """A Thursday 10:00-15:00 two weeks or more ahead of the real clock, so
    the listener (which uses the real clock) treats it as upcoming."""
    venue = make_venue("경기도청", 10, map_url="https://map.naver.com/p/entry/place/11")
    return make_market(venue, next_thursday(datetime.now(SEOUL).date(), weeks=2))


@pytest.fixture
def now(market):
    """The fixed clock: 11:00 Korea time, a week before the market."""
    return datetime.combine(market.market_date - timedelta(days=7), time(11, 0), tzinfo=SEOUL)


@pytest.fixture
def customers(app):
    return [
        make_customer("hana@example.com", "김하나"),
        make_customer("dul@example.com", "이둘"),
    ]


def outbox_rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def invitation_of(customer) -> Invitation:
    """Fresh from the database (commit first: expiring drops unsaved changes)."""
    db.session.expire_all()
    return db.session.scalar(select(Invitation).where(Invitation.customer_id == customer.id))


def send_all(now) -> None:
    """Delivers what is queued at 10:00 Korea time on the day after `now`:
    inside the sending hours whatever the hour the suite runs (a day later
    at 21:00 KST or after, which `now + 1 day` gave from 12:00 UTC, is
    still outside them and sent nothing)."""
    db.session.commit()
    next_day = now.astimezone(SEOUL).date() + timedelta(days=1)
    delivery.deliver_due(now=datetime.combine(next_day, time(10), tzinfo=SEOUL).astimezone(UTC))


# --- the iMIP message, as docs/calendar.md has it ----------------------------------


def calendar_bytes_of(message) -> tuple[bytes, Calendar]:
    """Checks the MIME tree and returns the calendar part's bytes, parsed."""
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    plain, html, calendar_part = alternative.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert plain.get_content_charset() == "utf-8"
    if html.get_content_type() == "multipart/related":
        # The visitor pass (issue 18): the PNG the HTML shows by its Content-ID.
        # RFC 2387 §3.1: "type" names the root part's type; required.
        assert html.get_param("type") == "text/html"
        html, image = html.get_payload()
        assert image.get_content_type() == "image/png"
        assert image.get_content_disposition() == "inline"
        assert image["Content-Transfer-Encoding"] == "base64"
        assert f'src="cid:{image["Content-ID"].strip("<>")}"' in html.get_content()
    assert html.get_content_type() == "text/html"
    assert html.get_content_charset() == "utf-8"
    assert calendar_part.get_content_type() == "text/calendar"
    assert calendar_part.get_content_charset() == "utf-8"
    assert calendar_part["Content-Transfer-Encoding"] == "base64"
    assert calendar_part.get_content_disposition() is None, "inline: no disposition at all"
    assert attachment.get_content_type() == "application/ics"
    assert attachment.get_param("name") == "invite.ics"
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "invite.ics"
    assert attachment["Content-Transfer-Encoding"] == "base64"
    body = calendar_part.get_payload(decode=True)
    assert attachment.get_payload(decode=True) == body, "the attachment has the same bytes"

    assert body.endswith(b"\r\n")
    assert b"\n" not in body.replace(b"\r\n", b""), "CRLF line ends only"
    for line in body.split(b"\r\n"):
        assert len(line) <= 75, line
        line.decode("utf-8")  # folded between, never inside, UTF-8 sequences
    calendar = Calendar.from_ical(body)
    for component in calendar.walk():
        assert component.errors == [], component.errors
    method = str(calendar["METHOD"])
    assert calendar_part.get_param("method") == method, "Content-Type method= equals METHOD"
    assert f"text/calendar; method={method}; charset=UTF-8" in calendar_part.as_string()
    return body, calendar


def check_invite(message, customer, market, *, method: str, sequence: int, stamp: datetime):
    """The ten things about the invite, and what the law asks of the mail."""
    body, calendar = calendar_bytes_of(message)
    assert str(calendar["METHOD"]) == method
    assert str(calendar["VERSION"]) == "2.0" and "PRODID" in calendar
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == market.uid
    assert b"DTSTAMP:" + stamp.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ").encode() in body
    assert event.decoded("DTSTAMP") == stamp.astimezone(UTC)
    assert event.decoded("SEQUENCE") == sequence
    assert str(event["ORGANIZER"]) == ORGANIZER
    assert event["ORGANIZER"].params["CN"]
    attendees = event.get("ATTENDEE")
    assert not isinstance(attendees, list), "exactly one ATTENDEE"
    assert str(attendees) == f"mailto:{customer.email}"
    assert str(attendees) != str(event["ORGANIZER"])
    assert attendees.params["CN"] == customer.name
    assert attendees.params["RSVP"] == "TRUE"
    assert attendees.params["PARTSTAT"] == "NEEDS-ACTION"
    assert attendees.params["ROLE"] == "REQ-PARTICIPANT"
    assert event["DTSTART"].params["TZID"] == "Asia/Seoul"
    assert event["DTEND"].params["TZID"] == "Asia/Seoul"
    [timezone] = calendar.walk("VTIMEZONE")
    assert str(timezone["TZID"]) == "Asia/Seoul"
    assert timezone.walk("DAYLIGHT") == [] and len(timezone.walk("STANDARD")) == 1
    start = market_services.starts_at(market)
    assert event.decoded("DTSTART").astimezone(UTC) == start.astimezone(UTC)
    assert str(event["SUMMARY"]) == f"굿모닝장터 · {market.venue.name}"
    assert market.venue.address in str(event["LOCATION"])
    assert "VALARM" not in {component.name for component in calendar.walk()}
    assert str(event["STATUS"]) == ("CANCELLED" if method == "CANCEL" else "CONFIRMED")
    # Only this customer is a recipient.
    assert [a.addr_spec for a in message["To"].addresses] == [customer.email]
    assert message["Subject"].startswith("(광고)")
    return event


def bodies(message) -> tuple[str, str]:
    return (
        message.get_body(("plain",)).get_content(),
        message.get_body(("html",)).get_content(),
    )


# --- inviting -----------------------------------------------------------------------


def test_invitations_arrive_as_real_calendar_invites(smtp, app, market, customers, now):
    make_vendor("햇살협동조합", "food", market)
    make_vendor("초록마을기업", "farm", market)
    make_vendor("대기중기업", "crafts", market, status="waitlisted")
    result = sending.invite(market, [c.id for c in customers], None, now)
    assert result.invited == 2 and result.skipped == {}
    assert result.not_before == now.astimezone(UTC), "11:00 KST: no waiting"
    db.session.commit()

    report = delivery.deliver_due(now=now)
    assert report.sent == 2
    received = {m["To"].addresses[0].addr_spec: m for m in smtp.messages()}
    raws = {env.rcpt_tos[0]: env.original_content for env, _ in smtp.received}
    assert set(received) == {"hana@example.com", "dul@example.com"}
    for customer in customers:
        message = received[customer.email]
        invitation = invitation_of(customer)
        assert invitation.sequence_sent == 0
        check_invite(message, customer, market, method="REQUEST", sequence=0, stamp=now)
        assert message["Subject"] == (
            f"(광고) 굿모닝장터 초대: {market.market_date.month}월 {market.market_date.day}일"
            f" (목) 경기도청"
        )
        unsubscribe_url = f"http://market.test/u/{invitation.token}"
        assert message["List-Unsubscribe"] == f"<{unsubscribe_url}>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        text, html = bodies(message)
        for body in (text, html):
            assert format_korean_date(market.market_date) in body
            assert "10:00–15:00" in body
            assert "경기도청" in body and market.venue.address in body
            assert "https://map.naver.com/p/entry/place/11" in body
            assert "햇살협동조합" in body and "식품" in body
            assert "초록마을기업" in body and "농산물" in body
            assert "대기중기업" not in body, "only vendors with an assigned booth"
            # the sender, as the law asks
            assert "경기도 사회적경제지원센터" in body
            assert "경기도 수원시 영통구 도청로 30" in body
            assert "031-000-0000" in body
            # when and where they consented
            assert "2026년 11월 20일 14:03" in body
            # where, in the customer's words: never the stored file name
            assert "동의 경로: G마켓 구매 시 마케팅 수신 동의" in body
            assert CONSENT_SOURCE not in body
            assert "수신 거부" in body
            assert unsubscribe_url in body
            assert f"http://market.test/i/{invitation.token}" in body
        # no other customer's address anywhere in this mail
        other = next(c for c in customers if c is not customer)
        assert other.email.encode() not in raws[customer.email]
        assert other.email not in text and other.email not in html


def test_public_base_url_makes_the_links(smtp, app_config, app, market, customers, now):
    app.config["PUBLIC_BASE_URL"] = "https://market.example.kr"
    app.config["UNSUBSCRIBE_MAILTO"] = "unsubscribe@gbsec.example.kr"
    sending.invite(market, [customers[0].id], None, now)
    db.session.commit()
    delivery.deliver_due(now=now)
    [message] = smtp.messages()
    token = invitation_of(customers[0]).token
    assert message["List-Unsubscribe"] == (
        f"<https://market.example.kr/u/{token}>,"
        " <mailto:unsubscribe@gbsec.example.kr?subject=unsubscribe>"
    )
    assert f"https://market.example.kr/i/{token}" in bodies(message)[0]


def test_organizer_is_the_from_address_and_never_the_attendee(app, market):
    from market import calendar

    with pytest.raises(ValueError):
        calendar.invitation_calendar(
            market,
            method="REQUEST",
            organizer_email="Market@gbsec.example.kr",
            organizer_name="센터",
            attendee_email="market@gbsec.example.kr",
            attendee_name="손님",
            sequence=0,
            stamp=datetime.now(UTC),
        )
    with pytest.raises(ValueError):
        calendar.invitation_calendar(
            market,
            method="PUBLISH",
            organizer_email="a@example.kr",
            organizer_name="a",
            attendee_email="b@example.kr",
            attendee_name="b",
            sequence=0,
            stamp=datetime.now(UTC),
        )


def test_already_invited_are_skipped_and_the_send_is_audited(app, market, customers, now):
    sending.invite(market, [customers[0].id], None, now)
    db.session.commit()
    result = sending.invite(market, [customers[0].id, customers[1].id, 999_999], None, now)
    db.session.commit()
    assert [i.customer_id for i in result.invitations] == [customers[1].id]
    assert result.skipped == {"already_invited": [customers[0].id], "unknown": [999_999]}
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 2
    assert len(outbox_rows()) == 2
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "invitation.send")
    ).all()
    assert [e.after["invited"] for e in entries] == [1, 1]
    assert entries[0].object_type == "markets" and entries[0].object_id == str(market.id)


def test_no_consent_unsubscribed_or_suppressed_are_never_invited(app, market, now):
    fine = make_customer("ok@example.com", "가능")
    no_consent = make_customer("no@example.com", "거부", consent=False)
    gone = make_customer("gone@example.com", "탈퇴", unsubscribed_at=now - timedelta(days=1))
    # Re-imported with consent after unsubscribing: the hash still suppresses it.
    suppressed = make_customer("Back@Example.com", "재등록")
    db.session.add(Suppression(email_hash=suppressed.email_hash))
    db.session.commit()
    ids = [fine.id, no_consent.id, gone.id, suppressed.id]
    result = sending.invite(market, ids, None, now)
    db.session.commit()
    assert [i.customer_id for i in result.invitations] == [fine.id]
    assert result.skipped == {
        "no_consent": [no_consent.id],
        "unsubscribed": [gone.id],
        "suppressed": [suppressed.id],
    }
    assert [row.to_address for row in outbox_rows()] == ["ok@example.com"]


def test_cancelled_or_past_markets_take_no_invitations(app, market, customers, now):
    with pytest.raises(sending.InvitationError):
        sending.invite(market, [customers[0].id], None, market_services.starts_at(market))
    market_services.change_status(market, MarketStatus.CANCELLED, reason="우천")
    db.session.commit()
    with pytest.raises(sending.InvitationError):
        sending.invite(market, [customers[0].id], None, now)
    assert outbox_rows() == []


# --- the sending hours --------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (datetime(2026, 11, 26, 11, 0), datetime(2026, 11, 26, 11, 0)),
        (datetime(2026, 11, 26, 8, 0), datetime(2026, 11, 26, 8, 0)),
        (datetime(2026, 11, 26, 20, 59, 59), datetime(2026, 11, 26, 20, 59, 59)),
        (datetime(2026, 11, 26, 21, 0), datetime(2026, 11, 27, 8, 0)),
        (datetime(2026, 11, 26, 23, 30), datetime(2026, 11, 27, 8, 0)),
        (datetime(2026, 11, 27, 0, 30), datetime(2026, 11, 27, 8, 0)),
        (datetime(2026, 11, 27, 7, 59, 59), datetime(2026, 11, 27, 8, 0)),
        (datetime(2026, 12, 31, 22, 0), datetime(2027, 1, 1, 8, 0)),
    ],
)
def test_next_send_time_keeps_to_0800_2100_korea_time(local, expected):
    got = timeutil.next_send_time(local.replace(tzinfo=SEOUL))
    assert got == expected.replace(tzinfo=SEOUL)
    assert got.tzinfo is UTC


def test_next_send_time_takes_utc_and_a_window():
    # 14:30 UTC is 23:30 in Seoul
    assert timeutil.next_send_time(datetime(2026, 11, 26, 14, 30, tzinfo=UTC)) == datetime(
        2026, 11, 26, 23, 0, tzinfo=UTC
    )
    window = timeutil.parse_window("09:00-18:00")
    assert timeutil.next_send_time(datetime(2026, 11, 26, 18, 0, tzinfo=SEOUL), window) == datetime(
        2026, 11, 27, 9, 0, tzinfo=SEOUL
    )
    with pytest.raises(ValueError):
        timeutil.next_send_time(datetime(2026, 11, 26, 18, 0))
    with pytest.raises(ValueError):
        timeutil.parse_window("21:00-08:00")


def test_a_night_time_invitation_waits_until_0800_kst(smtp, app, market, customers, now):
    night = datetime.combine(now.date(), time(23, 30), tzinfo=SEOUL)
    morning = datetime.combine(now.date() + timedelta(days=1), time(8, 0), tzinfo=SEOUL)
    result = sending.invite(market, [customers[0].id], None, night)
    db.session.commit()
    assert result.not_before == morning
    [row] = outbox_rows()
    assert row.next_attempt_at == morning
    assert delivery.deliver_due(now=night).total == 0
    assert delivery.deliver_due(now=morning - timedelta(seconds=1)).total == 0
    assert delivery.deliver_due(now=morning).sent == 1
    [message] = smtp.messages()
    check_invite(message, customers[0], market, method="REQUEST", sequence=0, stamp=night)


def test_the_send_window_is_configurable(app, market, customers, now):
    app.config["SEND_WINDOW"] = "12:00-13:00"
    result = sending.invite(market, [customers[0].id], None, now)  # 11:00
    assert result.not_before == now.replace(hour=12)


# --- changes and cancellation ---------------------------------------------------------


def test_update_keeps_uid_raises_sequence_and_skips_who_declined(smtp, app, market, customers, now):
    hana, dul = customers
    quiet = make_customer("quiet@example.com", "조용")
    sending.invite(market, [hana.id, dul.id, quiet.id], None, now)
    send_all(now)
    answers.answer(invitation_of(dul).token, False, now)
    db.session.commit()
    answers.unsubscribe(invitation_of(quiet).token, now)
    db.session.commit()
    smtp.received.clear()

    market_services.update_market(market, market_details(market, start_time=time(11, 0)))
    db.session.commit()
    assert market.sequence == 1
    [row] = [r for r in outbox_rows() if r.status is OutboxStatus.QUEUED]
    assert row.category == "invitation-update"
    assert row.to_address == hana.email, "declined and unsubscribed get no update"
    send_all(now)
    [message] = smtp.messages()
    check_invite(message, hana, market, method="REQUEST", sequence=1, stamp=_stamp(message))
    _body, calendar = calendar_bytes_of(message)
    [event] = calendar.walk("VEVENT")
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == market.uid
    assert event.decoded("SEQUENCE") == 1
    assert event.decoded("DTSTART").astimezone(UTC).time() == time(2, 0), "11:00 KST"
    assert message["Subject"].startswith("(광고) [변경]")
    text, _html = bodies(message)
    assert "11:00–15:00" in text and "(변경: 시간)" in text
    assert invitation_of(hana).sequence_sent == 1
    assert invitation_of(dul).sequence_sent == 0


def test_cancel_sends_method_cancel_with_a_higher_sequence(smtp, app, market, customers, now):
    hana, dul = customers
    sending.invite(market, [hana.id, dul.id], None, now)
    send_all(now)
    answers.answer(invitation_of(dul).token, False, now)
    db.session.commit()
    smtp.received.clear()
    market_services.update_market(market, market_details(market, start_time=time(11, 0)))
    db.session.commit()
    send_all(now)
    smtp.received.clear()

    market_services.change_status(market, MarketStatus.CANCELLED, reason="폭우 예보로 취소")
    db.session.commit()
    assert market.sequence == 2
    send_all(now)
    [message] = smtp.messages()
    assert message["To"].addresses[0].addr_spec == hana.email
    event = check_invite(message, hana, market, method="CANCEL", sequence=2, stamp=_stamp(message))
    assert str(event["STATUS"]) == "CANCELLED"
    assert message["Subject"].startswith("(광고) [취소]")
    alternative = message.get_payload()[0]
    assert alternative.get_payload()[2].get_param("method") == "CANCEL"
    text, html = bodies(message)
    assert "폭우 예보로 취소" in text and "폭우 예보로 취소" in html
    assert "2026년 11월 20일 14:03" in text and "031-000-0000" in text
    assert invitation_of(hana).sequence_sent == 2
    entries = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.action.like("invitation.%"))
    ).all()
    assert sorted(entries) == ["invitation.cancel", "invitation.send", "invitation.update"]


def _stamp(message) -> datetime:
    _body, calendar = calendar_bytes_of(message)
    return calendar.walk("VEVENT")[0].decoded("DTSTAMP")


def test_internal_status_steps_mail_no_one(app, market, customers, now):
    sending.invite(market, [customers[0].id], None, now)
    send_all(now)
    for status in (MarketStatus.OPEN, MarketStatus.ASSIGNED):
        market_services.change_status(market, status)
        db.session.commit()
    assert market.sequence == 2
    assert [r.category for r in outbox_rows()] == ["invitation"]
    # a real change afterwards still goes out above the market's sequence
    market_services.update_market(market, market_details(market, end_time=time(16, 0)))
    db.session.commit()
    assert invitation_of(customers[0]).sequence_sent == 3


def test_a_waiting_invitation_is_replaced_not_followed(app, market, customers, now, monkeypatch):
    """Invited at night, changed before 08:00: one mail goes out, with the
    new time; cancelled before 08:00: none does."""
    night = datetime.combine(now.date(), time(23, 30), tzinfo=SEOUL)
    monkeypatch.setattr("market.invitations.listeners.utcnow", lambda: night)
    sending.invite(market, [customers[0].id], None, night)
    db.session.commit()
    market_services.update_market(market, market_details(market, start_time=time(11, 0)))
    db.session.commit()
    [row] = outbox_rows()
    assert row.category == "invitation", "still the first invitation, now with the new time"
    assert row.subject.startswith("(광고) 굿모닝장터 초대")
    _body, calendar = calendar_bytes_of(mime.parse(row.mime))
    assert calendar.walk("VEVENT")[0].decoded("SEQUENCE") == 1
    assert invitation_of(customers[0]).outbox_message_id == row.id

    market_services.change_status(market, MarketStatus.CANCELLED, reason="행사장 공사")
    db.session.commit()
    assert outbox_rows() == [], "they never heard of it: nothing to cancel"
    invitation = invitation_of(customers[0])
    assert invitation.outbox_message_id is None
    counts = queries.invitation_counts([market.id])[market.id]
    assert (counts.invited, counts.withdrawn, counts.queued) == (1, 1, 0)

    # brought back: they get a first invitation, above every sequence so far
    market_services.change_status(market, MarketStatus.PLANNED)
    db.session.commit()
    [row] = outbox_rows()
    assert row.category == "invitation" and row.subject.startswith("(광고) 굿모닝장터 초대")
    _body, calendar = calendar_bytes_of(mime.parse(row.mime))
    assert str(calendar["METHOD"]) == "REQUEST"
    assert calendar.walk("VEVENT")[0].decoded("SEQUENCE") == market.sequence == 3


def test_a_change_rolled_back_mails_no_one(app, market, customers, now):
    sending.invite(market, [customers[0].id], None, now)
    send_all(now)
    market_services.update_market(market, market_details(market, start_time=time(12, 0)))
    db.session.rollback()
    assert [r.category for r in outbox_rows()] == ["invitation"]


# --- answers and unsubscribing --------------------------------------------------------


def test_answer_records_and_can_change_until_the_market_is_over(app, market, customers, now):
    sending.invite(market, [customers[0].id], None, now)
    db.session.commit()
    token = invitation_of(customers[0]).token
    answers.answer(token, True, now)
    db.session.commit()
    invitation = invitation_of(customers[0])
    assert invitation.status is InvitationStatus.ACCEPTED and invitation.answered_at == now
    later = now + timedelta(hours=1)
    answers.answer(token, False, later)
    db.session.commit()
    assert invitation_of(customers[0]).status is InvitationStatus.DECLINED
    with pytest.raises(answers.AnswerError):
        answers.answer(token, True, market_services.ends_at(market))
    with pytest.raises(LookupError):
        answers.answer("no-such-token", True, now)


def test_unsubscribe_is_idempotent_and_withdraws_waiting_mail(app, market, customers, now):
    hana = customers[0]
    night = datetime.combine(now.date(), time(23, 30), tzinfo=SEOUL)
    sending.invite(market, [c.id for c in customers], None, night)
    db.session.commit()
    token = invitation_of(hana).token
    answers.unsubscribe(token, night)
    db.session.commit()
    answers.unsubscribe(hana, night + timedelta(minutes=1))
    db.session.commit()
    db.session.expire_all()
    assert hana.unsubscribed_at == night
    assert db.session.scalars(select(Suppression.email_hash)).all() == [hana.email_hash]
    assert [r.to_address for r in outbox_rows()] == ["dul@example.com"], "hana's mail withdrawn"
    assert invitation_of(hana).outbox_message_id is None
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "customer.unsubscribe")
    ).all()
    assert len(entries) == 1 and "@" not in str(entries[0].after)
    counts = queries.invitation_counts([market.id])[market.id]
    assert (counts.invited, counts.queued, counts.withdrawn, counts.unsubscribed) == (2, 1, 1, 1)


def test_counts_per_market_in_one_query(smtp, app, market, customers, now, count_queries):
    third = make_customer("set@example.com", "박셋")
    smtp.refuse = {third.email}
    sending.invite(market, [c.id for c in [*customers, third]], None, now)
    db.session.commit()
    delivery.deliver_due(now=now)
    answers.answer(invitation_of(customers[0]).token, True, now)
    db.session.commit()
    answers.answer(invitation_of(customers[1]).token, False, now)
    db.session.commit()
    other = make_market(market.venue, market.market_date + timedelta(weeks=1))
    ids = [market.id, other.id]
    with count_queries() as counter:
        counts = queries.invitation_counts(ids)
    assert counter.count == 1
    assert counts[ids[1]] == queries.InvitationCounts()
    c = counts[ids[0]]
    assert (c.invited, c.delivered, c.failed, c.queued, c.accepted, c.declined) == (
        3,
        2,
        1,
        0,
        1,
        1,
    )


def test_mask_email():
    assert mask_email("hana@example.com") == "h***@example.com"
    assert mask_email("x") == "x***"


def test_dates_are_plain(app):
    assert next_thursday(date(2026, 11, 26)) == date(2026, 12, 3)
    assert CONSENT_AT.astimezone(SEOUL).strftime("%Y-%m-%d %H:%M") == "2026-11-20 14:03"
