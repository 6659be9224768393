"""Importing the marketplace's order export in two passes.

The check pass reads the whole file and saves nothing: it names every bad
row with its line, lists sellers that match no vendor and counts new and
known orders. Only a file without bad rows (or one where staff explicitly
chose "import the good rows") reaches the write pass, so a bad file changes
nothing. The write pass commits in batches so a million-row file neither
holds memory nor blocks every other writer for minutes; a write pass that
dies half-way is finished by running it again, since order numbers are unique
and customers are keyed by email (nothing is counted twice)."""

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import insert, select, update

from market.customers.models import Customer, CustomerImport, ImportStatus, Order, email_hash
from market.customers.rows import BadRow, OrderRow, RowSource, parse_row
from market.extensions import db
from market.timeutil import utcnow
from market.vendors.models import Vendor

BATCH = 2000
REPORTED_BAD_ROWS = 500
REPORTED_SELLERS = 100

Progress = Callable[[int, int, int], None]  # rows done, position, size


@dataclass
class SellerMatcher:
    """Matches the export's seller column to a vendor by name or shop link."""

    by_name: dict[str, int]
    by_link: dict[str, int]

    @classmethod
    def load(cls) -> "SellerMatcher":
        rows = db.session.execute(select(Vendor.id, Vendor.name, Vendor.shop_url)).all()
        return cls(
            by_name={_seller_key(name): vendor_id for vendor_id, name, _ in rows},
            by_link={_link_key(url): vendor_id for vendor_id, _, url in rows if url},
        )

    def match(self, seller: str) -> int | None:
        return self.by_name.get(_seller_key(seller)) or self.by_link.get(_link_key(seller))


def _seller_key(name: str) -> str:
    name = re.sub(r"\((주|사|유|재)\)|주식회사|㈜", "", name)
    return re.sub(r"\s+", "", name).lower()


def _link_key(url: str) -> str:
    return re.sub(r"^https?://(www\.)?", "", url.strip().lower()).rstrip("/")


def _rows(source: RowSource, progress: Progress | None) -> Iterator[OrderRow | BadRow]:
    count = 0
    for line, raw in source:
        count += 1
        yield parse_row(line, raw)
        if progress and count % BATCH == 0:
            progress(count, source.position, source.size)
    if progress:
        progress(count, source.size, source.size)


def check_file(job: CustomerImport, progress: Progress | None = None) -> None:
    """The check pass: fills the job's counts and report; saves no order."""
    source = RowSource(job.stored_path, job.filename)
    matcher = SellerMatcher.load()
    seen: dict[str, int] = {}
    bad: list[dict] = []
    bad_count = total = known = 0
    unmatched: Counter[str] = Counter()
    pending: list[str] = []

    def count_known() -> int:
        found = db.session.scalars(select(Order.order_no).where(Order.order_no.in_(pending)))
        pending.clear()
        return len(found.all())

    for row in _rows(source, progress):
        total += 1
        if isinstance(row, OrderRow) and row.order_no in seen:
            row = BadRow(
                row.line,
                (
                    _(
                        "Order number %(number)s already appears on line %(line)d.",
                        number=row.order_no,
                        line=seen[row.order_no],
                    ),
                ),
            )
        if isinstance(row, BadRow):
            bad_count += 1
            if len(bad) < REPORTED_BAD_ROWS:
                bad.append({"line": row.line, "problems": list(row.problems)})
            continue
        seen[row.order_no] = row.line
        if matcher.match(row.seller) is None:
            unmatched[row.seller] += 1
        pending.append(row.order_no)
        if len(pending) >= BATCH:
            known += count_known()
    if pending:
        known += count_known()
    job.rows_total, job.rows_bad = total, bad_count
    job.orders_known, job.orders_new = known, total - bad_count - known
    job.report = {
        "encoding": source.encoding or "xlsx",
        "bad_rows": bad,
        "unmatched_sellers": [[name, n] for name, n in unmatched.most_common(REPORTED_SELLERS)],
        "unmatched_sellers_total": len(unmatched),
    }
    job.status = ImportStatus.CHECKED


def import_file(job: CustomerImport, progress: Progress | None = None) -> None:
    """The write pass. Refuses a file with bad rows unless the job says
    good rows only; commits each batch (see the module docstring)."""
    if job.rows_bad and not job.good_rows_only:
        job.status = ImportStatus.REFUSED
        return
    source = RowSource(job.stored_path, job.filename)
    matcher = SellerMatcher.load()
    wording = current_app.config["CONSENT_WORDING_VERSION"]
    batch: list[OrderRow] = []
    totals = Counter()
    seen: set[str] = set()
    for row in _rows(source, progress):
        if isinstance(row, BadRow) or row.order_no in seen:
            continue  # named in the check pass; skipped only because staff chose so
        seen.add(row.order_no)
        batch.append(row)
        if len(batch) >= BATCH:
            totals += _write_batch(batch, job, matcher, wording)
            batch = []
            db.session.commit()
    if batch:
        totals += _write_batch(batch, job, matcher, wording)
    job.orders_new, job.customers_new = totals["orders"], totals["customers"]
    job.status = ImportStatus.DONE
    job.finished_at = utcnow()


def _write_batch(
    batch: list[OrderRow], job: CustomerImport, matcher: SellerMatcher, wording: str
) -> Counter:
    newest: dict[str, OrderRow] = {}
    for row in batch:
        if row.email not in newest or row.ordered_at >= newest[row.email].ordered_at:
            newest[row.email] = row
    existing = {
        email: (customer_id, as_of)
        for customer_id, email, as_of in db.session.execute(
            select(Customer.id, Customer.email, Customer.details_as_of).where(
                Customer.email.in_(list(newest))
            )
        )
    }
    new_customers = [
        _customer_values(row, job, wording)
        for email, row in newest.items()
        if email not in existing
    ]
    if new_customers:
        created = db.session.execute(
            insert(Customer.__table__).returning(Customer.id, Customer.email), new_customers
        )
        existing.update({email: (customer_id, None) for customer_id, email in created})
    updates = [
        {"id": existing[email][0], **_customer_values(row, job, wording)}
        for email, row in newest.items()
        if existing[email][1] is not None and row.ordered_at > existing[email][1]
    ]
    if updates:
        for values in updates:
            del values["email"], values["email_hash"]
        db.session.execute(update(Customer), updates)
    known = set(
        db.session.scalars(
            select(Order.order_no).where(Order.order_no.in_([row.order_no for row in batch]))
        )
    )
    orders = [
        {
            "order_no": row.order_no,
            "ordered_at": row.ordered_at.astimezone(UTC),
            "customer_id": existing[row.email][0],
            "vendor_id": matcher.match(row.seller),
            "seller_name": row.seller,
            "product": row.product,
            "amount": row.amount,
            "import_id": job.id,
        }
        for row in batch
        if row.order_no not in known
    ]
    if orders:
        db.session.execute(insert(Order.__table__), orders)
    return Counter(orders=len(orders), customers=len(new_customers))


def _customer_values(row: OrderRow, job: CustomerImport, wording: str) -> dict:
    return {
        "email": row.email,
        "email_hash": email_hash(row.email),
        "name": row.buyer_name,
        "phone": row.phone,
        "consent": row.consent,
        "consent_at": row.consent_at.astimezone(UTC) if row.consent_at else None,
        "consent_source": job.filename if row.consent else None,
        "consent_wording": wording if row.consent else None,
        "details_as_of": row.ordered_at.astimezone(UTC),
    }
