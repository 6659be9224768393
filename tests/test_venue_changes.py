"""A venue's name or address corrected: a change of place for every upcoming
market held there (docs/calendar.md: a higher SEQUENCE, an update
REQUEST with the same UID), through the staff venue page and the service.
The clock fixture stops the app's clock on Thursday 2026-11-26, 10:00 Korea
time, so "today" and "upcoming" do not depend on when the suite runs."""

from datetime import date, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from market.audit.models import AuditEntry
from market.customers.models import Suppression
from market.extensions import db
from market.invitations import answers, sending
from market.markets import services
from market.markets.models import Market, MarketStatus
from market.outbox import delivery, mime
from market.outbox.models import OutboxMessage, OutboxStatus
from market.vendors.models import ApplicationStatus
from tests.markets_factories import make_market, make_venue
from tests.test_invitations import calendar_bytes_of, invitation_of, make_customer
from tests.vendors_factories import make_application, make_vendor

TODAY = date(2026, 11, 26)  # the clock fixture's Thursday
NEW_NAME = "경기도청 북부청사"
NEW_ADDRESS = "경기도 의정부시 청사로 1"


@pytest.fixture
def town(app, clock):
    """A venue with a market last week, today, next week, one cancelled and
    one closed; another venue's market; customers invited to next week's
    market (first mails already sent), one of whom declined, one unsubscribed
    and one only on the suppression list; a vendor with a booth next week."""
    venue = make_venue("경기도청", 10, address="경기도 수원시 팔달구 효원로 1")
    other = make_venue("수원시청", 10)
    clock.seoul(2026, 11, 1, 11, 0)  # everything below was planned earlier
    markets = {
        "past": make_market(venue, TODAY - timedelta(weeks=1)),
        "today": make_market(venue, TODAY),
        "next": make_market(venue, TODAY + timedelta(weeks=1)),
        "cancelled": make_market(venue, TODAY + timedelta(weeks=2)),
        "elsewhere": make_market(other, TODAY + timedelta(weeks=1)),
    }
    services.change_status(markets["cancelled"], MarketStatus.CANCELLED, reason="행사장 공사")
    db.session.commit()
    people = {
        "hana": make_customer("hana@example.com", "김하나"),
        "dul": make_customer("dul@example.com", "이둘"),
        "quiet": make_customer("quiet@example.com", "조용"),
        "listed": make_customer("listed@example.com", "목록"),
    }
    sending.invite(markets["next"], [p.id for p in people.values()], None, clock.now)
    sending.invite(markets["today"], [people["hana"].id], None, clock.now)
    db.session.commit()
    delivery.deliver_due(now=clock.now)
    answers.answer(invitation_of(people["dul"]).token, False, clock.now)
    db.session.commit()  # invitation_of() expires the session
    answers.unsubscribe(invitation_of(people["quiet"]).token, clock.now)
    # On the suppression list only (say, a bounce), the customer row unchanged.
    db.session.add(Suppression(email_hash=people["listed"].email_hash, reason="bounced"))
    db.session.commit()
    vendor = make_vendor()
    make_application(vendor, markets["next"], ApplicationStatus.ASSIGNED)
    clock.seoul(2026, 11, 26, 10, 0)
    sequences = {key: market.sequence for key, market in markets.items()}
    return venue, markets, people, vendor, sequences


def _sequences(markets) -> dict[str, int]:
    db.session.expire_all()
    return {key: db.session.get(Market, m.id).sequence for key, m in markets.items()}


def _queued_updates() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.QUEUED)
            .order_by(OutboxMessage.id)
        )
    )


def _event(row: OutboxMessage):
    _body, calendar = calendar_bytes_of(mime.parse(row.mime))
    assert str(calendar["METHOD"]) == "REQUEST"
    [event] = calendar.walk("VEVENT")
    return event


def _check_place_changed(client, town, before, name=NEW_NAME, address=NEW_ADDRESS):
    """What everyone sees after the venue's name or address changed."""
    _venue, markets, _people, vendor, _ = town
    after = _sequences(markets)
    for key in ("today", "next"):
        assert after[key] == before[key] + 1, f"the {key} market's SEQUENCE rises"
    for key in ("past", "cancelled", "elsewhere"):
        assert after[key] == before[key], f"the {key} market is left alone"

    rows = _queued_updates()
    assert [row.to_address for row in rows] == ["hana@example.com"] * 2, (
        "declined, unsubscribed and suppressed customers get no update"
    )
    events = {str(_event(row)["UID"]): (row, _event(row)) for row in rows}
    assert set(events) == {markets["today"].uid, markets["next"].uid}
    for key in ("today", "next"):
        row, event = events[markets[key].uid]
        assert row.category == "invitation-update"
        assert row.subject.startswith("(광고) [변경]")
        assert event.decoded("SEQUENCE") == after[key]
        assert str(event["LOCATION"]) == f"{name}, {address}"
        text = mime.parse(row.mime).get_body(("plain",)).get_content()
        assert address in text and "(변경: 장소)" in text

    # The vendor with a booth next week sees the new place and sequence.
    feed = Calendar.from_ical(client.get(f"/vendors/feed/{vendor.feed_token}.ics").data)
    [event] = feed.walk("VEVENT")
    assert str(event["UID"]) == markets["next"].uid
    assert str(event["LOCATION"]) == f"{name}, {address}"
    assert event.decoded("SEQUENCE") == after["next"]

    # Staff see why each market changed.
    changes = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "market.update").order_by(AuditEntry.id)
    ).all()
    assert sorted(entry.object_id for entry in changes) == sorted(
        str(markets[key].id) for key in ("today", "next")
    )
    assert all(entry.after["location"] == f"{name}, {address}" for entry in changes)


def test_renaming_a_venue_on_the_staff_page_updates_every_upcoming_market(
    town, client, login_as, staff
):
    venue, _markets, _people, _vendor, before = town
    login_as(staff)
    page = client.get(f"/staff/venues/{venue.id}/edit").get_data(as_text=True)
    assert "이 장소에서 열릴 장터가 2회 있습니다" in page, "staff are told before saving"
    response = client.post(
        f"/staff/venues/{venue.id}/edit",
        data={
            "name": NEW_NAME,
            "address": NEW_ADDRESS,
            "booth_spots": "10",
            "map_url": venue.map_url,
            "confirm_mail": "yes",  # the page asks first (tests/test_venue_confirm.py)
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.location).get_data(as_text=True)
    assert "다가오는 장터 2회의 장소가 모든 캘린더에서 바뀌었습니다" in page
    _check_place_changed(client, town, before)


@pytest.mark.parametrize(
    ("name", "address"),
    [(NEW_NAME, "경기도 수원시 팔달구 효원로 1"), ("경기도청", NEW_ADDRESS)],
    ids=["name", "address"],
)
def test_update_venue_name_or_address_is_a_change_of_place(town, client, name, address):
    venue, markets, _people, _vendor, before = town
    moved = services.update_venue(venue, name, address, 10, venue.map_url)
    db.session.commit()
    assert moved == [markets["today"], markets["next"]]
    _check_place_changed(client, town, before, name=name, address=address)


def test_map_link_and_spots_mail_no_one(town, client):
    """Neither is time or place: no SEQUENCE raise, no update mail. The feed
    still shows the new map link (in the description) at its next refresh."""
    venue, markets, _people, vendor, before = town
    moved = services.update_venue(
        venue, " 경기도청 ", venue.address, 12, "https://naver.me/new-map"
    )
    db.session.commit()
    assert moved == []
    assert _sequences(markets) == before
    assert _queued_updates() == []
    feed = Calendar.from_ical(client.get(f"/vendors/feed/{vendor.feed_token}.ics").data)
    [event] = feed.walk("VEVENT")
    assert "https://naver.me/new-map" in str(event["DESCRIPTION"])


def test_a_venue_change_rolled_back_mails_no_one(town):
    venue, markets, _people, _vendor, before = town
    services.update_venue(venue, NEW_NAME, NEW_ADDRESS, 10, venue.map_url)
    db.session.rollback()
    assert _sequences(markets) == before
    assert _queued_updates() == []


def test_spots_below_an_upcoming_market_refused_but_not_for_a_cancelled_one(town):
    venue, markets, *_ = town
    with pytest.raises(services.MarketRuleError) as refused:
        services.update_venue(venue, venue.name, venue.address, 7, venue.map_url)
    assert "8" in refused.value.errors["booth_spots"]
    db.session.rollback()
    for key in ("today", "next"):
        services.change_status(markets[key], MarketStatus.CANCELLED, reason="폭설")
    db.session.commit()
    services.update_venue(venue, venue.name, venue.address, 7, venue.map_url)
    db.session.commit()
    assert venue.booth_spots == 7
