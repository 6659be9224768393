"""An enterprise's own booth ("내 부스"): highlighted on its map, in words as
well as by a frame, and named in its private calendar feed; the calendar box
offers Google Calendar, Apple (webcal) and a copyable address."""

from urllib.parse import parse_qs, urlsplit

import pytest
from icalendar import Calendar

from market.booths.maps import MapBooth, booth_map
from market.extensions import db
from market.markets.models import MarketStatus
from tests.booths_factories import past_booth
from tests.markets_factories import make_market, make_venue, next_thursday
from tests.vendors_factories import make_application, make_vendor, make_vendor_login, today


def test_the_map_marks_one_booth_as_mine_in_words_not_only_colour(app):
    drawn = booth_map(
        4, [MapBooth(2, "행복플러스", "clothing"), MapBooth(3, "다시입다", "food")], 2
    )
    for drawing in (drawn.wide, drawn.narrow):
        boxes = {box.booth.number: box for box in drawing.boxes}
        assert boxes[2].booth.mine and not boxes[3].booth.mine and not boxes[1].booth.mine
        assert boxes[2].lines[0].text == "2 · 내 부스"
        assert boxes[3].lines[0].text == "3"
    assert "2번 부스: 행복플러스, 의류·잡화. 내 부스입니다." in drawn.description
    assert drawn.label.endswith("내 부스는 2번입니다.")
    # Without `mine` (staff, the public) nothing is highlighted.
    plain = booth_map(4, [MapBooth(2, "행복플러스", "clothing")])
    assert not any(box.booth.mine for box in plain.wide.boxes)
    assert "내 부스" not in plain.label + plain.description


@pytest.fixture
def booths(app):
    """An assigned upcoming market: our enterprise at booth 3, another at 1;
    a later market where ours has only applied."""
    venue = make_venue("경기도청", 10)
    market = make_market(venue, next_thursday(today(), weeks=1), booths=6)
    later = make_market(venue, next_thursday(today(), weeks=3), booths=6)
    ours, theirs = make_vendor("우리기업"), make_vendor("남의기업")
    past_booth(ours.id, market, 3, attendance=None)
    past_booth(theirs.id, market, 1, attendance=None)
    make_application(ours, later)
    market.status = MarketStatus.ASSIGNED
    later.status = MarketStatus.ASSIGNED
    db.session.commit()
    return ours, theirs, market, later


def test_vendor_home_shows_the_map_with_its_own_booth_highlighted(client, login_as, booths):
    ours, theirs, _market, _later = booths
    login_as(make_vendor_login(ours))
    page = client.get("/vendor/").get_data(as_text=True)
    assert "내 부스: 3번" in page
    assert page.count('class="booth booth-mine"') == 2  # the wide and the phone drawing
    assert "3 · 내 부스" in page and "1 · 내 부스" not in page
    client.post("/account/logout")
    login_as(make_vendor_login(theirs))
    page = client.get("/vendor/").get_data(as_text=True)
    assert "1 · 내 부스" in page and "3 · 내 부스" not in page


def test_calendar_box_offers_google_apple_and_a_copyable_address(client, login_as, booths):
    ours = booths[0]
    login_as(make_vendor_login(ours))
    page = client.get("/vendor/").get_data(as_text=True)
    feed = f"http://market.test/vendors/feed/{ours.feed_token}.ics"
    webcal = f"webcal://market.test/vendors/feed/{ours.feed_token}.ics"
    google = next(
        part.split('"')[0]
        for part in page.split('href="')[1:]
        if part.startswith("https://calendar.google.com/calendar/r?")
    )
    assert parse_qs(urlsplit(google.replace("&amp;", "&")).query) == {"cid": [webcal]}
    assert f'href="{webcal}"' in page and "애플 캘린더에 추가" in page
    # The no-script fallback: a read-only field with the address; the copy
    # button (hidden until js/copy.js shows it) copies that field.
    assert f'id="feed-url" type="url" value="{feed}" readonly' in page
    assert 'data-copy="feed-url"' in page and "/static/js/copy.js" in page


def test_private_feed_events_carry_the_booth_number(client, booths):
    ours, theirs, market, later = booths
    events = {
        str(event["UID"]): event
        for event in Calendar.from_ical(
            client.get(f"/vendors/feed/{ours.feed_token}.ics").data
        ).walk("VEVENT")
    }
    booth_event = events[market.uid]
    assert str(booth_event["SUMMARY"]) == "굿모닝장터 · 경기도청 · 3번 부스"
    assert str(booth_event["DESCRIPTION"]).startswith("내 부스: 3번\n")
    theirs_feed = Calendar.from_ical(client.get(f"/vendors/feed/{theirs.feed_token}.ics").data)
    (their_event,) = theirs_feed.walk("VEVENT")
    assert str(their_event["SUMMARY"]) == "굿모닝장터 · 경기도청 · 1번 부스"
    # The public feed names no booth.
    public = Calendar.from_ical(client.get("/calendar.ics").data)
    assert all("부스" not in str(e["SUMMARY"]) for e in public.walk("VEVENT"))
    assert later.uid not in events  # applied, not assigned: not in the feed
