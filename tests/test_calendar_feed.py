from datetime import UTC, date, datetime, time, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import insert

from market.extensions import db
from market.markets import services
from market.markets.models import Market, MarketStatus
from market.timeutil import SEOUL
from tests.markets_factories import make_market, make_venue, next_thursday
from tests.takings_factories import market_on


@pytest.fixture
def markets(app):
    venue = make_venue("경기도청", 10, map_url="https://map.naver.com/p/entry/place/11")
    today = datetime.now(SEOUL).date()
    first = next_thursday(today)
    upcoming = [make_market(venue, first + timedelta(weeks=n)) for n in range(3)]
    past = make_market(venue, first - timedelta(weeks=2))
    services.change_status(upcoming[1], MarketStatus.CANCELLED, reason="폭우 예보로 취소")
    db.session.commit()
    return [*upcoming, past]


def _lines(body: bytes) -> list[bytes]:
    assert body.endswith(b"\r\n")
    assert b"\n" not in body.replace(b"\r\n", b""), "only CRLF line ends"
    return body.split(b"\r\n")[:-1]


def _parse(body: bytes) -> Calendar:
    for line in _lines(body):
        assert len(line) <= 75, line
    calendar = Calendar.from_ical(body)
    for component in calendar.walk():
        assert component.errors == [], component.errors
    return calendar


def test_feed_is_a_valid_subscribable_calendar(client, markets):
    response = client.get("/calendar.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = _parse(response.data)
    assert "METHOD" not in calendar
    assert calendar["X-WR-CALNAME"] == "굿모닝장터"
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT6H" in response.data
    assert b"X-PUBLISHED-TTL:PT6H" in response.data
    events = calendar.walk("VEVENT")
    assert len(events) == 4
    assert len({str(e["UID"]) for e in events}) == 4
    for event in events:
        assert "ATTENDEE" not in event
        assert event["DTSTART"].params["TZID"] == "Asia/Seoul"
        start = event.decoded("DTSTART")
        assert start.utcoffset() == timedelta(hours=9)
        assert start.astimezone(UTC).time() == time(1, 0)
        assert event.decoded("DTEND").astimezone(UTC).time() == time(6, 0)
    cancelled = [e for e in events if e["STATUS"] == "CANCELLED"]
    assert len(cancelled) == 1
    assert "폭우 예보로 취소" in str(cancelled[0]["DESCRIPTION"])
    assert "굿모닝장터 · 경기도청" in {str(e["SUMMARY"]) for e in events}


def test_feed_timezone_is_one_compact_standard_block(client, markets):
    calendar = _parse(client.get("/calendar.ics").data)
    timezones = calendar.walk("VTIMEZONE")
    assert [str(tz["TZID"]) for tz in timezones] == ["Asia/Seoul"]
    assert timezones[0].walk("DAYLIGHT") == []
    assert len(timezones[0].walk("STANDARD")) == 1


def test_feed_answers_304_when_unchanged_and_changes_after_an_edit(client, markets):
    first = client.get("/calendar.ics")
    etag = first.headers["ETag"]
    assert first.headers["Last-Modified"]
    again = client.get("/calendar.ics", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    services.change_status(markets[0], MarketStatus.OPEN)
    db.session.commit()
    changed = client.get("/calendar.ics", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_single_market_download(client, markets):
    market = markets[0]
    response = client.get(f"/markets/{market.id}.ics")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    calendar = _parse(response.data)
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == market.uid
    assert event.decoded("DTSTART") == datetime.combine(market.market_date, time(10), SEOUL)
    assert "경기도 수원시" in str(event["LOCATION"])
    assert "ATTENDEE" not in event


def test_long_korean_text_folds_without_breaking_characters(client, app):
    venue = make_venue(
        "경기도 사회적경제 나눔장터 특설무대 " * 3,
        10,
        address="경기도 수원시 영통구 도청로 30 경기도청 신청사 1층 로비와 앞마당 " * 2,
    )
    market = make_market(venue, next_thursday(datetime.now(SEOUL).date()))
    body = client.get(f"/markets/{market.id}.ics").data
    for line in _lines(body):
        assert len(line) <= 75
        line.decode("utf-8")  # a fold inside a UTF-8 sequence would fail here
    (event,) = _parse(body).walk("VEVENT")
    assert str(event["LOCATION"]).startswith(venue.name)


def test_unknown_market_is_404(client, app):
    assert client.get("/markets/999.ics").status_code == 404


def test_feed_of_500_markets_uses_a_bounded_number_of_queries(client, app, count_queries):
    venues = [make_venue(f"장소 {n}", 10) for n in range(5)]
    start = next_thursday(datetime.now(SEOUL).date())
    deadline = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        {
            "market_date": start + timedelta(weeks=n),
            "start_time": time(10),
            "end_time": time(15),
            "venue_id": venues[n % 5].id,
            "booth_count": 8,
            "application_deadline": deadline,
            "takings_ceiling": 30_000_000,
            "status": MarketStatus.PLANNED,
            "uid": f"market-{n}@test",
            "sequence": 0,
        }
        for n in range(500)
    ]
    db.session.execute(insert(Market), rows)
    db.session.commit()
    with count_queries() as counter:
        response = client.get("/calendar.ics")
    assert response.status_code == 200
    assert len(Calendar.from_ical(response.data).walk("VEVENT")) == 500
    assert counter.count <= 3, counter.statements


def test_google_calendar_link(client, markets):
    page = client.get(f"/markets/{markets[0].id}").get_data(as_text=True)
    assert "calendar.google.com/calendar/render?action=TEMPLATE" in page
    day = markets[0].market_date.strftime("%Y%m%d")
    assert f"dates={day}T010000Z%2F{day}T060000Z" in page


def test_feed_window_includes_recent_past_only(clock, client, app):
    """90 days back from today in Korea: at 00:01 KST on 26 November it is
    still the 25th in UTC, and a UTC window would keep the market of 27 August."""
    clock.seoul(2026, 11, 26, 0, 1)
    venue = make_venue("경기도청", 10)
    old = make_market(venue, date(2026, 5, 7))
    recent = make_market(venue, date(2026, 10, 29))
    oldest = market_on(date(2026, 8, 28), venue)  # exactly 90 days ago: kept
    too_old = market_on(date(2026, 8, 27), venue)  # 91 days ago in Korea: left out
    upcoming = make_market(venue, date(2026, 12, 3))
    events = _parse(client.get("/calendar.ics").data).walk("VEVENT")
    uids = {str(e["UID"]) for e in events}
    assert uids == {recent.uid, oldest.uid, upcoming.uid}
    assert old.uid not in uids and too_old.uid not in uids
