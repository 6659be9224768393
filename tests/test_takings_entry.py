"""Entering takings: amounts typed on a phone, the window, the split, the
daily ceiling and raising it, corrections in the audit log."""

import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from market.audit.models import AuditEntry
from market.extensions import db
from market.markets import services as markets
from market.takings import services
from market.takings.models import Takings
from tests.takings_factories import add_takings, days_ago, market_on, values, vendor_at
from tests.vendors_factories import make_application, make_vendor


def _count(model=Takings) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _errors(response) -> list[str]:
    return re.findall(r'class="error"[^>]*>([^<]*)<', response.get_data(as_text=True))


@pytest.fixture
def today_market(app):
    return market_on(days_ago(0))


@pytest.fixture
def stall(today_market, client, login_as):
    """A vendor taking part in today's market, signed in on its phone."""
    vendor, user = vendor_at(today_market)
    login_as(user)
    return vendor, user


# -- amounts typed on the phone ---------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["1234000", "1,234,000", "₩1,234,000", "1,234,000원", " 1234000 "]
)
def test_amounts_people_type_are_saved_as_whole_won(client, stall, today_market, typed):
    response = client.post(f"/vendor/takings/{today_market.id}", data={"amount": typed})
    assert response.status_code == 302, _errors(response)
    db.session.expire_all()
    assert db.session.scalars(select(Takings.amount)).one() == 1_234_000


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "금액"),
        ("-50000", "음수"),
        ("1234.5", "소수"),
        ("일백만원", "숫자"),
        ("12,34,000", "숫자"),
    ],
)
def test_refused_amounts_say_why_keep_the_text_and_save_nothing(
    client, stall, today_market, typed, message
):
    response = client.post(f"/vendor/takings/{today_market.id}", data={"amount": typed})
    assert response.status_code == 200
    errors = _errors(response)
    assert len(errors) == 1 and message in errors[0], errors
    if typed:
        assert f'value="{typed}"' in response.get_data(as_text=True)
    assert _count() == 0


@pytest.mark.parametrize(("typed", "message"), [("-3", "음수"), ("열 건", "숫자"), ("2.5", "숫자")])
def test_refused_sales_counts(client, stall, today_market, typed, message):
    response = client.post(
        f"/vendor/takings/{today_market.id}", data={"amount": "100000", "sales_count": typed}
    )
    assert any(message in error for error in _errors(response))
    assert _count() == 0


def test_the_entry_page_is_made_for_a_phone(client, stall, today_market):
    page = client.get(f"/vendor/takings/{today_market.id}").get_data(as_text=True)
    assert 'inputmode="numeric"' in page and 'class="amount-input"' in page
    assert "온누리상품권" in page and "결제 수단별 금액 (선택)" in page
    assert "입력하고 수정할 수 있습니다" in page


# -- the window -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "allowed"), [(-1, False), (0, True), (1, True), (3, True), (4, False)]
)
def test_vendors_enter_from_market_day_until_three_days_after(app, days, allowed):
    market = market_on(days_ago(days))
    vendor, user = vendor_at(market)
    if allowed:
        services.save_by_vendor(vendor, market, values(500_000), user)
        db.session.commit()
        assert _count() == 1
    else:
        with pytest.raises(services.TakingsRuleError) as refused:
            services.save_by_vendor(vendor, market, values(500_000), user)
        db.session.rollback()
        assert "form" in refused.value.errors
        assert _count() == 0


def test_the_window_is_configurable(app):
    app.config["TAKINGS_WINDOW_DAYS"] = 1
    market = market_on(days_ago(2))
    vendor, user = vendor_at(market)
    with pytest.raises(services.TakingsRuleError):
        services.save_by_vendor(vendor, market, values(500_000), user)


def test_a_closed_window_shows_the_entry_without_a_form(client, login_as, app):
    market = market_on(days_ago(10))
    vendor, user = vendor_at(market)
    add_takings(vendor, market, 777_000)
    login_as(user)
    page = client.get(f"/vendor/takings/{market.id}").get_data(as_text=True)
    assert "₩777,000" in page and "센터에 문의하세요" in page
    assert 'name="amount"' not in page
    response = client.post(f"/vendor/takings/{market.id}", data={"amount": "1"})
    assert "센터에 문의하세요" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalars(select(Takings.amount)).one() == 777_000


def test_staff_enter_and_correct_at_any_time(app, staff):
    market = market_on(days_ago(60))
    vendor, _user = vendor_at(market)
    services.save_by_staff(vendor, market, values(900_000), staff, reason=None)
    db.session.commit()
    services.save_by_staff(vendor, market, values(950_000), staff, reason="영수증 확인")
    db.session.commit()
    assert db.session.scalars(select(Takings.amount)).one() == 950_000


def test_vendors_of_a_market_only(app, staff):
    market = market_on(days_ago(0))
    _vendor, user = vendor_at(market)
    outsider = make_vendor("다른기업")
    make_application(outsider, market)  # applied, not assigned
    with pytest.raises(services.TakingsRuleError):
        services.save_by_vendor(outsider, market, values(1), user)
    with pytest.raises(services.TakingsRuleError):
        services.save_by_staff(outsider, market, values(1), staff, reason=None)


def test_a_cancelled_market_takes_no_takings(app, staff):
    market = market_on(days_ago(0))
    vendor, user = vendor_at(market)
    markets.change_status(market, "cancelled", reason="태풍")
    db.session.commit()
    for save in (
        lambda: services.save_by_vendor(vendor, market, values(1), user),
        lambda: services.save_by_staff(vendor, market, values(1), staff, reason="x"),
    ):
        with pytest.raises(services.TakingsRuleError):
            save()


# -- the payment split ------------------------------------------------------------------


def test_a_split_that_adds_up_is_saved(app, today_market):
    vendor, user = vendor_at(today_market)
    services.save_by_vendor(
        vendor, today_market, values(1_000_000, cash=200_000, card=700_000, voucher=100_000), user
    )
    services.save_by_vendor(vendor, today_market, values(1_000_000, card=1_000_000), user)
    db.session.commit()
    takings = db.session.scalars(select(Takings)).one()
    assert (takings.cash, takings.card, takings.voucher) == (None, 1_000_000, None)


def test_a_split_that_does_not_add_up_is_refused_on_the_page(client, stall, today_market):
    response = client.post(
        f"/vendor/takings/{today_market.id}",
        data={"amount": "1,000,000", "cash": "300,000", "card": "600,000", "voucher": ""},
    )
    page = response.get_data(as_text=True)
    assert "₩900,000" in page and "₩1,000,000" in page and "합계" in page
    assert 'id="split-error-1"' in page and '<details class="split" open>' in page
    assert 'value="300,000"' in page and 'value="600,000"' in page
    assert _count() == 0


def test_the_database_refuses_a_split_that_does_not_add_up(app, today_market):
    vendor, _user = vendor_at(today_market)
    with pytest.raises(IntegrityError):
        add_takings(vendor, today_market, 1_000_000, cash=1, card=2)
    db.session.rollback()
    with pytest.raises(IntegrityError):
        add_takings(vendor, today_market, -1)
    db.session.rollback()
    add_takings(vendor, today_market, 1_000_000, voucher=1_000_000)
    assert _count() == 1


# -- the daily ceiling ------------------------------------------------------------------


def test_an_entry_past_the_ceiling_is_refused_without_the_headroom(client, login_as, app):
    """Issue 17: the headroom (ceiling less the others' takings) would tell a
    vendor what the other stalls took; the vendor hears to call staff."""
    market = market_on(days_ago(0), ceiling=30_000_000)
    first, _ = vendor_at(market, "첫째기업")
    add_takings(first, market, 28_750_000)
    _vendor, user = vendor_at(market, "둘째기업")
    login_as(user)
    audit_before = _count(AuditEntry)
    response = client.post(f"/vendor/takings/{market.id}", data={"amount": "1,250,001"})
    errors = _errors(response)
    assert errors == [
        "이 금액은 저장할 수 없습니다. 이 장터의 하루 매출 한도를 넘습니다. "
        "금액을 확인해 주시고, 금액이 맞다면 센터 직원에게 전화해 주세요."
    ]
    page = response.get_data(as_text=True)
    for amount in ("1,250,000", "30,000,000", "28,750,000", "₩"):
        assert amount not in page.replace('value="1,250,001"', "")
    assert 'value="1,250,001"' in response.get_data(as_text=True)
    assert _count() == 1 and _count(AuditEntry) == audit_before
    response = client.post(f"/vendor/takings/{market.id}", data={"amount": "1,250,000"})
    assert response.status_code == 302
    db.session.expire_all()
    assert services.market_total(market.id) == 30_000_000


def test_a_correction_counts_the_vendors_own_entry_once(app):
    market = market_on(days_ago(1), ceiling=30_000_000)
    other, _ = vendor_at(market, "다른기업")
    add_takings(other, market, 15_000_000)
    vendor, user = vendor_at(market)
    add_takings(vendor, market, 10_000_000)
    services.save_by_vendor(vendor, market, values(15_000_000), user)
    with pytest.raises(services.TakingsRuleError) as refused:
        services.save_by_vendor(vendor, market, values(15_000_001), user)
    assert refused.value.errors["amount"] == services.vendor_ceiling_message()
    db.session.rollback()
    with pytest.raises(services.TakingsRuleError) as refused:
        services.save_by_staff(vendor, market, values(15_000_001), user, reason="확인")
    assert "₩15,000,000입니다" in refused.value.errors["amount"]


def test_staff_entering_past_the_ceiling_hear_what_is_left(app, staff):
    market = market_on(days_ago(0), ceiling=30_000_000)
    first, _ = vendor_at(market, "첫째기업")
    add_takings(first, market, 28_750_000)
    vendor, _user = vendor_at(market, "둘째기업")
    with pytest.raises(services.TakingsRuleError) as refused:
        services.save_by_staff(vendor, market, values(1_250_001), staff, reason=None)
    assert refused.value.errors["amount"] == (
        "이 장터의 일일 매출 한도는 ₩30,000,000이며 남은 금액은 ₩1,250,000입니다. "
        "금액을 확인해 주세요. 실제 매출이 더 많다면 센터에서 한도를 올릴 수 있습니다."
    )


def test_a_raised_ceiling_allows_more_and_is_audited(app, staff):
    market = market_on(days_ago(0), ceiling=30_000_000)
    vendor, user = vendor_at(market)
    with pytest.raises(services.TakingsRuleError):
        services.save_by_vendor(vendor, market, values(31_000_000), user)
    db.session.rollback()
    with pytest.raises(services.TakingsRuleError) as refused:
        services.raise_ceiling(market, 35_000_000, "  ", staff)
    assert "reason" in refused.value.errors
    with pytest.raises(services.TakingsRuleError) as refused:
        services.raise_ceiling(market, 30_000_000, "추석 대목", staff)
    assert "₩30,000,000" in refused.value.errors["new_ceiling"]
    db.session.rollback()
    services.raise_ceiling(market, 35_000_000, "추석 대목", staff)
    db.session.commit()
    services.save_by_vendor(vendor, market, values(31_000_000), user)
    db.session.commit()
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "takings.ceiling")
    ).one()
    assert entry.before == {"takings_ceiling": 30_000_000}
    assert entry.after == {"takings_ceiling": 35_000_000}
    assert entry.reason == "추석 대목" and entry.actor_id == staff.id


def test_staff_raise_the_ceiling_on_the_market_page(client, login_as, staff):
    market = market_on(days_ago(0))
    login_as(staff)
    url = f"/staff/markets/{market.id}/takings/ceiling"
    refused = client.post(url, data={"new_ceiling": "35,000,000", "reason": ""})
    assert "한도를 올리는 사유를 적어 주세요." in _errors(refused)
    response = client.post(url, data={"new_ceiling": "35,000,000원", "reason": "추석 대목"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(market), market.id).takings_ceiling == 35_000_000


# -- corrections in the audit log -------------------------------------------------------


def test_every_entry_and_correction_is_audited_with_before_and_after(app, staff):
    market = market_on(days_ago(0))
    vendor, user = vendor_at(market)
    services.save_by_vendor(vendor, market, values(1_000_000, sales_count=40), user)
    db.session.commit()
    services.save_by_vendor(vendor, market, values(1_000_000, sales_count=40), user)  # no change
    with pytest.raises(services.TakingsRuleError) as refused:
        services.save_by_staff(vendor, market, values(1_100_000), staff, reason="")
    assert "reason" in refused.value.errors
    services.save_by_staff(
        vendor, market, values(1_100_000, cash=100_000, card=1_000_000), staff, reason="영수증 대조"
    )
    db.session.commit()
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "takings").order_by(AuditEntry.id)
    ).all()
    assert [e.action for e in entries] == ["takings.create", "takings.update"]
    created, corrected = entries
    assert created.before is None and created.after["amount"] == 1_000_000
    assert created.actor_id == user.id
    assert corrected.before == {
        "amount": 1_000_000,
        "sales_count": 40,
        "cash": None,
        "card": None,
        "voucher": None,
    }
    assert corrected.after == {
        "amount": 1_100_000,
        "sales_count": None,
        "cash": 100_000,
        "card": 1_000_000,
        "voucher": None,
    }
    assert corrected.reason == "영수증 대조" and corrected.actor_id == staff.id
    takings = db.session.scalars(select(Takings)).one()
    assert takings.entered_by_id == user.id and takings.updated_by_id == staff.id


def test_a_correction_downwards_is_let_through_above_a_lowered_ceiling(app, staff):
    """Staff lowered the ceiling (market edit) below what was entered: raising
    an entry is refused, lowering one is not."""
    market = market_on(days_ago(0), ceiling=30_000_000)
    other, _ = vendor_at(market, "다른기업")
    add_takings(other, market, 26_000_000)
    vendor, user = vendor_at(market)
    add_takings(vendor, market, 4_000_000)
    market.takings_ceiling = 25_000_000
    db.session.commit()
    with pytest.raises(services.TakingsRuleError) as refused:
        services.save_by_vendor(vendor, market, values(4_000_001), user)
    assert refused.value.errors["amount"] == services.vendor_ceiling_message()
    db.session.rollback()
    with pytest.raises(services.TakingsRuleError) as refused:
        services.save_by_staff(vendor, market, values(4_000_001), staff, reason="확인")
    assert "₩0입니다" in refused.value.errors["amount"]
    db.session.rollback()
    services.save_by_vendor(vendor, market, values(3_000_000), user)
    db.session.commit()
    assert services.market_total(market.id) == 29_000_000


def test_staff_cannot_enter_takings_before_the_market_day(app, staff):
    from market.takings.services import TakingsRuleError

    market = market_on(days_ago(-5))
    vendor, _login = vendor_at(market, "미래상점")
    with pytest.raises(TakingsRuleError) as refused:
        services.save_by_staff(vendor, market, values(1_000), staff, reason=None)
    assert market.market_date.strftime("%-d일") in refused.value.errors["form"]
    assert db.session.scalar(select(func.count()).select_from(Takings)) == 0
