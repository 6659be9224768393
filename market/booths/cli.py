"""`flask --app market booths assign MARKET_ID [--dry-run]`: the same service
the staff screen uses, printed as a table with the reasons."""

import click
from flask_babel import force_locale

from market.booths import services
from market.booths.loading import BoothRuleError
from market.extensions import db
from market.markets.models import Market
from market.vendors.labels import category_label

booths = click.Group("booths", help="Booth assignment.")


@booths.command("assign")
@click.argument("market_id", type=int)
@click.option("--dry-run", is_flag=True, help="Show the assignment, store and mail nothing.")
@click.option("--replace", is_flag=True, help="Replace booths that were already confirmed.")
def assign_command(market_id: int, dry_run: bool, replace: bool) -> None:
    """Assign the booths of one market and print booths, waitlist and reasons."""
    market = db.session.get(Market, market_id)
    if market is None:
        raise click.ClickException(f"no market with id {market_id}")
    with force_locale("ko"):
        try:
            if dry_run:
                plan = services.preview(market)
            else:
                plan = services.confirm(market.id, actor=None, replace=replace)
        except BoothRuleError as error:
            db.session.rollback()
            hint = "" if dry_run or replace else " (--replace assigns again.)"
            raise click.ClickException(str(error) + hint) from error
        _print(market, plan, dry_run)
    if not dry_run:
        db.session.commit()


def _print(market: Market, plan: services.Plan, dry_run: bool) -> None:
    state = "preview, nothing stored (--dry-run)" if dry_run else "confirmed, mails queued"
    click.echo(f"{market.market_date.isoformat()} {market.venue.name} · {state}")
    click.echo(f"Booths ({plan.assigned_count}/{market.booth_count})")
    for row in plan.rows:
        if row.application is None:
            click.echo(f"  {row.number:>2}  -")
            continue
        vendor = row.application.vendor
        pin = " [pinned]" if row.pinned else ""
        click.echo(
            f"  {row.number:>2}  {vendor.name}{pin} · {category_label(vendor.category)}"
            f" · {row.decision.reason}"
        )
    click.echo(f"Waitlist ({len(plan.waitlist)})")
    for decision, application in plan.waitlist:
        click.echo(
            f"  {decision.waitlist_position:>2}. {application.vendor.name} · {decision.reason}"
        )
    if plan.declined:
        click.echo(f"Not accepted ({len(plan.declined)})")
        for decision, application in plan.declined:
            click.echo(f"  - {application.vendor.name} · {decision.reason}")
    for problem in plan.pin_problems:
        click.echo(f"Pin problem: {problem.message}")
    if plan.under_minimum:
        click.echo(
            f"Warning: only {plan.assigned_count} booths taken, fewer than the minimum of 4."
        )
