"""The last few reports, kept in the app (per process), so that staff
turning the pages of a report, downloading its files or opening it again
do not add up two years of orders each time: on ten years of orders one
report costs hundreds of milliseconds, a kept one a single small query.

A kept report is used only while the data it was built from is unchanged:
its key holds a fingerprint read in one statement (the newest order, the
number and newest change of takings, of enterprises, the newest purge), so
an import, a takings entry or correction, an enterprise's new name or type
and `customers purge` (the only thing that deletes orders; it is audited)
are seen at once. Kept reports are also dropped after MAX_AGE seconds, which
bounds what an unforeseen change could leave on screen."""

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
from market.sales.report import SalesReport, build_report
from market.takings.models import Takings
from market.vendors.models import Vendor

KEPT = 8  # reports per process; ten years of 2,000 enterprises is about 2 MB
MAX_AGE = 600  # seconds


class _Kept:
    def __init__(self) -> None:
        self.reports: OrderedDict[tuple, tuple[float, SalesReport]] = OrderedDict()
        self.lock = threading.Lock()


def _kept() -> _Kept:
    # On the app, not the module: each app (each test) starts empty.
    return current_app.extensions.setdefault("sales_reports", _Kept())


def fingerprint() -> tuple:
    """What the report is built from, cheaply, in one statement: MAX(id) of
    orders is an index lookup; takings and enterprises are a few thousand
    rows each (their sums catch a correction made within the same second);
    the newest purge is an index lookup on the audit log's action."""
    figures = (
        func.max(Order.id),
        func.count(Takings.id),
        func.sum(Takings.amount),
        func.sum(Takings.cash),
        func.sum(Takings.card),
        func.sum(Takings.voucher),
        func.max(Takings.updated_at),
        func.count(Vendor.id),
        func.max(Vendor.updated_at),
    )
    purged = select(func.max(AuditEntry.id)).where(AuditEntry.action == "customers.purge")
    row = db.session.execute(
        select(
            *(select(figure).scalar_subquery() for figure in figures),
            purged.scalar_subquery(),
        )
    ).one()
    return tuple(row)


def sales_report(start: date, end: date) -> SalesReport:
    """The report for [start, end], kept or built. Labels are in the reader's
    language, so the language is part of the key."""
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
