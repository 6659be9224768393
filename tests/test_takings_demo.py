"""Demo takings: believable, close to the ceiling before Chuseok, made once."""

from datetime import date

from sqlalchemy import func, select

from market.demo import seed_demo
from market.extensions import db
from market.markets.models import Market
from market.takings import demo
from market.takings.models import Takings
from market.vendors.models import Category
from tests.vendors_factories import today


def _per_market() -> dict[date, tuple[int, int]]:
    rows = db.session.execute(
        select(Market.market_date, func.sum(Takings.amount), func.count(Takings.id))
        .join(Takings, Takings.market_id == Market.id)
        .group_by(Market.market_date)
    )
    return {day: (int(total), count) for day, total, count in rows}


def test_seed_demo_twice_creates_takings_once(runner):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "takings entries" in first.output
    count = db.session.scalar(select(func.count()).select_from(Takings))
    assert count > 20
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0 and "takings" not in second.output
    assert db.session.scalar(select(func.count()).select_from(Takings)) == count


def test_demo_takings_are_believable(clock, app):
    clock.seoul(2026, 10, 15)  # the demo's twelve past weeks include Chuseok (25 September)
    seed_demo()
    db.session.commit()
    per_market = _per_market()
    peaks = demo._days_before_chuseok(set(per_market))
    ordinary = [total / count for day, (total, count) in per_market.items() if day not in peaks]
    assert 700_000 < sum(ordinary) / len(ordinary) < 1_400_000
    assert peaks == {date(2026, 9, 17)}
    for day in peaks:
        assert 28_000_000 < per_market[day][0] <= 30_000_000
    assert max(day for day in per_market) <= today()


def test_the_demo_login_has_a_market_day_to_enter(clock, client, app):
    """On a market day (the clock's Thursday): from Monday to Wednesday the
    last Thursday is past the entry window, and there is nothing to enter."""
    seed_demo()
    db.session.commit()
    client.post(
        "/account/login", data={"email": "vendor@demo.market.kr", "password": "market-demo-1234"}
    )
    page = client.get("/vendor/").get_data(as_text=True)
    assert "매출 입력" in page


def test_the_peak_day_comes_close_to_the_ceiling_whatever_the_date():
    assert demo._days_before_chuseok({date(2026, 9, 10), date(2026, 9, 17), date(2026, 10, 1)}) == {
        date(2026, 9, 17)
    }

    class Stub:
        def __init__(self, n, category):
            self.id, self.category, self.business_number = n, category, f"12345678{n:02d}"

    market = Market(market_date=date(2026, 9, 17))
    vendors = [Stub(n, c) for n, c in enumerate([Category.FOOD, Category.ELECTRONICS] * 3)]
    amounts = demo._amounts(market, vendors, peak=True)
    assert 29_000_000 < sum(amounts.values()) <= 29_400_000
    assert all(isinstance(a, int) and a % 1000 == 0 for a in amounts.values())
    ordinary = demo._amounts(market, vendors, peak=False)
    assert all(isinstance(a, int) and 300_000 <= a <= 2_500_000 for a in ordinary.values())
