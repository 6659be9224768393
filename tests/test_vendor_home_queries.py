"""The vendor home runs the same statements for an enterprise with one
application as for one with forty, past and coming, open markets beside
them (the page's statements are built once with bound parameters: the
values of one enterprise never leak into another's page)."""

import re
from datetime import timedelta

from market.extensions import db
from market.markets import services
from market.markets.models import MarketStatus
from market.timeutil import SEOUL, utcnow
from tests.markets_factories import make_market, make_venue, next_thursday
from tests.vendors_factories import make_application, make_vendor, make_vendor_login


def _markets(venue, weeks: range) -> list:
    today = utcnow().astimezone(SEOUL).date()
    found = [make_market(venue, next_thursday(today) + timedelta(weeks=n)) for n in weeks]
    for market in found:
        if market.market_date > today:
            services.change_status(market, MarketStatus.OPEN)
    db.session.commit()
    return found


def test_the_vendor_home_does_not_grow_with_the_applications(client, login_as, count_queries):
    venue = make_venue("경기도청", 10)
    farm, bakery = make_vendor("햇살농장"), make_vendor("빵굽는마을")
    first = _markets(venue, range(1, 2))[0]
    application = make_application(farm, first)
    login_as(make_vendor_login(farm))
    with count_queries() as one:
        page = client.get("/vendor/").get_data(as_text=True)
    # its application, with its withdraw link
    withdraw = re.search(rf'href="([^"]*/{application.id}/withdraw[^"]*)"', page).group(1)

    for market in _markets(venue, range(-20, 0)) + _markets(venue, range(2, 22)):
        make_application(farm, market)
    with count_queries() as forty:
        assert client.get("/vendor/").status_code == 200
    assert forty.count == one.count, forty.statements

    # another enterprise's page: its own (no application), from the same statements
    with client.session_transaction() as session:
        session.clear()  # signed out
    login_as(make_vendor_login(bakery))
    with count_queries() as other:
        page = client.get("/vendor/").get_data(as_text=True)
    assert other.count <= one.count
    assert withdraw not in page
