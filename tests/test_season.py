import re
from datetime import date, time

import pytest
from sqlalchemy import func, select

from market.extensions import db
from market.markets import schedule
from market.markets.models import Market
from tests.markets_factories import make_venue


@pytest.fixture
def venues(app):
    return [make_venue("경기도청", 10), make_venue("경기남부경찰청", 8), make_venue("수원시청", 8)]


def _settings(venues, start=date(2026, 1, 1), end=date(2026, 12, 31), **extra):
    return schedule.SeasonSettings(
        start=start,
        end=end,
        venue_ids=tuple(v.id for v in venues),
        start_time=time(10),
        end_time=time(15),
        booth_count=extra.pop("booths", 8),
        **extra,
    )


def test_thursdays_in_range():
    days = schedule.thursdays(date(2026, 1, 1), date(2026, 1, 31))
    assert days == [
        date(2026, 1, 1),
        date(2026, 1, 8),
        date(2026, 1, 15),
        date(2026, 1, 22),
        date(2026, 1, 29),
    ]
    assert schedule.thursdays(date(2026, 1, 2), date(2026, 1, 7)) == []


def test_holidays_are_skipped_and_named(venues):
    plan = {day.day: day for day in schedule.plan_season(_settings(venues))}
    assert not plan[date(2026, 1, 1)].will_create
    assert plan[date(2026, 1, 1)].skip_reason.startswith("공휴일")
    assert not plan[date(2026, 9, 24)].will_create
    assert "추석" in plan[date(2026, 9, 24)].skip_reason
    assert plan[date(2026, 1, 8)].will_create
    assert len(plan) == 53


def test_blackout_dates_are_skipped(venues):
    plan = {
        d.day: d
        for d in schedule.plan_season(
            _settings(venues, blackout_dates=frozenset({date(2026, 5, 7)}))
        )
    }
    assert not plan[date(2026, 5, 7)].will_create
    assert "휴장" in plan[date(2026, 5, 7)].skip_reason


def test_venues_rotate_in_the_given_order_over_market_days(venues):
    order = [venues[2], venues[0], venues[1]]
    plan = [
        d
        for d in schedule.plan_season(
            _settings(order, start=date(2026, 1, 1), end=date(2026, 2, 28))
        )
        if d.will_create
    ]
    names = [d.venue.name for d in plan]
    assert names[:6] == ["수원시청", "경기도청", "경기남부경찰청"] * 2


def test_generation_is_idempotent(venues):
    created, skipped = schedule.create_season(_settings(venues))
    db.session.commit()
    assert len(created) == 53 - len(skipped)
    assert {d.day for d in skipped} >= {date(2026, 1, 1), date(2026, 9, 24)}
    again, skipped_again = schedule.create_season(_settings(venues))
    db.session.commit()
    assert again == []
    assert db.session.scalar(select(func.count()).select_from(Market)) == len(created)
    assert any("이미" in d.skip_reason for d in skipped_again)


def test_too_many_booths_for_a_venue_is_skipped_with_reason(app):
    small = make_venue("용인시청", 6)
    plan = schedule.plan_season(_settings([small], end=date(2026, 1, 31)))
    assert all(not d.will_create and "6개" in d.skip_reason for d in plan if d.venue)


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"end": date(2025, 12, 1)}, "end"), ({"end_time": time(9)}, "end_time")],
)
def test_bad_settings_refused(venues, changes, field):
    settings = _settings(venues)
    settings = schedule.SeasonSettings(**{**settings.__dict__, **changes})
    with pytest.raises(schedule.services.MarketRuleError) as refused:
        schedule.plan_season(settings)
    assert field in refused.value.errors


def test_cli_generate_prints_created_and_skipped(runner, venues):
    args = [
        "schedule",
        "generate",
        "--start",
        "2026-01-01",
        "--end",
        "2026-03-31",
        "--venue",
        "경기도청",
        "--venue",
        "수원시청",
        "--skip",
        "2026-02-12",
    ]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "skipped  2026-01-01  공휴일: 신정" in result.output
    assert "skipped  2026-02-12" in result.output
    assert "created  2026-01-08  경기도청" in result.output
    assert "created  2026-01-15  수원시청" in result.output
    again = runner.invoke(args=args)
    assert "0 created" in again.output


def test_cli_unknown_venue(runner, venues):
    result = runner.invoke(
        args=[
            "schedule",
            "generate",
            "--start",
            "2026-01-01",
            "--end",
            "2026-01-31",
            "--venue",
            "없는곳",
        ]
    )
    assert result.exit_code != 0 and "unknown venue" in result.output


def test_cli_venue_add(runner):
    result = runner.invoke(
        args=[
            "venue",
            "add",
            "의정부시청",
            "--address",
            "경기도 의정부시 시민로 1",
            "--spots",
            "10",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "의정부시청" in result.output
    duplicate = runner.invoke(args=["venue", "add", "의정부시청", "--address", "x", "--spots", "5"])
    assert duplicate.exit_code != 0


# --- weeks left out, said before anything is made -----------------------------------
#
# 경기도청 (10 spots) and 용인시청 (6 spots) in turn, 8 booths, January to June
# 2026: 26 Thursdays, 신정 (1 Jan) and a blackout (2 Apr) left out, 12 weeks at
# each venue. 용인시청's 12 weeks used to vanish with an unclear message.

TOO_SMALL = "용인시청: 부스 8개를 놓기에 좁음 (부스 자리 6개)"
FIT_LABEL = "장소의 부스 수(용인시청 6개)로 줄여서 만들기"
YONGIN_WEEKS = [
    date(2026, 1, 15),
    date(2026, 1, 29),
    date(2026, 2, 12),
    date(2026, 2, 26),
    date(2026, 3, 12),
    date(2026, 3, 26),
    date(2026, 4, 16),
    date(2026, 4, 30),
    date(2026, 5, 14),
    date(2026, 5, 28),
    date(2026, 6, 11),
    date(2026, 6, 25),
]


@pytest.fixture
def two_venues(app):
    return make_venue("경기도청", 10), make_venue("용인시청", 6)


def _season_form(venues, **changes) -> dict:
    form = {
        "start": "2026-01-01",
        "end": "2026-06-30",
        "venue_ids": [str(v.id) for v in venues],
        "start_time": "10:00",
        "end_time": "15:00",
        "booth_count": "8",
        "blackout_dates": "2026-04-02",
        "action": "preview",
    }
    form.update(changes)
    return form


def _fingerprint(page: str) -> str:
    [value] = re.findall(r'name="plan" type="hidden" value="([0-9a-f]+)"', page)
    return value


def _markets() -> list[Market]:
    db.session.expire_all()
    return list(db.session.scalars(select(Market).order_by(Market.market_date)))


def test_a_venue_too_small_is_named_with_both_counts(two_venues):
    plan = schedule.plan_season(
        _settings(two_venues, end=date(2026, 6, 30), blackout_dates=frozenset({date(2026, 4, 2)}))
    )
    left_out = [d for d in plan if not d.will_create]
    assert [d.left_out for d in left_out].count(schedule.LeftOut.TOO_SMALL) == 12
    assert [d.day for d in left_out if d.left_out is schedule.LeftOut.TOO_SMALL] == YONGIN_WEEKS
    assert {d.skip_reason for d in left_out if d.venue} == {TOO_SMALL}
    assert schedule.left_out_groups(plan) == [
        ("공휴일: 신정연휴", [date(2026, 1, 1)]),
        (TOO_SMALL, YONGIN_WEEKS),
        ("운영자가 지정한 휴장일", [date(2026, 4, 2)]),
    ]
    assert schedule.fittable_venues(plan) == {"용인시청": 6}


def test_fit_to_venue_makes_those_weeks_with_the_venues_spots(two_venues):
    settings = _settings(two_venues, end=date(2026, 6, 30), fit_to_venue=True)
    created, left_out = schedule.create_season(settings)
    db.session.commit()
    assert len(created) == 25 and [d.day for d in left_out] == [date(2026, 1, 1)]
    yongin = [m for m in created if m.venue.name == "용인시청"]
    assert {m.booth_count for m in yongin} == {6} and len(yongin) == 12
    assert {m.booth_count for m in created if m.venue.name == "경기도청"} == {8}
    again, left_out = schedule.create_season(settings)
    assert again == [] and len(left_out) == 26


def test_a_venue_below_the_smallest_market_cannot_be_fitted(app):
    tiny = make_venue("작은마당", 3)
    plan = schedule.plan_season(_settings([tiny], end=date(2026, 1, 31), fit_to_venue=True))
    assert not any(d.will_create for d in plan)
    assert "부스 자리가 3개뿐" in plan[1].skip_reason and "4개 이상" in plan[1].skip_reason
    assert schedule.fittable_venues(plan) == {}


def test_season_page_says_which_weeks_are_left_out_and_offers_the_venues_spots(
    client, login_as, staff, two_venues
):
    login_as(staff)
    page = client.post("/staff/markets/season", data=_season_form(two_venues)).get_data(
        as_text=True
    )
    assert _markets() == [], "the preview makes nothing"
    assert "장터 12회를 만듭니다. 다음 14개 날짜에는 장터를 만들지 않습니다." in page
    assert TOO_SMALL in page and "(12개 날짜)" in page
    for day in YONGIN_WEEKS:
        assert f'<time datetime="{day.isoformat()}">' in page
    assert "공휴일: 신정" in page and "운영자가 지정한 휴장일" in page
    assert FIT_LABEL in page and 'name="fit_to_venue"' in page
    assert "장터 12회 만들기" in page

    # Created as shown: 경기도청's 12 weeks; the message counts dates, not "28일".
    response = client.post(
        "/staff/markets/season",
        data=_season_form(two_venues, action="confirm", plan=_fingerprint(page)),
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert (
        "장터 12회를 만들었습니다. 14개 날짜는 만들지 않았습니다: "
        "공휴일 1개, 휴장일 1개, 장소가 좁아서 12개." in page
    )
    assert "일은 건너뛰었습니다" not in page
    assert {m.venue.name for m in _markets()} == {"경기도청"}

    # Ticked: the preview shows 용인시청's weeks with 6 booths, then makes them.
    fit = _season_form(two_venues, fit_to_venue="y")
    page = client.post("/staff/markets/season", data=fit).get_data(as_text=True)
    assert page.count("부스 6개로 생성") == 12
    assert "이미 장터가 있음 (경기도청)" in page
    assert re.search(r'name="fit_to_venue" value="y"\s+checked', page)
    response = client.post(
        "/staff/markets/season",
        data={**fit, "action": "confirm", "plan": _fingerprint(page)},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "장터 12회를 만들었습니다. 그중 12회는 장소의 부스 수에 맞춰 부스를 줄였습니다." in page
    assert "이미 장터가 있어서 12개" in page
    yongin = [m for m in _markets() if m.venue.name == "용인시청"]
    assert [m.market_date for m in yongin] == YONGIN_WEEKS
    assert {m.booth_count for m in yongin} == {6}

    # Idempotent: a third run makes nothing.
    page = client.post("/staff/markets/season", data=fit).get_data(as_text=True)
    assert "장터 0회를 만듭니다" in page and "장터 0회 만들기" not in page
    assert len(_markets()) == 24


def test_season_page_confirms_only_the_plan_it_showed(client, login_as, staff, two_venues):
    """Ticking the box and pressing 'create' at once shows the new plan first."""
    login_as(staff)
    page = client.post("/staff/markets/season", data=_season_form(two_venues)).get_data(
        as_text=True
    )
    stale = _fingerprint(page)
    page = client.post(
        "/staff/markets/season",
        data=_season_form(two_venues, action="confirm", plan=stale, fit_to_venue="y"),
    ).get_data(as_text=True)
    assert _markets() == []
    assert "미리보기 뒤에 계획이 바뀌었습니다" in page
    assert page.count("부스 6개로 생성") == 12 and _fingerprint(page) != stale


def test_cli_generate_names_the_reasons_and_can_fit(runner, two_venues):
    args = ["schedule", "generate", "--start", "2026-01-01", "--end", "2026-06-30"]
    args += ["--venue", "경기도청", "--venue", "용인시청", "--booths", "8", "--skip", "2026-04-02"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert f"skipped  2026-01-15  {TOO_SMALL}" in result.output
    assert "skipped  2026-04-02  운영자가 지정한 휴장일" in result.output
    assert "12 created, 14 skipped." in result.output
    assert "--fit-to-venue" in result.output
    fitted = runner.invoke(args=[*args, "--fit-to-venue"])
    assert fitted.exit_code == 0, fitted.output
    assert "created  2026-01-15  용인시청  (6 booths, the venue's own count)" in fitted.output
    assert "skipped  2026-01-08  이미 장터가 있음 (경기도청)" in fitted.output
    assert "12 created, 14 skipped." in fitted.output
    again = runner.invoke(args=[*args, "--fit-to-venue"])
    assert "0 created, 26 skipped." in again.output
    assert len(_markets()) == 24
