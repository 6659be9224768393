"""The season generator: every Thursday in a range, venues in turn, skipping
Korean public holidays and staff blackout dates. Idempotent: a date that
already has a market is reported and left alone."""

from dataclasses import dataclass
from datetime import date, time, timedelta

import holidays
from flask_babel import gettext as _
from sqlalchemy import select

from market.extensions import db
from market.markets import services
from market.markets.models import THURSDAY, Market, Venue

MAX_SEASON_DAYS = 366 * 2


@dataclass(frozen=True)
class SeasonSettings:
    start: date
    end: date
    venue_ids: tuple[int, ...]
    start_time: time
    end_time: time
    booth_count: int
    blackout_dates: frozenset[date] = frozenset()


@dataclass(frozen=True)
class SeasonDay:
    day: date
    venue: Venue | None
    skip_reason: str | None = None
    existing: Market | None = None

    @property
    def will_create(self) -> bool:
        return self.skip_reason is None


def thursdays(start: date, end: date) -> list[date]:
    first = start + timedelta(days=(THURSDAY - start.weekday()) % 7)
    return (
        [first + timedelta(weeks=n) for n in range((end - first).days // 7 + 1)]
        if first <= end
        else []
    )


def korean_holidays(start: date, end: date) -> dict[date, str]:
    """Public holidays by date, named in Korean (holidays package, country KR)."""
    years = range(start.year, end.year + 1)
    return dict(holidays.country_holidays("KR", years=years, language="ko"))


def check_settings(settings: SeasonSettings) -> dict[str, str]:
    errors = {}
    if settings.end < settings.start:
        errors["end"] = _("The end date must be on or after the start date.")
    elif (settings.end - settings.start).days > MAX_SEASON_DAYS:
        errors["end"] = _("A season can cover at most two years.")
    if not settings.venue_ids:
        errors["venue_ids"] = _("Choose at least one venue.")
    if settings.end_time <= settings.start_time:
        errors["end_time"] = _("The market must end after it starts.")
    return errors


def plan_season(settings: SeasonSettings) -> list[SeasonDay]:
    """Every Thursday in the range with what will happen to it. Venues rotate
    over the dates that are not holidays or blackouts, so the same input always
    gives the same venue for the same date."""
    errors = check_settings(settings)
    if errors:
        raise services.MarketRuleError(errors)
    venues_by_id = {
        v.id: v for v in db.session.scalars(select(Venue).where(Venue.id.in_(settings.venue_ids)))
    }
    venues = [venues_by_id[i] for i in settings.venue_ids if i in venues_by_id]
    if not venues:
        raise services.MarketRuleError({"venue_ids": _("Choose at least one venue.")})
    public_holidays = korean_holidays(settings.start, settings.end)
    existing = {
        m.market_date: m
        for m in db.session.scalars(
            select(Market).where(Market.market_date.between(settings.start, settings.end))
        )
    }
    plan, turn = [], 0
    for day in thursdays(settings.start, settings.end):
        if day in public_holidays:
            plan.append(
                SeasonDay(day, None, _("Public holiday: %(name)s", name=public_holidays[day]))
            )
            continue
        if day in settings.blackout_dates:
            plan.append(SeasonDay(day, None, _("Blackout date set by staff")))
            continue
        venue = venues[turn % len(venues)]
        turn += 1
        if day in existing:
            plan.append(
                SeasonDay(
                    day,
                    venue,
                    _("A market already exists (%(venue)s)", venue=existing[day].venue.name),
                    existing[day],
                )
            )
            continue
        too_small = settings.booth_count > venue.booth_spots
        reason = (
            _(
                "%(venue)s has room for only %(spots)d booths",
                venue=venue.name,
                spots=venue.booth_spots,
            )
            if too_small
            else None
        )
        plan.append(SeasonDay(day, venue, reason))
    return plan


def create_season(settings: SeasonSettings, actor=None) -> tuple[list[Market], list[SeasonDay]]:
    """Creates the planned markets; returns them and the days skipped."""
    plan = plan_season(settings)
    created = []
    for planned in plan:
        if not planned.will_create:
            continue
        details = services.MarketDetails(
            market_date=planned.day,
            start_time=settings.start_time,
            end_time=settings.end_time,
            venue_id=planned.venue.id,
            booth_count=settings.booth_count,
            application_deadline=services.default_deadline(planned.day),
            takings_ceiling=services.default_ceiling(),
        )
        created.append(services.create_market(details, actor=actor))
    return created, [p for p in plan if not p.will_create]
