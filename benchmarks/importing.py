"""Import of a large order export (1,000,000 rows at scale 1) in a
subprocess, rows/s and peak memory, next to a bare csv + executemany load of
the same file. Both write into a scratch copy of the small bench database,
so the sellers match real vendors and the big cached one stays as seeded."""

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from benchmarks.common import Context, Database, make_app, run, say

FULL_ROWS = 1_000_000
BOUNDED_ROWS = 200_000  # SQLite, when PostgreSQL does the full million
UNMATCHED = ("동네가게", "다른상점")  # sellers that are none of our vendors


def order_file(ctx: Context, db: Database, rows: int) -> Path:
    """Generated once per seed and size (market.customers.samples)."""
    from market.customers.samples import write_order_file
    from market.extensions import db as sqla
    from market.vendors.models import Vendor

    path = ctx.cache / f"orders-s{ctx.seed}-{rows}.csv"
    if path.exists():
        say(f"cached order file {path.name}")
        return path
    app = make_app(db, ctx.instance)
    with app.app_context():
        sellers = list(sqla.session.scalars(select(Vendor.name).order_by(Vendor.id)))
        sqla.engine.dispose()
    say(f"writing an order file of {rows:,} rows (once)")
    partial = path.with_suffix(".part")
    end = datetime.combine(ctx.anchor, datetime.min.time(), tzinfo=UTC)
    write_order_file(partial, rows, [*sellers, *UNMATCHED], end, seed=ctx.seed)
    partial.rename(path)
    return path


def _peak(ctx: Context, db: Database, name: str, command: list[str], timeout: float) -> dict:
    """Runs `command` under benchmarks.peak; returns its JSON line and the peak."""
    stats = ctx.cache / f"{name}-{db.kind}.peak.json"
    log = ctx.cache / f"{name}-{db.kind}.log"
    wrapped = [sys.executable, "-m", "benchmarks.peak", str(stats), "--", *command]
    run(wrapped, db.env(ctx.instance), timeout=timeout, log=log)
    peak = json.loads(stats.read_text())
    result = json.loads(log.read_text().strip().splitlines()[-1])
    return {**result, "wall_seconds": peak["seconds"], "peak_mib": peak["peak_mib"]}


def measure_import(scratch: Database, file: Path, rows: int, ctx: Context) -> dict:
    say(f"importing {rows:,} order rows with the app (check pass, then write pass)")
    job = _peak(
        ctx, scratch, "import", [sys.executable, "-m", "benchmarks.import_job", str(file)], 1800
    )
    total = job["check_seconds"] + job["write_seconds"]
    say(
        f"import: check {job['check_seconds']:.0f} s, write {job['write_seconds']:.0f} s, "
        f"{rows / total:,.0f} rows/s, peak {job['peak_mib']:.0f} MiB"
    )
    say("bare load of the same file: csv.reader + executemany into a plain table")
    bare = _peak(
        ctx,
        scratch,
        "bare-load",
        [sys.executable, "-m", "benchmarks.bare_load", scratch.url, str(file)],
        900,
    )
    say(f"bare load: {bare['seconds']:.0f} s, {rows / bare['seconds']:,.0f} rows/s")
    return {
        "rows": rows,
        "orders_new": job["orders_new"],
        "customers_new": job["customers_new"],
        "check_seconds": job["check_seconds"],
        "write_seconds": job["write_seconds"],
        "seconds": total,
        "rows_per_s": rows / total,
        "peak_mib": job["peak_mib"],
        "bare_seconds": bare["seconds"],
        "bare_rows_per_s": rows / bare["seconds"],
        "bare_peak_mib": bare["peak_mib"],
        "ratio": total / bare["seconds"],
        "write_ratio": job["write_seconds"] / bare["seconds"],
    }
