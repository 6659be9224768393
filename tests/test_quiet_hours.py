"""Advertising never leaves the outbox at night, whatever delayed it."""

from datetime import date, datetime, timedelta

import pytest

from market import create_app
from market.config import ConfigError
from market.extensions import db
from market.outbox import delivery, mime
from market.outbox import services as outbox
from market.outbox.models import OutboxMessage, OutboxStatus
from market.timeutil import SEOUL
from tests.markets_factories import make_market, make_venue
from tests.test_invitations import make_customer


def _queue(category: str, due: datetime) -> int:
    message = mime.build_message("guest@example.com", f"{category} 메일", "본문")
    row = outbox.enqueue(message, category=category, not_before=due)
    db.session.commit()
    return row.id


def test_invitations_wait_for_the_morning_even_when_already_due(app):
    night = datetime(2026, 11, 26, 23, 30, tzinfo=SEOUL)
    invite = _queue("invitation", night - timedelta(hours=3))  # e.g. after a retry back-off
    update = _queue("invitation-update", night - timedelta(hours=3))
    notice = _queue("vendor-approval", night - timedelta(hours=3))
    report = delivery.deliver_due(now=night)
    assert report.sent == 1
    statuses = {row.id: row.status for row in db.session.scalars(db.select(OutboxMessage))}
    assert statuses[notice] is OutboxStatus.SENT
    assert statuses[invite] is statuses[update] is OutboxStatus.QUEUED
    morning = datetime(2026, 11, 27, 8, 0, tzinfo=SEOUL)
    assert delivery.deliver_due(now=morning).sent == 2


# -- the window the app applies ----------------------------------------------------------


@pytest.mark.parametrize(
    "window", ["08:00-22:00", "07:00-21:00", "00:00-23:59:59", "21:00-08:00", "8시-21시", ""]
)
def test_the_app_refuses_to_start_with_a_send_window_outside_the_law(app_config, window):
    app_config["SEND_WINDOW"] = window
    with pytest.raises(ConfigError, match="SEND_WINDOW") as refused:
        create_app(app_config)
    assert "08:00-21:00" in str(refused.value)


@pytest.mark.parametrize("window", ["08:00-21:00", "09:00-18:00"])
def test_the_law_or_a_narrower_window_is_accepted(app_config, window):
    app_config["SEND_WINDOW"] = window
    assert create_app(app_config).config["SEND_WINDOW"] == window


def test_a_stopped_clock_is_refused_in_production(app_config):
    app_config.update(MARKET_ENV="production", CLOCK="2026-11-26T10:00:00+09:00")
    with pytest.raises(ConfigError, match="CLOCK"):
        create_app(app_config)


def _send_invitation_from_the_page(client, market, customer) -> OutboxMessage:
    url = f"/staff/markets/{market.id}/invitations/send"
    response = client.post(url, data={"customer_id": [customer.id], "confirmed": "yes"})
    assert response.status_code == 302
    return db.session.scalars(db.select(OutboxMessage)).one()


def _deliver(runner) -> OutboxMessage:
    result = runner.invoke(args=["outbox", "deliver", "--once"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return db.session.scalars(db.select(OutboxMessage)).one()


@pytest.mark.parametrize(
    ("window", "sent_at", "goes_at"),
    [
        ("08:00-21:00", (11, 26, 20, 59), (11, 26, 20, 59)),  # inside: sent now
        ("08:00-21:00", (11, 26, 21, 0), (11, 27, 8, 0)),  # 21:00 is already too late
        ("08:00-21:00", (11, 26, 23, 59), (11, 27, 8, 0)),
        ("08:00-21:00", (11, 27, 0, 1), (11, 27, 8, 0)),  # 15:01 UTC on the 26th
        ("08:00-21:00", (11, 27, 7, 59), (11, 27, 8, 0)),
        ("09:00-18:00", (11, 27, 8, 30), (11, 27, 9, 0)),  # the configured window, not a default
        ("09:00-18:00", (11, 27, 18, 0), (11, 28, 9, 0)),
    ],
)
def test_an_invitation_sent_from_the_page_leaves_the_outbox_within_the_window(
    clock, app, client, staff, login_as, runner, window, sent_at, goes_at
):
    """Staff press send at a set time; the worker (`flask outbox deliver`)
    then runs at that time and again when the window opens."""
    app.config["SEND_WINDOW"] = window
    market = make_market(make_venue("경기도청", 10), date(2026, 12, 10))
    customer = make_customer("hana@example.com", "김하나")
    clock.seoul(2026, *sent_at)
    login_as(staff)
    row = _send_invitation_from_the_page(client, market, customer)
    due = datetime(2026, *goes_at, tzinfo=SEOUL)
    assert row.category == "invitation" and row.next_attempt_at == due
    if due > clock.now:
        assert _deliver(runner).status is OutboxStatus.QUEUED
        clock.set(due - timedelta(seconds=1))
        assert _deliver(runner).status is OutboxStatus.QUEUED
        clock.set(due)
    delivered = _deliver(runner)
    assert delivered.status is OutboxStatus.SENT and delivered.sent_at == due
