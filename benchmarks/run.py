"""`make bench` runs this once per database (benchmarks/run.sh starts a
PostgreSQL cluster for it); benchmarks/report.py then prints the table.

    python -m benchmarks.run --kind sqlite --cache /tmp/market-bench --out sqlite.json
    python -m benchmarks.run --kind postgresql \\
        --pg-url postgresql+psycopg://postgres@127.0.0.1:PORT --out postgresql.json

Each step prints progress and is bounded in time; a step that fails is
recorded as failed, the others still run, and the exit status says so."""

import argparse
import json
import os
import platform
import sqlite3
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import importing, inprocess, mailing, pages, profiles
from benchmarks.common import (
    TINY_SCALE,
    Context,
    copy_database,
    drop_database,
    ensure_seeded,
    make_app,
    say,
)

STEPS = ("pages", "profile", "ranking", "assign", "import", "mail")


def arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=("sqlite", "postgresql"), required=True)
    parser.add_argument("--pg-url", help="postgresql+psycopg://user@127.0.0.1:PORT (no database)")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/market-bench"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per page")
    parser.add_argument("--steps", default=",".join(STEPS), help=f"some of {','.join(STEPS)}")
    parser.add_argument(
        "--light",
        action="store_true",
        help="import 200,000 rows, invitations and delivery on 2,000 messages, no "
        "slow-relay run (run.sh uses it for SQLite when PostgreSQL gets the full work)",
    )
    parser.add_argument("--out", type=Path, required=True)
    return parser.parse_args(argv)


def environment(ctx: Context, url: str) -> dict:
    info = {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }
    if ctx.kind == "postgresql":
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as connection:
            info["postgresql"] = connection.execute("SHOW server_version").fetchone()[0]
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def step(results: dict, name: str, fn, *args) -> None:
    started = time.perf_counter()
    say(f"== {name}")
    try:
        results[name] = fn(*args)
    except Exception as error:  # record it, go on with the other steps
        traceback.print_exc()
        results[name] = {"error": f"{type(error).__name__}: {error}"}
    results.setdefault("step_seconds", {})[name] = time.perf_counter() - started


def mail_steps(ctx: Context, scratch, light: bool) -> dict:
    bounded = max(100, round(mailing.BOUNDED_MESSAGES * min(1.0, ctx.scale * 10)))
    count = max(100, round(mailing.FULL_INVITATIONS * ctx.scale))
    if light:
        count = min(count, bounded)
    out = {"queue": mailing.queue_invitations(scratch, ctx, count), "light": light}
    out["delivery"] = mailing.measure_delivery(scratch, ctx, delay_ms=0)
    if out["delivery"]["speedup"] < 3 and not light:
        # Two cores cannot run four CPU-bound workers four times as fast; a relay
        # that takes its time per message (as real ones do) shows whether the
        # workers overlap their waiting as they should. Bounded in count.
        relay = mailing.measure_delivery(scratch, ctx, mailing.RELAY_DELAY_MS, bounded)
        out["relay"] = relay
    return out


def without_campaign(db, ctx: Context) -> None:
    """The scratch copy for the import and the invitations starts as it did
    before the bench data had a campaign (benchmarks.dataset.invitations):
    no invitation yet, an empty outbox, so the invitation benchmark invites
    and delivers exactly its own."""
    from benchmarks.dataset.invitations import remove_campaign
    from market.extensions import db as sqla

    app = make_app(db, ctx.instance)
    with app.app_context():
        removed = remove_campaign()
        sqla.engine.dispose()
    say(f"scratch copy: the seeded campaign ({removed:,} invitations) taken out")


def main(argv=None) -> int:
    args = arguments(argv)
    steps = set(args.steps.split(","))
    args.cache.mkdir(parents=True, exist_ok=True)
    ctx = Context(
        kind=args.kind,
        cache=args.cache,
        instance=args.cache / "instance",
        seed=args.seed,
        scale=args.scale,
        pg_base_url=args.pg_url,
    )
    ctx.instance.mkdir(exist_ok=True)
    say(f"benchmarks on {ctx.kind}, seed {ctx.seed}, scale {ctx.scale:g}, data as of {ctx.anchor}")
    main_db = ensure_seeded(ctx, ctx.database(args.scale))
    tiny = ensure_seeded(ctx, ctx.database(TINY_SCALE))
    results = {
        "kind": ctx.kind,
        "seed": ctx.seed,
        "scale": ctx.scale,
        "anchor": ctx.anchor.isoformat(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": environment(ctx, main_db.url),
        "wrk_seconds": args.seconds,
        # Other work on this machine shows here; the numbers are only as quiet as it was.
        "load": [os.getloadavg()[0]],
    }
    if "pages" in steps:
        step(results, "pages", pages.measure_pages, main_db, tiny, ctx, args.seconds)
    if "profile" in steps:
        step(results, "profile", profiles.measure_profiles, main_db, ctx)
    if "ranking" in steps:
        step(results, "ranking", inprocess.measure_ranking, main_db, ctx)
    if "assign" in steps:
        step(results, "assign", inprocess.measure_assignment, main_db, ctx)
    if steps & {"import", "mail"}:
        scratch = copy_database(ctx, tiny, f"bench_scratch_{ctx.kind}")
        try:
            without_campaign(scratch, ctx)
            rows = max(1000, round(importing.FULL_ROWS * ctx.scale))
            if args.light:
                rows = max(1000, round(importing.BOUNDED_ROWS * ctx.scale))
            file = importing.order_file(ctx, tiny, rows)
            step(results, "import", importing.measure_import, scratch, file, rows, ctx)
            if "mail" in steps:
                step(results, "mail", mail_steps, ctx, scratch, args.light)
        finally:
            drop_database(scratch)
    results["load"].append(os.getloadavg()[0])
    args.out.write_text(json.dumps(results, indent=2, default=str))
    failed = [
        name for name in STEPS if isinstance(results.get(name), dict) and "error" in results[name]
    ]
    say(f"results in {args.out}" + (f"; FAILED steps: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
