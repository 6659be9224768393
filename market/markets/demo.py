"""Demo venues and a season of markets around today (idempotent)."""

from datetime import timedelta

from sqlalchemy import select

from market.extensions import db
from market.markets import schedule, services
from market.markets.models import Market, MarketStatus, Venue
from market.timeutil import today_seoul

DEMO_VENUES = (
    ("경기도청", "경기도 수원시 영통구 도청로 30", 10, "https://map.naver.com/p/search/경기도청"),
    (
        "경기남부경찰청",
        "경기도 수원시 팔달구 월드컵로 206",
        8,
        "https://map.naver.com/p/search/경기남부경찰청",
    ),
    ("수원시청", "경기도 수원시 팔달구 효원로 241", 8, "https://map.naver.com/p/search/수원시청"),
    (
        "용인시청",
        "경기도 용인시 처인구 중부대로 1199",
        6,
        "https://map.naver.com/p/search/용인시청",
    ),
)
PAST_WEEKS, FUTURE_WEEKS = 12, 16


def seed_markets() -> list[str]:
    created = []
    venues = []
    for name, address, spots, map_url in DEMO_VENUES:
        venue = db.session.scalar(select(Venue).where(Venue.name == name))
        if venue is None:
            venue = services.create_venue(name, address, spots, map_url)
            created.append(f"venue {name}")
        venues.append(venue)
    today = today_seoul()
    start_time, end_time = services.default_times()
    settings = schedule.SeasonSettings(
        start=today - timedelta(weeks=PAST_WEEKS),
        end=today + timedelta(weeks=FUTURE_WEEKS),
        venue_ids=tuple(v.id for v in venues[:3]),
        start_time=start_time,
        end_time=end_time,
        booth_count=8,
    )
    markets, _skipped = schedule.create_season(settings)
    if markets:
        created.append(f"{len(markets)} markets from {settings.start} to {settings.end}")
        _set_demo_statuses(today)
    return created


def _set_demo_statuses(today) -> None:
    """Past markets closed, the next two open for applications, one cancelled.

    Past ones are set directly: demo history, not a change anyone made."""
    markets = db.session.scalars(select(Market).order_by(Market.market_date)).all()
    upcoming = [m for m in markets if m.market_date >= today]
    for market in markets:
        if market.market_date < today and market.status is MarketStatus.PLANNED:
            market.status = MarketStatus.CLOSED
    for market in upcoming[:2]:
        if market.status is MarketStatus.PLANNED:
            services.change_status(market, MarketStatus.OPEN)
    if len(upcoming) > 4 and upcoming[4].status is MarketStatus.PLANNED:
        services.change_status(
            upcoming[4], MarketStatus.CANCELLED, reason="시설 공사로 장소를 쓸 수 없어 취소합니다."
        )
