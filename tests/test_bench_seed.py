"""`flask seed-bench` at a tiny scale: the counts it promises, rows that the
pages can use, and the same seed giving the same data."""

import hashlib
from datetime import date

import pytest
from sqlalchemy import BigInteger, String, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

import market.models
from market.accounts.models import User
from market.bench.generate import Plan
from market.bench.seed import BENCH_USERS, counts
from market.customers.models import Customer, Order, Suppression
from market.extensions import db
from market.markets.models import Market, MarketStatus
from market.vendors.models import Application, ApplicationStatus, Vendor, VendorStatus
from tests.conftest import _empty_all_tables

TODAY = date(2026, 6, 1)
SCALE = 0.002
# Random by design (password salts) or set when someone logs in.
UNSTABLE = {("users", "password_hash"), ("users", "last_login_at")}


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


def test_areas_not_built_yet_are_skipped_and_said_so(runner):
    output = seed(runner)
    if not hasattr(market.models, "Booth"):
        assert "booths and attendance: not available yet" in output
    if not hasattr(market.models, "Takings"):
        assert "takings: not available yet" in output


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


class _Probe(DeclarativeBase):
    """Stand-ins for the booths and takings models, outside the app's metadata."""


class ProbeBooth(_Probe):
    __tablename__ = "bench_probe_booths"
    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[int]
    vendor_id: Mapped[int]
    number: Mapped[int]
    attendance: Mapped[str | None] = mapped_column(String(16))


class ProbeTakings(_Probe):
    __tablename__ = "bench_probe_takings"
    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[int]
    vendor_id: Mapped[int]
    amount: Mapped[int] = mapped_column(BigInteger)


class ProbeTakingsNeedsMore(_Probe):
    __tablename__ = "bench_probe_takings_more"
    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[int]
    vendor_id: Mapped[int]
    amount: Mapped[int]
    entered_by: Mapped[int]  # nothing the seed knows how to fill


@pytest.fixture
def probe_tables(app):
    _Probe.metadata.create_all(db.engine)
    yield
    db.session.remove()
    _Probe.metadata.drop_all(db.engine)


def test_booths_and_takings_are_seeded_once_their_models_exist(runner, monkeypatch, probe_tables):
    monkeypatch.setattr(market.models, "Booth", ProbeBooth, raising=False)
    monkeypatch.setattr(market.models, "Takings", ProbeTakings, raising=False)
    output = seed(runner)
    assert "booths: " in output and "takings: " in output and "not available" not in output
    booths = db.session.execute(
        select(ProbeBooth.market_id, ProbeBooth.vendor_id, ProbeBooth.number)
    ).all()
    assigned = db.session.execute(
        select(Application.market_id, Application.vendor_id).where(
            Application.status == ApplicationStatus.ASSIGNED
        )
    ).all()
    assert {(m, v) for m, v, _ in booths} == set(assigned)
    for market_id in {m for m, _, _ in booths}:
        numbers = sorted(n for m, _, n in booths if m == market_id)
        assert numbers == list(range(1, len(numbers) + 1))
    assert {a for (a,) in db.session.execute(select(ProbeBooth.attendance))} >= {"present"}
    per_market = db.session.execute(
        select(ProbeTakings.market_id, func.sum(ProbeTakings.amount)).group_by(
            ProbeTakings.market_id
        )
    ).all()
    assert per_market
    ceilings = dict(db.session.execute(select(Market.id, Market.takings_ceiling)).all())
    assert all(0 < total <= ceilings[market_id] for market_id, total in per_market)


def test_a_model_with_unknown_required_columns_is_skipped_and_named(
    runner, monkeypatch, probe_tables
):
    monkeypatch.setattr(market.models, "Takings", ProbeTakingsNeedsMore, raising=False)
    output = seed(runner)
    assert "takings: the Takings model needs ['entered_by']" in output
    assert db.session.scalar(select(func.count()).select_from(ProbeTakingsNeedsMore)) == 0
