"""A market's takings ceiling changed on the market form: the reason the
takings page's ceiling form asks for, the same audit entry, never below the
takings already entered, never above ₩10억; and a vendor saving takings while
staff lower the ceiling cannot together pass it (SQLite and PostgreSQL)."""

import os
import threading
import time

import pytest
from sqlalchemy import func, select

from market.accounts.models import User
from market.audit.models import AuditEntry
from market.extensions import db
from market.markets import services as markets
from market.markets.models import Market
from market.takings import services as takings
from market.takings.models import Takings
from market.vendors.models import Vendor
from tests.markets_factories import market_form_data
from tests.takings_factories import add_takings, days_ago, market_on, values, vendor_at

ON_POSTGRES = (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql")


def edit(client, market: Market, **changes):
    data = market_form_data(
        market.venue_id,
        market_date=market.market_date.isoformat(),
        date_exception_reason=market.date_exception_reason or "",
        **changes,
    )
    return client.post(f"/staff/markets/{market.id}/edit", data=data)


def ceiling_of(market: Market) -> int:
    db.session.expire_all()
    return db.session.get(Market, market.id).takings_ceiling


def ceiling_entries() -> list[AuditEntry]:
    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "takings.ceiling").order_by(AuditEntry.id)
    ).all()


def test_changing_the_ceiling_on_the_market_form_asks_for_a_reason(staff_client, staff):
    market = market_on(days_ago(0))
    refused = edit(staff_client, market, takings_ceiling="40,000,000원", note="주차 안내")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200
    assert "한도를 바꾸는 사유를 적어 주세요." in page
    assert "40,000,000원" in page and "주차 안내" in page, "what was typed stays"
    assert ceiling_of(market) == 30_000_000 and ceiling_entries() == []

    saved = edit(staff_client, market, takings_ceiling="40,000,000원", ceiling_reason=" 연말 대목 ")
    assert saved.status_code == 302
    assert ceiling_of(market) == 40_000_000
    [entry] = ceiling_entries()
    assert entry.before == {"takings_ceiling": 30_000_000}
    assert entry.after == {"takings_ceiling": 40_000_000}
    assert entry.reason == "연말 대목" and entry.actor_id == staff.id
    assert (entry.object_type, entry.object_id) == ("markets", str(market.id))


def test_the_market_form_audits_a_ceiling_as_the_ceiling_form_does(staff_client):
    market = market_on(days_ago(0))
    raised = staff_client.post(
        f"/staff/markets/{market.id}/takings/ceiling",
        data={"new_ceiling": "35,000,000", "reason": "추석 대목"},
    )
    assert raised.status_code == 302
    assert (
        edit(staff_client, market, takings_ceiling="32,000,000", ceiling_reason="정정").status_code
        == 302
    )
    from_ceiling_form, from_market_form = ceiling_entries()
    shape = ("action", "actor_id", "object_type", "object_id")
    assert [getattr(from_market_form, name) for name in shape] == [
        getattr(from_ceiling_form, name) for name in shape
    ]
    assert from_market_form.before == {"takings_ceiling": 35_000_000}
    assert from_market_form.after == {"takings_ceiling": 32_000_000}
    page = staff_client.get("/staff/audit/").get_data(as_text=True)
    assert page.count("매출 한도 변경") >= 2


def test_an_unchanged_ceiling_needs_no_reason(staff_client):
    market = market_on(days_ago(0))
    response = edit(staff_client, market, takings_ceiling="30,000,000원", note="주차 안내")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Market, market.id).note == "주차 안내"
    assert ceiling_entries() == []
    assert "한도 변경 사유" in staff_client.get(f"/staff/markets/{market.id}/edit").get_data(
        as_text=True
    )


def test_the_ceiling_cannot_go_below_the_takings_already_entered(staff_client):
    market = market_on(days_ago(0))
    first, _user = vendor_at(market, "첫째기업")
    second, _user = vendor_at(market, "둘째기업")
    add_takings(first, market, 7_000_000)
    add_takings(second, market, 5_000_000)
    refused = edit(
        staff_client, market, takings_ceiling="11,999,999", ceiling_reason="축소", note="비 예보"
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200
    assert "이미 ₩12,000,000의 매출이 입력되어 있습니다" in page
    assert "11,999,999" in page and "축소" in page and "비 예보" in page
    assert ceiling_of(market) == 30_000_000 and ceiling_entries() == []
    assert db.session.get(Market, market.id).note is None, "nothing of the form was saved"

    exactly = edit(staff_client, market, takings_ceiling="12,000,000", ceiling_reason="축소")
    assert exactly.status_code == 302 and ceiling_of(market) == 12_000_000


def test_the_cap_is_the_same_on_both_forms(staff_client):
    market = market_on(days_ago(0))
    at_cap = edit(staff_client, market, takings_ceiling="1,000,000,000", ceiling_reason="상한 확인")
    assert at_cap.status_code == 302 and ceiling_of(market) == markets.MAX_CEILING
    over = edit(staff_client, market, takings_ceiling="1,000,000,001", ceiling_reason="상한 확인")
    assert "실수로 보입니다" in over.get_data(as_text=True)
    assert "사유를 적어" not in over.get_data(as_text=True)
    assert ceiling_of(market) == markets.MAX_CEILING


# -- a vendor saving while staff lower the ceiling --------------------------------------


@pytest.fixture
def slow_sum(monkeypatch):
    """Widens the gap between reading a market's takings and writing: both
    the vendor's save and the staff's ceiling check read them here."""
    original = takings.market_total

    def slow(*args, **kwargs):
        total = original(*args, **kwargs)
        time.sleep(0.4)
        return total

    monkeypatch.setattr(takings, "market_total", slow)


def race(app, staff) -> list:
    """10M already entered of a 30M ceiling. A vendor enters 10M more (fits
    alone: 20M) while staff lower the ceiling to 15M (fits alone: 10M
    taken). Together the day would hold 20M under a 15M ceiling."""
    market = market_on(days_ago(0), ceiling=30_000_000)
    earlier, _user = vendor_at(market, "먼저낸기업")
    add_takings(earlier, market, 10_000_000)
    vendor, user = vendor_at(market, "지금내는기업")
    ids = {"market": market.id, "vendor": vendor.id, "user": user.id, "staff": staff.id}
    lowered = markets.MarketDetails(
        **{
            name: getattr(market, name)
            for name in (
                "market_date",
                "start_time",
                "end_time",
                "venue_id",
                "booth_count",
                "application_deadline",
                "date_exception_reason",
                "note",
            )
        },
        takings_ceiling=15_000_000,
    )
    start = threading.Barrier(2)
    outcomes, errors = {}, []

    def vendor_saves() -> None:
        market = db.session.get(Market, ids["market"])
        vendor = db.session.get(Vendor, ids["vendor"])
        user = db.session.get(User, ids["user"])
        start.wait()
        takings.save_by_vendor(vendor, market, values(10_000_000), user)

    def staff_lowers() -> None:
        market = db.session.get(Market, ids["market"])
        actor = db.session.get(User, ids["staff"])
        start.wait()
        markets.update_market(market, lowered, actor, ceiling_reason="우천 축소")

    def run(name, work) -> None:
        try:
            with app.app_context():
                try:
                    work()
                    db.session.commit()
                    outcomes[name] = "saved"
                except (takings.TakingsRuleError, markets.MarketRuleError) as error:
                    db.session.rollback()
                    outcomes[name] = error.errors
                finally:
                    db.session.remove()
        except Exception as error:  # reported in the test's own thread
            errors.append(error)

    threads = [
        threading.Thread(target=run, args=("vendor", vendor_saves)),
        threading.Thread(target=run, args=("staff", staff_lowers)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    db.session.expire_all()
    total = db.session.scalar(select(func.coalesce(func.sum(Takings.amount), 0)))
    return outcomes, total, db.session.get(Market, ids["market"]).takings_ceiling


def _assert_the_ceiling_holds(outcomes: dict, total: int, ceiling: int) -> None:
    assert sorted(outcomes) == ["staff", "vendor"]
    assert list(outcomes.values()).count("saved") == 1, outcomes
    assert total <= ceiling
    if outcomes["vendor"] == "saved":  # the vendor went first: staff see its 20M
        assert (total, ceiling) == (20_000_000, 30_000_000)
        assert "₩20,000,000" in outcomes["staff"]["takings_ceiling"]
    else:  # staff went first: the vendor is refused, told to call staff, shown no amount
        assert (total, ceiling) == (10_000_000, 15_000_000)
        assert "한도를 넘습니다" in outcomes["vendor"]["amount"]
        assert "₩" not in outcomes["vendor"]["amount"]


@pytest.mark.skipif(not ON_POSTGRES, reason="the row lock needs PostgreSQL (TEST_DATABASE_URL)")
def test_vendor_saving_while_staff_lower_the_ceiling_on_postgres(app, staff, slow_sum):
    _assert_the_ceiling_holds(*race(app, staff))


@pytest.mark.skipif(ON_POSTGRES, reason="the SQLite path; PostgreSQL has its own test")
def test_vendor_saving_while_staff_lower_the_ceiling_on_sqlite(app, staff, slow_sum):
    _assert_the_ceiling_holds(*race(app, staff))


def test_without_the_lock_both_would_pass(app, staff, slow_sum, monkeypatch):
    """The control: with lock_market a plain read on both sides, the race shows."""

    def plain_read(market_id):
        return db.session.get(Market, market_id)

    monkeypatch.setattr(takings, "lock_market", plain_read)
    monkeypatch.setattr(markets, "lock_market", plain_read)
    outcomes, total, ceiling = race(app, staff)
    assert outcomes == {"vendor": "saved", "staff": "saved"}
    assert (total, ceiling) == (20_000_000, 15_000_000), "20M taken under a 15M ceiling"
