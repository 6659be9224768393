"""판로지원 실적: a kept report's tables, month table and charts are drawn
once per report, language and page of the table (SalesReport.kept_html),
and drawn again as soon as the report changes. Counted, not timed: the
`won` filter formats every amount of those parts, the month chart is worked
out in market.sales.charts."""

import re

import pytest

from market.sales import charts
from market.takings.services import TakingsValues, save_by_staff
from tests.test_sales_freshness import _april_market
from tests.test_sales_report import PERIOD, world  # noqa: F401 (a fixture)


@pytest.fixture
def counted(app, monkeypatch):
    """How often the page formats an amount and works out its month chart."""
    calls = {"won": 0, "months": 0}
    won, months = app.jinja_env.filters["won"], charts.months

    def counting_won(*args, **kwargs):
        calls["won"] += 1
        return won(*args, **kwargs)

    def counting_months(*args, **kwargs):
        calls["months"] += 1
        return months(*args, **kwargs)

    monkeypatch.setitem(app.jinja_env.filters, "won", counting_won)
    monkeypatch.setattr(charts, "months", counting_months)
    return calls


def _page(client, **args) -> str:
    with client.session_transaction() as session:
        session.pop("_flashes", None)  # the login's welcome, drawn per request
    response = client.get("/staff/sales", query_string={**PERIOD, **args})
    assert response.status_code == 200
    # The form's CSRF token is the only part drawn per request that differs.
    return re.sub(r'(name="csrf_token"[^>]*value=")[^"]+', r"\1", response.get_data(as_text=True))


def test_a_kept_report_is_drawn_once(world, staff_client, counted):  # noqa: F811
    first = _page(staff_client)
    assert counted["won"] > 20 and counted["months"] == 1
    drawn = dict(counted)
    again = _page(staff_client)
    assert again == first  # the same page, byte for byte
    assert counted == drawn  # old code: every amount formatted and the chart worked out again


def test_a_takings_entry_is_drawn_on_the_next_request(world, staff, staff_client, counted):  # noqa: F811
    assert "₩1,027,000" in _page(staff_client)
    drawn = dict(counted)
    save_by_staff(world["b"], _april_market(world), TakingsValues(151_000), staff, "고침")
    from market.extensions import db

    db.session.commit()
    text = _page(staff_client)
    assert "₩1,028,000" in text and "₩1,027,000" not in text
    assert counted["won"] > drawn["won"] and counted["months"] == 2


def test_each_language_is_drawn_in_its_own_words(world, staff_client, counted):  # noqa: F811
    korean = _page(staff_client)
    with staff_client.session_transaction() as session:
        session["lang"] = "en"
    english = _page(staff_client)
    assert "Per enterprise type" in english and "Per enterprise type" not in korean
    assert "Market takings" in english and "Market takings" not in korean
    assert counted["months"] == 2
    with staff_client.session_transaction() as session:
        session["lang"] = "ko"
    assert _page(staff_client) == korean


def test_a_page_past_the_table_is_drawn_each_time(world, staff_client, counted):  # noqa: F811
    """Its 'back to the first page' link carries the request's own arguments:
    never kept (and a page that does not exist is not remembered)."""
    for extra in ("a", "b"):
        text = _page(staff_client, page=99, note=extra)
        assert "첫 쪽으로" in text  # back to the first page
        assert f"note={extra}" in text
