"""The checked rows of an import, kept between the check and the write pass.

The check pass parses and validates every row; the good ones (each order
number once) go to a staging file next to the uploads, already in the form
the database stores: UTC timestamps, normalised email, won as an integer.
The write pass then parses nothing: it loads that file into a TEMPORARY
table (PostgreSQL's COPY; executemany on SQLite) and writes customers and
orders with a few set-based statements per chunk.

A file, not a table, because the two passes run in different requests or
threads, hours apart, while a temporary table lives only as long as one
database connection; and a real table would need a migration for what is
scratch data."""

import hashlib
import io
import os
import re
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple
from zlib import crc32

from flask import current_app
from sqlalchemy import Connection, bindparam, select, text, update

from market.core import versions
from market.customers.consent import consent_source_text
from market.customers.jobs import still_held
from market.customers.models import CustomerImport
from market.customers.rows import OrderRow
from market.extensions import db
from market.timeutil import UTCDateTime, utcnow

# Rows written per transaction: large enough that the statements stay
# set-based, small enough that no writer waits long for a lock.
CHUNK = 50_000
# Rows are spread over this many parts by their email, and a chunk is a run
# of whole parts: all orders of one customer are written in one transaction,
# so each customer is inserted, updated and locked (the orders' foreign key)
# once, not once per chunk; new customers' ids, and so the orders' index on
# them, grow in step with the chunks.
PARTS = 1024
# The staging file keeps its rows grouped by part, in this many runs of
# PARTS // RUNS parts each (the check pass writes each run to its own file
# and joins them at the end), so a chunk is one stretch of the file: the
# write pass loads one chunk at a time into a small temporary table instead
# of loading every row and picking each chunk's rows out of all of them.
RUNS = 64
SQLITE_CACHE_KIB = 64 * 1024
# Connections writing chunks at once on PostgreSQL, each with its own
# temporary tables. The orders INSERT is the database's own work (the heap,
# five indexes, three foreign keys: 3/4 of the write pass, one core): two
# chunks are written at once while their commits keep the file's order.
WRITERS = 2

# The order of the staging file's fields: the five free texts last, where
# one check per row tells whether any of them needs escaping.
COLUMNS = (
    "seq",
    "part",
    "line",
    "ordered_at",
    "phone",
    "amount",
    "consent",
    "consent_at",
    "order_no",
    "buyer_name",
    "email",
    "seller",
    "product",
)
NULL = "\\N"


def imports_dir() -> Path:
    folder = Path(
        current_app.config.get("IMPORT_DIR") or Path(current_app.instance_path, "imports")
    )
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)  # order data: the app's user only
    return folder


def open_private(path: Path, binary: bool = False):
    """Opens a file of order data for writing as text (or bytes), readable
    by the app's user only (0600), whatever the umask, even if it was there
    before."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    if binary:
        return os.fdopen(fd, "wb")
    return os.fdopen(fd, "w", encoding="utf-8", newline="")


def staged_path(job: CustomerImport) -> Path:
    return imports_dir() / f"checked-{job.id}.tsv"


def _utc_text(value: datetime) -> str:
    # The text both databases take for a naive UTC timestamp, and exactly
    # the one SQLAlchemy stores on SQLite, so text comparisons there hold.
    # The slice drops "+00:00" (cheaper than making a naive copy first).
    return value.astimezone(UTC).isoformat(" ", "microseconds")[:26]


_consent_text = lru_cache(maxsize=4096)(_utc_text)  # consent dates are whole days; they repeat

# PostgreSQL's COPY text format: tab-separated, \N for NULL, backslash escapes.
_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
_UNESCAPE = re.compile(r"\\([\\tnr])")
_UNESCAPED = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}
_FREE_TEXT = range(8, 13)


def _escape(value: str) -> str:
    for raw, escaped in _ESCAPES.items():
        value = value.replace(raw, escaped)
    return value


def _unescape(value: str) -> str:
    return _UNESCAPE.sub(lambda match: _UNESCAPED[match.group(1)], value)


class Staged(NamedTuple):
    """A good row as the check pass keeps it: what the pass still asks of
    it (duplicates, the seller) and its staging line without the sequence
    number (`fields`)."""

    line: int
    order_no: str
    seller: str
    part: int
    fields: str


def staged(row: OrderRow) -> Staged:
    """One line in COPY text format, made by hand: csv.writer cost more
    than the rest of the row together. Only the five free texts can hold a
    tab, newline or backslash; they are escaped when one of them does.
    (market.customers.fast_rows writes the same line for the common row.)"""
    free = f"{row.order_no}\t{row.buyer_name}\t{row.email}\t{row.seller}\t{row.product}"
    if free.count("\t") != 4 or "\\" in free or "\n" in free or "\r" in free:
        free = "\t".join(
            map(_escape, (row.order_no, row.buyer_name, row.email, row.seller, row.product))
        )
    consent_at = _consent_text(row.consent_at) if row.consent_at else NULL
    part = crc32(row.email.encode()) % PARTS
    return Staged(
        row.line,
        row.order_no,
        row.seller,
        part,
        f"{part}\t{row.line}"
        f"\t{_utc_text(row.ordered_at)}\t{row.phone or NULL}"
        f"\t{row.amount}\t{1 if row.consent else 0}\t{consent_at}\t{free}",
    )


class StagingWriter:
    """Writes checked rows (`staged`) to a `.part` file, renamed into place
    only when the whole check pass has finished (a half-checked file is
    never used); each line starts with its sequence number.

    Rows go to one file per run of parts (RUNS); `finish` joins them behind
    a first line that gives each run's rows and bytes: `#rows/bytes ...`."""

    def __init__(self, path: Path):
        self.path = path
        self.partial = path.with_suffix(".part")
        self.count = 0
        self._run_paths = [path.with_suffix(f".part{run}") for run in range(RUNS)]
        self._runs = []
        try:
            for run_path in self._run_paths:
                self._runs.append(open_private(run_path))
        except BaseException:
            self.discard()
            raise
        self._writes = [run.write for run in self._runs]
        self._rows = [0] * RUNS

    def add(self, row: Staged) -> None:
        self.count += 1
        run = row.part * RUNS // PARTS
        self._rows[run] += 1
        self._writes[run](f"{self.count}\t{row.fields}\n")

    def finish(self) -> None:
        for run in self._runs:
            run.close()
        sizes = [run_path.stat().st_size for run_path in self._run_paths]
        header = " ".join(f"{rows}/{size}" for rows, size in zip(self._rows, sizes, strict=True))
        with open_private(self.partial, binary=True) as out:
            out.write(f"#{header}\n".encode())
            for run_path in self._run_paths:
                with run_path.open("rb") as run:
                    shutil.copyfileobj(run, out, 1 << 20)
                run_path.unlink()
        self.partial.replace(self.path)

    def discard(self) -> None:
        for run in self._runs:
            run.close()
        for run_path in (self.partial, *self._run_paths):
            run_path.unlink(missing_ok=True)


def staged_now(path: Path) -> bool:
    """Whether the file is there, staged the way this version writes it
    (rows grouped in runs behind a `#` line); one staged by an older
    version is staged again."""
    try:
        with path.open("rb") as handle:
            return handle.read(1) == b"#"
    except FileNotFoundError:
        return False


class DamagedStage(ValueError):
    """The staging file is not as the check pass left it."""


def _stretches(path: Path) -> tuple[int, list[tuple[int, int]]]:
    """The header's length and each run's (rows, bytes), checked against
    the file's size."""
    with path.open("rb") as handle:
        header = handle.readline()
    try:
        if not header.startswith(b"#"):
            raise ValueError("no header")
        runs = [tuple(map(int, run.split(b"/"))) for run in header[1:].split()]
        if len(runs) != RUNS or len(header) + sum(size for _rows, size in runs) != (
            path.stat().st_size
        ):
            raise ValueError("sizes differ")
    except ValueError as error:
        raise DamagedStage(f"{path.name}: {error}") from error
    return len(header), runs


_TABLES = {
    "import_staging": """(
        seq INTEGER NOT NULL, part INTEGER NOT NULL, line INTEGER NOT NULL,
        order_no VARCHAR(64) NOT NULL,
        ordered_at TIMESTAMP NOT NULL, buyer_name VARCHAR(100) NOT NULL,
        email VARCHAR(254) NOT NULL, phone VARCHAR(20),
        seller VARCHAR(100) NOT NULL, product VARCHAR(200) NOT NULL, amount BIGINT NOT NULL,
        consent BOOLEAN NOT NULL, consent_at TIMESTAMP)""",
    "import_sellers": "(seller VARCHAR(100) PRIMARY KEY, vendor_id INTEGER NOT NULL)",
    "import_newest": """(
        email VARCHAR(254) PRIMARY KEY,
        buyer_name VARCHAR(100) NOT NULL, phone VARCHAR(20), consent BOOLEAN NOT NULL,
        consent_at TIMESTAMP, ordered_at TIMESTAMP NOT NULL)""",
}

# The newest row of each customer in the file (a customer's rows are all in
# one chunk); on a tie the later line.
_NEWEST = """
INSERT INTO import_newest
SELECT email, buyer_name, phone, consent, consent_at, ordered_at FROM (
    SELECT s.*, ROW_NUMBER() OVER (
        PARTITION BY email ORDER BY ordered_at DESC, seq DESC) AS newest
    FROM import_staging s WHERE s.part BETWEEN :first AND :last
) ranked WHERE newest = 1
"""
# Only the customers not there yet, so the hash (models.email_hash, of an
# email already normalised) is computed once per new customer rather than
# staged for every row; ON CONFLICT still guards against a concurrent import.
_NEW_CUSTOMERS = """
INSERT INTO customers (email, email_hash, name, phone, consent, consent_at,
    consent_source, consent_wording, details_as_of, created_at)
SELECT email, {email_hash}, buyer_name, phone, consent, consent_at,
    CASE WHEN consent THEN :source END, CASE WHEN consent THEN :wording END, ordered_at, :now
FROM import_newest n
WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.email = n.email)
ON CONFLICT (email) DO NOTHING
"""
_EMAIL_HASH = {
    "postgresql": "encode(sha256(convert_to(email, 'UTF8')), 'hex')",
    "sqlite": "import_sha256(email)",  # registered on the connection below
}
# Strictly newer: a customer made from this chunk has details_as_of equal to
# its newest row and is left alone; an older file never overwrites details.
_NEWER_DETAILS = """
UPDATE customers SET name = n.buyer_name, phone = n.phone, consent = n.consent,
    consent_at = n.consent_at, consent_source = CASE WHEN n.consent THEN :source END,
    consent_wording = CASE WHEN n.consent THEN :wording END, details_as_of = n.ordered_at
FROM import_newest n
WHERE customers.email = n.email AND n.ordered_at > customers.details_as_of
"""
_NEW_ORDERS = """
INSERT INTO orders (order_no, ordered_at, customer_id, vendor_id, seller_name, product,
    amount, import_id)
SELECT s.order_no, s.ordered_at, c.id, m.vendor_id, s.seller, s.product, s.amount, :job
FROM import_staging s
JOIN customers c ON c.email = s.email
LEFT JOIN import_sellers m ON m.seller = s.seller
WHERE s.part BETWEEN :first AND :last
ON CONFLICT (order_no) DO NOTHING
"""


def write_staged(
    path: Path,
    job: CustomerImport,
    match_seller: Callable[[str], int | None],
    wording: str,
    progress: Callable[[int, int], None],
) -> tuple[int, int]:
    """Loads the staging file and writes it; returns (new orders, new
    customers), counting those of earlier runs of this job too.

    Commits each chunk, and in the same transaction moves the job's
    resume mark (parts_done) and adds to its counts, so a write pass that
    dies half-way keeps what it wrote and a new run skips exactly the parts
    already written: the staged rows' parts depend only on their email, so
    a file staged again on another host spreads the same way. Were a part
    written twice, nothing would be counted twice (order numbers are
    unique, customers keyed by email; only rows actually inserted are
    counted). Each chunk, before it commits, confirms the job is still
    claimed by job.claimed_by (jobs.still_held), so a worker that was taken
    over stops and its chunk is rolled back. It does so only then, since
    that UPDATE locks the job's row until the commit: the other writer's
    chunk (WRITERS) goes on meanwhile, and commits only after this one
    (Turns), so the resume mark never passes a part not yet written."""
    # As they are now: the job row is read again after each commit, when
    # another worker may have taken it over (and its claim is not ours).
    me, resume_at, written_before = job.claimed_by, job.parts_done, job.orders_written
    params = {
        # Where consent was given, as the customer reads it in the mail;
        # never the uploaded file's name (an internal detail).
        "source": consent_source_text(),
        "wording": wording,
        "job": job.id,
        "now": utcnow(),
    }
    new_customers = _NEW_CUSTOMERS.format(email_hash=_EMAIL_HASH[db.engine.dialect.name])
    statements = {
        "newest": text(_NEWEST),
        "customers": text(new_customers).bindparams(bindparam("now", type_=UTCDateTime())),
        "details": text(_NEWER_DETAILS),
        "orders": text(_NEW_ORDERS),
    }
    chunks = _chunks(path)
    total = sum(rows for _first, _last, rows, _at, _size in chunks)
    done = sum(rows for _first, last, rows, _at, _size in chunks if last < resume_at)
    todo = [chunk for chunk in chunks if chunk[1] >= resume_at]  # earlier runs wrote the rest
    if resume_at:
        current_app.logger.info(
            "import %s: resuming at part %s of %s, after %s orders written",
            job.id,
            resume_at,
            PARTS,
            written_before,
        )
    engine = db.engine
    writers = WRITERS if engine.dialect.name == "postgresql" and len(todo) > 1 else 1
    turns = Turns()

    def write(mine: list[tuple[int, tuple]]) -> None:
        # Its own connection: the temporary tables must outlive the commits
        # the session makes to report progress.
        with engine.connect() as conn:
            _write_chunks(
                conn, path, mine, job.id, me, resume_at, params, statements, match_seller, turns
            )

    if writers == 1:

        def report(index: int) -> None:
            nonlocal done
            done += todo[index][2]
            progress(done, total)

        turns.after = report
        write(list(enumerate(todo)))
    else:
        with ThreadPoolExecutor(writers, thread_name_prefix="import-write") as pool:
            shares = [
                pool.submit(write, [(i, c) for i, c in enumerate(todo) if i % writers == w])
                for w in range(writers)
            ]
            try:
                for index, chunk in enumerate(todo):
                    turns.wait_written(index)
                    done += chunk[2]
                    progress(done, total)
            except BaseException as error:
                turns.stop(error)
                raise
            finally:
                for share in shares:
                    share.exception()  # both connections are back before anything else
            for share in shares:
                share.result()
    with engine.connect() as conn:
        written = select(CustomerImport.orders_written, CustomerImport.customers_written)
        return tuple(conn.execute(written.where(CustomerImport.id == job.id)).one())


class Turns:
    """The order chunks commit in: chunk i commits only after chunk i - 1
    has, and its progress was reported, so the resume mark (parts_done)
    only ever moves past parts that are written, as when one connection
    wrote them all. The writers write their next chunk meanwhile."""

    def __init__(self):
        self._written = -1
        self._reported = -1
        self._error: BaseException | None = None
        self._change = threading.Condition()
        self.after: Callable[[int], None] | None = None  # one writer: reports itself

    def wait_turn(self, index: int) -> None:
        if self.after is not None:
            return
        with self._change:
            while self._error is None and self._reported < index - 1:
                self._change.wait()
            if self._error is not None:
                raise Stopped() from self._error

    def written(self, index: int) -> None:
        if self.after is not None:
            self.after(index)
            return
        with self._change:
            self._written = index
            self._change.notify_all()

    def wait_written(self, index: int) -> None:
        with self._change:
            self._reported = index - 1
            self._change.notify_all()
            while self._error is None and self._written < index:
                self._change.wait()
            if self._error is not None:
                raise self._error

    def stop(self, error: BaseException) -> None:
        with self._change:
            if self._error is None:
                self._error = error
            self._change.notify_all()


class Stopped(Exception):
    """Another writer of the same pass failed, or the pass was stopped."""


def _write_chunks(conn, path, mine, job_id, me, resume_at, params, statements, match_seller, turns):
    """Writes this connection's chunks, each in one transaction that commits
    in its turn (Turns) with the job's resume mark and counts."""
    cache = conn.exec_driver_sql("PRAGMA cache_size").scalar() if _sqlite(conn) else None
    try:
        if cache is not None:
            # The orders indexes take rows in random order; SQLite's 2 MiB
            # default page cache made that a third slower (100,000 rows).
            conn.exec_driver_sql(f"PRAGMA cache_size = {-SQLITE_CACHE_KIB}")
        _create_tables(conn)
        mapped: set[str] = set()
        for index, (first, last, _rows, at, size) in mine:
            chunk = {**params, "first": max(first, resume_at), "last": last}
            _load(conn, path, at, size)
            _map_sellers(conn, match_seller, mapped)
            conn.execute(statements["newest"], chunk)
            customers = conn.execute(statements["customers"], chunk).rowcount
            conn.execute(statements["details"], chunk)
            orders = conn.execute(statements["orders"], chunk).rowcount
            conn.exec_driver_sql("DELETE FROM import_newest")
            turns.wait_turn(index)
            still_held(conn, job_id, me)
            # Customers, orders and the job's counts change on this connection,
            # past the session's events: the kept pages showing them (answer
            # pages, staff and vendor pages) must be drawn again. Each table
            # named, so no page depends on another's scopes. Here, in turn, so
            # two writers never hold the version row at once.
            versions.changed(conn, "customers", "orders", "customer_imports")
            conn.execute(
                update(CustomerImport)
                .where(CustomerImport.id == job_id)
                .values(
                    parts_done=last + 1,
                    orders_written=CustomerImport.orders_written + orders,
                    customers_written=CustomerImport.customers_written + customers,
                )
            )
            conn.commit()
            turns.written(index)
    except BaseException as error:
        turns.stop(error)
        raise
    finally:
        conn.rollback()
        _drop_tables(conn)
        if cache is not None:  # the connection goes back to the pool
            conn.exec_driver_sql(f"PRAGMA cache_size = {int(cache)}")


def _chunks(path: Path) -> list[tuple[int, int, int, int, int]]:
    """(first part, last part, rows, offset, bytes): runs of whole parts of
    about CHUNK rows, each one stretch of the staging file."""
    at, runs = _stretches(path)
    size = current_app.config.get("IMPORT_CHUNK_ROWS") or CHUNK  # tests: many small chunks
    width = PARTS // RUNS
    chunks, first, rows, start = [], None, 0, at
    for run, (count, length) in enumerate(runs):
        first = run if first is None else first
        rows += count
        at += length
        if rows >= size or run == RUNS - 1:
            if rows:
                chunks.append((first * width, (run + 1) * width - 1, rows, start, at - start))
            first, rows, start = None, 0, at
    return chunks


def _sqlite(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite"


def _create_tables(conn: Connection) -> None:
    _drop_tables(conn)  # a pooled connection may keep them from a run that died
    if _sqlite(conn):
        conn.connection.driver_connection.create_function(
            "import_sha256", 1, _sha256, deterministic=True
        )
    for name, columns in _TABLES.items():
        conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} {columns}")


def _drop_tables(conn: Connection) -> None:
    for name in _TABLES:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    conn.commit()


def _load(conn: Connection, path: Path, at: int, size: int) -> None:
    """One chunk's stretch of the staging file into the emptied temporary
    table, through the driver: COPY takes the file's bytes as they are;
    SQLite gets the split lines."""
    columns = ", ".join(COLUMNS)
    cursor = conn.connection.driver_connection.cursor()
    try:
        with path.open("rb") as handle:
            handle.seek(at)
            if conn.dialect.name == "postgresql":
                cursor.execute("TRUNCATE import_staging")
                with cursor.copy(f"COPY import_staging ({columns}) FROM STDIN") as out:
                    while size > 0 and (block := handle.read(min(size, 1 << 20))):
                        out.write(block)
                        size -= len(block)
            else:
                cursor.execute("DELETE FROM import_staging")
                marks = ", ".join(
                    f"NULLIF(?, '{NULL}')" if c in ("phone", "consent_at") else "?" for c in COLUMNS
                )
                insert = f"INSERT INTO import_staging ({columns}) VALUES ({marks})"
                lines = io.TextIOWrapper(
                    io.BytesIO(handle.read(size)), encoding="utf-8", newline="\n"
                )
                cursor.executemany(insert, map(_copy_fields, lines))
    finally:
        cursor.close()


def _sha256(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()


def _copy_fields(line: str) -> list[str]:
    """One line of the staging file as COPY would read it (NULLs aside)."""
    fields = line[:-1].split("\t")
    for index in _FREE_TEXT:
        if "\\" in fields[index]:
            fields[index] = _unescape(fields[index])
    return fields


def _map_sellers(
    conn: Connection, match_seller: Callable[[str], int | None], mapped: set[str]
) -> None:
    """Sellers are few; matching them to vendors stays in Python (names are
    normalised with rules SQL would only repeat) and is done once each:
    `mapped` holds the sellers of the chunks loaded before."""
    sellers = set(conn.exec_driver_sql("SELECT DISTINCT seller FROM import_staging").scalars())
    sellers -= mapped
    mapped |= sellers
    matched = [
        {"seller": seller, "vendor_id": vendor_id}
        for seller in sellers
        if (vendor_id := match_seller(seller)) is not None
    ]
    if matched:
        conn.execute(
            text("INSERT INTO import_sellers (seller, vendor_id) VALUES (:seller, :vendor_id)"),
            matched,
        )
