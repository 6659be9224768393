"""Factories for venues and markets, shared by every area's tests."""

from datetime import date, time, timedelta

from market.extensions import db
from market.markets import services
from market.markets.models import Market, Venue


def make_venue(
    name: str = "경기도청",
    spots: int = 10,
    address: str | None = None,
    map_url: str | None = "https://map.naver.com/p/entry/place/1",
) -> Venue:
    venue = services.create_venue(
        name, address or f"경기도 수원시 팔달구 효원로 1 ({name})", spots, map_url
    )
    db.session.commit()
    return venue


def make_market(venue: Venue, day: date, booths: int = 8, **changes) -> Market:
    details = services.MarketDetails(
        market_date=day,
        start_time=changes.pop("start_time", time(10, 0)),
        end_time=changes.pop("end_time", time(15, 0)),
        venue_id=venue.id,
        booth_count=booths,
        application_deadline=changes.pop("application_deadline", services.default_deadline(day)),
        takings_ceiling=changes.pop("takings_ceiling", 30_000_000),
        **changes,
    )
    market = services.create_market(details)
    db.session.commit()
    return market


def market_form_data(
    venue_id: int, market_date: str = "2026-11-26", booth_count: int = 8, **changes
) -> dict:
    """What the staff market form posts, with `changes` on top."""
    data = {
        "market_date": market_date,
        "start_time": "10:00",
        "end_time": "15:00",
        "venue_id": str(venue_id),
        "booth_count": str(booth_count),
        "application_deadline": "",
        "takings_ceiling": "30,000,000원",
        "date_exception_reason": "",
        "note": "",
    }
    data.update(changes)
    return data


def next_thursday(after: date, weeks: int = 0) -> date:
    return after + timedelta(days=(3 - after.weekday()) % 7 or 7) + timedelta(weeks=weeks)
