"""The stored customer ranking of the invitations page: computed the first
time, read (never re-ranked) on later views, replaced by "calculate again",
one per market and options even when two staff press the button at once."""

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from market.accounts.models import Role
from market.customers import services as customer_services
from market.customers.models import CustomerImport, ImportStatus
from market.extensions import db
from market.invitations import answers, snapshots
from market.invitations.models import Invitation, RankingSnapshot, RankingSnapshotRow
from market.invitations.ranking import RankingOptions, rank_customers
from market.markets.models import Market
from market.timeutil import format_seoul, utcnow
from tests.conftest import is_postgres
from tests.test_invitations import make_customer, make_order
from tests.test_invitations_pages import (
    DEFAULTS,
    in_english,
    make_buyers,
    page_url,
    upcoming_market,
)


@pytest.fixture
def market(app):
    return upcoming_market()


@pytest.fixture
def buyers(app, market):
    return make_buyers(market)


def snapshot_count() -> int:
    return db.session.scalar(select(func.count()).select_from(RankingSnapshot))


def recalculate(client, market, **options):
    return client.post(page_url(market) + "/ranking", data={**DEFAULTS, **options})


def new_big_spender(email="big@example.com", name="박큰손", amount=5_000_000):
    customer = make_customer(email, name)
    make_order(customer, amount, utcnow() - timedelta(days=2))
    db.session.commit()
    return customer


def test_first_view_computes_and_stores_the_ranking(client, staff, login_as, market, buyers):
    hana, dul, _silent = buyers
    login_as(staff)
    in_english(client)
    assert snapshot_count() == 0
    html = client.get(page_url(market)).text
    snapshot = db.session.scalars(select(RankingSnapshot)).one()
    assert (snapshot.market_id, snapshot.top_n, snapshot.window_days) == (market.id, 50, 365)
    assert snapshot.computed_by_id == staff.id
    rows = db.session.scalars(select(RankingSnapshotRow).order_by(RankingSnapshotRow.rank)).all()
    assert [(r.rank, r.customer_id, r.total, r.orders) for r in rows] == [
        (1, hana.id, 1_234_567, 2),
        (2, dul.id, 500_000, 1),
    ]
    assert f"Calculated on {format_seoul(snapshot.computed_at)} by {staff.name}." in html
    assert "Orders imported later are not included until you calculate again." in html
    assert html.index("김하나") < html.index("이둘") and "₩1,234,567" in html
    assert f'action="/staff/markets/{market.id}/invitations/ranking"' in html


def test_snapshot_matches_the_live_ranking(app, market, buyers):
    options = RankingOptions(top_n=10, min_orders=1)
    now = utcnow()
    assert snapshots.compute(market, options, None, now)
    db.session.commit()
    stored = snapshots.latest(market, options)
    live = rank_customers(market, options, now)
    assert [(r.rank, r.customer_id, r.total, r.orders) for r in stored.rows] == [
        (r.rank, r.customer_id, r.total, r.orders) for r in live
    ]
    assert stored.computed_at == now and stored.computed_by is None
    assert [r.last_order_at for r in stored.rows] == [r.last_order_at for r in live]


def test_later_views_read_the_snapshot_and_do_not_rank(
    client, staff, login_as, market, buyers, count_queries
):
    login_as(staff)
    in_english(client)
    url = page_url(market)
    client.get(url)
    with count_queries() as small:
        client.get(url)
    for n in range(40):
        make_order(make_customer(f"more{n}@example.com", f"고객{n}"), 1000 + n, utcnow())
    new_big_spender()
    with count_queries() as larger:
        html = client.get(url).text
    assert "박큰손" not in html, "ranked before this customer was imported"
    assert larger.count == small.count, larger.statements
    assert not [s for s in larger.statements if "sum(" in s.lower()], "no aggregate on GET"
    assert snapshot_count() == 1


def test_calculate_again_replaces_the_snapshot(client, staff, login_as, market, buyers):
    login_as(staff)
    in_english(client)
    client.get(page_url(market))
    first = db.session.scalars(select(RankingSnapshot.computed_at)).one()
    new_big_spender()
    response = recalculate(client, market)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        page_url(market, top_n=50, window_days=365, min_orders=1, skip_weeks=0)
    )
    html = client.get(response.headers["Location"]).text
    assert "The ranking was calculated again." in html
    assert html.index("박큰손") < html.index("김하나")
    assert db.session.scalar(select(RankingSnapshot.computed_at)) > first
    assert snapshot_count() == 1
    assert db.session.scalar(select(func.count()).select_from(RankingSnapshotRow)) == 3


def test_each_set_of_options_keeps_its_own_snapshot(client, staff, login_as, market, buyers):
    login_as(staff)
    in_english(client)
    client.get(page_url(market))
    html = client.get(page_url(market, top_n=1, window_days=365, min_orders=1, skip_weeks=0)).text
    assert "김하나" in html and "이둘" not in html
    assert snapshot_count() == 2
    recalculate(client, market, top_n=1, assigned_only="y")
    assert snapshot_count() == 3
    options = db.session.execute(
        select(RankingSnapshot.top_n, RankingSnapshot.assigned_vendors_only).order_by(
            RankingSnapshot.id
        )
    ).all()
    assert options == [(50, False), (1, False), (1, True)]


def test_bad_options_get_a_clear_message_and_no_snapshot(client, staff, login_as, market):
    login_as(staff)
    in_english(client)
    response = recalculate(client, market, top_n=0, window_days="abc")
    assert response.status_code == 303
    html = client.get(response.headers["Location"]).text
    assert "The ranking was not calculated. Correct the options:" in html
    assert "How many customers: Enter a number from 1 to 1000." in html
    assert "Orders from the last … days:" in html
    assert "Correct the options above to see the ranking." in html
    assert snapshot_count() == 0


@pytest.mark.parametrize("role", [None, Role.VENDOR])
def test_only_staff_can_calculate(client, make_user, login_as, market, buyers, role):
    if role:
        login_as(make_user(role))
    response = recalculate(client, market)
    if role is None:
        assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    else:
        assert response.status_code == 403 and "김하나" not in response.text
    assert snapshot_count() == 0


def test_the_page_says_when_orders_were_imported_since(client, staff, login_as, market, buyers):
    login_as(staff)
    in_english(client)
    client.get(page_url(market))
    computed_at = utcnow() - timedelta(hours=1)  # as if computed an hour ago
    db.session.execute(update(RankingSnapshot).values(computed_at=computed_at))
    for status, finished in (
        (ImportStatus.DONE, computed_at - timedelta(minutes=5)),
        (ImportStatus.FAILED, computed_at + timedelta(minutes=5)),
    ):
        db.session.add(_import(status, finished))
    db.session.commit()
    assert "Orders were imported after" not in client.get(page_url(market)).text
    finished = computed_at + timedelta(minutes=7)
    db.session.add(_import(ImportStatus.DONE, finished))
    db.session.commit()
    html = client.get(page_url(market)).text
    assert (
        f"Orders were imported after this ranking was calculated (finished "
        f"{format_seoul(finished)}); they are not in it. Calculate again" in html
    )
    recalculate(client, market)
    assert "Orders were imported after" not in client.get(page_url(market)).text


def _import(status: ImportStatus, finished) -> CustomerImport:
    return CustomerImport(
        filename="orders.csv",
        stored_path="/nowhere/orders.csv",
        size_bytes=10,
        status=status,
        finished_at=finished,
    )


def test_consent_is_checked_live_not_taken_from_the_snapshot(
    client, staff, login_as, market, buyers
):
    hana, dul, _silent = buyers
    login_as(staff)
    in_english(client)
    client.get(page_url(market))
    answers.unsubscribe(hana, utcnow(), source="page")
    db.session.commit()
    html = client.get(page_url(market)).text
    assert "Left out because they no longer accept advertising: 1." in html
    assert "김하나" not in html and f'name="customer_id" value="{hana.id}"' not in html
    assert f'name="customer_id" value="{dul.id}"' in html
    # a stale form (or a hand-made POST) still cannot invite her
    url = f"/staff/markets/{market.id}/invitations/send"
    client.post(url, data={"customer_id": [hana.id, dul.id], "confirmed": "yes"})
    invited = db.session.scalars(select(Invitation.customer_id)).all()
    assert invited == [dul.id]
    assert "Not invited: on the suppression list: 1" in client.get(page_url(market)).text


def test_purging_customers_removes_them_from_snapshots(app, market, buyers):
    snapshots.compute(market, RankingOptions(), None, utcnow())
    db.session.commit()
    customer_services.purge_inactive(10, now=utcnow() + timedelta(days=100))
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(RankingSnapshotRow)) == 0
    assert snapshots.latest(market, RankingOptions()).rows == []


def test_a_lost_race_keeps_the_other_snapshot(client, staff, login_as, market, buyers, monkeypatch):
    """As if another request saved its snapshot between our delete and our
    insert: the unique constraint refuses ours, theirs stays, no error."""
    login_as(staff)
    in_english(client)
    client.get(page_url(market))
    theirs = db.session.scalar(select(RankingSnapshot.id))
    monkeypatch.setattr(snapshots, "_delete_previous", lambda market, options: None)
    response = recalculate(client, market)
    assert response.status_code == 303
    html = client.get(response.headers["Location"]).text
    assert "Someone else calculated this ranking at the same moment; theirs is shown." in html
    assert db.session.scalars(select(RankingSnapshot.id)).all() == [theirs]
    assert "김하나" in html


def test_two_staff_calculating_at_once_leave_one_snapshot(app, market, buyers):
    """A real second transaction holds a new snapshot for the same options
    (not yet committed) while this one computes; it commits; ours must give
    way, not crash and not leave two."""
    options = RankingOptions()
    market_id = market.id
    other = Session(db.engine)
    other.add(
        RankingSnapshot(
            market_id=market_id,
            computed_at=utcnow(),
            **{name: getattr(options, name) for name in snapshots.OPTION_COLUMNS},
        )
    )
    other.flush()
    outcome = {}

    def ours():
        with app.app_context():
            try:
                here = db.session.get(Market, market_id)
                outcome["saved"] = snapshots.compute(here, options, None, utcnow())
                db.session.commit()
            except Exception as error:  # reported below
                outcome["error"] = error
            finally:
                db.session.remove()

    thread = threading.Thread(target=ours)
    thread.start()
    _wait_until_blocked(other)
    other.commit()
    other.close()
    thread.join(timeout=30)
    assert "error" not in outcome, outcome
    assert snapshot_count() == 1
    if is_postgres():
        assert outcome["saved"] is False, "PostgreSQL: the unique index made ours give way"


def _wait_until_blocked(other: Session) -> None:
    """Until the thread waits on the other transaction's lock (PostgreSQL),
    or a moment (SQLite: the thread waits for the write lock)."""
    if not is_postgres():
        time.sleep(0.5)
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with db.engine.connect() as watcher:
            waiting = watcher.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            )
        if waiting:
            return
        time.sleep(0.05)
    raise AssertionError("the second transaction never waited")
