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
