from datetime import date

import click
from flask import current_app
from sqlalchemy import select

from market.core.transaction import committing
from market.extensions import db
from market.markets import schedule, services
from market.markets.models import Venue

venue = click.Group("venue", help="Market venues.")
schedule_group = click.Group("schedule", help="The season of Thursday markets.")


@venue.command("add")
@click.argument("name")
@click.option("--address", required=True, help="Road address (도로명주소).")
@click.option("--spots", type=click.IntRange(1, 100), required=True, help="Booth spots.")
@click.option("--map-url", default=None)
def add_venue(name: str, address: str, spots: int, map_url: str | None) -> None:
    """Add a venue."""
    with committing():
        created = services.create_venue(name, address, spots, map_url)
    click.echo(f"Venue {created.name} added (id {created.id}, {created.booth_spots} spots).")


def _iso_date(_ctx, _param, value):
    if value is None:
        return None
    values = value if isinstance(value, tuple) else (value,)
    try:
        parsed = tuple(date.fromisoformat(v) for v in values)
    except ValueError as error:
        raise click.BadParameter(f"use dates like 2026-05-07 ({error})") from error
    return parsed if isinstance(value, tuple) else parsed[0]


@schedule_group.command("generate")
@click.option("--start", required=True, callback=_iso_date, help="First day, YYYY-MM-DD.")
@click.option("--end", required=True, callback=_iso_date, help="Last day, YYYY-MM-DD.")
@click.option(
    "--venue",
    "venue_names",
    multiple=True,
    required=True,
    help="Venue name; repeat to rotate week by week.",
)
@click.option("--skip", multiple=True, callback=_iso_date, help="A blackout date; repeatable.")
@click.option("--booths", type=int, default=None, help="Booths per market.")
@click.option(
    "--fit-to-venue",
    is_flag=True,
    help="At a venue with fewer spots than --booths, make the market with its own spot count.",
)
@click.option("--dry-run", is_flag=True, help="Show the plan, create nothing.")
def generate(start, end, venue_names, skip, booths, fit_to_venue, dry_run) -> None:
    """Create a market every Thursday, skipping holidays and blackout dates.
    Every date left out is listed with its reason, as in the staff preview."""
    venues = {
        v.name: v for v in db.session.scalars(select(Venue).where(Venue.name.in_(venue_names)))
    }
    missing = [name for name in venue_names if name not in venues]
    if missing:
        raise click.ClickException(f"unknown venue: {', '.join(missing)} (add it with `venue add`)")
    start_time, end_time = services.default_times()
    settings = schedule.SeasonSettings(
        start=start,
        end=end,
        venue_ids=tuple(venues[name].id for name in venue_names),
        start_time=start_time,
        end_time=end_time,
        booth_count=booths or current_app.config["DEFAULT_BOOTH_COUNT"],
        blackout_dates=frozenset(skip or ()),
        fit_to_venue=fit_to_venue,
    )
    with committing():
        plan = schedule.plan_season(settings)
        if not dry_run:
            schedule.create_season(settings, expected=schedule.plan_fingerprint(plan))
    verb = "would create" if dry_run else "created"
    for day in plan:
        if day.will_create:
            fitted = f"  ({day.booth_count} booths, the venue's own count)" if day.fitted else ""
            click.echo(f"{verb}  {day.day.isoformat()}  {day.venue.name}{fitted}")
        else:
            click.echo(f"skipped  {day.day.isoformat()}  {day.skip_reason}")
    made = [day for day in plan if day.will_create]
    click.echo(f"{len(made)} {verb}, {len(plan) - len(made)} skipped.")
    if schedule.fittable_venues(plan) and not fit_to_venue:
        click.echo(
            "Some weeks are left out because the venue is too small; "
            "--fit-to-venue makes them with the venue's own spot count."
        )
