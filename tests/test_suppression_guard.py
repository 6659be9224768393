"""The suppression list guards on its own: an address on it gets no update
and no cancellation, even when its customer row says it may be mailed
(unsubscribed_at empty, consent given), as after a re-import of an address
that once unsubscribed."""

from datetime import date, time, timedelta

import pytest
from sqlalchemy import delete, select, update

from market.customers.consent import may_receive_advertising, refusal
from market.customers.models import Customer, Suppression
from market.extensions import db
from market.invitations import sending, snapshots, updates
from market.invitations.ranking import RankingOptions, rank_customers
from market.markets import services as market_services
from market.markets.models import MarketStatus
from market.outbox import delivery
from market.outbox.models import OutboxMessage, OutboxStatus
from tests.markets_factories import make_market, make_venue
from tests.test_invitations import make_customer, make_order, market_details

MARKET_DAY = date(2026, 12, 10)  # a Thursday, two weeks after the clock's default


@pytest.fixture
def invited(clock, app):
    """Two customers invited at 11:00 Korea time; the second one's address
    then lands on the suppression list while its row still allows mail."""
    market = make_market(make_venue("경기도청", 10), MARKET_DAY)
    hana = make_customer("hana@example.com", "김하나")
    dul = make_customer("dul@example.com", "이둘")
    clock.seoul(2026, 11, 26, 11, 0)
    sending.invite(market, [hana.id, dul.id], None, clock.now)
    db.session.commit()
    return market, hana, dul


def _suppress(customer) -> None:
    db.session.add(Suppression(email_hash=customer.email_hash))
    db.session.commit()
    assert customer.unsubscribed_at is None and customer.consent


def _queued_to() -> list[str]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(OutboxMessage.to_address)
            .where(OutboxMessage.status == OutboxStatus.QUEUED)
            .order_by(OutboxMessage.id)
        )
    )


def test_an_update_skips_a_suppressed_address(clock, invited):
    market, hana, dul = invited
    delivery.deliver_due()  # both invitations go out
    _suppress(dul)
    market_services.update_market(market, market_details(market, start_time=time(11, 0)))
    db.session.commit()
    assert _queued_to() == [hana.email]


def test_a_cancellation_skips_a_suppressed_address(clock, invited):
    market, hana, dul = invited
    delivery.deliver_due()
    _suppress(dul)
    market_services.change_status(market, MarketStatus.CANCELLED, reason="폭우 예보로 취소")
    db.session.commit()
    assert _queued_to() == [hana.email]


def _change_time(market) -> None:
    market_services.update_market(market, market_details(market, end_time=time(16, 0)))


def _cancel(market) -> None:
    market_services.change_status(market, MarketStatus.CANCELLED, reason="시설 공사")


@pytest.mark.parametrize("change", [_change_time, _cancel])
def test_a_waiting_invitation_to_a_suppressed_address_never_leaves_after_a_change(
    clock, app, change
):
    """Invited at night, suppressed before 08:00: the change withdraws the
    waiting invitation instead of leaving it in the queue."""
    market = make_market(make_venue("경기도청", 10), MARKET_DAY)
    hana = make_customer("hana@example.com", "김하나")
    dul = make_customer("dul@example.com", "이둘")
    clock.seoul(2026, 11, 26, 22, 0)  # at night: the invitations wait for 08:00
    sending.invite(market, [hana.id, dul.id], None, clock.now)
    db.session.commit()
    _suppress(dul)
    change(market)
    db.session.commit()
    clock.advance(hours=10)  # 08:00 the next morning
    delivery.deliver_due()
    db.session.expire_all()
    addressed = db.session.scalars(select(OutboxMessage.to_address)).all()
    assert dul.email not in addressed
    if change is _change_time:  # Hana's invitation, replaced by one with the new time
        assert addressed == [hana.email]


# --- one rule of who may receive advertising, asked the same way everywhere ---------------

# (consent, unsubscribed, suppressed) -> why no advertising (None: they may get it),
# the most lasting reason named first: what classify() has always told staff.
CONSENT_CASES = {
    (consent, unsubscribed, suppressed): (
        "suppressed"
        if suppressed
        else "unsubscribed"
        if unsubscribed
        else None
        if consent
        else "no_consent"
    )
    for consent in (True, False)
    for unsubscribed in (True, False)
    for suppressed in (True, False)
}


def test_ranking_invite_updates_and_snapshots_ask_the_same_consent_rule(clock, app):
    """Every combination of consent, unsubscribing and suppression: the SQL
    filter, the reason staff are told, the ranking, the stored ranking, the
    invitation and the update after a change all agree on who may get
    advertising."""
    market = make_market(make_venue("경기도청", 10), MARKET_DAY)
    clock.seoul(2026, 11, 26, 11, 0)
    customers = {}
    for number, case in enumerate(CONSENT_CASES):
        consent, unsubscribed, suppressed = case
        customer = make_customer(f"c{number}@example.com", f"고객{number}", consent=consent)
        customer.unsubscribed_at = clock.now if unsubscribed else None
        if suppressed:
            db.session.add(Suppression(email_hash=customer.email_hash))
        make_order(customer, 10_000 + number, clock.now - timedelta(days=3))
        customers[case] = customer
    db.session.commit()
    may = {customer.id for case, customer in customers.items() if CONSENT_CASES[case] is None}
    ids = [customer.id for customer in customers.values()]

    assert set(db.session.scalars(select(Customer.id).where(may_receive_advertising()))) == may
    reasons = dict(db.session.execute(select(Customer.id, refusal())).all())
    assert reasons == {customer.id: CONSENT_CASES[case] for case, customer in customers.items()}

    eligible, skipped = sending.classify(market, ids)
    assert {customer.id for customer in eligible} == may
    assert skipped == {
        reason: [
            customer.id for case, customer in customers.items() if CONSENT_CASES[case] == reason
        ]
        for reason in ("suppressed", "unsubscribed", "no_consent")
    }

    ranked = rank_customers(market, RankingOptions(), clock.now)
    assert {row.customer_id for row in ranked} == may
    snapshots.compute(market, RankingOptions(), None, clock.now)
    db.session.commit()
    snapshot = snapshots.latest(market, RankingOptions())
    assert {row.customer_id for row in snapshot.rows} == may and snapshot.left_out == 0

    # Invited while they all could be, then refused again: the update after a
    # change of time reaches only the one who may still get advertising.
    db.session.execute(
        update(Customer)
        .where(Customer.id.in_(ids))
        .values(consent=True, consent_at=clock.now, unsubscribed_at=None)
    )
    hashes = db.session.scalars(select(Suppression.email_hash)).all()
    db.session.execute(delete(Suppression))
    db.session.commit()
    assert sending.invite(market, ids, None, clock.now).invited == len(ids)
    db.session.commit()
    for case, customer in customers.items():
        consent, unsubscribed, suppressed = case
        customer.consent = consent
        customer.unsubscribed_at = clock.now if unsubscribed else None
    db.session.add_all(Suppression(email_hash=value) for value in hashes)
    db.session.commit()
    snapshot = snapshots.latest(market, RankingOptions())
    assert {row.customer_id for row in snapshot.rows} == may
    assert updates.update_recipient_count([market], ("start_time",), clock.now) == len(may)
    assert updates.queue_updates(market, ("start_time",), clock.now) == len(may)
