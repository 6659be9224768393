"""An invitation counts as delivered from the moment the mail server first
accepted one of its invitation or update mails (Invitation.delivered_at,
set by the outbox worker's sent mark through the outbox's messages_sent
signal), whatever happens to a later update; a bounce still takes it out.
And migration 0018 fills delivered_at from the outbox."""

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask_babel import force_locale
from flask_migrate import upgrade
from sqlalchemy import text

from market import create_app
from market.extensions import db
from market.inbox import handling
from market.inbox.outcome import Outcome
from market.invitations import funnel, funnel_report, mail_state, queries, sending
from market.invitations.messages import MailKind
from market.markets import services as market_services
from market.markets.models import MarketStatus
from market.outbox import delivery, mime
from market.outbox.models import OutboxMessage, OutboxStatus
from market.outbox.services import Claimed, DeliveryReport, record_results
from market.timeutil import SEOUL
from tests.inbox_samples import postfix_bounce
from tests.markets_factories import make_market, make_venue, next_thursday
from tests.migration_rows import insert_customers, insert_markets
from tests.test_invitations import invitation_of, make_customer, market_details
from tests.test_outbox import running_smtp
from tests.test_visitor_pass import scratch_database_url  # noqa: F401 (a fixture)


@pytest.fixture
def smtp(app_config):
    with running_smtp(app_config) as handler:
        yield handler


@pytest.fixture
def market(app):
    """Two weeks or more ahead of the real clock: the change listener treats
    it as upcoming and the dashboard shows it as the next market."""
    return make_market(
        make_venue("경기도청", 10), next_thursday(datetime.now(SEOUL).date(), weeks=2)
    )


@pytest.fixture
def now(market):
    """11:00 Korea time a week before the market: inside the sending hours."""
    return datetime.combine(market.market_date - timedelta(days=7), time(11, 0), tzinfo=SEOUL)


@pytest.fixture
def customers(app):
    return [make_customer("hana@example.com", "김하나"), make_customer("dul@example.com", "이둘")]


def _states(market_id: int) -> tuple[int, int, int, int, int]:
    glance = funnel.glance(market_id)
    return glance.delivered, glance.waiting, glance.failed, glance.bounced, glance.withdrawn


def _invite_and_deliver(market, customer, now):
    sending.invite(market, [customer.id], None, now)
    db.session.commit()
    assert delivery.deliver_due(now=now).sent == 1
    invitation = invitation_of(customer)
    assert invitation.delivered_at is not None, "set with the sent mark"
    return invitation


def _change_the_time(market, hour: int) -> None:
    market_services.update_market(market, market_details(market, start_time=time(hour, 0)))
    db.session.commit()


def test_an_invitation_that_arrived_stays_delivered_while_its_update_waits(
    smtp, app, market, customers, now
):
    hana = customers[0]
    first = _invite_and_deliver(market, hana, now)
    assert _states(market.id) == (1, 0, 0, 0, 0)

    _change_the_time(market, 11)
    invitation = invitation_of(hana)
    update = db.session.get(OutboxMessage, invitation.outbox_message_id)
    assert (update.category, update.status) == ("invitation-update", OutboxStatus.QUEUED)
    assert _states(market.id) == (1, 0, 0, 0, 0), "the update waits; the invitation arrived"
    # the dashboard shows the same figure
    report = funnel.market_funnel(market.id)
    assert (report.total.delivered, report.total.waiting) == (1, 0)

    assert delivery.deliver_due(now=now).sent == 1
    assert invitation_of(hana).delivered_at == first.delivered_at, "the first time is kept"


def test_a_failed_update_does_not_undo_the_invitation(smtp, app, market, customers, now):
    hana = customers[0]
    _invite_and_deliver(market, hana, now)
    _change_the_time(market, 11)
    smtp.reply = "550 5.1.1 No such user"
    assert delivery.deliver_due(now=now).failed == 1
    invitation = invitation_of(hana)
    assert db.session.get(OutboxMessage, invitation.outbox_message_id).status is (
        OutboxStatus.FAILED
    )
    assert invitation.delivered_at is not None
    assert _states(market.id) == (1, 0, 0, 0, 0)


def test_a_failed_invitation_is_delivered_once_its_update_arrives(
    smtp, app, market, customers, now
):
    hana = customers[0]
    sending.invite(market, [hana.id], None, now)
    db.session.commit()
    smtp.reply = "550 5.1.1 No such user"
    assert delivery.deliver_due(now=now).failed == 1
    assert invitation_of(hana).delivered_at is None
    assert _states(market.id) == (0, 0, 1, 0, 0)

    smtp.reply = None
    _change_the_time(market, 11)
    assert _states(market.id) == (0, 1, 0, 0, 0), "the update will still go out"
    assert delivery.deliver_due(now=now).sent == 1
    assert invitation_of(hana).delivered_at is not None
    assert _states(market.id) == (1, 0, 0, 0, 0)


def test_a_cancellation_is_no_invitation_that_arrived(smtp, app, market, customers, now):
    hana = customers[0]
    sending.invite(market, [hana.id], None, now)
    db.session.commit()
    smtp.reply = "550 5.1.1 No such user"
    delivery.deliver_due(now=now)
    smtp.reply = None
    invitation = invitation_of(hana)
    # The invitation failed; a cancellation mail the server takes brings no
    # invitation, so it marks nothing.
    cancel = OutboxMessage(
        category="invitation-cancel", to_address=hana.email, subject="취소", mime=b""
    )
    db.session.add(cancel)
    db.session.flush()
    invitation.outbox_message_id = cancel.id
    db.session.commit()
    claimed = Claimed(cancel.id, 0, cancel.subject, b"", cancel.category)
    record_results([claimed], [], datetime.now(UTC), DeliveryReport())
    db.session.commit()
    assert invitation_of(hana).delivered_at is None


def test_a_bounce_after_delivery_counts_as_bounced(smtp, app, market, customers, now):
    hana = customers[0]
    invitation = _invite_and_deliver(market, hana, now)
    row = db.session.get(OutboxMessage, invitation.outbox_message_id)
    handled = handling.handle(postfix_bounce(hana.email, mime.parse(row.mime)["Message-ID"]))
    db.session.commit()
    assert handled.outcome is Outcome.APPLIED, handled.reason
    assert _states(market.id) == (0, 0, 0, 1, 0)
    assert funnel.market_funnel(market.id).total.bounced == 1


# --- the migration -------------------------------------------------------------------


def test_0018_fills_delivered_at_from_the_linked_sent_mail(
    scratch_database_url,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    """Invitations written with SQL as the schema was at 0017: the one whose
    linked mail was sent gets its sent time; queued, failed and no mail stay
    empty."""
    monkeypatch.setenv("MARKET_INSTANCE_PATH", str(tmp_path))
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": scratch_database_url})
    stamp = "2026-11-20 05:00:00"
    sent = "2026-11-21 01:30:00"
    with app.app_context():
        upgrade(revision="0017")
        with db.engine.begin() as connection:
            insert_markets(connection, {1: date(2026, 12, 3)}, stamp)
            insert_customers(connection, 4, stamp)
            connection.execute(
                text(
                    "INSERT INTO outbox_messages (id, created_at, category, to_address, subject,"
                    " mime, status, attempts, next_attempt_at, sent_at) VALUES (:id, :at,"
                    " 'invitation', :to, '초대', :mime, :status, 1, :at, :sent)"
                ),
                [
                    {
                        "id": n,
                        "at": stamp,
                        "to": f"c{n}@x.kr",
                        "mime": b"",
                        "status": status,
                        "sent": sent if status == "sent" else None,
                    }
                    for n, status in ((1, "sent"), (2, "queued"), (3, "failed"))
                ],
            )
            connection.execute(
                text(
                    "INSERT INTO invitations (id, customer_id, market_id, token, status,"
                    " sequence_sent, created_at, answer_outdated, pass_code, outbox_message_id)"
                    " VALUES (:id, :id, 1, :token, 'invited', 0, :at, :no, :code, :mail)"
                ),
                [
                    {
                        "id": n,
                        "token": f"t{n}",
                        "at": stamp,
                        "no": False,
                        "code": f"ABCDE{n}",
                        "mail": n if n < 4 else None,
                    }
                    for n in range(1, 5)
                ],
            )
        upgrade(revision="0018")
        with db.engine.begin() as connection:
            rows = dict(
                connection.execute(
                    text("SELECT id, delivered_at FROM invitations ORDER BY id")
                ).all()
            )
        assert rows[2] is rows[3] is rows[4] is None
        assert str(rows[1]).startswith("2026-11-21 01:30:00")
        db.engine.dispose()


def test_the_dashboard_line_counts_the_invitation_not_its_update(
    smtp, app, market, customers, now, client, staff, login_as
):
    _invite_and_deliver(market, customers[0], now)
    _change_the_time(market, 11)
    login_as(staff)
    page = client.get("/staff/").get_data(as_text=True)
    assert "초대\u00a01 · 전달\u00a01 ·" in re.sub(r"<[^>]+>", "", page)  # pieces are spans


def test_a_cancelled_market_counts_no_invitation_as_still_to_come(
    smtp, app, market, customers, now
):
    """Cancelled: the invitation that arrived stays delivered while its
    cancellation waits; one whose first mail failed gets only a
    cancellation now, so it is withdrawn (never going out), not waiting."""
    hana, dul = customers
    _invite_and_deliver(market, hana, now)
    sending.invite(market, [dul.id], None, now)
    db.session.commit()
    smtp.reply = "550 5.1.1 No such user"
    assert delivery.deliver_due(now=now).failed == 1
    smtp.reply = None
    assert _states(market.id) == (1, 0, 1, 0, 0)

    market_services.change_status(market, MarketStatus.CANCELLED, reason="폭우 예보로 취소")
    db.session.commit()
    categories = {
        row.to_address: row.category
        for row in db.session.query(OutboxMessage).filter_by(status=OutboxStatus.QUEUED)
    }
    assert categories == {hana.email: "invitation-cancel", dul.email: "invitation-cancel"}
    assert _states(market.id) == (1, 0, 0, 0, 1), "nothing waits to be delivered"
    delivery.deliver_due(now=now)
    assert _states(market.id) == (1, 0, 0, 0, 1)
    assert MailKind.CANCEL.category == mail_state.CANCEL_CATEGORY


def test_the_report_names_the_column_of_mail_waiting_or_withdrawn(
    app, market, client, staff, login_as
):
    """The options table adds up waiting and withdrawn: its Korean heading
    says both (it said 발송 전·대기, "not sent yet", for mail never going out)."""
    login_as(staff)
    page = client.get(f"/staff/markets/{market.id}/invitations/report").get_data(as_text=True)
    assert "발송 대기 또는 취소" in page and "발송 전·대기<" not in page


def _tiles(market_id: int) -> tuple[int, int, int, int, int]:
    counts = queries.invitation_counts([market_id])[market_id]
    return counts.delivered, counts.queued, counts.failed, counts.bounced, counts.withdrawn


def test_the_invitations_pages_counts_follow_the_funnels_rule(
    smtp, app, market, customers, now, client, staff, login_as
):
    """The invitations page's tiles (queries.invitation_counts) counted
    delivered by the newest mail's status: an invitation that arrived read
    as waiting while its update waited. They use the funnel's rule
    (mail_state, delivered_at), so both say the same."""
    hana, dul = customers
    _invite_and_deliver(market, hana, now)
    _change_the_time(market, 11)  # hana's update waits
    assert _tiles(market.id) == _states(market.id) == (1, 0, 0, 0, 0)
    login_as(staff)
    page = client.get(f"/staff/markets/{market.id}/invitations").get_data(as_text=True)
    tiles = re.findall(r'tile-number">(\d+)</span><span class="tile-label">([^<]+)<', page)
    assert ("1", "전달됨") in tiles and ("0", "발송 대기") in tiles, tiles

    # dul's invitation fails, then the market is cancelled: only a
    # cancellation is left for an invitation that never arrived (withdrawn)
    sending.invite(market, [dul.id], None, now)
    db.session.commit()
    smtp.reply = "550 5.1.1 No such user"
    delivery.deliver_due(now=now)
    smtp.reply = None
    market_services.change_status(market, MarketStatus.CANCELLED, reason="폭우 예보로 취소")
    db.session.commit()
    assert _tiles(market.id) == _states(market.id) == (1, 0, 0, 0, 1)


def test_the_options_tables_column_of_waiting_and_withdrawn_mail_is_named_so(app, market):
    """Its msgid said "Not sent yet" for mail that never will be."""
    with app.test_request_context(), force_locale("en"):
        headers = funnel_report.options_table(funnel.market_funnel(market.id)).headers
    assert "Waiting or withdrawn" in headers and "Not sent yet" not in headers
