"""Odd addresses answer a Korean 404 or 400 page, never a 500: ids and page
numbers no database column can hold, url_for's own options in a query
string, and NUL characters in tokens, searches and forms."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from market.core.converters import MAX_ID
from market.core.pagination import MAX_PAGE
from market.extensions import db
from market.vendors.models import Vendor
from tests.markets_factories import make_market, make_venue, next_thursday
from tests.takings_factories import add_takings, market_on, vendor_at
from tests.vendors_factories import registration_form, today

NOT_FOUND = "페이지를 찾을 수 없습니다"
BAD_REQUEST = "요청을 처리할 수 없습니다"


@pytest.fixture
def app_config(app_config):
    app_config["PAGE_SIZE"] = 2  # three markets make two pages
    return app_config


@pytest.fixture
def markets(app):
    venue = make_venue("경기도청", 10)
    return [make_market(venue, next_thursday(today(), weeks=n)) for n in range(3)]


def assert_korean_page(response, status: int, heading: str) -> None:
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert heading in page
    assert '<html lang="ko"' in page


@pytest.mark.parametrize(
    "path",
    [
        "/markets/2147483648",  # one past PostgreSQL's integer
        "/markets/9223372036854775808",  # one past SQLite's integer
        "/markets/99999999999999999999999999999999.ics",
        "/staff/markets/2147483648",
        "/staff/markets/9223372036854775808/takings/1",
        "/staff/outbox/9223372036854775808",
    ],
)
def test_an_id_no_column_can_hold_is_a_korean_404(staff_client, markets, path):
    assert_korean_page(staff_client.get(path), 404, NOT_FOUND)


def test_the_largest_id_a_column_can_hold_still_reaches_the_view(staff_client, markets):
    assert staff_client.get(f"/markets/{markets[0].id}").status_code == 200
    # Routed (not refused by the converter), then not found by the view.
    assert_korean_page(staff_client.get(f"/markets/{MAX_ID}"), 404, NOT_FOUND)


@pytest.mark.parametrize(
    "path",
    [
        "/?page=1000000000000000000000000000000",
        f"/?page={MAX_PAGE + 1}",
        "/staff/markets/?page=99999999999999999999",
        "/staff/takings/report?markets_page=1000000000000000000000",
        "/staff/takings/report?vendors_page=1000000000000000000000",
    ],
)
def test_a_page_number_beyond_any_list_is_a_korean_404(staff_client, markets, path):
    assert_korean_page(staff_client.get(path), 404, NOT_FOUND)


def test_a_page_past_the_end_within_bounds_still_shows_empty(staff_client, markets):
    response = staff_client.get(f"/staff/markets/?page={MAX_PAGE}")
    assert response.status_code == 200
    assert staff_client.get("/staff/markets/?page=-5").status_code == 200


@pytest.mark.parametrize(
    "query", ["_anchor=x", "_method=PUT", "_external=1", "_scheme=ftp", "endpoint=core.home"]
)
def test_url_for_options_in_the_query_do_not_break_a_paged_list(staff_client, markets, query):
    response = staff_client.get(f"/staff/markets/?{query}&show=all")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # The link to the next page keeps the real filter and drops the option.
    assert 'href="/staff/markets/?show=all&amp;page=2" rel="next"' in page


def test_a_query_argument_cannot_replace_the_routes_own(staff_client, markets):
    """`?market_id=` on a market's list used to send its page links to
    another market (or to a 500 when not a number)."""
    market = markets[0]
    for n in range(3):
        vendor_at(market, f"기업{n}")
    response = staff_client.get(f"/staff/markets/{market.id}/applications?market_id=abc")
    assert response.status_code == 200
    assert f'href="/staff/markets/{market.id}/applications?page=2"' in response.get_data(
        as_text=True
    )


def test_url_for_options_on_the_takings_report_past_its_last_page(staff_client):
    market = market_on(today() - timedelta(days=1))
    vendor, _login = vendor_at(market)
    add_takings(vendor, market, 100_000)
    response = staff_client.get("/staff/takings/report?markets_page=5&_anchor=x&_method=PUT")
    assert response.status_code == 200
    assert "markets_page=1#" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/i/ab%00cd"),
        ("post", "/i/ab%00cd"),
        ("get", "/u/ab%00cd"),
        ("post", "/u/ab%00cd"),
        ("get", "/vendors/feed/ab%00cd.ics"),
    ],
)
def test_a_nul_in_a_token_is_a_korean_404(client, method, path):
    assert_korean_page(getattr(client, method)(path), 404, NOT_FOUND)


@pytest.mark.parametrize(
    "path",
    [
        "/staff/vendors/?q=a%00b",
        "/staff/outbox/?q=a%00b",
        "/staff/audit/?q=a%00b",
        "/staff/markets/?show=a%00b",
        "/staff/vendors/?a%00b=1",
    ],
)
def test_a_nul_in_a_staff_search_is_a_korean_400(staff_client, markets, path):
    assert_korean_page(staff_client.get(path), 400, BAD_REQUEST)


@pytest.mark.parametrize("field", ["name", "contact_name", "description", "email"])
def test_a_nul_in_a_sign_up_field_is_a_field_error_and_stores_nothing(client, field):
    """Not a 400 page any more: the field says what is wrong and the form
    keeps the rest (tests/test_form_input_rules.py)."""
    form = registration_form()
    form[field] = f"{form[field][:3]}\x00{form[field][3:]}"
    response = client.post("/vendors/register", data=form)
    assert response.status_code == 200
    assert "제어 문자" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Vendor)) == 0
