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
# data_versions (market.core.versions, cached pages) is a random value per change by design.
UNSTABLE = {
    ("users", "password_hash"),
    ("users", "last_login_at"),
    ("data_versions", "version"),
}


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


# -- issue 20: the invitation campaign, the RSVP page, the anchor, the profiles --


def test_the_next_market_has_a_campaign_of_invitations(runner):
    """Sends of at most MAX_BATCH chosen customers each with their 10 %
    control group, one invitation and one mail per invited customer, answers
    in a mix, nothing queued (no worker would ever send placeholder mail)."""
    from benchmarks.dataset.invitations import invitation_count, next_market_id, pending_token
    from market.invitations.models import (
        ControlCustomer,
        Invitation,
        InvitationSend,
        InvitationStatus,
    )
    from market.invitations.sending import DEFAULT_CONTROL_PERCENT, MAX_BATCH
    from market.outbox.models import OutboxMessage, OutboxStatus

    output = seed(runner)
    assert "invitations: " in output
    market_id = next_market_id(TODAY)
    invitations = db.session.scalars(select(Invitation)).all()
    assert len(invitations) == invitation_count(Plan.make(1, SCALE, TODAY))
    assert {i.market_id for i in invitations} == {market_id}
    assert (
        len({i.token for i in invitations})
        == len({i.pass_code for i in invitations})
        == len(invitations)
    )
    sends = db.session.scalars(select(InvitationSend)).all()
    assert sends and all(s.market_id == market_id and s.chosen <= MAX_BATCH for s in sends)
    assert all(s.held_back == s.chosen * DEFAULT_CONTROL_PERCENT // 100 for s in sends)
    assert sum(s.invited for s in sends) == len(invitations)
    held = set(db.session.scalars(select(ControlCustomer.customer_id)))
    assert len(held) == sum(s.held_back for s in sends) > 0
    assert not held & {i.customer_id for i in invitations}
    statuses = {i.status for i in invitations}
    assert InvitationStatus.INVITED in statuses and len(statuses) > 1
    mails = dict(db.session.execute(select(OutboxMessage.id, OutboxMessage.status)).all())
    assert {i.outbox_message_id for i in invitations} == set(mails)
    assert OutboxStatus.QUEUED not in mails.values()
    assert all(i.answered_at is None or i.delivered_at is not None for i in invitations)
    assert pending_token(TODAY) is not None


def test_every_bench_page_answers_with_the_campaign_seeded(runner, app, client):
    """The anonymous pages too: the RSVP page of a pending invitation, the
    feed's 304; the staff and vendor pages with the campaign in place, and
    the targets of issue 20 on the rows."""
    from benchmarks.dataset.seed import BENCH_PASSWORD
    from benchmarks.pages import page_list

    seed(runner)
    pages = {page.key: page for page in page_list(app, TODAY)}
    assert pages["rsvp"].path and pages["rsvp"].path.startswith("/i/")
    assert "season" in pages and pages["season"].login == "staff"
    targets = {key: page.target for key, page in pages.items()}
    assert {k: targets[k] for k in ("schedule", "market", "rsvp")} == dict.fromkeys(
        ("schedule", "market", "rsvp"), 3
    )
    assert targets["feed"] == targets["feed304"] == 2
    assert {targets[k] for k in ("dashboard", "booths", "ranking", "vendor", "season")} == {8}
    assert targets["report"] == 20
    for page in pages.values():
        if page.login is None:
            headers = {}
            if page.note == "etag":
                headers["If-None-Match"] = client.get(page.path).headers["ETag"]
            assert client.get(page.path, headers=headers).status_code == page.expect, page.path
    for role in ("staff", "vendor"):
        client.post(
            "/account/login",
            data={"email": f"{role}@bench.market.kr", "password": BENCH_PASSWORD},
        )
        for page in pages.values():
            if page.login == role:
                assert client.get(page.path).status_code == page.expect, page.path
        client.post("/account/logout")


def test_the_scratch_copy_can_drop_the_campaign(runner):
    """The invitation benchmark starts from the small twin without it."""
    from benchmarks.dataset.invitations import remove_campaign
    from market.invitations.models import ControlCustomer, Invitation, InvitationSend
    from market.outbox.models import OutboxMessage

    seed(runner)
    assert remove_campaign() > 0
    for model in (Invitation, ControlCustomer, InvitationSend, OutboxMessage):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0


def test_the_anchor_gives_the_apps_next_market_all_week():
    """Every day of a week, the first market on or after the anchor is the
    first on or after that day: the market the dashboard and the RSVP page
    treat as next (with a Monday anchor, Friday to Sunday it was not)."""
    from datetime import timedelta

    from benchmarks.common import anchor_day
    from benchmarks.dataset.generate import market_days

    for offset in range(14):
        day = date(2026, 11, 27) + timedelta(days=offset)
        anchor = anchor_day(day)
        assert anchor.weekday() == 4 and 0 <= (day - anchor).days < 7
        days = market_days(Plan.make(1, SCALE, anchor))
        first_from_anchor = next(d for d in days if d >= anchor)
        assert first_from_anchor == next(d for d in days if d >= day), day


def test_a_cached_database_at_another_migration_is_seeded_again(tmp_path):
    from sqlalchemy import create_engine, text

    from benchmarks.common import Database, cache_is_current

    head = "0019_x"  # the checkout's newest migration (migration_head()), say
    path = tmp_path / "cached.sqlite"
    cached = Database("sqlite", f"sqlite:///{path}", "cached", 1, 0.01, TODAY)
    engine = create_engine(cached.url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
        connection.execute(text("INSERT INTO alembic_version VALUES ('0001')"))
    assert not cache_is_current(cached, head)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
    engine.dispose()
    assert cache_is_current(cached, head)
    assert not cache_is_current(
        Database("sqlite", f"sqlite:///{tmp_path / 'none.sqlite'}", "none", 1, 0.01, TODAY), head
    )


def test_the_bench_names_the_one_migration_head_or_refuses_several():
    """Several heads (new migrations on the same parent, not chained yet)
    cannot be upgraded to: the bench says so before seeding anything."""
    from alembic.script import ScriptDirectory

    from benchmarks.common import ROOT, migration_head

    heads = ScriptDirectory(str(ROOT / "market" / "migrations")).get_heads()
    if len(heads) == 1:
        assert migration_head() == heads[0]
    else:
        with pytest.raises(RuntimeError, match="chain them") as refused:
            migration_head()
        assert all(head in str(refused.value) for head in heads)


def test_the_profile_of_a_page_names_where_its_time_goes(runner, app, client):
    """benchmarks.profiles on the RSVP page: the frames with the most own
    time, and this project's frames below the view, with file:line and a
    share; report.py puts them in the second table."""
    from benchmarks import report
    from benchmarks.pages import page_list
    from benchmarks.profiles import profile, view_location

    seed(runner)
    page = next(p for p in page_list(app, TODAY) if p.key == "rsvp")

    def render():
        assert client.get(page.path).status_code == 200

    found = profile(render, view_location(app, page.path), budget=0.3)
    assert found["renders"] >= 1 and found["plain_ms"] > 0
    assert found["own"] and all(
        0 <= f["percent"] <= 100 and ":" in f["where"] for f in found["own"]
    )
    assert all(f["where"].startswith(("market/", "templates/")) for f in found["cumulative"])
    lines = report.profile_table(
        [{"kind": "sqlite", "profile": [{"key": "rsvp", "title": page.title, **found}]}]
    )
    assert any(line.startswith(f"| {page.title} | SQLite |") for line in lines)
    assert "### Where the time goes" in lines
