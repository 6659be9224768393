"""The control group held back when invitations are sent (issue 18): a
random share of the eligible customers, drawn with a recorded seed, never
invited to that market; the send recorded with its ranking options."""

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import OperationalError

from market.audit.models import AuditEntry
from market.customers import services as customer_services
from market.customers.models import Customer, Order, email_hash
from market.extensions import db
from market.invitations import sending
from market.invitations.models import ControlCustomer, Invitation, InvitationSend
from market.timeutil import utcnow
from tests.conftest import is_postgres
from tests.markets_factories import make_market, make_venue

MARKET_DAY = date(2026, 11, 26)
RANKING = {"top_n": "200", "window_days": "90", "min_orders": "2", "skip_weeks": "4"}


@pytest.fixture
def market(app, clock):
    clock.seoul(2026, 11, 20)
    return make_market(make_venue(), MARKET_DAY)


def make_people(count: int, prefix: str = "p") -> list[int]:
    """Customers who may get advertising, in one statement."""
    db.session.execute(
        insert(Customer),
        [
            {
                "email": f"{prefix}{n}@example.com",
                "email_hash": email_hash(f"{prefix}{n}@example.com"),
                "name": f"고객{n}",
                "consent": True,
                "consent_at": utcnow(),
                "details_as_of": utcnow(),
                "created_at": utcnow(),
            }
            for n in range(count)
        ],
    )
    db.session.commit()
    return db.session.scalars(
        select(Customer.id).where(Customer.email.like(f"{prefix}%")).order_by(Customer.id)
    ).all()


def send_url(market) -> str:
    return f"/staff/markets/{market.id}/invitations/send"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def held_back_ids(market) -> list[int]:
    return db.session.scalars(
        select(ControlCustomer.customer_id)
        .where(ControlCustomer.market_id == market.id)
        .order_by(ControlCustomer.customer_id)
    ).all()


def invited_ids(market) -> list[int]:
    return db.session.scalars(
        select(Invitation.customer_id)
        .where(Invitation.market_id == market.id)
        .order_by(Invitation.customer_id)
    ).all()


def test_the_send_form_holds_back_ten_percent(client, staff, login_as, market):
    people = make_people(200)
    login_as(staff)
    data = {"customer_id": people, "control_percent": "10", **RANKING}
    review = client.post(send_url(market), data=data)
    assert review.status_code == 200
    html = review.text
    assert "180명에게 광고 메일을 보냅니다." in html
    assert "무작위로 10%를 초대하지 않고 비교군으로 남깁니다: 20명" in html
    assert 'name="control_percent" value="10"' in html
    assert count(Invitation) == count(InvitationSend) == 0, "not yet"

    done = client.post(send_url(market), data={**data, "confirmed": "yes"})
    assert done.status_code == 302
    db.session.expire_all()
    held, invited = held_back_ids(market), invited_ids(market)
    assert len(held) == 20 and len(invited) == 180
    assert not set(held) & set(invited)
    assert sorted(held + invited) == sorted(people)
    send = db.session.scalars(select(InvitationSend)).one()
    assert (send.chosen, send.invited, send.held_back, send.control_percent) == (200, 180, 20, 10)
    assert send.control_seed is not None and 0 <= send.control_seed < 2**63
    assert (send.top_n, send.window_days, send.min_orders, send.skip_invited_weeks) == (
        200,
        90,
        2,
        4,
    )
    assert send.assigned_vendors_only is False
    assert send.sent_by_id == staff.id and send.market_id == market.id
    assert set(db.session.scalars(select(Invitation.send_id))) == {send.id}
    assert set(db.session.scalars(select(ControlCustomer.send_id))) == {send.id}
    followed = client.get(done.headers["Location"]).text
    assert "비교군으로 남긴 고객: 20명" in followed
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "invitation.send")
    ).one()
    assert entry.after["held_back"] == 20 and entry.after["control_percent"] == 10


def test_the_draw_repeats_from_the_seed_and_the_eligible_ids(client, staff, login_as, market):
    people = make_people(137)
    login_as(staff)
    client.post(
        send_url(market),
        data={"customer_id": people[::-1], "control_percent": "25", "confirmed": "yes"},
    )
    db.session.expire_all()
    send = db.session.scalars(select(InvitationSend)).one()
    held = held_back_ids(market)
    assert len(held) == 137 * 25 // 100 == 34
    eligible = sorted(held + invited_ids(market))  # what the send chose from
    assert sending.draw_control(eligible, send.control_percent, send.control_seed) == held
    # the order the ids came in does not matter, the seed does
    assert sending.draw_control(eligible[::-1], 25, send.control_seed) == held
    assert sending.draw_control(eligible, 25, send.control_seed + 1) != held
    # no ranking options came with this send: recorded as none
    assert send.top_n is None and send.window_days is None


def test_draw_control_sizes():
    ids = list(range(1, 201))
    assert len(sending.draw_control(ids, 10, 5)) == 20
    assert sending.draw_control(ids, 0, None) == []
    assert len(sending.draw_control(ids, 50, 5)) == 100
    assert sending.draw_control(list(range(9)), 10, 5) == [], "10 % of 9 rounds down to none"
    assert sending.draw_control(ids, 10, 5) == sending.draw_control(ids, 10, 5)


def test_the_confirmation_and_the_draw_share_one_size(client, staff, login_as, market):
    """sending.control_size is the one rule: the confirmation page announces
    what the send then holds back (rounded down: 10 % of 15 is 1)."""
    for eligible in (0, 9, 10, 15, 99, 200):
        for percent in (0, 1, 10, 33, 50):
            drawn = sending.draw_control(range(eligible), percent, 7)
            assert sending.control_size(eligible, percent) == len(drawn)
    people = make_people(15)
    login_as(staff)
    data = {"customer_id": people, "control_percent": "10"}
    review = client.post(send_url(market), data=data).text
    assert "무작위로 10%를 초대하지 않고 비교군으로 남깁니다: 1명" in review
    client.post(send_url(market), data={**data, "confirmed": "yes"})
    assert len(held_back_ids(market)) == 1


def test_zero_percent_holds_no_one_back(client, staff, login_as, market):
    people = make_people(200)
    login_as(staff)
    client.post(
        send_url(market), data={"customer_id": people, "control_percent": "0", "confirmed": "yes"}
    )
    db.session.expire_all()
    assert len(invited_ids(market)) == 200 and held_back_ids(market) == []
    send = db.session.scalars(select(InvitationSend)).one()
    assert (send.control_percent, send.control_seed, send.held_back, send.invited) == (
        0,
        None,
        0,
        200,
    )


def test_fifty_percent_is_the_most(client, staff, login_as, market):
    people = make_people(200)
    login_as(staff)
    client.post(
        send_url(market), data={"customer_id": people, "control_percent": "50", "confirmed": "yes"}
    )
    db.session.expire_all()
    assert len(held_back_ids(market)) == 100 and len(invited_ids(market)) == 100


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("51", 'value="51"'),
        ("-1", 'value="-1"'),
        ("", 'value=""'),
        ("열", 'value="열"'),
        ("99999999999999999999", 'value="99999999999999999999"'),
        ("1\x00", None),
    ],
)
@pytest.mark.parametrize("confirmed", ["", "yes"])
def test_a_share_out_of_range_sends_nothing(
    client, staff, login_as, market, value, kept, confirmed
):
    people = make_people(20)
    login_as(staff)
    response = client.post(
        send_url(market),
        data={"customer_id": people, "control_percent": value, "confirmed": confirmed, **RANKING},
    )
    assert response.status_code == 200
    html = response.text
    assert "아무것도 보내지 않았습니다" in html
    assert 'class="error"' in html
    if kept:
        assert kept in html, "the input is kept"
    assert html.count('type="hidden" name="customer_id"') == 20
    assert 'name="top_n" value="200"' in html, "the ranking options come along"
    assert 'name="confirmed"' not in html, "only a check again, no send button"
    assert count(Invitation) == count(InvitationSend) == count(ControlCustomer) == 0


def test_out_of_range_errors_in_korean(client, staff, login_as, market):
    people = make_people(3)
    login_as(staff)
    html = client.post(send_url(market), data={"customer_id": people, "control_percent": "60"}).text
    assert "0부터 50까지의 숫자를 입력하세요." in html
    empty = client.post(send_url(market), data={"customer_id": people, "control_percent": ""})
    assert "비교군 비율을 0에서 50 사이로 입력하세요" in empty.text


def test_a_post_without_the_field_keeps_the_default(client, staff, login_as, market):
    """A page opened before the field existed holds back the default 10 %."""
    people = make_people(30)
    login_as(staff)
    client.post(send_url(market), data={"customer_id": people, "confirmed": "yes"})
    db.session.expire_all()
    assert len(held_back_ids(market)) == 3


def test_held_back_customers_are_never_invited_to_that_market(client, staff, login_as, market):
    people = make_people(40)
    login_as(staff)
    client.post(
        send_url(market), data={"customer_id": people, "control_percent": "50", "confirmed": "yes"}
    )
    db.session.expire_all()
    held = held_back_ids(market)
    assert len(held) == 20
    result = sending.invite(market, held, staff, utcnow())
    assert result.invited == 0 and result.skipped == {"control": held}
    db.session.rollback()
    review = client.post(send_url(market), data={"customer_id": held, "control_percent": "0"})
    assert "이 장터의 비교군: 20" in review.text
    assert 'type="hidden" name="customer_id"' not in review.text
    client.post(
        send_url(market), data={"customer_id": held, "control_percent": "0", "confirmed": "yes"}
    )
    db.session.expire_all()
    assert not set(invited_ids(market)) & set(held)
    assert count(InvitationSend) == 1, "a send with no one to invite records nothing"


def test_another_market_may_invite_them(client, staff, login_as, market):
    people = make_people(20)
    other = make_market(make_venue("수원역"), MARKET_DAY + timedelta(days=7))
    login_as(staff)
    client.post(
        send_url(market), data={"customer_id": people, "control_percent": "50", "confirmed": "yes"}
    )
    held = held_back_ids(market)
    result = sending.invite(other, held, staff, utcnow())
    assert result.invited == len(held) == 10


def test_held_back_lately_counts_as_invited_lately_in_the_ranking(app, market):
    """skip_invited_weeks leaves out the customers held back in those weeks
    as it leaves out the invited: otherwise the control group of one market
    would be invited to the next inside its "after" window more often than
    its invited customers (market.invitations.effect)."""
    from market.invitations.ranking import RankingOptions, rank_customers
    from tests.customer_factories import NOW, add_orders, make_customer

    held, invited, fresh = (make_customer(f"{who}@example.com") for who in ("held", "inv", "new"))
    for customer, amount in ((held, 90_000), (invited, 80_000), (fresh, 10_000)):
        add_orders(customer, amount)
    earlier = make_market(make_venue("수원역"), date(2026, 11, 5))
    db.session.flush()
    send = InvitationSend(
        market_id=earlier.id, sent_at=NOW - timedelta(weeks=2), chosen=2, invited=1, held_back=1
    )
    db.session.add(send)
    db.session.flush()
    db.session.add(ControlCustomer(send_id=send.id, market_id=earlier.id, customer_id=held.id))
    db.session.add(
        Invitation(
            customer_id=invited.id,
            market_id=earlier.id,
            send_id=send.id,
            created_at=NOW - timedelta(weeks=2),
        )
    )
    db.session.commit()

    def emails(weeks: int) -> list[str]:
        options = RankingOptions(skip_invited_weeks=weeks)
        return [row.email for row in rank_customers(market, options, NOW)]

    assert emails(4) == ["new@example.com"]
    assert emails(1) == ["held@example.com", "inv@example.com", "new@example.com"]
    assert emails(0)[0] == "held@example.com"


def test_the_page_lists_the_sends_and_marks_the_control_group(
    client, staff, login_as, market, clock
):
    people = make_people(30)
    order_time = utcnow() - timedelta(days=3)
    db.session.execute(
        insert(Order),
        [
            {
                "order_no": f"o{cid}-{k}",
                "ordered_at": order_time,
                "customer_id": cid,
                "seller_name": "가게",
                "product": "상품",
                "amount": 10_000 + cid,
            }
            for cid in people
            for k in range(2)
        ],
    )
    db.session.commit()
    login_as(staff)
    client.post(
        send_url(market),
        data={"customer_id": people, "control_percent": "20", "confirmed": "yes", **RANKING},
    )
    db.session.expire_all()
    send = db.session.scalars(select(InvitationSend)).one()
    held = held_back_ids(market)
    # skip_weeks 0: with 4 the ranking now leaves out the customers held
    # back in those weeks as it leaves out the invited (nobody would be left)
    html = client.get(
        f"/staff/markets/{market.id}/invitations?"
        + "&".join(f"{k}={v}" for k, v in {**RANKING, "skip_weeks": "0"}.items())
    ).text
    assert "보낸 기록과 비교군" in html
    assert 'name="control_percent"' in html and "비교군 비율 (%)" in html
    assert "무작위로 이 비율만큼의 고객을 초대하지 않고 비교군으로 남깁니다" in html
    assert str(send.control_seed) in html
    assert "상위 200명, 90일 주문, 2건 이상" in html
    assert ">24<" in html and ">6<" in html and ">20%<" in html
    for cid in held:
        assert f'id="pick-{cid}"' not in html, "no checkbox for the control group"
    assert html.count('badge badge-muted">비교군<') == len(held) == 6


def test_a_send_locks_the_market(app, market):
    """Held back by one staff member and invited by another at the same
    moment: invite takes the market's lock, so the second waits and then
    sees the first's control rows."""
    if not is_postgres():
        pytest.skip("row locks: PostgreSQL (SQLite has one writer at a time)")
    people = make_people(10)
    sending.invite(market, people, None, utcnow(), control_percent=50)
    blocked = threading.Event()

    def try_lock():
        with app.app_context():
            connection = db.engine.connect()
            try:
                connection.execute(text("SET lock_timeout = '200ms'"))
                connection.execute(
                    text("SELECT id FROM markets WHERE id = :id FOR UPDATE"), {"id": market.id}
                )
            except OperationalError:  # the lock timeout: what this test wants
                blocked.set()
            finally:
                connection.close()

    worker = threading.Thread(target=try_lock)
    worker.start()
    worker.join()
    db.session.rollback()
    assert blocked.is_set(), "the market was not locked during the send"


# -- purge ----------------------------------------------------------------------------


def test_purge_removes_visits_and_control_places(app, runner, market, staff):
    people = make_people(10)
    sending.invite(market, people, staff, utcnow(), control_percent=50)
    db.session.commit()
    visited = db.session.scalars(select(Invitation)).first()
    visited.visited_at = utcnow()
    visited.visited_by_id = staff.id
    db.session.commit()
    assert count(ControlCustomer) == 5
    # no orders at all: every one of them is inactive
    report = customer_services.purge_inactive(30)
    db.session.commit()
    assert report.invitations == 5 and report.control_group == 5
    assert count(Invitation) == count(ControlCustomer) == 0
    assert db.session.scalar(select(func.count()).where(Invitation.visited_at.is_not(None))) == 0
    assert count(InvitationSend) == 1, "the send's counts stay, without anyone's name"


def test_purge_command_reports_control_places(app, runner, market):
    people = make_people(4)
    sending.invite(market, people, None, utcnow(), control_percent=50)
    db.session.commit()
    result = runner.invoke(args=["customers", "purge", "--inactive-days", "30"])
    assert result.exit_code == 0, result.output
    assert "and 2 places in control groups" in result.output
    assert count(ControlCustomer) == 0
