from datetime import datetime, timedelta

import pytest

from market.extensions import db
from market.markets import services
from market.markets.models import MarketStatus
from market.timeutil import SEOUL
from tests.markets_factories import make_market, make_venue, next_thursday


@pytest.fixture
def schedule(app):
    venue = make_venue(
        "경기도청",
        10,
        address="경기도 수원시 영통구 도청로 30",
        map_url="https://map.naver.com/p/entry/place/123",
    )
    today = datetime.now(SEOUL).date()
    upcoming = make_market(venue, next_thursday(today))
    cancelled = make_market(venue, next_thursday(today, weeks=1))
    services.change_status(cancelled, MarketStatus.CANCELLED, reason="폭설 예보")
    past = make_market(venue, next_thursday(today, weeks=-3))
    db.session.commit()
    return upcoming, cancelled, past


def test_schedule_lists_upcoming_with_korean_dates(client, schedule):
    upcoming, _cancelled, past = schedule
    page = client.get("/").get_data(as_text=True)
    d = upcoming.market_date
    assert f"{d.year}년 {d.month}월 {d.day}일 (목)" in page
    assert "10:00–15:00" in page
    assert "경기도 수원시 영통구 도청로 30" in page
    assert "https://map.naver.com/p/entry/place/123" in page
    assert "취소" in page and "폭설 예보" in page
    assert f'/markets/{past.id}"' not in page
    assert "webcal://market.test/calendar.ics" in page


def test_past_markets_page(client, schedule):
    _upcoming, _cancelled, past = schedule
    page = client.get("/markets/past").get_data(as_text=True)
    assert f"/markets/{past.id}" in page


def test_market_page(client, schedule):
    upcoming, cancelled, _past = schedule
    page = client.get(f"/markets/{upcoming.id}").get_data(as_text=True)
    assert "경기도청" in page and f"/markets/{upcoming.id}.ics" in page
    page = client.get(f"/markets/{cancelled.id}").get_data(as_text=True)
    assert "이 장터는 취소되었습니다" in page and "폭설 예보" in page
    assert client.get("/markets/999").status_code == 404


def test_schedule_is_paginated_with_bounded_queries(client, app, count_queries):
    venue = make_venue("경기도청", 10)
    start = next_thursday(datetime.now(SEOUL).date())
    for n in range(5):
        make_market(venue, start + timedelta(weeks=n))
    with count_queries() as small:
        client.get("/")
    for n in range(5, 45):
        make_market(venue, start + timedelta(weeks=n))
    with count_queries() as large:
        page = client.get("/").get_data(as_text=True)
    assert large.count == small.count
    assert "다음" in page
