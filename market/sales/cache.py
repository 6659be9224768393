"""The last few reports, kept in the app (per process), so that staff
turning the pages of a report, downloading its files or opening it again
do not add up two years of orders each time: on ten years of orders one
report costs hundreds of milliseconds, a kept one a single small query.

A kept report is used only while the data it was built from is unchanged:
its key holds a fingerprint read in one statement. Its main part is the
audit log: every path that changes what the report reads records an entry
in the same transaction (a takings entry or correction by a vendor or the
staff, a market's new date, a market deleted, an enterprise's new name or
type, by staff or approved from its own request, an order file imported,
`customers purge`, an unmatched seller attached to an enterprise), so the
newest entry's id moves with each of them. A transaction that took a lower
id may commit after one with a higher id (PostgreSQL hands out ids before
commit); the number of entries among the newest AUDIT_WINDOW ids sees that
late commit too. What is not audited (the demo and bench seeds, a change
made by hand in the database) is caught by cheap aggregates over the small
tables the report reads (markets, takings, enterprises) and the newest order.
Kept reports are also dropped after MAX_AGE seconds, which bounds what an
unforeseen change could leave on screen.

The report has two halves with a fingerprint each (`fingerprints`): the
orders half (market.sales.figures.online_part: every order of the period
and the year before, the slow part) follows only what changes the orders
and their enterprise (new orders, the import, purge and attach-seller audit
entries, an enterprise deleted); the takings half, with the names, follows
everything above. So a takings entry costs the takings half (two small
statements), never the orders again. The orders half is also stored in
the database (market.sales.snapshots) for the other workers and restarts,
and counted ahead by `flask worker` after an import (`warm`). MAX_AGE bounds
only what a process keeps: a stored half lasts while its fingerprint holds
(an order changed by hand in the database, unaudited, outlives it until the
next import, purge or new order). Venues are not part of the report
(the vendor home's best days name them; its kept page follows the
staff pages' data version, market.core.signed_in_pages).

SALES_REPORT_CACHE = False in the config builds every report afresh (the
benchmark measures both)."""

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import get_locale
from sqlalchemy import func, select

from market.audit.models import AuditEntry
from market.customers.jobs import PENDING
from market.customers.models import CustomerImport, Order
from market.extensions import db
from market.markets.models import Market
from market.sales import snapshots
from market.sales.figures import OnlinePart, enterprise_figures, online_part
from market.sales.report import SalesReport, build_report
from market.takings.models import Takings
from market.vendors.models import Vendor

KEPT = 8  # reports per process; ten years of 2,000 enterprises is about 2 MB
MAX_AGE = 600  # seconds
# Audit entries written in transactions still open at once: far fewer than this.
AUDIT_WINDOW = 1000


# Audit actions that change what the orders give (market.sales.figures.
# online_part): new or deleted orders, and an order's enterprise. Names,
# types and categories are read live with the takings half.
ORDER_ACTIONS = ("customers.import", "customers.purge", "customers.attach_seller")


class _Kept:
    def __init__(self) -> None:
        self.reports: OrderedDict[tuple, tuple[float, SalesReport]] = OrderedDict()
        self.online: OrderedDict[tuple, tuple[float, OnlinePart]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, table: OrderedDict, key: tuple, now: float):
        with self.lock:
            found = table.get(key)
            if found and now - found[0] < MAX_AGE:
                table.move_to_end(key)
                return found[1]
        return None

    def put(self, table: OrderedDict, key: tuple, value, now: float) -> None:
        with self.lock:
            table[key] = (now, value)
            table.move_to_end(key)
            while len(table) > KEPT:
                table.popitem(last=False)


def _kept() -> _Kept:
    # On the app, not the module: each app (each test) starts empty.
    return current_app.extensions.setdefault("sales_reports", _Kept())


@dataclass(frozen=True)
class Fingerprint:
    offline: tuple  # what the takings half and the names are built from
    online: tuple  # what the orders half is built from
    stored: str | None = None  # the one the period's stored orders half was counted under

    @property
    def online_text(self) -> str:
        return snapshots.fingerprint_text(self.online)


def _audit_figures(*where) -> tuple:
    """The newest id of these audit entries and their count among the newest
    AUDIT_WINDOW ids (index range scans)."""
    newest = select(func.max(AuditEntry.id)).where(*where).scalar_subquery()
    return (
        newest,
        select(func.count(AuditEntry.id))
        .where(AuditEntry.id > func.coalesce(newest, 0) - AUDIT_WINDOW, *where)
        .scalar_subquery(),
    )


def fingerprints(period: tuple[date, date] | None = None) -> Fingerprint:
    """What each half of the report is built from, cheaply, in one statement
    (with, for a period, the fingerprint of its stored orders half).
    Takings half: the whole audit log's newest id and its count of entries
    among the newest AUDIT_WINDOW ids; markets, takings and enterprises are a
    few thousand rows each (their sums catch a correction made within the
    same second). Orders half: the newest order (an index lookup), the audit
    entries of ORDER_ACTIONS alone (so a takings entry leaves it alone) and
    the number of enterprises (one deleted drops its orders' link)."""
    offline = (
        *_audit_figures(),
        *(
            select(figure).scalar_subquery()
            for figure in (
                func.count(Market.id),
                func.max(Market.updated_at),
                func.count(Takings.id),
                func.sum(Takings.amount),
                func.sum(Takings.cash),
                func.sum(Takings.card),
                func.sum(Takings.voucher),
                func.max(Takings.updated_at),
                func.count(Vendor.id),
                func.max(Vendor.updated_at),
            )
        ),
    )
    online = (
        select(func.max(Order.id)).scalar_subquery(),
        # Two import writers commit chunks whose ids interleave: a chunk may
        # commit below the newest id. The orders each import wrote move with
        # every chunk (a small table).
        select(func.coalesce(func.sum(CustomerImport.orders_written), 0)).scalar_subquery(),
        *_audit_figures(AuditEntry.action.in_(ORDER_ACTIONS)),
        select(func.count(Vendor.id)).scalar_subquery(),
    )
    stored = () if period is None else (snapshots.stored_fingerprint(*period),)
    row = tuple(db.session.execute(select(*offline, *online, *stored)).one())
    return Fingerprint(
        offline=row[: len(offline)],
        online=row[len(offline) : len(offline) + len(online)],
        stored=row[-1] if period else None,
    )


def fingerprint() -> tuple:
    """Both halves' fingerprints as one: changes when anything the report
    reads changes."""
    found = fingerprints()
    return found.offline + found.online


def online_figures(start: date, end: date, prints: Fingerprint) -> OnlinePart:
    """The orders half of [start, end] while its fingerprint holds: kept in
    this process, or stored (by another worker, the background worker, or
    before a restart: one statement), else counted afresh and stored."""
    kept, now = _kept(), time.monotonic()
    key = (start, end, prints.online)
    found = kept.get(kept.online, key, now)
    if found is None:
        if prints.stored == prints.online_text:
            found = snapshots.load(start, end, prints.online_text)
        if found is None:
            found = online_part(start, end)
            snapshots.store(start, end, prints.online_text, found)
        kept.put(kept.online, key, found, now)
    return found


def warm(today: date) -> int:
    """Counts and stores the orders half of the periods staff open first
    (this year so far, the page's default, and this whole year, its
    shortcut) where the stored one is missing or stale, and drops halves
    counted under an older fingerprint. The background worker calls it
    (market.worker) when no order import is waiting or running; returns
    how many it counted."""
    under_way = select(CustomerImport.id).where(CustomerImport.status.in_(PENDING)).exists()
    if db.session.scalar(select(under_way)):
        return 0  # each part an import commits changes the orders again: after it
    counted = 0
    for start, end in (
        (date(today.year, 1, 1), today),
        (date(today.year, 1, 1), date(today.year, 12, 31)),
    ):
        prints = fingerprints((start, end))
        if prints.stored != prints.online_text:
            snapshots.store(start, end, prints.online_text, online_part(start, end))
            counted += 1
        db.session.rollback()  # ends the read: the next period's fingerprint is read afresh
    if counted:
        snapshots.drop_stale(prints.online_text)
    return counted


def sales_report(start: date, end: date) -> SalesReport:
    """The report for [start, end], kept or built. Labels are in the reader's
    language, so the language is part of the key. A change to the takings
    (or any audited change) rebuilds the takings half and the labels; the
    orders half is counted again only when the orders or their enterprises
    changed."""
    if not current_app.config.get("SALES_REPORT_CACHE", True):
        return build_report(start, end)
    prints = fingerprints((start, end))
    key = (start, end, str(get_locale()), prints.offline, prints.online)
    kept, now = _kept(), time.monotonic()
    report = kept.get(kept.reports, key, now)
    if report is None:
        online = online_figures(start, end, prints)
        report = build_report(start, end, enterprise_figures(start, end, online=online))
        kept.put(kept.reports, key, report, now)
    return report
