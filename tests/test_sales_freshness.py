"""판로지원 실적: a kept report (market.sales.cache) never shows stale data.
Every path that changes what the report reads records an audit entry, and
the fingerprint follows the audit log; what is not audited is caught by the
small tables' aggregates."""

import csv
import re
from dataclasses import fields
from datetime import UTC, date, datetime

from sqlalchemy import delete, func, select

from market.audit.models import AuditEntry
from market.customers.samples import KOREAN_HEADER
from market.extensions import db
from market.markets.models import Market
from market.markets.services import MarketDetails, update_market
from market.sales.cache import fingerprint
from market.takings.models import Takings
from market.takings.services import TakingsValues, save_by_staff, save_by_vendor
from market.vendors.changes import decide_change
from market.vendors.models import VendorChange
from tests.takings_factories import take_part
from tests.test_sales_report import PERIOD, world  # noqa: F401 (a fixture)


def _page(client) -> str:
    return client.get("/staff/sales", query_string=PERIOD).get_data(as_text=True)


def _newest_action() -> str | None:
    return db.session.scalar(select(AuditEntry.action).order_by(AuditEntry.id.desc()).limit(1))


def _april_market(world):  # noqa: F811
    takings = db.session.scalars(select(Takings).where(Takings.vendor_id == world["b"].id)).one()
    return db.session.get(Market, takings.market_id)


def test_a_moved_market_date_is_seen_at_once(world, staff_client, staff):  # noqa: F811
    """Takings are placed in periods by the market's date: moving the 2 April
    market (가온식품 500,000, 나래공방 150,000) into May takes them out of
    January–April on the next request."""
    assert "₩1,027,000" in _page(staff_client)
    market = _april_market(world)
    details = {field.name: getattr(market, field.name) for field in fields(MarketDetails)}
    details.update(market_date=date(2026, 5, 14), date_exception_reason=None)
    update_market(market, MarketDetails(**details), actor=staff)
    db.session.commit()
    assert _newest_action() == "market.update"
    text = _page(staff_client)
    assert "₩1,027,000" not in text
    assert "₩377,000" in text  # 300,000 at the market in February + 77,000 online


def _changes(before: tuple, action: str) -> None:
    assert _newest_action() == action
    assert fingerprint() != before


def test_takings_by_vendor_and_staff_are_audited(world, app, staff):  # noqa: F811
    market = _april_market(world)
    take_part(world["a"], market)
    before = fingerprint()
    save_by_vendor(world["a"], market, TakingsValues(501_000), None, today=market.market_date)
    db.session.commit()
    _changes(before, "takings.update")
    before = fingerprint()
    save_by_staff(world["b"], market, TakingsValues(151_000), staff, "고침", today=date(2026, 5, 1))
    db.session.commit()
    _changes(before, "takings.update")


def test_an_approved_name_change_is_audited(world, staff):  # noqa: F811
    db.session.add(VendorChange(vendor_id=world["a"].id, name="가온푸드"))
    db.session.commit()
    before = fingerprint()
    decide_change(world["a"], "approve", staff)
    db.session.commit()
    _changes(before, "vendor.change_approve")


def test_an_import_and_a_purge_are_audited(world, runner, tmp_path):  # noqa: F811
    path = tmp_path / "orders.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(KOREAN_HEADER)
        row = ["Z-1", "2026-03-02 10:00", "김", "z@example.com", "", "가온식품", "두유", "9000"]
        writer.writerow([*row, "N", ""])
    before = fingerprint()
    result = runner.invoke(args=["customers", "import", str(path)])
    assert result.exit_code == 0, result.output
    _changes(before, "customers.import")
    from market.customers.services import purge_inactive

    before = fingerprint()
    purge_inactive(days=1, now=datetime(2036, 1, 1, tzinfo=UTC))
    db.session.commit()
    _changes(before, "customers.purge")


def test_an_audit_entry_committed_late_with_a_lower_id_is_seen(app):
    """PostgreSQL hands out ids before commit: a transaction holding id n may
    commit after one holding n + 1. The newest id stays n + 1; the count of
    the newest entries moves."""
    for action in ("test.one", "test.two"):
        db.session.add(AuditEntry(actor_label="시험", action=action, object_type="x"))
    db.session.commit()
    newest = db.session.scalar(select(func.max(AuditEntry.id)))
    late = db.session.get(AuditEntry, newest - 1)
    values = {"actor_label": late.actor_label, "action": late.action, "object_type": "x"}
    db.session.execute(delete(AuditEntry).where(AuditEntry.id == newest - 1))
    db.session.commit()
    before = fingerprint()  # n + 1 committed, n not yet
    db.session.add(AuditEntry(id=newest - 1, **values))
    db.session.commit()
    assert fingerprint() != before


def test_with_nothing_kept_every_request_builds_the_report(world, app, staff_client, count_queries):  # noqa: F811
    """SALES_REPORT_CACHE = False (the benchmark's "nothing kept" rows): the
    login and the report's four statements, every time, no fingerprint."""
    app.config["SALES_REPORT_CACHE"] = False
    _page(staff_client)
    with count_queries() as again:
        assert "₩1,027,000" in _page(staff_client)
    assert again.count == 5, again.statements


def test_the_bench_measures_the_report_kept_and_fresh_and_survives_29_february(app):
    """benchmarks.pages: a row with nothing kept next to the kept one (an app
    of its own, configured through gunicorn's environment), and an anchor on
    29 February (anchor.replace(year=...) raised ValueError)."""
    from benchmarks.pages import page_list
    from market.config import load_environment
    from tests.takings_factories import market_on

    market_on(date(2027, 3, 4))
    market_on(date(2028, 3, 2))
    db.session.commit()
    pages = {page.key: page for page in page_list(app, date(2028, 2, 29))}
    assert (
        "start=2027-03-01" in pages["sales-year"].path
        and "end=2028-02-29" in pages["sales-year"].path
    )
    for key in ("sales-year", "sales-all"):
        kept, fresh = pages[key], pages[f"{key}-fresh"]
        assert fresh.path == kept.path and kept.target == fresh.target == 8
        assert kept.config == {} and fresh.config == {"SALES_REPORT_CACHE": False}
    config = {}
    load_environment(config, pages["sales-all-fresh"].env)
    assert config == {"SALES_REPORT_CACHE": False}


def test_attaching_an_unmatched_seller_is_audited(world, staff, staff_client):  # noqa: F811
    """Helper F1's action (market.customers.sellers): orders move from 모르는
    상점 to 가온식품 in one UPDATE, which no table aggregate of the
    fingerprint sees; its audit entry does."""
    from market.customers.sellers import attach_seller

    assert "₩1,027,000" in _page(staff_client)
    before = fingerprint()
    attach_seller("모르는상점", world["a"].id, staff)
    db.session.commit()
    _changes(before, "customers.attach_seller")
    assert "₩1,127,000" in _page(staff_client)  # 100,000 more online


def _over_orders(statements: list[str]) -> list[str]:
    return [s for s in statements if re.search(r"\bFROM orders\b", s)]


def test_a_takings_entry_does_not_count_the_orders_again(world, staff, staff_client, count_queries):  # noqa: F811
    """The report's two halves are kept apart (market.sales.cache): a
    corrected takings entry, or any other audited change that is not about
    orders, rebuilds the takings half, while the orders half (every order of
    two years: seconds on ten years of data) stays kept. The only statement
    over the orders is the fingerprint's newest order."""
    assert "₩1,027,000" in _page(staff_client)
    save_by_staff(world["b"], _april_market(world), TakingsValues(151_000), staff, "고침")
    db.session.commit()
    with count_queries() as again:
        text = _page(staff_client)
    assert "₩1,028,000" in text  # 나래공방 150,000 -> 151,000 at the market
    # The login, the fingerprint, takings per enterprise and per month.
    assert again.count == 4, again.statements
    (newest,) = _over_orders(again.statements)
    assert "max(orders.id)" in newest and "GROUP BY" not in newest
    db.session.add(AuditEntry(actor_label="시험", action="user.invite", object_type="users"))
    db.session.commit()
    with count_queries() as again:
        assert "₩1,028,000" in _page(staff_client)
    assert len(_over_orders(again.statements)) == 1, again.statements


def test_an_order_change_counts_the_orders_again(world, staff, staff_client, count_queries):  # noqa: F811
    """A new order, a purge or an attached seller changes the orders half's
    fingerprint: the orders are counted again (and the takings half too,
    since every audited change moves it)."""
    from market.customers.sellers import attach_seller

    assert "₩1,027,000" in _page(staff_client)
    attach_seller("모르는상점", world["a"].id, staff)
    db.session.commit()
    with count_queries() as again:
        assert "₩1,127,000" in _page(staff_client)
    assert len(_over_orders(again.statements)) == 3, again.statements  # + per enterprise, month
