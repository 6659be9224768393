"""The effect of invitations on online sales, on seeded data whose answer is
known (market.invitations.effect)."""

import time as timer
from datetime import date, timedelta

import pytest
from flask import render_template

from market.invitations import effect
from market.invitations.effect import GroupFigures, online_effect
from tests.effect_factories import past_market, seed_groups

MARKET_DAY = date(2026, 9, 10)
TODAY = date(2026, 11, 1)


@pytest.fixture
def market(app, clock):
    found = past_market(clock, MARKET_DAY)
    clock.seoul(2026, 11, 1)
    return found


def figures(planted: list[int]) -> GroupFigures:
    return GroupFigures(*planted)


def test_a_planted_uplift_is_found(market):
    planted = seed_groups(market, invited=400, control=400, uplift=20_000)
    found = online_effect([market.id], TODAY)
    assert found.invited == figures(planted["invited"])
    assert found.control == figures(planted["control"])
    assert found.verdict == "more"
    low, high = found.interval
    assert 0 < low < 20_000 < high
    assert found.difference == pytest.approx(
        found.invited.mean_change_per_customer - found.control.mean_change_per_customer
    )
    assert 15_000 < found.difference < 25_000
    assert found.data_until == MARKET_DAY + timedelta(days=29)
    assert (found.markets, found.markets_waiting, found.window_days) == (1, 0, 30)


def test_a_planted_loss_is_found(market):
    seed_groups(market, invited=400, control=400, uplift=-20_000)
    found = online_effect([market.id], TODAY)
    assert found.verdict == "less"
    assert found.interval[0] < -20_000 < found.interval[1] < 0


def test_no_uplift_is_no_clear_difference(market):
    seed_groups(market, invited=400, control=400, uplift=0)
    found = online_effect([market.id], TODAY)
    assert found.verdict == "no_clear_difference"
    low, high = found.interval
    assert low < 0 < high
    assert abs(found.difference) < 5_000


def test_the_interval_is_the_same_on_every_view(market):
    seed_groups(market, invited=100, control=60, uplift=5_000)
    assert online_effect([market.id], TODAY) == online_effect([market.id], TODAY)


@pytest.mark.parametrize(("invited", "control"), [(400, 29), (29, 400), (0, 0)])
def test_too_few_customers_to_tell(market, invited, control):
    seed_groups(market, invited=invited, control=control, uplift=50_000)
    found = online_effect([market.id], TODAY)
    assert found.verdict == "too_few"
    assert (found.invited.customers, found.control.customers) == (invited, control)
    assert found.difference is None and found.interval is None


def test_no_markets_is_too_few(app):
    found = online_effect([], TODAY)
    assert found.verdict == "too_few"
    assert found.invited == found.control == GroupFigures()


def test_orders_after_the_market_not_yet_imported(market):
    seed_groups(market, invited=100, control=100, orders_until=MARKET_DAY + timedelta(days=20))
    found = online_effect([market.id], TODAY)
    assert found.verdict == "waiting_for_orders"
    assert found.data_until == MARKET_DAY + timedelta(days=20)
    assert found.difference is None and found.interval is None
    assert found.markets_waiting == 1


def test_the_last_day_must_be_over(market):
    """Orders dated the window's last day count only once that day is over
    (an import during it holds part of the day)."""
    seed_groups(market, invited=100, control=100)
    last_day = MARKET_DAY + timedelta(days=29)
    assert online_effect([market.id], last_day).verdict == "waiting_for_orders"
    assert online_effect([market.id], last_day + timedelta(days=1)).verdict != (
        "waiting_for_orders"
    )


def test_orders_outside_the_windows_do_not_count(market):
    """The market day is "after"; the day 30 days after it is outside."""
    from datetime import datetime, time

    from market.customers.models import Order
    from market.extensions import db
    from market.invitations.models import ControlCustomer
    from market.timeutil import SEOUL

    seed_groups(market, invited=40, control=40)
    base = online_effect([market.id], TODAY)
    someone = db.session.scalars(
        db.select(ControlCustomer.customer_id).where(ControlCustomer.market_id == market.id)
    ).first()
    for number, (day, hour, amount) in enumerate(
        [
            (MARKET_DAY - timedelta(days=31), 12, 1),  # before "before"
            (MARKET_DAY + timedelta(days=30), 0, 10),  # 00:00 KST, just after "after"
            (MARKET_DAY - timedelta(days=1), 23, 100),  # the eve: "before"
            (MARKET_DAY, 0, 1000),  # the market day, 00:00 KST: "after"
        ]
    ):
        db.session.add(
            Order(
                order_no=f"edge{number}",
                ordered_at=datetime.combine(day, time(hour, 59 if hour == 23 else 0), SEOUL),
                customer_id=someone,
                seller_name="가게",
                product="상품",
                amount=amount,
            )
        )
    db.session.commit()
    found = online_effect([market.id], TODAY)
    assert found.control.spend_before == base.control.spend_before + 100
    assert found.control.spend_after == base.control.spend_after + 1000
    assert found.control.orders_before == base.control.orders_before + 1
    assert found.control.orders_after == base.control.orders_after + 1
    assert found.invited == base.invited


def test_invitations_without_a_control_draw_do_not_count(market):
    """Customers invited by a send that held no one back were not chosen at
    random against anyone: comparing them would compare unlike with unlike."""
    seed_groups(market, invited=50, control=0, seed=1)
    seed_groups(market, invited=40, control=35, seed=2)
    found = online_effect([market.id], TODAY)
    assert (found.invited.customers, found.control.customers) == (40, 35)


def test_a_season_counts_each_customer_once_per_market(app, clock):
    """Two markets; the second's orders are not all in yet, so it waits and
    the first is counted alone."""
    first = past_market(clock, MARKET_DAY)
    second = past_market(clock, MARKET_DAY + timedelta(days=14))
    later = past_market(clock, date(2026, 10, 22))
    clock.seoul(2026, 11, 1)
    seed_groups(first, invited=60, control=40, uplift=30_000, seed=3)
    seed_groups(second, invited=60, control=40, uplift=30_000, seed=4)
    both = online_effect([first.id, second.id], TODAY)
    assert (both.invited.customers, both.control.customers) == (120, 80)
    assert (both.markets, both.markets_waiting) == (2, 0)
    seed_groups(later, invited=30, control=30, seed=5, orders_until=date(2026, 10, 30))
    # The newest order is now 2026-10-30: the later market waits, the others count.
    found = online_effect([first.id, second.id, later.id], TODAY)
    assert (found.markets, found.markets_waiting) == (2, 1)
    assert (found.invited.customers, found.control.customers) == (120, 80)


def test_the_query_count_does_not_grow_with_the_customers(app, clock, count_queries):
    small = past_market(clock, MARKET_DAY)
    large = past_market(clock, MARKET_DAY + timedelta(days=7))
    clock.seoul(2026, 11, 1)
    seed_groups(small, invited=40, control=30)
    seed_groups(large, invited=600, control=400)
    ids = [small.id, large.id]  # read before counting (the commit expired them)
    with count_queries() as few:
        online_effect(ids[:1], TODAY)
    with count_queries() as many:
        online_effect(ids, TODAY)
    assert few.count == many.count == 3, few.statements


def test_bootstrap_is_quick_for_ten_thousand_customers():
    """Pure Python: the page must not wait on it (measured; the budget is
    generous for a shared test machine)."""
    import random

    rng = random.Random(1)
    invited = [rng.randint(-100_000, 120_000) for _ in range(9_000)]
    control = [rng.randint(-100_000, 100_000) for _ in range(1_000)]
    resamples = effect.resamples_for(10_000)
    started = timer.perf_counter()
    low, high = effect.bootstrap_interval(invited, control, resamples)
    took = timer.perf_counter() - started
    assert resamples == 300
    assert low < high
    assert took < 2.0, took


def test_bootstrap_interval_is_reproducible():
    values = [1_000 * n for n in range(50)]
    assert effect.bootstrap_interval(values, values[::-1], 500, seed=3) == (
        effect.bootstrap_interval(values, values[::-1], 500, seed=3)
    )
    low, high = effect.bootstrap_interval([5] * 40, [2] * 40, 500)
    assert (low, high) == (3, 3)


# -- the partial ---------------------------------------------------------------------


def render(found) -> str:
    return render_template("invitations/_effect.html", effect=found)


def korean(app):
    return app.test_request_context("/", headers={"Accept-Language": "ko"})


def test_the_partial_says_it_in_korean_with_a_chart(app, market):
    seed_groups(market, invited=400, control=400, uplift=20_000)
    found = online_effect([market.id], TODAY)
    with korean(app):
        html = render(found)
    low, high = found.interval
    assert "초대받은 고객은 장터 후 30일 동안 1인당" in html
    assert f"₩{round(found.difference):,} 더 샀습니다" in html
    assert f"(95% 구간 ₩{low:,}–₩{high:,})" in html
    assert html.count('<rect class="effect-') == 4
    assert "<svg" in html and "<title" in html and "<desc" in html
    assert f"{found.invited.customers}" in html


def test_the_partial_when_too_few_or_waiting(app, market):
    seed_groups(market, invited=50, control=5, orders_until=MARKET_DAY + timedelta(days=3))
    with korean(app):
        too_few = render(online_effect([market.id], TODAY))
        waiting = render(
            effect.Effect(
                GroupFigures(40), GroupFigures(40), None, None, "waiting_for_orders", TODAY
            )
        )
    assert (
        "비교군이 너무 적어 판단할 수 없습니다 (초대 50명, 비교군 5명; 각 30명 이상 필요)"
        in too_few
    )
    assert f"장터 후 30일치 주문이 아직 들어오지 않았습니다 (마지막 주문 {TODAY.isoformat()})" in (
        waiting
    )


def test_the_partial_with_no_difference_and_negative_numbers(app, market):
    seed_groups(market, invited=400, control=400, uplift=0)
    found = online_effect([market.id], TODAY)
    with korean(app):
        html = render(found)
    assert "뚜렷한 차이가 없습니다" in html
    assert "−₩" in html  # the interval's low end
