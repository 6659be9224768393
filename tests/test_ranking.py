from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from market.customers import services
from market.customers.models import Customer, Order, Suppression, email_hash
from market.extensions import db
from market.invitations.models import Invitation
from market.invitations.ranking import RankingOptions, rank_customers, ranking_query
from market.vendors.models import Application, ApplicationStatus, Category, EnterpriseType, Vendor
from tests.customer_factories import NOW, add_orders, make_customer
from tests.markets_factories import make_market, make_venue


@pytest.fixture
def market(app):
    return make_market(make_venue("경기도청", 10), date(2026, 12, 3))


def _emails(market, **options):
    return [r.email for r in rank_customers(market, RankingOptions(**options), NOW)]


def test_ranks_by_total_spend_with_stable_ties(market):
    a, b, c, d = (make_customer(f"{n}@example.com") for n in "abcd")
    add_orders(a, 50_000)
    add_orders(b, 30_000, 20_000)  # same total as a, more orders: first
    add_orders(c, 90_000)
    add_orders(d, 50_000)  # ties with a on total and count: lower id first
    db.session.commit()
    ranked = rank_customers(market, RankingOptions(top_n=10), NOW)
    assert [r.email for r in ranked] == [
        "c@example.com",
        "b@example.com",
        "a@example.com",
        "d@example.com",
    ]
    assert ranked[0].rank == 1 and ranked[0].total == 90_000 and ranked[1].orders == 2
    assert _emails(market, top_n=2) == ["c@example.com", "b@example.com"]


def test_window_and_minimum_orders(market):
    old, few, many = (make_customer(f"{n}@example.com") for n in ("old", "few", "many"))
    add_orders(old, 900_000, days_ago=400)
    add_orders(few, 100_000)
    add_orders(many, 10_000, 10_000, 10_000)
    db.session.commit()
    assert _emails(market) == ["few@example.com", "many@example.com"]
    assert _emails(market, window_days=500)[0] == "old@example.com"
    assert _emails(market, min_orders=3) == ["many@example.com"]


def test_never_lists_without_consent_unsubscribed_or_suppressed(market):
    ok = make_customer("ok@example.com")
    no = make_customer("no@example.com", consent=False)
    gone = make_customer("gone@example.com", unsubscribed_at=NOW)
    hidden = make_customer("hidden@example.com")
    for customer in (ok, no, gone, hidden):
        add_orders(customer, 10_000)
    db.session.add(Suppression(email_hash=email_hash("HIDDEN@example.com ")))
    db.session.commit()
    assert _emails(market) == ["ok@example.com"]


def _vendor(name: str) -> Vendor:
    vendor = Vendor(
        name=name,
        business_number=f"{abs(hash(name)) % 10**10:010d}",
        enterprise_type=EnterpriseType.SOCIAL,
        cert_issuer="x",
        cert_number="1",
        cert_issued_on=date(2020, 1, 1),
        category=Category.FOOD,
        contact_name="x",
        phone="+821012345678",
        email=f"{name}@v.kr",
    )
    db.session.add(vendor)
    db.session.flush()
    return vendor


def test_only_buyers_of_assigned_vendors(market):
    attending, absent = _vendor("참여"), _vendor("불참")
    db.session.add_all(
        [
            Application(
                vendor_id=attending.id, market_id=market.id, status=ApplicationStatus.ASSIGNED
            ),
            Application(
                vendor_id=absent.id, market_id=market.id, status=ApplicationStatus.WAITLISTED
            ),
        ]
    )
    loyal, other = make_customer("loyal@example.com"), make_customer("other@example.com")
    add_orders(loyal, 10_000, vendor_id=attending.id)
    add_orders(other, 99_000, vendor_id=absent.id)
    db.session.commit()
    assert _emails(market, assigned_vendors_only=True) == ["loyal@example.com"]
    assert _emails(market)[0] == "other@example.com"


def test_leaves_out_recently_invited(market):
    invited, fresh = make_customer("invited@example.com"), make_customer("fresh@example.com")
    add_orders(invited, 90_000)
    add_orders(fresh, 10_000)
    earlier = make_market(market.venue, date(2026, 11, 19))
    db.session.add(
        Invitation(
            customer_id=invited.id, market_id=earlier.id, created_at=NOW - timedelta(weeks=2)
        )
    )
    db.session.commit()
    assert _emails(market, skip_invited_weeks=4) == ["fresh@example.com"]
    assert _emails(market, skip_invited_weeks=1)[0] == "invited@example.com"


def test_ranking_is_one_sql_statement(market, count_queries):
    for n in range(30):
        add_orders(make_customer(f"c{n}@example.com"), 1000 * (n + 1), 500)
    db.session.commit()
    assert market.id  # loads the expired market before counting
    with count_queries() as counter:
        ranked = rank_customers(
            market, RankingOptions(top_n=5, skip_invited_weeks=4, assigned_vendors_only=True), NOW
        )
    assert counter.count == 1 and ranked == []
    sql = str(ranking_query(market, RankingOptions(), NOW))
    assert "GROUP BY" in sql and "sum(orders.amount)" in sql


def test_purge_deletes_inactive_customers_and_keeps_suppressions(runner, market):
    active, stale = make_customer("active@example.com"), make_customer("stale@example.com")
    make_customer("never@example.com")  # no orders at all: purged too
    add_orders(active, 1000, days_ago=30)
    add_orders(stale, 1000, 2000, days_ago=800)
    db.session.add(Suppression(email_hash=email_hash("stale@example.com")))
    db.session.add(Invitation(customer_id=stale.id, market_id=market.id))
    db.session.commit()
    report = services.purge_inactive(730, now=NOW)
    db.session.commit()
    assert (report.customers, report.orders, report.invitations) == (2, 2, 1)
    assert db.session.scalars(select(Customer.email)).all() == ["active@example.com"]
    assert db.session.scalar(select(func.count()).select_from(Order)) == 1
    assert db.session.scalar(select(func.count()).select_from(Suppression)) == 1


def test_purge_command_reports(runner, app):
    add_orders(make_customer("x@example.com"), 1000, days_ago=2000)
    db.session.commit()
    result = runner.invoke(args=["customers", "purge", "--inactive-days", "730"])
    assert result.exit_code == 0 and "Deleted 1 customers, 1 orders" in result.output
