"""The public feed is built once per version and served again to clients that
poll without If-None-Match; a change builds it anew."""

from datetime import date

from market import calendar
from market.extensions import db
from market.markets import services
from market.markets.models import MarketStatus
from tests.markets_factories import make_market, make_venue, next_thursday


def test_an_unchanged_feed_is_built_once_and_a_changed_one_again(client, monkeypatch):
    venue = make_venue()
    market = make_market(venue, next_thursday(date.today()))
    builds = []
    real = calendar.market_feed

    def counting(*args, **kwargs):
        builds.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(calendar, "market_feed", counting)
    first = client.get("/calendar.ics")
    second = client.get("/calendar.ics")
    assert first.status_code == second.status_code == 200
    assert second.data == first.data and len(builds) == 1
    services.change_status(market, MarketStatus.CANCELLED, reason="폭우 예보로 취소합니다.")
    db.session.commit()
    third = client.get("/calendar.ics")
    assert len(builds) == 2 and third.headers["ETag"] != first.headers["ETag"]
    assert b"STATUS:CANCELLED" in third.data and b"STATUS:CANCELLED" not in first.data


def test_each_host_gets_its_own_feed(client, monkeypatch):
    """Without SERVER_NAME the links in the feed follow the host asked."""
    make_market(make_venue(), next_thursday(date.today()))
    builds = []
    real = calendar.market_feed
    monkeypatch.setattr(calendar, "market_feed", lambda *a, **k: builds.append(1) or real(*a, **k))
    client.get("/calendar.ics")
    client.get("/calendar.ics", base_url="http://other.example")
    client.get("/calendar.ics", base_url="http://other.example")
    assert len(builds) == 2
