"""`flask --app benchmarks.app seed-bench` at a tiny scale: the counts it
promises, rows that the pages can use, and the same seed giving the same data."""

import hashlib
from datetime import date

import pytest
from sqlalchemy import func, select

from benchmarks.app import register_bench_commands
from benchmarks.dataset.generate import Plan
from benchmarks.dataset.seed import BENCH_USERS, counts
from market.accounts.models import User
from market.booths.models import Attendance, Booth
from market.customers.models import Customer, Order, Suppression
from market.extensions import db
from market.markets.models import Market, MarketStatus
from market.takings.models import Takings
from market.vendors.models import Application, ApplicationStatus, Vendor, VendorStatus
from tests.conftest import _empty_all_tables

TODAY = date(2026, 6, 1)
SCALE = 0.002
# Random by design (password salts) or set when someone logs in.
UNSTABLE = {("users", "password_hash"), ("users", "last_login_at")}


@pytest.fixture
def runner(app):
    """The test app's CLI with the command benchmarks.app adds (the
    production CLI has no seed-bench)."""
    register_bench_commands(app)
    return app.test_cli_runner()


def seed(runner, seed: int = 1):
    result = runner.invoke(
        args=["seed-bench", "--seed", str(seed), "--scale", str(SCALE), "--today", str(TODAY)]
    )
    assert result.exit_code == 0, result.output
    return result.output


def digest() -> str:
    """Every row of every table, in primary-key order."""
    hasher = hashlib.sha256()
    for table in db.metadata.sorted_tables:
        columns = [
            c
            for c in table.columns
            if (table.name, c.name) not in UNSTABLE
            # stamped at insert time (utcnow), not generated from the seed
            and not (c.default is not None and c.default.is_callable)
        ]
        rows = db.session.execute(select(*columns).order_by(*table.primary_key.columns))
        for row in rows:
            hasher.update(repr((table.name, tuple(row))).encode())
    return hasher.hexdigest()


def test_counts_match_the_plan(runner):
    output = seed(runner)
    plan = Plan.make(1, SCALE, TODAY)
    assert counts() == {
        "markets": plan.markets,
        "vendors": plan.vendors,
        "applications": plan.applications,
        "customers": plan.customers,
        "orders": plan.orders,
    }
    assert db.session.scalar(select(func.count()).select_from(User)) == len(BENCH_USERS)
    assert "orders" in output and "done:" in output


def test_rows_serve_the_benchmark_pages(runner):
    seed(runner)
    statuses = set(db.session.scalars(select(Market.status)))
    assert {MarketStatus.CLOSED, MarketStatus.ASSIGNED, MarketStatus.OPEN} <= statuses
    next_market = db.session.scalar(
        select(Market).where(Market.market_date >= TODAY).order_by(Market.market_date)
    )
    assert next_market.status is MarketStatus.ASSIGNED
    assigned = db.session.scalar(
        select(func.count()).where(
            Application.market_id == next_market.id,
            Application.status == ApplicationStatus.ASSIGNED,
        )
    )
    assert 0 < assigned <= next_market.booth_count
    vendor_login = db.session.scalar(select(User).where(User.email == "vendor@bench.market.kr"))
    assert db.session.get(Vendor, vendor_login.vendor_id).status is VendorStatus.APPROVED
    # every order has a customer; unsubscribed customers are on the suppression list
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(Order)
            .where(Order.customer_id.not_in(select(Customer.id)))
        )
        == 0
    )
    unsubscribed = db.session.scalar(
        select(func.count()).where(Customer.unsubscribed_at.is_not(None))
    )
    assert db.session.scalar(select(func.count()).select_from(Suppression)) == unsubscribed


def test_booths_attendance_and_takings_follow_the_assigned_applications(runner):
    output = seed(runner)
    assert "booths: " in output and "takings: " in output
    booths = db.session.execute(
        select(Booth.market_id, Booth.vendor_id, Booth.number, Booth.application_id)
    ).all()
    assigned = db.session.execute(
        select(Application.id, Application.market_id, Application.vendor_id).where(
            Application.status == ApplicationStatus.ASSIGNED
        )
    ).all()
    assert {(m, v, a) for m, v, _, a in booths} == {(m, v, a) for a, m, v in assigned}
    for market_id in {m for m, *_ in booths}:
        numbers = sorted(n for m, _, n, _ in booths if m == market_id)
        assert numbers == list(range(1, len(numbers) + 1))
    held = set(
        db.session.scalars(
            select(Market.id).where(Market.status.in_([MarketStatus.HELD, MarketStatus.CLOSED]))
        )
    )
    with_attendance = {
        m
        for (m,) in db.session.execute(select(Booth.market_id).where(Booth.attendance.is_not(None)))
    }
    assert with_attendance and with_attendance <= held
    # takings only for vendors present, within each market's ceiling
    present = set(
        db.session.execute(
            select(Booth.market_id, Booth.vendor_id).where(Booth.attendance == Attendance.PRESENT)
        ).all()
    )
    entries = db.session.execute(select(Takings.market_id, Takings.vendor_id)).all()
    assert entries and set(entries) <= present
    ceilings = dict(db.session.execute(select(Market.id, Market.takings_ceiling)).all())
    per_market = db.session.execute(
        select(Takings.market_id, func.sum(Takings.amount)).group_by(Takings.market_id)
    ).all()
    assert all(0 < total <= ceilings[market_id] for market_id, total in per_market)


def test_same_seed_same_data_other_seed_other_data(runner):
    seed(runner, 1)
    first = digest()
    db.session.remove()
    _empty_all_tables()
    seed(runner, 1)
    assert digest() == first
    db.session.remove()
    _empty_all_tables()
    seed(runner, 2)
    assert digest() != first


def test_refuses_a_database_with_data(runner):
    seed(runner)
    result = runner.invoke(args=["seed-bench", "--scale", str(SCALE)])
    assert result.exit_code != 0
    assert "empty" in result.output


def test_the_sales_report_pages_have_both_channels_to_add_up(runner, app, client):
    """The bench's 판로지원 실적 rows (benchmarks.pages) do real work: takings
    at the market and orders matched to enterprises, next to unmatched ones."""
    from benchmarks.dataset.seed import BENCH_PASSWORD
    from benchmarks.pages import page_list
    from market.sales.figures import monthly_channels

    seed(runner)
    first = db.session.scalar(select(func.min(Market.market_date)))
    months = monthly_channels(first, TODAY)
    assert sum(month.offline for month in months) > 0
    assert sum(month.online for month in months) > 0
    matched = db.session.scalar(select(func.count()).where(Order.vendor_id.is_not(None)))
    assert 0 < matched < db.session.scalar(select(func.count()).select_from(Order))
    pages = {page.key: page for page in page_list(app, TODAY)}
    assert {"sales-year", "sales-all", "vendor"} <= set(pages)
    assert all(pages[key].target == 8 for key in ("sales-year", "sales-all", "vendor"))
    for role in ("staff", "vendor"):
        client.post(
            "/account/login",
            data={"email": f"{role}@bench.market.kr", "password": BENCH_PASSWORD},
        )
        for page in pages.values():
            if page.login == role:
                assert client.get(page.path).status_code == 200, page.path
        client.post("/account/logout")
