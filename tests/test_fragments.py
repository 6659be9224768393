"""Fragments kept per process (market cards, booth maps) are keyed by what
they show: a change to any of it, or another language, shows at once."""

from datetime import datetime

from sqlalchemy import select

from market.booths import changes, services
from market.booths.models import Booth
from market.extensions import db
from market.markets import services as markets
from market.markets.models import MarketStatus
from market.timeutil import SEOUL
from market.vendors.models import Vendor
from tests.booths_factories import applicants, open_market
from tests.markets_factories import make_market, make_venue, next_thursday


def test_a_changed_market_card_shows_its_new_values(client):
    venue = make_venue("경기도청", 10, address="수원시 도청로 30")
    market = make_market(venue, next_thursday(datetime.now(SEOUL).date()))
    db.session.commit()
    assert "수원시 도청로 30" in client.get("/").get_data(as_text=True)
    venue.address = "수원시 효원로 1"
    markets.change_status(market, MarketStatus.CANCELLED, reason="폭설 예보")
    db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert "수원시 효원로 1" in page and "수원시 도청로 30" not in page
    assert "폭설 예보" in page
    client.post("/language", data={"lang": "en", "next": "/"})
    assert "Reason: 폭설 예보" in client.get("/").get_data(as_text=True)


def test_the_public_booth_map_follows_a_swap(client, staff):
    market = open_market(booths=4, venue=make_venue("경기도청", 10))
    applicants(market, 4)
    db.session.commit()
    services.confirm(market.id, staff)
    db.session.commit()

    first, second = (db.session.get(Vendor, b.vendor_id).name for b in _booths(market)[:2])
    before = client.get(f"/markets/{market.id}").get_data(as_text=True)
    assert f"1번 부스: {first}," in before and f"2번 부스: {second}," in before
    changes.swap(market.id, 1, 2, staff)
    db.session.commit()
    after = client.get(f"/markets/{market.id}").get_data(as_text=True)
    assert f"1번 부스: {second}," in after and f"2번 부스: {first}," in after


def _booths(market) -> list[Booth]:
    return db.session.scalars(
        select(Booth).where(Booth.market_id == market.id).order_by(Booth.number)
    ).all()
