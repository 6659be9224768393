"""Templates translate with the request's catalogue, looked up once per
request (market.extensions.request_catalogue, market.core.i18n): a page's
lookups do not grow with its rows, and the texts still follow the language
of each request, force_locale inside one, particles and %-formatting. Long
tables build their links once (core.web.row_links). Counted, never timed."""

import re
from datetime import date

import flask_babel
import pytest
from flask import render_template_string, url_for
from flask_babel import force_locale

from market.core.web import row_links
from market.sales.figures import EnterpriseFigures
from market.vendors.labels import category_label
from market.vendors.models import Category
from tests.booths_factories import applicants, open_market
from tests.markets_factories import make_venue
from tests.takings_factories import add_takings, market_on
from tests.vendors_factories import make_vendor


@pytest.fixture
def lookups(monkeypatch):
    """How often Flask-Babel's domain looks the catalogue up (every string
    asked for it before the binding)."""
    calls = []
    original = flask_babel.Domain.get_translations

    def counted(self):
        calls.append(1)
        return original(self)

    monkeypatch.setattr(flask_babel.Domain, "get_translations", counted)
    return calls


def _lookups_for(client, path, lookups) -> int:
    """Look-ups of a page built again (a kept staff page is not built: it
    looks nothing up, which would prove nothing here)."""
    client.application.config["STAFF_PAGE_CACHE"] = False
    assert client.get(path).status_code == 200  # the catalogue is read from disk here
    lookups.clear()
    response = client.get(path)
    assert response.status_code == 200
    return len(lookups)


def test_a_booth_screen_looks_the_catalogue_up_once_whatever_its_rows(
    client, login_as, staff, lookups
):
    login_as(staff)
    few = open_market(weeks=2, booths=4, venue=make_venue("경기도청", 10))
    applicants(few, 3)
    many = open_market(weeks=3, booths=10, venue=make_venue("수원역", 10))
    applicants(many, 40, start=3)
    counts = [
        _lookups_for(client, f"/staff/markets/{market.id}/booths", lookups)
        for market in (few, many)
    ]
    assert counts == [1, 1]


def test_the_sales_report_looks_the_catalogue_up_once_whatever_its_rows(
    client, login_as, staff, lookups
):
    login_as(staff)
    day = market_on(date(2026, 3, 5))
    path = "/staff/sales?start=2026-01-01&end=2026-04-30"
    add_takings(make_vendor("가온식품"), day, 100_000, cash=100_000)
    few = _lookups_for(client, path, lookups)
    for n in range(40):
        add_takings(make_vendor(f"기업{n:02d}"), day, 10_000 + n, card=10_000 + n)
    many = _lookups_for(client, path, lookups)
    page = client.get(path).get_data(as_text=True)
    assert "기업39" in page and "가온식품" in page
    assert few == many == 1


TEMPLATE = (
    "{{ _('Market') }}|{{ _('Make it: %(status)s', status=status) }}|"
    "{{ ngettext('%(num)d market day.', '%(num)d market days.', 3) }}|"
    "{{ _('Sales support results') }}"
)


def test_templates_follow_force_locale_inside_a_request(app):
    with app.test_request_context("/"):
        korean = render_template_string(TEMPLATE, status="<대기>")
        with force_locale("en"):
            english = render_template_string(TEMPLATE, status="<대기>")
            english_label = category_label(Category.FOOD)
        again = render_template_string(TEMPLATE, status="대기")
        korean_label = category_label(Category.FOOD)
    # The variable is escaped, the translation is not; the particle fits the word.
    assert english == "Market|Make it: &lt;대기&gt;|3 market days.|Sales support results"
    assert korean.split("|")[1] == "'&lt;대기&gt;'로 변경"
    assert again.split("|")[1] == "'대기'로 변경"
    assert korean.split("|")[0] == again.split("|")[0] == "장터"
    assert korean.split("|")[3] == "판로지원 실적"
    assert korean.split("|")[2] == "장터 3회."
    assert english_label == "Food" and korean_label != "Food"


def test_each_request_shows_its_own_language(client, login_as, staff):
    """The binding lives on the request: the next request after a switch
    reads the other catalogue, texts kept per catalogue included."""
    login_as(staff)
    market = open_market(booths=4, venue=make_venue("경기도청", 10))
    applicants(market, 2)
    path = f"/staff/markets/{market.id}/booths"
    client.get(path)  # shows the login's welcome once
    pages = {}
    for lang in ("ko", "en", "ko"):
        client.post("/language", data={"lang": lang, "next": "/"})
        page = client.get(path).get_data(as_text=True)
        pages.setdefault(lang, []).append(re.sub(r'name="csrf_token"[^>]*>', "", page))
    english, korean = pages["en"][0], pages["ko"]
    button = (
        "Confirm the booths and email the enterprises",
        "부스 배정 확정하고 기업에 메일 보내기",
    )
    assert 'lang="en"' in english and button[0] in english and button[1] not in english
    assert all('lang="ko"' in page and button[1] in page for page in korean)
    assert korean[0] == korean[1]


def test_row_links_are_the_addresses_url_for_builds(app):
    """core.web.row_links builds a table's links once and puts each row's id
    in: the same addresses, under a prefix too and for a query argument."""
    for base_url in ("http://localhost/", "http://localhost/market-app/"):
        with app.test_request_context("/", base_url=base_url):
            vendor = row_links("vendors_staff.show", "vendor_id")
            page = row_links("invitations.index", "page", market_id=7, top_n=50)
            for row_id in (0, 1, 42, 2**31 - 1):
                assert vendor(row_id) == url_for("vendors_staff.show", vendor_id=row_id)
                assert page(row_id) == url_for(
                    "invitations.index", market_id=7, top_n=50, page=row_id
                )
            # The id's digits elsewhere in the address: every link built by url_for.
            same_digits = row_links("invitations.index", "page", market_id=2**31 - 1)
            assert same_digits(3) == url_for("invitations.index", market_id=2**31 - 1, page=3)


def test_a_kept_sales_report_counts_its_enterprises_once(client, login_as, staff, monkeypatch):
    """Group.enterprises is counted while the report is built: showing the
    kept report again reads an enterprise's `active` only for its own row on
    the page, not once per group total the page prints (the whole report's
    group holds every enterprise)."""
    login_as(staff)
    day = market_on(date(2026, 3, 5))
    for n in range(30):
        add_takings(make_vendor(f"기업{n:02d}"), day, 10_000 + n, cash=10_000 + n)
    path = "/staff/sales?start=2026-01-01&end=2026-04-30"
    assert client.get(path).status_code == 200  # built and kept
    reads = []
    active = EnterpriseFigures.active
    monkeypatch.setattr(
        EnterpriseFigures, "active", property(lambda row: reads.append(1) or active.fget(row))
    )
    page = client.get(path).get_data(as_text=True)
    assert "기업29" in page
    assert len(reads) <= 30
