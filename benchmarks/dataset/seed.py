"""`flask --app benchmarks.app seed-bench`: ten years of a busy market, generated.

About 520 weekly markets over four venues, 2,000 vendors, 60,000
applications, 200,000 customers and 2,000,000 orders at scale 1.0, written
with bulk Core inserts in batches (never ORM objects one by one), so it takes
minutes on SQLite or PostgreSQL. The same seed, scale and anchor day give the
same rows (password hashes aside: their salt is random). Booths, attendance
and takings follow from the assigned applications (benchmarks.dataset.market_days);
the next market has a campaign of 10,000 invitations with their answers
(benchmarks.dataset.invitations).

It only fills an empty, migrated database: mixing generated rows with real
ones would make both useless."""

import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from datetime import date

import click
from flask import current_app
from sqlalchemy import event, func, insert, select, text

from benchmarks.dataset import generate
from benchmarks.dataset.generate import Plan
from benchmarks.dataset.invitations import seed_campaign
from benchmarks.dataset.market_days import seed_market_days
from market.accounts.models import Role, User
from market.config import is_production
from market.customers.models import Customer, Order, Suppression
from market.extensions import db
from market.markets.models import Market, Venue
from market.markets.services import default_ceiling, default_deadline
from market.timeutil import SEOUL, utcnow
from market.vendors.models import Application, Vendor

BATCH = 10_000
BENCH_PASSWORD = "bench-password-1234"
BENCH_USERS = (
    ("admin@bench.market.kr", "벤치 관리자", Role.ADMIN),
    ("staff@bench.market.kr", "벤치 운영자", Role.STAFF),
    ("vendor@bench.market.kr", "벤치 참여기업", Role.VENDOR),  # acts for vendor 1
)
# Tables whose ids the seed gives itself (PostgreSQL sequences are moved past them).
ID_TABLES = (
    "venues",
    "markets",
    "vendors",
    "applications",
    "customers",
    "orders",
    "invitation_sends",
    "control_customers",
    "outbox_messages",
    "invitations",
)

Echo = Callable[[str], None]


class BenchSeedError(click.ClickException):
    pass


class Progress:
    """Prints a line per table, and for big tables about every tenth part."""

    def __init__(self, echo: Echo):
        self.echo = echo
        self.started = time.perf_counter()

    def elapsed(self) -> str:
        return f"{time.perf_counter() - self.started:6.1f} s"

    def step(self, label: str, done: int, total: int) -> None:
        self.echo(f"[{self.elapsed()}] {label:<13} {done:>10,} / {total:,}")


def seed_bench(seed: int, scale: float, today: date | None = None, echo: Echo = click.echo) -> Plan:
    if not database_is_empty():
        raise BenchSeedError(
            "seed-bench fills an empty, migrated database only; this one has data."
        )
    plan = Plan.make(seed, scale, today or utcnow().astimezone(SEOUL).date())
    echo(
        f"seed-bench: seed {plan.seed}, scale {plan.scale:g}, anchored on {plan.today}; "
        f"database {db.engine.dialect.name}"
    )
    progress = Progress(echo)
    with _fast_sqlite():
        _load(plan, progress, echo)
    echo(f"[{progress.elapsed()}] done: {', '.join(f'{k} {v:,}' for k, v in counts().items())}")
    return plan


def _load(plan: Plan, progress: Progress, echo: Echo) -> None:
    config = current_app.config
    _write(Venue, generate.venue_rows(plan), "venues", 4, progress)
    markets = generate.market_rows(
        plan, default_deadline, default_ceiling(), config["CALENDAR_UID_DOMAIN"]
    )
    _write(Market, markets, "markets", len(markets), progress)
    vendors = generate.vendor_rows(plan)
    _write(Vendor, vendors, "vendors", len(vendors), progress)
    _users(plan)
    progress.step("users", len(BENCH_USERS), len(BENCH_USERS))
    applications = generate.application_rows(plan, markets, vendors)
    _write(Application, applications, "applications", len(applications), progress)
    suppressions: list[dict] = []
    customers = _noting_unsubscribed(
        generate.customer_rows(plan, config["CONSENT_WORDING_VERSION"]), suppressions
    )
    _write(Customer, customers, "customers", plan.customers, progress)
    _write(Suppression, suppressions, "suppressions", len(suppressions), progress)
    names = [vendor["name"] for vendor in vendors]
    _write(Order, generate.order_rows(plan, names), "orders", plan.orders, progress)
    echo(f"[{progress.elapsed()}] {seed_market_days(plan)}")
    staff = db.session.scalar(select(User.id).where(User.email == BENCH_USERS[1][0]))
    echo(f"[{progress.elapsed()}] {seed_campaign(plan, staff)}")
    _after_load()


@contextmanager
def _fast_sqlite():
    """SQLite: a page cache big enough for the order indexes (random keys
    otherwise thrash the default 2 MB) and no fsync per batch, for this
    load only. A crash half-way leaves a database nobody should use anyway."""
    if db.engine.dialect.name != "sqlite":
        yield
        return

    def pragmas(connection, _record):
        cursor = connection.cursor()
        cursor.execute("PRAGMA cache_size = -262144")  # 256 MiB
        cursor.execute("PRAGMA synchronous = OFF")
        cursor.close()

    db.session.remove()
    db.engine.dispose()
    event.listen(db.engine, "connect", pragmas)
    try:
        yield
    finally:
        db.session.remove()
        event.remove(db.engine, "connect", pragmas)
        db.engine.dispose()


def database_is_empty() -> bool:
    return not any(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (User, Venue, Market, Vendor, Customer, Order)
    )


def _write(model, rows: Iterable[dict], label: str, total: int, progress: Progress) -> int:
    """Bulk INSERTs of BATCH rows, a commit after each. Through the Table
    (Core), not the ORM's bulk path, which was 7x slower on PostgreSQL."""
    done, batch, shown = 0, [], 0
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            db.session.execute(insert(model.__table__), batch)
            db.session.commit()
            done, batch = done + len(batch), []
            if total >= 10 * BATCH and done * 10 // total > shown:
                shown = done * 10 // total
                progress.step(label, done, total)
    if batch:
        db.session.execute(insert(model.__table__), batch)
        db.session.commit()
        done += len(batch)
    if shown < 10:
        progress.step(label, done, total)
    return done


def _noting_unsubscribed(customers: Iterable[dict], suppressions: list[dict]):
    """Unsubscribed customers are on the suppression list, as unsubscribing does."""
    for customer in customers:
        if customer["unsubscribed_at"] is not None:
            suppressions.append(
                {
                    "email_hash": customer["email_hash"],
                    "reason": "unsubscribed",
                    "created_at": customer["unsubscribed_at"],
                }
            )
        yield customer


def _users(plan: Plan) -> None:
    created = plan.moment(plan.today.replace(day=1))
    for email, name, role in BENCH_USERS:
        user = User(
            email=email,
            name=name,
            role=role,
            active=True,
            created_at=created,
            email_confirmed_at=created,  # from the seed, not the clock
            vendor_id=1 if role is Role.VENDOR else None,
        )
        user.set_password(BENCH_PASSWORD)
        db.session.add(user)
    db.session.commit()


def _after_load() -> None:
    """PostgreSQL: sequences past the given ids, then VACUUM ANALYZE: the
    statistics and visibility map autovacuum would soon make on a real server
    (without them the planner guesses and index-only scans are not)."""
    if db.engine.dialect.name != "postgresql":
        return
    for table in ID_TABLES:
        db.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            )
        )
    db.session.commit()
    with db.engine.connect() as connection:  # VACUUM runs outside a transaction
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))


def counts() -> dict[str, int]:
    models = {
        "markets": Market,
        "vendors": Vendor,
        "applications": Application,
        "customers": Customer,
        "orders": Order,
    }
    return {
        name: db.session.scalar(select(func.count()).select_from(model))
        for name, model in models.items()
    }


@click.command("seed-bench")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same data.")
@click.option(
    "--scale",
    type=click.FloatRange(min=0.0001, max=10),
    default=1.0,
    show_default=True,
    help="1.0: ten years, 2,000 vendors, 2,000,000 orders; 0.1 a tenth of the rows.",
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The day the data is anchored on (default: today in Korea).",
)
def seed_bench_command(seed: int, scale: float, today) -> None:
    """Fill an empty database with a large generated data set for benchmarks."""
    if is_production(current_app.config):
        raise click.ClickException(
            "seed-bench does not run with MARKET_ENV=production: it fills the database with "
            f"generated vendors, customers and logins whose password is {BENCH_PASSWORD}."
        )
    seed_bench(seed, scale, today.date() if today else None)
    click.echo(f"Bench logins (password {BENCH_PASSWORD}):")
    for email, _name, role in BENCH_USERS:
        click.echo(f"  {role.value:<7} {email}")
