from datetime import date, time

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from market.audit.models import AuditEntry
from market.extensions import db
from market.markets import services
from market.markets.models import Market, MarketStatus, Venue
from tests.markets_factories import make_market, make_venue

THURSDAY = date(2026, 11, 26)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def venue(app):
    return make_venue("경기도청", spots=10)


def test_default_deadline_is_monday_18_kst(app):
    deadline = services.default_deadline(THURSDAY)
    assert deadline.isoformat() == "2026-11-23T18:00:00+09:00"


def test_uid_is_stable_and_sequence_rises_on_calendar_changes(venue):
    market = make_market(venue, THURSDAY)
    uid = market.uid
    assert market.sequence == 0 and uid.startswith("market-") and "@" in uid
    other = make_venue("경기남부경찰청", spots=8)

    def details(**changes):
        values = {
            "market_date": market.market_date,
            "start_time": market.start_time,
            "end_time": market.end_time,
            "venue_id": market.venue_id,
            "booth_count": market.booth_count,
            "application_deadline": market.application_deadline,
            "takings_ceiling": market.takings_ceiling,
            "note": market.note,
        }
        values.update(changes)
        return services.MarketDetails(**values)

    services.update_market(market, details(note="주차는 본관 뒤편"))
    assert market.sequence == 0, "an unrelated edit keeps the sequence"
    services.update_market(market, details(start_time=time(11, 0)))
    assert market.sequence == 1
    services.update_market(market, details(venue_id=other.id))
    assert market.sequence == 2
    services.update_market(
        market,
        details(
            market_date=date(2026, 12, 3),
            application_deadline=services.default_deadline(date(2026, 12, 3)),
        ),
    )
    assert market.sequence == 3
    services.change_status(market, MarketStatus.OPEN)
    assert market.sequence == 4
    services.change_status(market, MarketStatus.CANCELLED, reason="폭설 예보")
    db.session.commit()
    assert market.sequence == 5 and market.uid == uid


def test_calendar_change_signal_names_the_fields(venue):
    market = make_market(venue, THURSDAY)
    seen = []

    def listener(sender, changed):
        seen.append((sender.id, changed))

    services.market_calendar_changed.connect(listener)
    try:
        services.change_status(market, MarketStatus.OPEN)
    finally:
        services.market_calendar_changed.disconnect(listener)
    assert seen == [(market.id, ["status"])]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"booth_count": 3}, "booth_count", "4개에서 10개"),
        ({"booth_count": 11}, "booth_count", "4개에서 10개"),
        ({"market_date": date(2026, 11, 25)}, "date_exception_reason", "목요일"),
        ({"end_time": time(9, 0)}, "end_time", "시작 시간보다"),
        ({"takings_ceiling": 0}, "takings_ceiling", "0원보다"),
    ],
)
def test_market_rules_refuse_and_save_nothing(venue, changes, field, message):
    values = {
        "market_date": THURSDAY,
        "start_time": time(10),
        "end_time": time(15),
        "venue_id": venue.id,
        "booth_count": 8,
        "application_deadline": services.default_deadline(THURSDAY),
        "takings_ceiling": 30_000_000,
    }
    values.update(changes)
    with pytest.raises(services.MarketRuleError) as refused:
        services.create_market(services.MarketDetails(**values))
    assert message in refused.value.errors[field]
    db.session.rollback()
    assert _count(Market) == 0


def test_booths_limited_by_venue_spots(app):
    small = make_venue("수원시청", spots=6)
    with pytest.raises(services.MarketRuleError) as refused:
        make_market(small, THURSDAY, booths=8)
    assert "최대 6개" in refused.value.errors["booth_count"]


def test_non_thursday_with_reason_is_allowed(venue):
    market = make_market(
        venue, date(2026, 9, 23), date_exception_reason="추석 연휴 전 수요일 특별 장터"
    )
    assert market.market_date.weekday() == 2


def test_same_date_and_venue_refused_by_service_and_database(venue):
    make_market(venue, THURSDAY)
    with pytest.raises(services.MarketRuleError) as refused:
        make_market(venue, THURSDAY)
    assert "이미 장터가 있습니다" in refused.value.errors["market_date"]
    db.session.rollback()
    # The constraint itself, bypassing the service (two staff at once).
    first = db.session.scalars(select(Market)).one()
    db.session.add(
        Market(
            market_date=first.market_date,
            start_time=time(10),
            end_time=time(15),
            venue_id=venue.id,
            booth_count=8,
            uid="market-race@test",
            application_deadline=first.application_deadline,
            takings_ceiling=1,
            status=MarketStatus.PLANNED,
        )
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_database_refuses_out_of_range_booths(venue):
    db.session.add(
        Market(
            market_date=THURSDAY,
            start_time=time(10),
            end_time=time(15),
            venue_id=venue.id,
            booth_count=12,
            uid="market-x@test",
            application_deadline=services.default_deadline(THURSDAY),
            takings_ceiling=1,
            status=MarketStatus.PLANNED,
        )
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_status_flow_and_cancel_reason(venue):
    market = make_market(venue, THURSDAY)
    with pytest.raises(services.MarketRuleError):
        services.change_status(market, MarketStatus.HELD)
    with pytest.raises(services.MarketRuleError) as refused:
        services.change_status(market, MarketStatus.CANCELLED, reason="  ")
    assert "취소" in refused.value.errors["reason"]
    services.change_status(market, MarketStatus.CANCELLED, reason="우천")
    db.session.commit()
    assert market.cancel_reason == "우천"
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "market.status")
        )
        == 1
    )


def test_venue_in_use_cannot_be_deleted(venue):
    make_market(venue, THURSDAY)
    with pytest.raises(services.MarketRuleError) as refused:
        services.delete_venue(venue)
    assert "삭제할 수 없습니다" in refused.value.errors["venue"]
    db.session.rollback()
    assert _count(Venue) == 1


def test_unused_venue_is_deleted(venue):
    services.delete_venue(venue)
    db.session.commit()
    assert _count(Venue) == 0


def test_duplicate_venue_name_refused(venue):
    with pytest.raises(services.MarketRuleError) as refused:
        make_venue("경기도청")
    assert "이미 있습니다" in refused.value.errors["name"]
