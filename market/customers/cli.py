from pathlib import Path

import click
from flask import current_app

from market.core.transaction import committing
from market.customers import services, uploads
from market.customers.models import ImportStatus
from market.extensions import db
from market.timeutil import utcnow

customers = click.Group("customers", help="Online customers from the marketplace.")


def _bar(label: str):
    bar = click.progressbar(length=1, label=label, show_percent=True, show_eta=True)

    def update(rows: int, position: int, size: int) -> None:
        bar.length = max(size, 1)
        bar.update(position - bar.pos)

    return bar, update


@customers.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--good-rows-only", is_flag=True, help="Skip bad rows instead of refusing the file.")
@click.option("--check-only", is_flag=True, help="Check the file and report; save nothing.")
def import_command(file: Path, good_rows_only: bool, check_only: bool) -> None:
    """Import the marketplace's order export (CSV or XLSX)."""
    with committing():
        job = services.register_file(file)
    bar, update = _bar("checking")
    with bar:
        job = services.run_check(job.id, on_progress=update)
    _report(job)
    if job.status is not ImportStatus.CHECKED or check_only:
        if job.status is not ImportStatus.CHECKED:
            raise click.ClickException(job.error or job.status.value)
        return
    try:
        services.prepare_import(job, good_rows_only, hold=True)  # run here, not by a worker
    except services.ImportRefused as refusal:  # a checked file: only its bad rows can stop it
        raise click.ClickException(
            f"{job.rows_bad} bad rows: nothing imported. Fix them, or use --good-rows-only."
        ) from refusal
    db.session.commit()
    bar, update = _bar("importing")
    with bar:
        job = services.run_import(job.id, on_progress=update)
    if job.status is not ImportStatus.DONE:
        raise click.ClickException(job.error or job.status.value)
    click.echo(
        f"Imported {job.orders_new} new orders and {job.customers_new} new customers"
        + (f"; skipped {job.rows_bad} bad rows." if job.rows_bad else ".")
    )


def _report(job) -> None:
    if job.rows_total is None:
        return
    click.echo(
        f"{job.rows_total} rows: {job.rows_bad} bad, {job.orders_new} new orders, "
        f"{job.orders_known} already imported (encoding {job.report['encoding']})."
    )
    for bad in job.report["bad_rows"]:
        order = f" (order {bad['order_no']})" if bad.get("order_no") else ""
        click.echo(f"  line {bad['line']}{order}: {'; '.join(bad['problems'])}")
    if job.rows_bad > len(job.report["bad_rows"]):
        click.echo(f"  … and {job.rows_bad - len(job.report['bad_rows'])} more bad rows")
    for name, count in job.report["unmatched_sellers"]:
        click.echo(f"  seller matches no vendor: {name} ({count} orders)")


@customers.command("purge")
@click.option(
    "--inactive-days",
    type=click.IntRange(min=1),
    default=None,
    help="Delete customers without an order in this many days (default from config).",
)
def purge_command(inactive_days: int | None) -> None:
    """Delete customers who have not bought for a long time; keep suppressions."""
    days = inactive_days or current_app.config["CUSTOMER_INACTIVE_DAYS"]
    report = services.purge_inactive(days)
    files = uploads.purge_stale_uploads(utcnow())
    db.session.commit()
    click.echo(
        f"Deleted {report.customers} customers, {report.orders} orders and "
        f"{report.invitations} invitations (and {report.mails} of their emails, "
        f"and {report.control_group} places in control groups) "
        f"with no order in the last {days} days."
    )
    click.echo(f"Deleted {files} order files and leftovers older than a day.")
