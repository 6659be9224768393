import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from market.extensions import db
from market.markets.models import Market, MarketStatus, Venue
from tests.markets_factories import make_market, make_venue, market_form_data


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def venue(app):
    return make_venue("경기도청", 10)


def _market_form(venue, **changes):
    return market_form_data(venue.id, **changes)


def test_create_market_from_the_form(staff_client, venue):
    response = staff_client.post("/staff/markets/new", data=_market_form(venue))
    assert response.status_code == 302
    market = db.session.scalars(select(Market)).one()
    assert market.takings_ceiling == 30_000_000
    assert market.application_deadline.isoformat() == "2026-11-23T09:00:00+00:00"
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2026년 11월 26일 (목)" in page and "₩30,000,000" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"market_date": "2026-11-25"}, "목요일"),
        ({"booth_count": "12"}, "4개에서 10개"),
        ({"takings_ceiling": "삼천만원"}, "숫자로 입력"),
        ({"takings_ceiling": "-5"}, "음수"),
        ({"market_date": ""}, "2026-11-26"),
        ({"end_time": "09:00"}, "시작 시간보다"),
    ],
)
def test_market_form_refusals_keep_input_and_save_nothing(staff_client, venue, changes, message):
    data = _market_form(venue, note="주차 안내: 본관 뒤", **changes)
    response = staff_client.post("/staff/markets/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page
    assert "주차 안내: 본관 뒤" in page
    assert _count(Market) == 0


@pytest.mark.parametrize("ceiling", ["1,000,000,001원", "9" * 40])
def test_a_ceiling_with_extra_zeros_is_refused_when_creating_or_editing(
    staff_client, venue, ceiling
):
    """Forty nines once reached the database and overflowed its column (a 500)."""
    page = staff_client.post(
        "/staff/markets/new", data=_market_form(venue, takings_ceiling=ceiling, note="주차 안내")
    ).get_data(as_text=True)
    assert "실수로 보입니다" in page and "주차 안내" in page
    assert _count(Market) == 0
    market = make_market(venue, date(2026, 11, 26))
    saved_ceiling = market.takings_ceiling
    response = staff_client.post(
        f"/staff/markets/{market.id}/edit", data=_market_form(venue, takings_ceiling=ceiling)
    )
    assert response.status_code == 200 and "실수로 보입니다" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Market, market.id).takings_ceiling == saved_ceiling


def test_duplicate_market_refused_on_the_form(staff_client, venue):
    make_market(venue, date(2026, 11, 26))
    page = staff_client.post("/staff/markets/new", data=_market_form(venue)).get_data(as_text=True)
    assert "이미 장터가 있습니다" in page
    assert _count(Market) == 1


def test_edit_and_cancel_market(staff_client, venue):
    market = make_market(venue, date(2026, 11, 26))
    response = staff_client.post(
        f"/staff/markets/{market.id}/edit", data=_market_form(venue, start_time="11:00")
    )
    assert response.status_code == 302
    staff_client.post(
        f"/staff/markets/{market.id}/status", data={"status": "cancelled", "reason": ""}
    )
    db.session.expire_all()
    assert db.session.get(Market, market.id).status is MarketStatus.PLANNED
    staff_client.post(
        f"/staff/markets/{market.id}/status", data={"status": "cancelled", "reason": "폭설"}
    )
    db.session.expire_all()
    market = db.session.get(Market, market.id)
    assert market.status is MarketStatus.CANCELLED and market.sequence == 2


def test_season_preview_then_confirm(staff_client, venue):
    other = make_venue("수원시청", 8)
    form = {
        "start": "2026-09-01",
        "end": "2026-10-31",
        "venue_ids": [str(venue.id), str(other.id)],
        "start_time": "10:00",
        "end_time": "15:00",
        "booth_count": "8",
        "blackout_dates": "2026-10-15",
        "action": "preview",
    }
    page = staff_client.post("/staff/markets/season", data=form).get_data(as_text=True)
    assert "2026년 9월 24일 (목)" in page and "추석 전날" in page
    assert "휴장일" in page
    assert _count(Market) == 0, "the preview creates nothing"
    response = staff_client.post("/staff/markets/season", data={**form, "action": "confirm"})
    assert response.status_code == 302
    created = _count(Market)
    assert created == 9 - 2  # nine Thursdays, one holiday and one blackout skipped
    staff_client.post("/staff/markets/season", data={**form, "action": "confirm"})
    assert _count(Market) == created


def test_season_form_errors(staff_client, venue):
    page = staff_client.post(
        "/staff/markets/season",
        data={
            "start": "2026-12-01",
            "end": "2026-01-01",
            "start_time": "10:00",
            "end_time": "15:00",
            "booth_count": "8",
            "blackout_dates": "내일",
            "action": "preview",
        },
    ).get_data(as_text=True)
    assert "2026-05-07" in page  # the bad blackout date explained
    assert _count(Market) == 0


def test_venue_pages(staff_client):
    response = staff_client.post(
        "/staff/venues/new",
        data={
            "name": "경기남부경찰청",
            "address": "경기도 수원시 팔달구 효원로 1",
            "map_url": "",
            "booth_spots": "8",
        },
    )
    assert response.status_code == 302
    venue = db.session.scalars(select(Venue)).one()
    page = staff_client.post(
        "/staff/venues/new",
        data={"name": "경기남부경찰청", "address": "다른 주소", "booth_spots": "8"},
    ).get_data(as_text=True)
    assert "이미 있습니다" in page and "다른 주소" in page
    make_market(venue, date(2026, 11, 26))
    page = staff_client.get(f"/staff/venues/{venue.id}/delete").get_data(as_text=True)
    assert "삭제할 수 없습니다" in page
    staff_client.post(f"/staff/venues/{venue.id}/delete")
    assert _count(Venue) == 1


def _listed(page: str) -> list[str]:
    """The dates of the markets in the list's rows, in order."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<td[^>]*><a href="/staff/markets/\d+">([^<]*)</a></td>', body)


def test_staff_market_list_is_paginated(clock, app, staff_client, venue):
    app.config["PAGE_SIZE"] = 3
    for week in range(7):  # seven Thursdays from 3 December: pages of 3, 3 and 1
        make_market(venue, date(2026, 12, 3) + timedelta(weeks=week))
    make_market(venue, date(2026, 11, 19))  # past (the clock says 26 November): not listed
    first = staff_client.get("/staff/markets/").get_data(as_text=True)
    assert "시즌 계획" in first
    assert _listed(first) == [
        "2026년 12월 3일 (목)",
        "2026년 12월 10일 (목)",
        "2026년 12월 17일 (목)",
    ]
    assert 'rel="prev"' not in first and 'href="/staff/markets/?page=2" rel="next"' in first
    second = staff_client.get("/staff/markets/?page=2").get_data(as_text=True)
    assert _listed(second) == [
        "2026년 12월 24일 (목)",
        "2026년 12월 31일 (목)",
        "2027년 1월 7일 (목)",
    ]
    assert 'href="/staff/markets/?page=1" rel="prev"' in second
    assert 'href="/staff/markets/?page=3" rel="next"' in second
    assert "3쪽 중 2쪽" in second
    last = staff_client.get("/staff/markets/?page=3").get_data(as_text=True)
    assert _listed(last) == ["2027년 1월 14일 (목)"] and 'rel="next"' not in last
    past = staff_client.get("/staff/markets/?show=past").get_data(as_text=True)
    assert _listed(past) == ["2026년 11월 19일 (목)"]


def test_season_preview_without_blackout_dates(staff_client, venue):
    form = {
        "start": "2026-12-01",
        "end": "2026-12-31",
        "venue_ids": [str(venue.id)],
        "start_time": "10:00",
        "end_time": "15:00",
        "booth_count": "8",
        "blackout_dates": "",
        "action": "preview",
    }
    response = staff_client.post("/staff/markets/season", data=form)
    assert response.status_code == 200
    assert "2026년 12월 31일 (목)" in response.get_data(as_text=True)
