"""Issue 17, planning: delete a market nothing hangs on (else only cancel),
copy a market to another date, the deadline before a public holiday."""

import os
import threading
import time
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from market.audit.models import AuditEntry
from market.extensions import db
from market.invitations.models import Invitation
from market.markets import planning, services
from market.markets.models import Market, MarketStatus
from market.timeutil import SEOUL
from market.vendors import applications
from market.vendors.models import Application
from tests.customer_factories import make_customer
from tests.markets_factories import make_market, make_venue, next_thursday
from tests.takings_factories import add_takings, take_part
from tests.vendors_factories import make_application, make_vendor, make_vendor_login, today

ON_POSTGRES = (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql")


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def venue(app):
    return make_venue("경기도청", 10)


@pytest.fixture
def market(venue):
    return make_market(venue, next_thursday(today(), weeks=2))


def _open(market: Market) -> Market:
    services.change_status(market, MarketStatus.OPEN)
    db.session.commit()
    return market


# -- what counts as attached ---------------------------------------------------


def test_every_table_pointing_at_markets_is_checked(app):
    """Read from the schema, so a table added later is counted too."""
    tables = {column.table.name for column in planning._referring_columns()}
    assert tables >= {"applications", "booths", "takings", "invitations", "ranking_snapshots"}
    assert set(planning.ATTACHMENT_LABELS) <= tables


def test_attachments_are_counted_in_one_query(app, market, count_queries):
    market_id = market.id
    with count_queries() as counter:
        assert planning.attachments(market_id) == {}
    assert counter.count == 1


def _attach(kind: str, market: Market) -> None:
    if kind == "application":
        make_application(make_vendor(), market)
    elif kind == "booth":
        take_part(make_vendor(), market)
    elif kind == "takings":
        add_takings(make_vendor(), market, 1_000_000)
    elif kind == "invitation":
        customer = make_customer("buyer@example.kr")
        db.session.add(Invitation(customer_id=customer.id, market_id=market.id))
        db.session.commit()


# -- deleting ------------------------------------------------------------------


def test_staff_delete_a_market_with_nothing_attached_after_confirming(staff_client, staff, market):
    page = staff_client.get(f"/staff/markets/{market.id}").get_data(as_text=True)
    assert f"/staff/markets/{market.id}/delete" in page
    confirm = staff_client.get(f"/staff/markets/{market.id}/delete")
    assert confirm.status_code == 200
    text = confirm.get_data(as_text=True)
    assert "삭제할까요?" in text and 'method="post"' in text
    assert _count(Market) == 1  # the GET deleted nothing
    response = staff_client.post(f"/staff/markets/{market.id}/delete")
    assert response.status_code == 302 and response.headers["Location"].endswith("/staff/markets/")
    assert _count(Market) == 0
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "market.delete")).one()
    assert entry.actor_id == staff.id and entry.object_id == str(market.id)
    assert entry.before["venue_id"] == market.venue_id
    followed = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "장터를 삭제했습니다" in followed


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("application", "참가 신청 1건"),
        ("booth", "부스 배정 1건"),
        ("takings", "매출 입력 1건"),
        ("invitation", "고객 초대 1건"),
    ],
)
def test_a_market_with_records_can_only_be_cancelled(staff_client, market, kind, words):
    _attach(kind, market)
    page = staff_client.get(f"/staff/markets/{market.id}/delete").get_data(as_text=True)
    assert "삭제할 수 없습니다" in page and words in page
    assert '<form method="post">' not in page  # no delete button: a link to cancel
    assert f"/staff/markets/{market.id}#change-status" in page
    response = staff_client.post(f"/staff/markets/{market.id}/delete")
    assert response.status_code == 302
    assert _count(Market) == 1
    assert _count(AuditEntry.__table__) == db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action != "market.delete")
    )
    flashed = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "삭제할 수 없습니다" in flashed
    # the existing cancel path still works for it
    response = staff_client.post(
        f"/staff/markets/{market.id}/status", data={"status": "cancelled", "reason": "우천"}
    )
    db.session.expire_all()
    assert db.session.get(Market, market.id).status is MarketStatus.CANCELLED


@pytest.mark.parametrize("role", ["vendor", "anonymous"])
def test_only_staff_delete_or_copy(client, make_user, login_as, market, role):
    from market.accounts.models import Role

    if role == "vendor":
        login_as(make_user(Role.VENDOR))
    for path in (f"/staff/markets/{market.id}/delete", f"/staff/markets/{market.id}/copy"):
        response = client.post(path, data={"market_date": "2027-01-07"})
        assert response.status_code in (302, 403)
        if role == "anonymous":
            assert "/login" in response.headers["Location"]
    assert _count(Market) == 1


def test_deleting_a_market_already_gone_is_a_404_not_an_error(staff_client, market):
    staff_client.post(f"/staff/markets/{market.id}/delete")
    assert staff_client.post(f"/staff/markets/{market.id}/delete").status_code == 404
    assert staff_client.get(f"/staff/markets/{2**31 + 5}/delete").status_code == 404
    assert staff_client.get(f"/staff/markets/{2**63}/copy").status_code == 404


def test_the_service_refuses_under_the_lock(app, market):
    make_application(make_vendor(), market)
    with pytest.raises(services.MarketRuleError) as refused:
        planning.delete_market(market.id)
    assert "참가 신청 1건" in refused.value.errors["market"]
    db.session.rollback()
    with pytest.raises(services.MarketRuleError) as refused:
        planning.delete_market(10**9)
    assert refused.value.errors["market"] == "이 장터는 이미 삭제되었습니다."
    db.session.rollback()


def _race(app, market_id: int, vendor_id: int, user_id: int, monkeypatch) -> dict:
    """The delete counts what is attached (nothing), then waits; an
    application arrives in that gap. Returns what each side saw."""
    counted = threading.Event()
    original = planning.attachments

    def slow(market_id):
        found = original(market_id)
        counted.set()
        time.sleep(0.6)
        return found

    monkeypatch.setattr(planning, "attachments", slow)
    outcome, errors = {}, []

    def delete():
        try:
            with app.app_context():
                try:
                    planning.delete_market(market_id)
                    db.session.commit()
                    outcome["delete"] = "deleted"
                except services.MarketRuleError as error:
                    db.session.rollback()
                    outcome["delete"] = error.errors
                finally:
                    db.session.remove()
        except Exception as error:
            errors.append(error)

    def apply():
        from market.accounts.models import User
        from market.vendors.models import Vendor

        try:
            counted.wait(10)
            with app.app_context():
                try:
                    vendor = db.session.get(Vendor, vendor_id)
                    market = db.session.get(Market, market_id)
                    user = db.session.get(User, user_id)
                    applications.apply(vendor, market, None, user)
                    db.session.commit()
                    outcome["apply"] = "saved"
                except applications.VendorRuleError as error:
                    db.session.rollback()
                    outcome["apply"] = error.errors
                finally:
                    db.session.remove()
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=delete), threading.Thread(target=apply)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    db.session.expire_all()
    return outcome


def _racing_market():
    venue = make_venue("수원시청", 10)
    market = _open(make_market(venue, next_thursday(today(), weeks=3)))
    vendor = make_vendor()
    return market, vendor, make_vendor_login(vendor)


def test_an_application_during_a_delete_is_never_lost(app, monkeypatch):
    market, vendor, user = _racing_market()
    market_id = market.id
    outcome = _race(app, market_id, vendor.id, user.id, monkeypatch)
    market_left = db.session.get(Market, market_id)
    applied = _count(Application)
    # Either the delete went first and the application was refused (nothing
    # to lose), or the application was saved and the market kept.
    if outcome["apply"] == "saved":
        assert market_left is not None and applied == 1, outcome
    else:
        assert market_left is None and applied == 0, outcome
        assert outcome["apply"] == {"market": "이 장터는 이미 삭제되었습니다."}
    # the delete counted first, so with the lock the application waits for it
    assert outcome["delete"] == "deleted" and outcome["apply"] != "saved"


@pytest.mark.skipif(not ON_POSTGRES, reason="row locks: the race shown on PostgreSQL")
def test_without_the_lock_the_race_loses_the_application(app, monkeypatch):
    """Proves the test above tests the lock, not luck: with lock_market
    reading the row without locking it, the application commits in the gap
    and the delete removes it with the market (ON DELETE CASCADE)."""
    market, vendor, user = _racing_market()

    def unlocked(market_id):
        return db.session.get(Market, market_id, populate_existing=True)

    monkeypatch.setattr(services, "lock_market", unlocked)
    monkeypatch.setattr(applications, "lock_market", unlocked)
    market_id = market.id
    outcome = _race(app, market_id, vendor.id, user.id, monkeypatch)
    assert outcome == {"delete": "deleted", "apply": "saved"}
    assert db.session.get(Market, market_id) is None and _count(Application) == 0


# -- copying -------------------------------------------------------------------


def test_staff_copy_a_market_to_a_free_date(staff_client, staff, venue):
    original = make_market(
        venue, next_thursday(today(), weeks=1), booths=6, takings_ceiling=25_000_000
    )
    original.note = "주차는 본관 뒤편"
    services.change_status(original, MarketStatus.OPEN)
    make_application(make_vendor(), original)
    db.session.commit()
    page = staff_client.get(f"/staff/markets/{original.id}/copy")
    assert page.status_code == 200 and "₩25,000,000" in page.get_data(as_text=True)
    new_day = next_thursday(today(), weeks=6)
    response = staff_client.post(
        f"/staff/markets/{original.id}/copy", data={"market_date": new_day.isoformat()}
    )
    assert response.status_code == 302
    copy = db.session.scalars(select(Market).where(Market.market_date == new_day)).one()
    assert response.headers["Location"].endswith(f"/staff/markets/{copy.id}")
    assert (copy.venue_id, copy.start_time, copy.end_time) == (
        original.venue_id,
        original.start_time,
        original.end_time,
    )
    assert (copy.booth_count, copy.takings_ceiling, copy.note) == (6, 25_000_000, original.note)
    assert copy.status is MarketStatus.PLANNED and copy.uid != original.uid
    assert copy.application_deadline == services.default_deadline(new_day)
    assert (
        db.session.scalar(
            select(func.count()).select_from(Application).where(Application.market_id == copy.id)
        )
        == 0
    )
    assert (
        db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "market.create", AuditEntry.object_id == str(copy.id)
            )
        )
        .one()
        .actor_id
        == staff.id
    )


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("taken", "이미 장터가 있습니다"),
        ("past", "지난 날짜로는"),
        ("wednesday", "목요일"),
        ("2026-13-45", "“2026-13-45”는 없는 날짜입니다"),
        ("2026-11-26\x00", "새 날짜"),
        ("99999999-01-01", "날짜가 아닙니다"),
        ("", "2026-11-26"),
    ],
)
def test_a_copy_needs_a_free_future_date(staff_client, venue, day, message):
    original = make_market(venue, next_thursday(today(), weeks=1))
    other = make_market(venue, next_thursday(today(), weeks=4))
    value = {
        "taken": other.market_date.isoformat(),
        "past": next_thursday(today() - timedelta(days=30)).isoformat(),
        "wednesday": (next_thursday(today(), weeks=5) - timedelta(days=1)).isoformat(),
    }.get(day, day)
    response = staff_client.post(f"/staff/markets/{original.id}/copy", data={"market_date": value})
    assert response.status_code in (200, 400)
    assert message in response.get_data(as_text=True)
    assert _count(Market) == 2


def test_a_copy_to_another_weekday_with_a_reason(staff_client, venue):
    original = make_market(venue, next_thursday(today(), weeks=1))
    friday = next_thursday(today(), weeks=5) + timedelta(days=1)
    response = staff_client.post(
        f"/staff/markets/{original.id}/copy",
        data={"market_date": friday.isoformat(), "date_exception_reason": "추석 연휴 대체"},
    )
    assert response.status_code == 302
    copy = db.session.scalars(select(Market).where(Market.market_date == friday)).one()
    assert copy.date_exception_reason == "추석 연휴 대체"


# -- the deadline before a public holiday -------------------------------------------


def _kst(day: date, hour: int = 18) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SEOUL)


@pytest.mark.parametrize(
    ("market_day", "deadline_day"),
    [
        # an ordinary week: the Monday
        (date(2026, 11, 26), date(2026, 11, 23)),
        # Monday 2026-10-05 is 개천절 대체 휴일: the Friday before (the 3rd and 4th are a weekend)
        (date(2026, 10, 8), date(2026, 10, 2)),
        # Monday 2026-02-16 is 설날 전날 (17th, 18th 설날): the Friday before
        (date(2026, 2, 19), date(2026, 2, 13)),
        # Monday 2027-10-11 (한글날 대체 휴일): Friday the 8th
        (date(2027, 10, 14), date(2027, 10, 8)),
        # Monday 2026-08-17 (광복절 대체 휴일): Friday the 14th
        (date(2026, 8, 20), date(2026, 8, 14)),
    ],
)
def test_a_deadline_on_a_public_holiday_moves_to_the_working_day_before(
    app, market_day, deadline_day
):
    assert services.default_deadline(market_day) == _kst(deadline_day)


def test_the_market_form_and_the_season_use_the_holiday_rule(staff_client, venue):
    response = staff_client.post(
        "/staff/markets/new",
        data={
            "market_date": "2026-10-08",
            "start_time": "10:00",
            "end_time": "15:00",
            "venue_id": str(venue.id),
            "booth_count": "8",
            "application_deadline": "",
            "takings_ceiling": "30,000,000원",
        },
    )
    assert response.status_code == 302
    market = db.session.scalars(select(Market)).one()
    assert market.application_deadline == _kst(date(2026, 10, 2))
    page = staff_client.get("/staff/markets/new").get_data(as_text=True)
    assert "공휴일이면" in page


def test_the_new_pages_run_a_bounded_number_of_queries(staff_client, market, count_queries):
    for kind in ("application", "booth", "takings", "invitation"):
        _attach(kind, market)
    market_id = market.id
    staff_client.get(f"/staff/markets/{market_id}/delete")  # a first request warms up the session
    with count_queries() as deleting:
        assert staff_client.get(f"/staff/markets/{market_id}/delete").status_code == 200
    with count_queries() as copying:
        assert staff_client.get(f"/staff/markets/{market_id}/copy").status_code == 200
    # the login's user and session, the market with its venue, one COUNT over every table
    assert deleting.count <= 5, deleting.statements
    assert copying.count <= 4, copying.statements
