"""The staff booth screen of a confirmed market runs the same number of SQL
statements for 6 applicants as for 40 (the page had no such guard), also
with the preview of a new assignment beside it; it loads of the vendors
only their names and categories, and shows them."""

from market.booths import services
from market.extensions import db
from tests.booths_factories import applicants, open_market
from tests.markets_factories import make_venue


def _confirmed(count: int, booths: int):
    market = open_market(booths=booths, venue=make_venue(f"장소 {count}", 10))
    applicants(market, count)
    services.confirm(market.id, None)
    db.session.commit()
    return market


def _look(client, count_queries, market, query: str = "", names_only: bool = False):
    db.session.expire_all()  # nothing left in the session from the setup
    with count_queries() as counter:
        response = client.get(f"/staff/markets/{market.id}/booths{query}")
    assert response.status_code == 200
    if names_only:  # the vendors' other columns are not read
        assert not any("vendors.business_number" in s for s in counter.statements)
    return counter.count, response.get_data(as_text=True)


def test_the_booth_screen_does_not_grow_with_the_applicants(client, login_as, staff, count_queries):
    small, large = _confirmed(6, 4), _confirmed(40, 10)
    login_as(staff)
    few, _ = _look(client, count_queries, small, names_only=True)
    many, big_page = _look(client, count_queries, large, names_only=True)
    assert few == many, (few, many)
    assert "기업039" in big_page and "대기 명단" in big_page
    with_preview, preview_page = _look(client, count_queries, large, "?preview=1")
    assert "기업039" in preview_page
    small_preview, _ = _look(client, count_queries, small, "?preview=1")
    assert small_preview == with_preview, (small_preview, with_preview)
