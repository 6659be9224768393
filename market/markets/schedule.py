"""The season generator: every Thursday in a range, venues in turn, skipping
Korean public holidays and staff blackout dates. Idempotent: a date that
already has a market is reported and left alone.

Every date left out says why (LeftOut and a readable reason), so staff see in
the preview, before anything is made, which weeks a season will not have. A
venue with fewer spots than the season's booth count can instead get a market
with its own spot count (SeasonSettings.fit_to_venue)."""

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import date, time, timedelta
from enum import StrEnum

import holidays
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from market.extensions import db
from market.markets import services
from market.markets.models import MIN_BOOTHS, THURSDAY, Market, Venue

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
    # A venue too small for booth_count gets a market with its own spot count.
    fit_to_venue: bool = False


class LeftOut(StrEnum):
    """Why a Thursday gets no market."""

    HOLIDAY = "holiday"
    BLACKOUT = "blackout"
    EXISTS = "exists"
    TOO_SMALL = "too_small"


@dataclass(frozen=True)
class SeasonDay:
    day: date
    venue: Venue | None
    skip_reason: str | None = None
    existing: Market | None = None
    left_out: LeftOut | None = None
    # Booths the market gets when made; below the season's count when fitted.
    booth_count: int | None = None
    fitted: bool = False

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
            reason = _("Public holiday: %(name)s", name=public_holidays[day])
            plan.append(SeasonDay(day, None, reason, left_out=LeftOut.HOLIDAY))
            continue
        if day in settings.blackout_dates:
            reason = _("Blackout date set by staff")
            plan.append(SeasonDay(day, None, reason, left_out=LeftOut.BLACKOUT))
            continue
        venue = venues[turn % len(venues)]
        turn += 1
        if day in existing:
            reason = _("A market already exists (%(venue)s)", venue=existing[day].venue.name)
            plan.append(SeasonDay(day, venue, reason, existing[day], LeftOut.EXISTS))
            continue
        plan.append(_at_venue(day, venue, settings))
    return plan


def _at_venue(day: date, venue: Venue, settings: SeasonSettings) -> SeasonDay:
    if settings.booth_count <= venue.booth_spots:
        return SeasonDay(day, venue, booth_count=settings.booth_count)
    if venue.booth_spots < MIN_BOOTHS:  # fitting cannot help: a market needs MIN_BOOTHS
        reason = _(
            "%(venue)s has %(spots)d spots; a market needs at least %(min)d booths",
            venue=venue.name,
            spots=venue.booth_spots,
            min=MIN_BOOTHS,
        )
        return SeasonDay(day, venue, reason, left_out=LeftOut.TOO_SMALL)
    if settings.fit_to_venue:
        return SeasonDay(day, venue, booth_count=venue.booth_spots, fitted=True)
    reason = _(
        "%(venue)s is too small for %(booths)d booths: it has %(spots)d spots",
        venue=venue.name,
        booths=settings.booth_count,
        spots=venue.booth_spots,
    )
    return SeasonDay(day, venue, reason, left_out=LeftOut.TOO_SMALL)


def left_out_groups(plan: list[SeasonDay]) -> list[tuple[str, list[date]]]:
    """The dates left out, gathered under their reason, in calendar order:
    twelve weeks at one small venue read as one line, not twelve."""
    groups: dict[str, list[date]] = {}
    for day in plan:
        if not day.will_create:
            groups.setdefault(day.skip_reason, []).append(day.day)
    return list(groups.items())


def fittable_venues(plan: list[SeasonDay]) -> dict[str, int]:
    """Venues whose weeks are (or would be) left out only for their size, with
    their spot count: what fit_to_venue would use."""
    return {
        day.venue.name: day.venue.booth_spots
        for day in plan
        if day.fitted or (day.left_out is LeftOut.TOO_SMALL and day.venue.booth_spots >= MIN_BOOTHS)
    }


def fittable_text(venues: dict[str, int]) -> str:
    """The fitting checkbox's list of venues: "용인시청 6개, 수원시청 7개"."""
    return ", ".join(
        _("%(venue)s: %(spots)d booths", venue=name, spots=spots) for name, spots in venues.items()
    )


def plan_fingerprint(plan: list[SeasonDay]) -> str:
    """Short digest of what a plan would create. The preview carries it, and
    create_season refuses when the plan has changed since (a setting or the
    fitting box changed, or someone made a market meanwhile): staff only ever
    confirm what they have seen."""
    made = ";".join(
        f"{d.day.isoformat()}/{d.venue.id}/{d.booth_count}" for d in plan if d.will_create
    )
    return hashlib.sha256(made.encode()).hexdigest()[:16]


class PlanChanged(services.MarketRuleError):
    """The plan is not the one the preview showed; nothing was created."""


def create_season(
    settings: SeasonSettings, actor=None, expected: str | None = None
) -> tuple[list[Market], list[SeasonDay]]:
    """Creates the planned markets; returns them and the days left out.
    `expected` is the fingerprint of the plan staff saw (None from the CLI)."""
    plan = plan_season(settings)
    if expected is not None and expected != plan_fingerprint(plan):
        raise PlanChanged(
            {
                "plan": _(
                    "The plan has changed since the preview. "
                    "Check the new preview below, then create the markets."
                )
            }
        )
    created = []
    for planned in plan:
        if not planned.will_create:
            continue
        details = services.MarketDetails(
            market_date=planned.day,
            start_time=settings.start_time,
            end_time=settings.end_time,
            venue_id=planned.venue.id,
            booth_count=planned.booth_count,
            application_deadline=services.default_deadline(planned.day),
            takings_ceiling=services.default_ceiling(),
        )
        created.append(services.create_market(details, actor=actor))
    return created, [p for p in plan if not p.will_create]


LEFT_OUT_COUNTS = {
    LeftOut.HOLIDAY: _l("%(count)d public holidays"),
    LeftOut.BLACKOUT: _l("%(count)d blackout dates"),
    LeftOut.TOO_SMALL: _l("%(count)d at a venue too small"),
    LeftOut.EXISTS: _l("%(count)d that already had a market"),
}


def season_message(created: list[Market], left_out: list[SeasonDay], booth_count: int) -> str:
    """What was made and what was not, counted in dates ("28개 날짜"), never
    "28일", which reads as "the 28th"."""
    message = _("%(created)d markets created.", created=len(created))
    fitted = sum(1 for market in created if market.booth_count < booth_count)
    if fitted:
        message += " " + _(
            "%(count)d of them with the venue's own, smaller number of booths.", count=fitted
        )
    if left_out:
        kinds = Counter(day.left_out for day in left_out)
        reasons = ", ".join(
            str(label) % {"count": kinds[kind]}
            for kind, label in LEFT_OUT_COUNTS.items()
            if kinds[kind]
        )
        message += " " + _(
            "%(count)d dates left out: %(reasons)s.", count=len(left_out), reasons=reasons
        )
    return message
