"""What every benchmark step shares: progress lines, timing, the bench
databases (seeded once and cached), subprocesses with a time limit."""

import hashlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SECRET_KEY = "bench-secret-key-not-for-production"
TINY_SCALE = 0.01  # the small twin used to see whether query counts grow with the data
FRIDAY = 4  # date.weekday()
STARTED = time.perf_counter()


def say(message: str) -> None:
    print(f"[{time.perf_counter() - STARTED:7.1f} s] {message}", flush=True)


def median_of(fn: Callable[[], object], runs: int) -> tuple[float, list[float]]:
    """Median wall time in seconds over `runs` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def anchor_day(today: date | None = None) -> date:
    """The Friday on or before today (in Korea): cached data stays valid for
    the week from it. Markets are on Thursdays, so the first market on or
    after the anchor (the bench's next market, with the seeded invitations)
    is the one the app calls next all week long, the staff dashboard's
    funnel and the RSVP page included. With the Monday it was until issue
    20, from Friday to Sunday the app's next market was the week after,
    whose dashboard showed no invitations and whose RSVP page said the
    market was over."""
    if today is None:
        from market.timeutil import today_seoul

        today = today_seoul()
    return today - timedelta(days=(today.weekday() - FRIDAY) % 7)


def code_version() -> str:
    """Changes when the seed or the schema changes, so a stale cache is not reused."""
    digest = hashlib.sha256()
    for folder in ("benchmarks/dataset", "market/migrations/versions"):
        for path in sorted((ROOT / folder).glob("*.py")):
            digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


def key_prefix(seed: int, scale: float) -> str:
    return f"bench_s{seed}_x{str(scale).replace('.', '_')}_"


@dataclass
class Database:
    """One bench database: SQLite file or PostgreSQL database, and its key."""

    kind: str  # "sqlite" or "postgresql"
    url: str
    key: str
    seed: int
    scale: float
    anchor: date
    admin_url: str | None = None  # PostgreSQL: the maintenance database

    def env(self, instance: Path) -> dict:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=self.url,
            MARKET_INSTANCE_PATH=str(instance),
            SECRET_KEY=SECRET_KEY,
            FLASK_APP="market",
        )
        env.pop("MAIL_SERVER", None)
        return env


@dataclass
class Context:
    kind: str
    cache: Path
    instance: Path
    seed: int
    scale: float
    pg_base_url: str | None  # postgresql+psycopg://postgres@127.0.0.1:PORT
    anchor: date = field(default_factory=anchor_day)
    results: dict = field(default_factory=dict)

    def database(self, scale: float) -> Database:
        key = f"{key_prefix(self.seed, scale)}{self.anchor:%Y%m%d}_{code_version()}"
        if self.kind == "sqlite":
            path = self.cache / "sqlite" / f"{key}.sqlite"
            return Database(self.kind, f"sqlite:///{path}", key, self.seed, scale, self.anchor)
        return Database(
            self.kind,
            f"{self.pg_base_url}/{key}",
            key,
            self.seed,
            scale,
            self.anchor,
            admin_url=f"{self.pg_base_url}/postgres",
        )


def run(command: list[str], env: dict, timeout: float, log: Path | None = None) -> None:
    """A subprocess that must succeed within `timeout` seconds; its output
    goes to `log` (shown when it fails) or straight through."""
    out = log.open("w") if log else None
    try:
        subprocess.run(
            command, env=env, cwd=ROOT, check=True, timeout=timeout, stdout=out, stderr=out
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        if log:
            out.close()
            sys.stdout.write(log.read_text()[-4000:])
        raise
    finally:
        if out:
            out.close()


def pg_execute(admin_url: str, *statements: str) -> None:
    """Statements on the maintenance database, outside a transaction
    (CREATE/DROP/ALTER DATABASE need that)."""
    import psycopg

    with psycopg.connect(
        admin_url.replace("postgresql+psycopg", "postgresql"), autocommit=True
    ) as c:
        for statement in statements:
            c.execute(statement)


def pg_databases(admin_url: str) -> list[str]:
    import psycopg

    with psycopg.connect(admin_url.replace("postgresql+psycopg", "postgresql")) as c:
        return [row[0] for row in c.execute("SELECT datname FROM pg_database")]


def migration_head() -> str:
    """The newest migration of this checkout. Several heads (two new
    migrations on the same parent, before they are chained) cannot be
    upgraded to, so the bench stops here with the reason rather than half-way
    through `flask db upgrade`."""
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory(str(ROOT / "market" / "migrations")).get_heads()
    if len(heads) != 1:
        raise RuntimeError(
            f"the migrations have {len(heads)} heads ({', '.join(sorted(heads))}): "
            "chain them (one down_revision after the other) before benchmarking"
        )
    return heads[0]


def database_head(db: Database) -> str | None:
    """The migration a bench database was seeded at (its alembic_version),
    or None when it has none or cannot be read."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    engine = create_engine(db.url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()


def cache_is_current(db: Database, head: str) -> bool:
    """A cached database is used only at the schema this checkout migrates
    to. Its name already holds a digest of the migrations and the seed code
    (code_version), so a new or changed migration gives a new name and a
    fresh seed; this checks the database itself as well, in case it was
    migrated or changed by hand since: then it is seeded again."""
    found = database_head(db)
    if found == head:
        return True
    say(f"cached {db.kind} database {db.key} is at migration {found}, not {head}: seeding again")
    return False


def ensure_seeded(ctx: Context, db: Database) -> Database:
    """Seeds the database unless the cache already holds it at this
    checkout's migration head. A seed that stops half-way leaves only a
    `_part` copy, never a usable-looking one."""
    head = migration_head()
    if db.kind == "sqlite":
        target = Path(db.url.removeprefix("sqlite:///"))
        if target.exists() and cache_is_current(db, head):
            say(f"cached {db.kind} database {target.name}")
            return db
        target.parent.mkdir(parents=True, exist_ok=True)
        for old in target.parent.glob(f"{key_prefix(db.seed, db.scale)}*"):
            old.unlink()  # an older anchor or code version: no use any more
        partial = target.with_suffix(".part")
        partial.unlink(missing_ok=True)
        _seed(ctx, Database(db.kind, f"sqlite:///{partial}", db.key, db.seed, db.scale, db.anchor))
        partial.rename(target)
        return db
    names = pg_databases(db.admin_url)
    if db.key in names and cache_is_current(db, head):
        say(f"cached {db.kind} database {db.key}")
        return db
    stale = [n for n in names if n.startswith(key_prefix(db.seed, db.scale))]
    pg_execute(db.admin_url, *(f'DROP DATABASE IF EXISTS "{name}"' for name in stale))
    partial = f"{db.key}_part"
    pg_execute(db.admin_url, f'DROP DATABASE IF EXISTS "{partial}"', f'CREATE DATABASE "{partial}"')
    base = db.url.rsplit("/", 1)[0]
    _seed(ctx, Database(db.kind, f"{base}/{partial}", partial, db.seed, db.scale, db.anchor))
    pg_execute(db.admin_url, f'ALTER DATABASE "{partial}" RENAME TO "{db.key}"')
    return db


def _seed(ctx: Context, db: Database) -> None:
    say(f"seeding {db.kind} database {db.key} (scale {db.scale:g}); this is done once")
    env = db.env(ctx.instance)
    flask = str(BIN / "flask")
    run([flask, "db", "upgrade"], env, timeout=300, log=ctx.cache / "migrate.log")
    command = [flask, "--app", "benchmarks.app", "seed-bench"]
    command += ["--seed", str(db.seed), "--scale", str(db.scale)]
    command += ["--today", db.anchor.isoformat()]
    subprocess.run(command, env=env, cwd=ROOT, check=True, timeout=1800)


def copy_database(ctx: Context, source: Database, name: str) -> Database:
    """A scratch copy (for steps that write: the import, the invitations)."""
    if source.kind == "sqlite":
        target = ctx.cache / "scratch" / f"{name}.sqlite"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source.url.removeprefix("sqlite:///"), target)
        return Database(
            source.kind, f"sqlite:///{target}", name, source.seed, source.scale, source.anchor
        )
    pg_execute(
        source.admin_url,
        f'DROP DATABASE IF EXISTS "{name}"',
        # A template must have no other session: the in-process steps before
        # leave pooled connections to it (the app's data-version reader keeps
        # its own, market.core.versions), and CREATE DATABASE refused it.
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        f" WHERE datname = '{source.key}' AND pid <> pg_backend_pid()",
        f'CREATE DATABASE "{name}" TEMPLATE "{source.key}"',
    )
    base = source.url.rsplit("/", 1)[0]
    return Database(
        source.kind,
        f"{base}/{name}",
        name,
        source.seed,
        source.scale,
        source.anchor,
        source.admin_url,
    )


def drop_database(db: Database) -> None:
    if db.kind == "sqlite":
        Path(db.url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    else:
        pg_execute(db.admin_url, f'DROP DATABASE IF EXISTS "{db.key}" WITH (FORCE)')


def make_app(db: Database, instance: Path, extra: dict | None = None):
    """The real app against a bench database, in this process (for query
    counts and the in-process timings). CSRF stays on."""
    os.environ["MARKET_INSTANCE_PATH"] = str(instance)
    from market import create_app

    return create_app(
        {"SQLALCHEMY_DATABASE_URI": db.url, "SECRET_KEY": SECRET_KEY, **(extra or {})}
    )
