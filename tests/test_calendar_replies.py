"""Answers from the customers' calendar apps: iMIP REPLY mails as Gmail,
Outlook and Apple Mail send them (tests/calendar_reply_samples.py), read
through the mailbox's handler (market.inbox.handling.handle, the bytes the
poller fetched) into market.inbox.replies and the one answer rule of
market.invitations.answers; and what staff and customers see of them."""

import re
from datetime import datetime, time, timedelta

import pytest
from icalendar import Calendar

from market.extensions import db
from market.inbox import handling
from market.inbox.outcome import MessageKind, Outcome
from market.invitations import answers, queries, sending
from market.invitations.models import AnswerSource, InvitationStatus
from market.markets import services as market_services
from market.markets.models import MarketStatus
from market.outbox import mime
from market.outbox.models import OutboxMessage
from market.timeutil import SEOUL, utcnow
from tests.calendar_reply_samples import Reply, apple, gmail, outlook
from tests.markets_factories import make_market, make_venue, next_thursday
from tests.test_invitations import invitation_of, make_customer, market_details, send_all

HANA = "hana.kim@example.com"


@pytest.fixture
def market(app):
    """Two weeks or more ahead of the real clock: replies are judged at the
    real time (market.timeutil.utcnow)."""
    venue = make_venue("경기도청", 10)
    return make_market(venue, next_thursday(datetime.now(SEOUL).date(), weeks=2))


@pytest.fixture
def hana(app):
    return make_customer(HANA, "김하나")


@pytest.fixture
def invited(market, hana):
    sending.invite(market, [hana.id], None, utcnow())
    db.session.commit()
    return invitation_of(hana)


def reply(market, minutes_ago: int = 5, **values) -> Reply:
    values.setdefault("attendee", HANA)
    return Reply(uid=market.uid, stamp=utcnow() - timedelta(minutes=minutes_ago), **values)


def read(raw: bytes):
    """What the poller does with one fetched message (it commits)."""
    handled = handling.handle(raw)
    db.session.commit()
    return handled


def counts(market):
    return queries.invitation_counts([market.id])[market.id]


# --- the three programs -----------------------------------------------------------------


def test_a_gmail_accept_counts_as_an_answer_from_a_calendar_app(market, hana, invited):
    answer = reply(market)
    handled = read(gmail(answer))
    assert (handled.kind, handled.outcome) == (MessageKind.CALENDAR_REPLY, Outcome.APPLIED)
    assert handled.details["invitation_id"] == invited.id
    assert handled.details["market_id"] == market.id
    invitation = invitation_of(hana)
    assert invitation.status is InvitationStatus.ACCEPTED
    assert invitation.answer_source is AnswerSource.CALENDAR
    assert invitation.answered_at == answer.stamp.replace(microsecond=0)
    assert invitation.answer_sequence == 0 and not invitation.answer_outdated
    tally = counts(market)
    assert tally.accepted == 1 and tally.by_source["calendar"].accepted == 1
    assert tally.by_source["page"].total == 0


def test_an_outlook_accept_with_a_korean_subject_and_capitals_in_the_address(market, hana, invited):
    # Outlook writes the address as the person typed it, in its ATTENDEE and From.
    raw = outlook(reply(market, attendee="Hana.Kim@Example.COM"))
    message = handling.parse(raw)
    assert str(message["Subject"]).startswith("수락: ")
    assert message.get_content_type() == "multipart/alternative"
    handled = read(raw)
    assert handled.outcome is Outcome.APPLIED, handled.reason
    assert invitation_of(hana).status is InvitationStatus.ACCEPTED


def test_an_apple_mail_accept_with_the_calendar_attached_in_base64(market, hana, invited):
    raw = apple(reply(market))
    part = handling.find_calendar_part(handling.parse(raw))
    assert part.get_content_disposition() == "attachment"
    assert part["Content-Transfer-Encoding"] == "base64"
    handled = read(raw)
    assert handled.outcome is Outcome.APPLIED, handled.reason
    assert invitation_of(hana).answer_source is AnswerSource.CALENDAR


def test_tentative_then_a_later_decline(market, hana, invited):
    assert read(gmail(reply(market, minutes_ago=30, partstat="TENTATIVE"))).outcome is (
        Outcome.APPLIED
    )
    assert invitation_of(hana).status is InvitationStatus.TENTATIVE
    tally = counts(market)
    assert tally.tentative == 1 and tally.by_source["calendar"].tentative == 1
    # Outlook.com: the calendar as an attachment of a multipart/mixed.
    declined = read(outlook(reply(market, minutes_ago=10, partstat="DECLINED"), attached=True))
    assert declined.outcome is Outcome.APPLIED, declined.reason
    assert invitation_of(hana).status is InvitationStatus.DECLINED
    tally = counts(market)
    assert (tally.tentative, tally.declined, tally.by_source["calendar"].declined) == (0, 1, 1)


# --- not applied ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "forged",
    [
        {"sender": "mallory@example.net"},
        # The display name is hana's address; the address is not.
        {"from_header": '"hana.kim@example.com" <mallory@example.net>'},
    ],
)
def test_a_reply_from_another_address_is_listed_not_applied(market, hana, invited, forged):
    handled = read(gmail(reply(market, **forged)))
    assert (handled.kind, handled.outcome) == (MessageKind.CALENDAR_REPLY, Outcome.NOT_APPLIED)
    assert handled.details["verdict"] == "sender_mismatch"
    assert "mallory@example.net" in handled.reason and HANA in handled.reason
    assert invitation_of(hana).status is InvitationStatus.INVITED


def test_a_reply_to_an_unknown_event_is_listed(market, hana, invited):
    raw = outlook(Reply(uid="040000008200E00074C5B7101A82E008000000001@outlook", attendee=HANA))
    handled = read(raw)
    assert handled.outcome is Outcome.NOT_APPLIED
    assert handled.details["verdict"] == "unknown_event" and handled.details["market_id"] is None
    assert handled.reason
    assert invitation_of(hana).status is InvitationStatus.INVITED


def test_a_reply_from_someone_not_invited_is_listed(market, hana, invited):
    make_customer("dul@example.com", "이둘")  # a customer, but not invited to this market
    for attendee in ("dul@example.com", "stranger@example.org"):
        handled = read(apple(reply(market, attendee=attendee, name="이둘")))
        assert handled.outcome is Outcome.NOT_APPLIED
        assert handled.details["verdict"] == "not_invited"
        assert handled.details["market_id"] == market.id
        assert attendee in handled.reason
    assert counts(market).accepted == 0


def test_an_unsubscribed_customer_s_reply_is_not_applied(market, hana, invited):
    answers.unsubscribe(hana, utcnow())
    db.session.commit()
    handled = read(gmail(reply(market)))
    assert handled.outcome is Outcome.NOT_APPLIED
    assert handled.details["verdict"] == "suppressed"
    assert invitation_of(hana).status is InvitationStatus.INVITED


def test_a_reply_for_a_cancelled_market_is_not_applied(market, hana, invited):
    market_services.change_status(market, MarketStatus.CANCELLED, reason="폭우 예보")
    db.session.commit()
    handled = read(gmail(reply(market)))
    assert handled.outcome is Outcome.NOT_APPLIED and handled.details["verdict"] == "closed"
    assert invitation_of(hana).status is InvitationStatus.INVITED


def test_the_same_reply_twice_changes_nothing_and_says_so(market, hana, invited):
    raw = gmail(reply(market, minutes_ago=20))
    assert read(raw).outcome is Outcome.APPLIED
    first = invitation_of(hana).answered_at
    again = read(raw)
    assert (again.kind, again.outcome) == (MessageKind.CALENDAR_REPLY, Outcome.IGNORED)
    assert again.details["verdict"] == "duplicate" and again.reason
    assert invitation_of(hana).answered_at == first


@pytest.mark.parametrize("method", ["COUNTER", "REFRESH", "DECLINECOUNTER"])
def test_counter_refresh_and_declinecounter_are_listed_not_applied(market, hana, invited, method):
    handled = read(outlook(reply(market, method=method, start="20261203T120000")))
    assert (handled.kind, handled.outcome) == (MessageKind.CALENDAR_REPLY, Outcome.NOT_APPLIED)
    assert handled.details["method"] == method and handled.reason
    assert invitation_of(hana).status is InvitationStatus.INVITED


@pytest.mark.parametrize(
    "body",
    [
        b"this is not a calendar",
        b"BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID\r\nEND:VCALENDAR\r\n",
    ],
)
def test_an_unreadable_calendar_is_listed_as_failed(market, hana, invited, body):
    raw = (
        b"From: hana.kim@example.com\r\nSubject: Accepted\r\n"
        b"Content-Type: text/calendar; method=REPLY; charset=UTF-8\r\n\r\n" + body
    )
    handled = read(raw)
    assert (handled.kind, handled.outcome) == (MessageKind.UNPARSEABLE, Outcome.FAILED)
    assert handled.reason
    assert invitation_of(hana).status is InvitationStatus.INVITED


# --- the newest answer wins ---------------------------------------------------------------


def test_a_page_answer_after_the_dtstamp_wins_and_a_later_reply_wins_again(
    client, market, hana, invited
):
    read(gmail(reply(market, minutes_ago=30)))
    assert client.post(f"/i/{invited.token}", data={"answer": "decline"}).status_code == 303
    invitation = invitation_of(hana)
    assert invitation.status is InvitationStatus.DECLINED
    assert invitation.answer_source is AnswerSource.PAGE
    # A reply made before the page answer, read only now (a slow mailbox): older.
    late = read(outlook(reply(market, minutes_ago=20)))
    assert late.outcome is Outcome.NOT_APPLIED and late.details["verdict"] == "older"
    assert invitation_of(hana).status is InvitationStatus.DECLINED
    # A reply made after it: the newest answer.
    read(apple(reply(market, minutes_ago=-1)))
    invitation = invitation_of(hana)
    assert invitation.status is InvitationStatus.ACCEPTED
    assert invitation.answer_source is AnswerSource.CALENDAR
    # A DTSTAMP in the future (a wrong clock) counts as the time it was read.
    assert invitation.answered_at <= utcnow()
    tally = counts(market)
    assert tally.by_source["calendar"].accepted == 1 and tally.by_source["page"].total == 0


def test_a_reply_to_an_older_sequence_is_recorded_but_marked(market, hana, invited):
    send_all(utcnow())
    market_services.update_market(market, market_details(market, start_time=time(11, 0)))
    db.session.commit()
    invitation = invitation_of(hana)
    assert invitation.sequence_sent == 1
    # Answering the first invitation (SEQUENCE 0) after the change was sent.
    handled = read(outlook(reply(market, minutes_ago=1, sequence=0)))
    assert handled.outcome is Outcome.APPLIED and handled.details["outdated"] is True
    invitation = invitation_of(hana)
    assert invitation.status is InvitationStatus.ACCEPTED and invitation.answer_outdated
    assert counts(market).outdated == 1
    # Answering the change: the mark goes.
    read(gmail(reply(market, minutes_ago=0, sequence=1, partstat="TENTATIVE")))
    invitation = invitation_of(hana)
    assert invitation.status is InvitationStatus.TENTATIVE and not invitation.answer_outdated
    # An answer to SEQUENCE 0, even stamped later, is older than one to SEQUENCE 1.
    older = read(apple(reply(market, minutes_ago=-1, sequence=0, partstat="DECLINED")))
    assert older.details["verdict"] == "older"
    assert invitation_of(hana).status is InvitationStatus.TENTATIVE


def test_an_answer_before_a_change_is_marked_when_the_change_is_sent(market, hana, invited):
    answers.answer(invited.token, InvitationStatus.ACCEPTED, utcnow())
    send_all(utcnow())
    assert not invitation_of(hana).answer_outdated
    market_services.update_market(market, market_details(market, start_time=time(11, 0)))
    db.session.commit()
    assert invitation_of(hana).answer_outdated
    answers.answer(invited.token, InvitationStatus.ACCEPTED, utcnow())
    db.session.commit()
    assert not invitation_of(hana).answer_outdated


# --- the organizer the replies go to ----------------------------------------------------


def _organizer_and_reply_to(hana) -> tuple[str, str | None]:
    """Of the invitation mail queued for hana, as her mail program reads it."""
    row = db.session.get(OutboxMessage, invitation_of(hana).outbox_message_id)
    message = mime.parse(row.mime)
    part = handling.find_calendar_part(message)
    event = Calendar.from_ical(part.get_content()).walk("VEVENT")[0]
    return str(event["ORGANIZER"]), message["Reply-To"]


def test_invitations_name_the_reply_mailbox_as_organizer_and_reply_to(app, market, hana):
    app.config["INVITATION_REPLY_ADDRESS"] = "answers@gbsec.example.kr"
    sending.invite(market, [hana.id], None, utcnow())
    db.session.commit()
    organizer, reply_to = _organizer_and_reply_to(hana)
    assert organizer == "mailto:answers@gbsec.example.kr"
    assert reply_to == "answers@gbsec.example.kr"
    # Every other mail too.
    assert mime.build_message("a@example.com", "제목", "본문")["Reply-To"] == reply_to


def test_without_the_setting_the_organizer_is_mail_from_as_before(app, market, hana, invited):
    organizer, reply_to = _organizer_and_reply_to(hana)
    assert organizer == "mailto:market@gbsec.example.kr"
    assert reply_to is None


# --- what customers and staff see -------------------------------------------------------


def test_the_answer_page_offers_i_dont_know_yet(client, market, hana, invited):
    url = f"/i/{invited.token}"
    page = client.get(f"{url}?answer=tentative")
    assert 'name="answer" value="tentative"' in page.text and "아직 모르겠어요" in page.text
    assert "아직 모르시면 버튼을 눌러 알려 주세요." in page.text
    assert invitation_of(hana).status is InvitationStatus.INVITED  # GET changes nothing
    assert client.post(url, data={"answer": "tentative"}).status_code == 303
    invitation = invitation_of(hana)
    assert invitation.status is InvitationStatus.TENTATIVE
    assert invitation.answer_source is AnswerSource.PAGE
    page = client.get(url)
    assert "아직 모르겠다고 답하셨어요." in page.text
    assert "장터가 끝나기 전까지 이 페이지에서 답을 바꿀 수 있어요." in page.text  # the flash


def _row(page: str, label: str) -> tuple[int, ...]:
    """Coming, maybe, not coming and all answers of one source's row."""
    found = re.search(rf'<th scope="row">{label}</th>' + r'\s*<td class="num">(\d+)</td>' * 4, page)
    assert found, label
    return tuple(int(number) for number in found.groups())


def _answer(people, market, sources: str) -> None:
    """p: the page accepts, t: the page says maybe, g: Gmail accepts,
    o: Outlook declines, -: no answer."""
    for person, source in zip(people, sources, strict=True):
        token = invitation_of(person).token
        if source in "pt":
            choice = InvitationStatus.ACCEPTED if source == "p" else InvitationStatus.TENTATIVE
            answers.answer(token, choice, utcnow())
            db.session.commit()
        elif source == "g":
            assert read(gmail(reply(market, attendee=person.email))).outcome is Outcome.APPLIED
        elif source == "o":
            raw = outlook(reply(market, attendee=person.email, partstat="DECLINED"))
            assert read(raw).outcome is Outcome.APPLIED


def test_staff_see_answers_by_source_in_a_bounded_number_of_queries(
    client, staff, login_as, market, count_queries
):
    people = [make_customer(f"p{n}@example.com", f"고객{n}") for n in range(5)]
    sending.invite(market, [person.id for person in people], None, utcnow())
    db.session.commit()
    _answer(people, market, "ptgo-")
    login_as(staff)
    url = f"/staff/markets/{market.id}/invitations"
    client.get(url)
    with count_queries() as few:
        page = client.get(url).text
    assert "답한 곳별 답변" in page
    assert _row(page, "답변 페이지") == (1, 1, 0, 2)
    assert _row(page, "캘린더 앱") == (1, 0, 1, 2)
    assert '<span class="tile-number">1</span><span class="tile-label">미정</span>' in page
    assert "(캘린더 앱, " in page and "(답변 페이지, " in page
    assert page.count('<rect class="answer-bar-') == 4

    more = [make_customer(f"q{n}@example.com", f"손님{n}") for n in range(12)]
    sending.invite(market, [person.id for person in more], None, utcnow())
    db.session.commit()
    _answer(more, market, "ggggoooopptt")
    with count_queries() as many:
        page = client.get(url).text
    assert _row(page, "캘린더 앱") == (5, 0, 5, 10)
    assert _row(page, "답변 페이지") == (3, 3, 0, 6)
    assert many.count == few.count, many.statements


def test_staff_see_answers_about_the_earlier_time(client, staff, login_as, market, hana, invited):
    send_all(utcnow())
    market_services.update_market(market, market_details(market, start_time=time(11, 0)))
    db.session.commit()
    read(outlook(reply(market, minutes_ago=1, sequence=0)))
    login_as(staff)
    page = client.get(f"/staff/markets/{market.id}/invitations").text
    assert "바뀌기 전의 날짜·시간·장소에 대한 답" in page and "1건" in page
    assert '<span class="badge badge-warn">변경 전 일정에 대한 답</span>' in page


def test_staff_see_invitations_that_bounced(client, staff, login_as, market, hana, invited):
    from tests.inbox_samples import gmail_bounce

    send_all(utcnow())
    row = db.session.get(OutboxMessage, invitation_of(hana).outbox_message_id)
    handled = read(gmail_bounce(HANA, mime.parse(row.mime)["Message-ID"]))
    assert handled.outcome is Outcome.APPLIED, handled.reason
    tally = counts(market)
    assert (tally.bounced, tally.delivered) == (1, 0)
    login_as(staff)
    page = client.get(f"/staff/markets/{market.id}/invitations").text
    assert (
        '<span class="tile-number">1</span><span class="tile-label">반송됨 (못 받음)</span>' in page
    )
    assert (
        f'/staff/outbox/{row.id}"><span class="badge badge-bad">반송됨 (못 받음)</span></a>' in page
    )
