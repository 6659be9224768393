"""The database keeps the booth rules by itself, and two staff acting at once
leave one consistent result and a clear message for the other.

The races run on every database the suite runs on where they can: on
PostgreSQL the market row lock (SELECT … FOR UPDATE) and the unique indexes
make the second transaction wait; on SQLite the early write lock does. The
raw unique-index race needs row-level concurrency and runs on PostgreSQL only
(`make test` runs the suite there too)."""

import os
import threading
import time
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from market.booths import changes, services
from market.booths.models import Booth
from market.core.rules import flush_or_refuse
from market.extensions import db
from market.outbox.models import OutboxMessage
from market.vendors.applications import staff_set_status
from market.vendors.models import Application, ApplicationStatus
from tests.booths_factories import applicants, open_market
from tests.markets_factories import make_venue

ON_POSTGRES = (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql")
# PostgreSQL names the constraint, SQLite the columns.
SAME_BOOTH = r"uq_booths_market_number|booths\.market_id, booths\.number"
SAME_VENDOR = r"uq_booths_market_vendor|booths\.market_id, booths\.vendor_id"


@pytest.fixture
def market(app):
    market = open_market(booths=4, venue=make_venue("경기남부경찰청", 8))
    applicants(market, 6)
    return market


def _booth(market, number: int, application: Application) -> Booth:
    return Booth(
        market_id=market.id,
        number=number,
        vendor_id=application.vendor_id,
        application_id=application.id,
    )


# -- constraints ---------------------------------------------------------------------


def test_the_database_refuses_two_vendors_in_one_booth(market):
    first, second = db.session.scalars(select(Application).limit(2)).all()
    db.session.add(_booth(market, 1, first))
    db.session.commit()
    db.session.add(_booth(market, 1, second))
    with pytest.raises(IntegrityError, match=SAME_BOOTH):
        db.session.commit()
    db.session.rollback()


def test_the_database_refuses_one_vendor_in_two_booths(market):
    application, other = db.session.scalars(select(Application).limit(2)).all()
    db.session.add(_booth(market, 1, application))
    db.session.commit()
    twice = _booth(market, 2, other)
    twice.vendor_id = application.vendor_id  # the same vendor again, whatever the code did
    db.session.add(twice)
    with pytest.raises(IntegrityError, match=SAME_VENDOR):
        db.session.commit()
    db.session.rollback()
    other_market = open_market(weeks=5, booths=4, venue=market.venue)
    db.session.add(_booth(other_market, 1, application))  # another market is fine...
    with pytest.raises(IntegrityError, match="application_id"):  # ...not the same application
        db.session.commit()
    db.session.rollback()


@pytest.mark.parametrize("number", [0, 11])
def test_booth_numbers_stay_within_one_to_ten(market, number):
    db.session.add(_booth(market, number, db.session.scalars(select(Application)).first()))
    with pytest.raises(IntegrityError, match="booth_number_range"):
        db.session.commit()
    db.session.rollback()


def test_one_pin_per_booth_and_pins_within_range(market):
    first, second = db.session.scalars(select(Application).limit(2)).all()
    first.pinned_booth = second.pinned_booth = 3
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    first.pinned_booth = 12
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


# -- two staff at once ---------------------------------------------------------------


def _actor(number: int):
    """An actor for a thread (a plain object: no session crossing threads)."""
    return SimpleNamespace(id=None, email=f"staff{number}@example.kr")


def _run_side_by_side(app, first, second, hold: float = 0.6) -> dict[str, str]:
    """`first` acts and holds its transaction open for `hold` seconds; `second`
    starts meanwhile. Returns each one's outcome, and checks `second` waited."""
    locked, outcomes, errors = threading.Event(), {}, []

    def run(name: str, action, before_commit=None) -> None:
        try:
            with app.app_context():
                try:
                    action()
                    if before_commit:
                        before_commit()
                    db.session.commit()
                    outcomes[name] = "done"
                except services.BoothRuleError as error:
                    db.session.rollback()
                    outcomes[name] = f"refused: {error}"
                outcomes[f"{name}_at"] = time.monotonic()
                db.session.remove()
        except Exception as error:  # reported in the test's own thread
            errors.append(error)
            locked.set()

    def hold_open() -> None:
        locked.set()
        time.sleep(hold)

    one = threading.Thread(target=run, args=("first", first, hold_open))
    one.start()
    assert locked.wait(10)
    started = time.monotonic()
    two = threading.Thread(target=run, args=("second", second))
    two.start()
    one.join(20)
    two.join(20)
    assert errors == []
    assert outcomes["second_at"] - started >= hold * 0.8, "the second did not wait for the first"
    return outcomes


def test_two_staff_confirming_at_once_leave_one_assignment(app, market):
    outcomes = _run_side_by_side(
        app,
        lambda: services.confirm(market.id, _actor(1)),
        lambda: services.confirm(market.id, _actor(2)),
    )
    assert outcomes["first"] == "done"
    assert outcomes["second"].startswith("refused: 이 장터의 부스는 이미 확정되었습니다")
    db.session.expire_all()
    booths = db.session.scalars(select(Booth).where(Booth.market_id == market.id)).all()
    assigned = db.session.scalars(
        select(Application.id).where(Application.status == ApplicationStatus.ASSIGNED)
    ).all()
    assert len(booths) == 4 and sorted(b.application_id for b in booths) == sorted(assigned)
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 6, "one mail per vendor"


def test_two_staff_giving_the_same_booth_at_once_one_is_refused(app, staff, market):
    services.confirm(market.id, staff)
    db.session.commit()
    taken = db.session.scalar(select(Booth).where(Booth.number == 2))
    changes.unassign(market.id, taken.number, staff)
    db.session.commit()
    waiting = db.session.scalars(
        select(Application.id)
        .where(Application.status == ApplicationStatus.WAITLISTED)
        .order_by(Application.waitlist_position)
    ).all()
    outcomes = _run_side_by_side(
        app,
        lambda: changes.add_from_waitlist(market.id, waiting[0], 2, _actor(1)),
        lambda: changes.add_from_waitlist(market.id, waiting[1], 2, _actor(2)),
    )
    assert outcomes["first"] == "done"
    assert outcomes["second"] == "refused: 2번 부스에는 이미 기업이 있습니다."
    db.session.expire_all()
    assert db.session.scalar(select(Booth.application_id).where(Booth.number == 2)) == waiting[0]
    assert db.session.get(Application, waiting[1]).status is ApplicationStatus.WAITLISTED


@pytest.mark.skipif(not ON_POSTGRES, reason="row-level concurrency needs PostgreSQL")
def test_postgres_unique_index_refuses_a_concurrent_second_booth_cleanly(app, market):
    """Without the market lock, two transactions insert the same booth: the
    second waits on the unique index, then fails, and the service turns that
    into the clean message (here through `rules.flush_or_refuse`)."""
    first, second = db.session.scalars(select(Application).limit(2)).all()
    rows = (_booth(market, 1, first), _booth(market, 1, second))

    def insert(row):
        def act():
            db.session.add(
                Booth(
                    **{
                        k: getattr(row, k)
                        for k in ("market_id", "number", "vendor_id", "application_id")
                    }
                )
            )
            flush_or_refuse(services.concurrent_change())

        return act

    outcomes = _run_side_by_side(app, insert(rows[0]), insert(rows[1]))
    assert outcomes["first"] == "done"
    assert outcomes["second"] == f"refused: {_concurrent_message(app)}"
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Booth.id))) == 1


def _concurrent_message(app) -> str:
    with app.test_request_context():
        return services.concurrent_change_message()


def test_a_promotion_and_a_manual_addition_at_once_stay_consistent(app, staff, market):
    """A vendor withdraws (promoting the first waiting) while staff give an
    empty booth to the same waiting vendor: the lock orders them, the second
    sees the first's result, and no vendor ends up with two booths."""
    services.confirm(market.id, staff)
    db.session.commit()
    changes.unassign(market.id, 4, staff)
    db.session.commit()
    leaving = db.session.scalar(select(Booth).where(Booth.number == 1)).application_id
    first_waiting = db.session.scalar(
        select(Application.id).where(Application.waitlist_position == 1)
    )

    def withdraw():
        staff_set_status(
            db.session.get(Application, leaving), ApplicationStatus.WITHDRAWN, _actor(1), "취소"
        )

    outcomes = _run_side_by_side(
        app, withdraw, lambda: changes.add_from_waitlist(market.id, first_waiting, 4, _actor(2))
    )
    assert outcomes["first"] == "done"
    assert outcomes["second"] == "refused: 대기 중인 기업만 부스에 배정할 수 있습니다."
    db.session.expire_all()
    per_vendor = db.session.execute(
        select(Booth.vendor_id, func.count()).group_by(Booth.vendor_id)
    ).all()
    assert all(count == 1 for _vendor, count in per_vendor)
    assert db.session.scalar(select(Booth.application_id).where(Booth.number == 1)) == first_waiting
