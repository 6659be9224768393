"""Every "today" the app uses is Korea's: checked a minute either side of
midnight in Korea, where the UTC date is still the day before.

23:59 KST is 14:59 UTC on the same date; 00:01 KST is 15:01 UTC on the
previous date. Each case below expects an answer that a UTC (or server
local) date would get wrong on one side of midnight."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from market import create_app
from market.booths import services as booths
from market.booths.models import Attendance, Booth
from market.config import ConfigError
from market.extensions import db
from market.markets import services as markets
from market.markets.models import Market, MarketStatus
from market.takings.models import Takings
from market.timeutil import today_seoul, utcnow
from market.vendors.models import ApplicationStatus
from tests.booths_factories import applicants
from tests.markets_factories import make_market, make_venue
from tests.takings_factories import add_takings, market_on, vendor_at
from tests.vendors_factories import make_application, make_vendor

THURSDAY = date(2026, 11, 26)


def _just_before(clock, day: date) -> None:
    """23:59 in Korea on the day before `day` (14:59 UTC that day before)."""
    before = day - timedelta(days=1)
    clock.seoul(before.year, before.month, before.day, 23, 59)
    assert clock.today == before and clock.now.date() == before


def _just_after(clock, day: date) -> None:
    """00:01 in Korea on `day`, while the UTC date is still the day before."""
    clock.seoul(day.year, day.month, day.day, 0, 1)
    assert clock.today == day and clock.now.date() == day - timedelta(days=1)


AROUND_MIDNIGHT = pytest.mark.parametrize("side", [_just_before, _just_after])


# -- takings: from market day until three days after -----------------------------------


@pytest.mark.parametrize(
    ("side", "day_offset", "allowed"),
    [
        (_just_before, 0, False),  # the evening before market day
        (_just_after, 0, True),  # the first minute of market day
        (_just_before, 4, True),  # the last minute of the third day after
        (_just_after, 4, False),  # the first minute of the fourth day after
    ],
)
def test_takings_window_opens_and_closes_at_midnight_in_korea(
    clock, client, login_as, side, day_offset, allowed
):
    market = market_on(THURSDAY)
    _vendor, user = vendor_at(market)
    side(clock, THURSDAY + timedelta(days=day_offset))
    login_as(user)
    response = client.post(f"/vendor/takings/{market.id}", data={"amount": "500000"})
    stored = db.session.scalars(select(Takings.amount)).all()
    if allowed:
        assert response.status_code == 302 and stored == [500_000]
    else:
        assert response.status_code == 200 and stored == []


# -- calendar feeds: the last 90 days and everything to come ---------------------------


def _feed_dates(client, url: str) -> set[date]:
    calendar = Calendar.from_ical(client.get(url).data)
    return {event.decoded("DTSTART").date() for event in calendar.walk("VEVENT")}


@AROUND_MIDNIGHT
def test_public_and_vendor_feeds_count_their_past_days_in_korea(clock, client, side):
    today = THURSDAY
    oldest, too_old = today - timedelta(days=90), today - timedelta(days=91)
    vendor = make_vendor("피드기업")
    for day in (too_old, oldest, today):
        make_application(vendor, market_on(day), status=ApplicationStatus.ASSIGNED)
    side(clock, today)
    expected = {oldest, today} if side is _just_after else {too_old, oldest, today}
    assert _feed_dates(client, "/calendar.ics") == expected
    assert _feed_dates(client, f"/vendors/feed/{vendor.feed_token}.ics") == expected


# -- the staff dashboard: the next market, this year's takings -------------------------


def _next_market_heading(client) -> str:
    page = client.get("/staff/").get_data(as_text=True)
    found = re.search(r'id="next-market-heading">[^<]*<a href="[^"]*">([^<]*)</a>', page)
    assert found, page
    return found.group(1)


@AROUND_MIDNIGHT
def test_dashboard_next_market_turns_over_at_midnight_in_korea(
    clock, client, staff, login_as, side
):
    venue = make_venue("경기도청", 10)
    for week in range(2):
        make_market(venue, THURSDAY + timedelta(weeks=week))
    side(clock, THURSDAY + timedelta(days=1))  # market day ends at midnight in Korea
    login_as(staff)
    shown = "2026년 12월 3일 (목)" if side is _just_after else "2026년 11월 26일 (목)"
    assert _next_market_heading(client) == f"{shown} · 경기도청"


@AROUND_MIDNIGHT
def test_dashboard_year_starts_at_midnight_in_korea(clock, client, staff, login_as, side):
    new_years_eve = date(2026, 12, 31)  # a Thursday
    market = make_market(make_venue("경기도청", 10), new_years_eve)
    add_takings(make_vendor("연말기업"), market, 1_234_000)
    side(clock, date(2027, 1, 1))
    login_as(staff)
    page = client.get("/staff/").get_data(as_text=True)
    if side is _just_after:
        assert "올해 매출" not in page  # 2027 has no takings yet
    else:
        assert "올해 매출: ₩1,234,000" in page


# -- attendance: from market day on -----------------------------------------------------


@AROUND_MIDNIGHT
def test_attendance_is_taken_from_midnight_in_korea(clock, client, staff, login_as, side):
    market = make_market(make_venue("수원시청", 8), THURSDAY, booths=4)
    markets.change_status(market, MarketStatus.OPEN)
    db.session.commit()
    clock.set(market.application_deadline - timedelta(days=7))
    applicants(market, 4)
    clock.set(market.application_deadline + timedelta(minutes=1))
    booths.confirm(market.id, staff)
    db.session.commit()
    side(clock, THURSDAY)
    login_as(staff)
    page = client.get(f"/staff/markets/{market.id}/attendance").get_data(as_text=True)
    client.post(f"/staff/markets/{market.id}/attendance", data={"number": 1, "value": "present"})
    stored = db.session.scalar(select(Booth.attendance).where(Booth.number == 1))
    if side is _just_after:
        assert stored is Attendance.PRESENT and 'value="present"' in page
    else:
        assert stored is None and "장터 당일부터" in page


# -- demo data: what has happened and what is to come -----------------------------------


@AROUND_MIDNIGHT
def test_demo_data_is_made_around_korea_today(clock, runner, side):
    side(clock, THURSDAY)
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    held = THURSDAY if side is _just_after else THURSDAY - timedelta(weeks=1)
    # Takings exist up to the latest market day that has begun in Korea.
    with_takings = db.session.scalars(
        select(Market.market_date).join(Takings, Takings.market_id == Market.id)
    ).all()
    assert max(with_takings) == held


# -- venues: a market today is still upcoming -------------------------------------------


@AROUND_MIDNIGHT
def test_venue_spots_cannot_drop_below_todays_market_in_korea(clock, app, side):
    venue = make_venue("용인시청", 10)
    make_market(venue, THURSDAY, booths=8)
    side(clock, THURSDAY + timedelta(days=1))
    if side is _just_after:  # Friday in Korea: Thursday's market is over
        markets.update_venue(venue, venue.name, venue.address, 6, venue.map_url)
        db.session.commit()
        assert db.session.get(type(venue), venue.id).booth_spots == 6
    else:  # still Thursday in Korea: today's market needs its eight spots
        with pytest.raises(markets.MarketRuleError):
            markets.update_venue(venue, venue.name, venue.address, 6, venue.map_url)


# -- CLOCK: the same stopped clock for an app in another process ------------------------


def test_an_app_made_with_clock_runs_at_that_time(app_config, runner):
    """The browser journeys start gunicorn and `flask` with CLOCK in the
    instance config, so both agree on the time whatever hour they run at."""
    app_config["CLOCK"] = "2026-11-26T00:01:00+09:00"
    create_app(app_config)
    assert utcnow() == datetime(2026, 11, 25, 15, 1, tzinfo=UTC)
    assert today_seoul() == THURSDAY


def test_an_unreadable_clock_is_refused(app_config):
    app_config["CLOCK"] = "2026-11-26 10:00"  # no zone: Korea or UTC?
    with pytest.raises(ConfigError, match="CLOCK"):
        create_app(app_config)
