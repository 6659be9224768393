"""Importing the marketplace's order export in two passes.

The check pass reads the whole file and saves nothing in the database: it
names every bad row with its line, lists sellers that match no vendor, counts
new and known orders, and keeps the good rows, parsed once, in a staging file
(market.customers.staging). Only a file without bad rows (or one where staff
explicitly chose "import the good rows") reaches the write pass, so a bad
file changes nothing. The write pass loads the staging file and writes it
set-based, committing in chunks so a million-row file neither holds memory
nor blocks every other writer for minutes; a write pass that dies half-way
is finished by running it again, since order numbers are unique and
customers are keyed by email (nothing is counted twice)."""

from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from time import monotonic

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import String, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY

from market.customers.fast_rows import FastRows
from market.customers.models import CustomerImport, ImportStatus, Order
from market.customers.rows import BadRow, FileProblem, Limits, OrderRow, RowSource, parse_row
from market.customers.staging import (
    Staged,
    StagingWriter,
    staged,
    staged_now,
    staged_path,
    write_staged,
)
from market.customers.uploads import local_copy
from market.extensions import db
from market.timeutil import utcnow
from market.vendors.models import Vendor
from market.vendors.shop_links import link_key, live_sellers, seller_key

BATCH = 2000  # rows between looks at the clock, for progress
KNOWN_BATCH = 10_000
PROGRESS_SECONDS = 0.5
REPORTED_BAD_ROWS = 500
REPORTED_SELLERS = 100

Progress = Callable[[int, int, int], None]  # rows done, position, size


@dataclass
class SellerMatcher:
    """Matches the export's seller column to a live enterprise by name or
    shop link (the keys of market.vendors.shop_links). A pending or rejected
    sign-up matches nothing: anyone can register any name, so a new,
    unreviewed enterprise must not take another's orders. A key that two
    live enterprises share matches nobody either (`ambiguous` says who has
    it), since the order could be either's: staff correct a name or link."""

    by_name: dict[str, list[int]]
    by_link: dict[str, list[int]]
    # A file names few sellers a million times; each is normalised once.
    known: dict[str, int | None] = field(default_factory=dict)

    @classmethod
    def load(cls) -> "SellerMatcher":
        by_name, by_link = live_sellers()
        return cls(by_name=by_name, by_link=by_link)

    def candidates(self, seller: str) -> list[int]:
        """The live enterprises the seller could be: by name, else by link."""
        return self.by_name.get(seller_key(seller)) or self.by_link.get(link_key(seller)) or []

    def match(self, seller: str) -> int | None:
        if seller in self.known:
            return self.known[seller]
        found = self.candidates(seller)
        vendor_id = found[0] if len(found) == 1 else None
        if len(self.known) < 100_000:  # bounded, should a file name a seller per row
            self.known[seller] = vendor_id
        return vendor_id

    def ambiguous(self, seller: str) -> list[int]:
        """The enterprises sharing the seller's key, when more than one."""
        found = self.candidates(seller)
        return found if len(found) > 1 else []


def _rows(source: RowSource, progress: Progress | None) -> Iterator[Staged | BadRow]:
    """Checked rows, ready to stage: the common CSV row through FastRows,
    any other (and every bad one) through parse_row. Progress at most every
    PROGRESS_SECONDS, since each report is a commit (every 2,000 rows made
    500 commits a million rows)."""
    count = 0
    reported = monotonic()
    limits = Limits.now()  # the plausible dates, the same for the whole file
    fast = None
    for line, values in source.lists():
        count += 1
        if fast is None:  # the header is read with the first row
            fast = FastRows(source.keys, limits)
            fast = fast if fast.usable and not source.is_xlsx else False
        row = fast(line, values) if fast else None
        if row is None:
            row = parse_row(line, source.as_dict(values), limits)
            if row.__class__ is OrderRow:
                row = staged(row)
        yield row
        if progress and count % BATCH == 0 and monotonic() - reported >= PROGRESS_SECONDS:
            progress(count, source.position, source.size)
            reported = monotonic()
    if progress:
        progress(count, source.size, source.size)


def check_file(job: CustomerImport, progress: Progress | None = None) -> None:
    """The check pass: fills the job's counts and report, and stages the
    good rows for the write pass; saves nothing in the database."""
    with local_copy(job) as path:
        source = RowSource(path, job.filename)
        matcher = SellerMatcher.load()
        staging = StagingWriter(staged_path(job))
        known = KnownOrders()
        try:
            _check(job, source, matcher, staging, known, progress)
        except BaseException:
            staging.discard()
            raise
        finally:
            known.close()
        staging.finish()


def _check(
    job, source, matcher, staging: StagingWriter, known: "KnownOrders", progress: Progress | None
) -> None:
    seen: dict[str, int] = {}
    bad: list[dict] = []
    bad_count = total = 0
    unmatched: Counter[str] = Counter()
    pending: list[str] = []
    for row in _rows(source, progress):
        total += 1
        if row.__class__ is Staged and row.order_no in seen:
            row = BadRow(
                row.line,
                (
                    _(
                        "Order number %(number)s already appears on line %(line)d.",
                        number=row.order_no,
                        line=seen[row.order_no],
                    ),
                ),
                row.order_no,
            )
        if row.__class__ is BadRow:
            bad_count += 1
            if len(bad) < REPORTED_BAD_ROWS:
                bad.append(
                    {"line": row.line, "order_no": row.order_no, "problems": list(row.problems)}
                )
            continue
        seen[row.order_no] = row.line
        if matcher.match(row.seller) is None:
            unmatched[row.seller] += 1
        staging.add(row)
        pending.append(row.order_no)
        if len(pending) >= KNOWN_BATCH:
            known.count(pending)
            pending = []
    known.count(pending)
    if not total:  # only the column names: nothing to check or import
        raise FileProblem(_("The file has no orders: there are no rows below the column names."))
    job.rows_total, job.rows_bad = total, bad_count
    job.orders_known = known.total()
    job.orders_new = total - bad_count - job.orders_known
    job.report = {
        "encoding": source.encoding or "xlsx",
        "bad_rows": bad,
        "unmatched_sellers": [[name, n] for name, n in unmatched.most_common(REPORTED_SELLERS)],
        "unmatched_sellers_total": len(unmatched),
        "ambiguous_sellers": _ambiguous(matcher, unmatched),
    }
    job.status = ImportStatus.CHECKED


def _ambiguous(matcher: SellerMatcher, unmatched: Counter[str]) -> list[dict]:
    """Unmatched sellers whose name or link two live enterprises share, with
    those enterprises' names, for staff to correct one of them."""
    found = {}
    for seller, count in unmatched.most_common():
        if len(found) >= REPORTED_SELLERS:
            break
        if ids := matcher.ambiguous(seller):
            found[seller] = (count, ids)
    wanted = {id_ for _count, ids in found.values() for id_ in ids}
    names = (
        dict(db.session.execute(select(Vendor.id, Vendor.name).where(Vendor.id.in_(wanted))).all())
        if wanted
        else {}
    )
    return [
        {"seller": seller, "orders": count, "vendors": [[id_, names.get(id_, "")] for id_ in ids]}
        for seller, (count, ids) in found.items()
    ]


class KnownOrders:
    """Counts the order numbers already imported, KNOWN_BATCH at a time.
    On PostgreSQL the counts run in a thread (its own app context, so its
    own session and connection): the database looks them up while the
    check goes on with the next rows (they were a tenth of the check pass).
    SQLite counts in the caller's session."""

    def __init__(self):
        self._found = 0
        self._counts: list[Future] = []
        self._pool = None
        if db.session.get_bind().dialect.name == "postgresql":
            self._app = current_app._get_current_object()
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-known")

    def count(self, order_nos: list[str]) -> None:
        if not order_nos:
            return
        if self._pool is None:
            self._found += _count_known(order_nos)
        else:
            self._counts.append(self._pool.submit(self._count, order_nos))

    def _count(self, order_nos: list[str]) -> int:
        with self._app.app_context():
            return _count_known(order_nos)

    def total(self) -> int:
        return self._found + sum(count.result() for count in self._counts)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


def _count_known(order_nos: list[str]) -> int:
    """How many of these order numbers are already imported. On PostgreSQL
    one array parameter: ten thousand bound values cost far more there to
    send and plan (about 25 us a row against 3)."""
    if db.session.get_bind().dialect.name == "postgresql":
        numbers = bindparam("numbers", order_nos, type_=ARRAY(String))
        where = Order.order_no == func.any(numbers)
    else:
        where = Order.order_no.in_(order_nos)
    return db.session.scalar(select(func.count()).where(where))


def stops_at_bad_rows(job: CustomerImport, good_rows_only: bool) -> bool:
    """A file with bad rows is imported only when staff chose "only the good
    rows": services.prepare_import refuses it, and the write pass again."""
    return bool(job.rows_bad) and not good_rows_only


def import_file(job: CustomerImport, progress: Progress | None = None) -> None:
    """The write pass. Refuses a file with bad rows unless the job says
    good rows only; commits each chunk (see the module docstring)."""
    if stops_at_bad_rows(job, job.good_rows_only):
        job.status = ImportStatus.REFUSED
        return
    path = staged_path(job)
    if not staged_now(path):  # checked before staging existed, or the file was removed
        _stage_again(job, path, progress)
    size = job.size_bytes  # the check pass's unit (bytes, or rows for xlsx), kept for the bar

    def report(done: int, total: int) -> None:
        if progress:
            progress(done, size * done // max(total, 1), size)

    wording = current_app.config["CONSENT_WORDING_VERSION"]
    orders, customers = write_staged(path, job, SellerMatcher.load().match, wording, report)
    path.unlink(missing_ok=True)
    job.orders_new, job.customers_new = orders, customers
    job.status = ImportStatus.DONE
    job.finished_at = utcnow()


def _stage_again(job: CustomerImport, path, progress: Progress | None) -> None:
    """The good rows, as the check pass would have staged them."""
    staging = StagingWriter(path)
    seen: set[str] = set()
    try:
        with local_copy(job) as file:
            for row in _rows(RowSource(file, job.filename), progress):
                if row.__class__ is Staged and row.order_no not in seen:
                    seen.add(row.order_no)
                    staging.add(row)
    except BaseException:
        staging.discard()
        raise
    staging.finish()
