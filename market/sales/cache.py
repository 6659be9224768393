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
unforeseen change could leave on screen. Venues are not part of the report
(the vendor home's best days name them, and it is never kept).

SALES_REPORT_CACHE = False in the config builds every report afresh (the
benchmark measures both)."""

import threading
import time
from collections import OrderedDict
from datetime import date

from flask import current_app
from flask_babel import get_locale
from sqlalchemy import func, select

from market.audit.models import AuditEntry
from market.customers.models import Order
from market.extensions import db
from market.markets.models import Market
from market.sales.report import SalesReport, build_report
from market.takings.models import Takings
from market.vendors.models import Vendor

KEPT = 8  # reports per process; ten years of 2,000 enterprises is about 2 MB
MAX_AGE = 600  # seconds
# Audit entries written in transactions still open at once: far fewer than this.
AUDIT_WINDOW = 1000


class _Kept:
    def __init__(self) -> None:
        self.reports: OrderedDict[tuple, tuple[float, SalesReport]] = OrderedDict()
        self.lock = threading.Lock()


def _kept() -> _Kept:
    # On the app, not the module: each app (each test) starts empty.
    return current_app.extensions.setdefault("sales_reports", _Kept())


def fingerprint() -> tuple:
    """What the report is built from, cheaply, in one statement: the audit
    log's newest id and its count of entries among the newest AUDIT_WINDOW
    ids (index range scans on its primary key); the newest order (an index
    lookup); markets, takings and enterprises are a few thousand rows each
    (their sums catch a correction made within the same second)."""
    newest = select(func.max(AuditEntry.id)).scalar_subquery()
    figures = (
        newest,
        select(func.count(AuditEntry.id))
        .where(AuditEntry.id > func.coalesce(newest, 0) - AUDIT_WINDOW)
        .scalar_subquery(),
        *(
            select(figure).scalar_subquery()
            for figure in (
                func.max(Order.id),
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
    return tuple(db.session.execute(select(*figures)).one())


def sales_report(start: date, end: date) -> SalesReport:
    """The report for [start, end], kept or built. Labels are in the reader's
    language, so the language is part of the key."""
    if not current_app.config.get("SALES_REPORT_CACHE", True):
        return build_report(start, end)
    key = (start, end, str(get_locale()), fingerprint())
    kept = _kept()
    now = time.monotonic()
    with kept.lock:
        found = kept.reports.get(key)
        if found and now - found[0] < MAX_AGE:
            kept.reports.move_to_end(key)
            return found[1]
    report = build_report(start, end)
    with kept.lock:
        kept.reports[key] = (now, report)
        kept.reports.move_to_end(key)
        while len(kept.reports) > KEPT:
            kept.reports.popitem(last=False)
    return report
