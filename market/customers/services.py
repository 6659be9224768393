"""Running import jobs, and purging customers nobody has heard from."""

import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from blinker import Namespace
from flask import Flask, current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, exists, func, select

from market.accounts.models import User
from market.audit.services import describe_actions, record
from market.core.rules import RuleError
from market.customers import importer
from market.customers.models import Customer, CustomerImport, ImportStatus, Order
from market.customers.rows import FileProblem
from market.customers.staging import imports_dir
from market.extensions import db
from market.timeutil import utcnow

ALLOWED_SUFFIXES = (".csv", ".xlsx")


class ImportRefused(RuleError):
    """An upload or a run of the import that cannot go ahead; the words say why."""


def register_file(path: Path, actor=None) -> CustomerImport:
    """A job for a file already on this machine (the CLI): read in place."""
    path = Path(path).resolve()
    _order_file_suffix(path.name)
    return _new_job(path.name, path, path.stat().st_size, actor)


def store_upload(stream, filename: str, actor=None) -> CustomerImport:
    """Saves the uploaded file in chunks (never whole in memory) and makes a job."""
    suffix = _order_file_suffix(filename)
    target = imports_dir() / f"{uuid.uuid4().hex}{suffix}"
    with target.open("wb") as out:
        while chunk := stream.read(1 << 20):
            out.write(chunk)
    size = target.stat().st_size
    if size == 0:
        target.unlink()
        raise ImportRefused({"file": _("The file is empty.")})
    job = _new_job(Path(filename).name, target, size, actor)
    record(actor, "customers.upload", job, after={"filename": job.filename, "bytes": size})
    return job


def _order_file_suffix(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise ImportRefused({"file": _("Upload the order export as a .csv or .xlsx file.")})
    return suffix


def _new_job(filename: str, path: Path, size: int, actor) -> CustomerImport:
    job = CustomerImport(
        filename=filename,
        stored_path=str(path),
        size_bytes=size,
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(job)
    db.session.flush()
    return job


def prepare_import(job: CustomerImport, good_rows_only: bool) -> None:
    """Lets the write pass run on this file, or refuses: the file must be
    checked (a failed write pass may be run again; a check that failed
    checked nothing), and a file with bad rows is imported only when staff
    chose to skip them. Records that choice on the job; the caller commits."""
    if not job.ready_to_import:
        raise ImportRefused(_("This file is not ready to import."))
    if importer.stops_at_bad_rows(job, good_rows_only):
        raise ImportRefused(
            {
                "good_rows_only": _(
                    "The file has %(count)d bad rows. Fix the file and upload it again, or "
                    "choose to import only the good rows.",
                    count=job.rows_bad,
                )
            }
        )
    job.good_rows_only = good_rows_only


def totals() -> tuple[int, int]:
    """How many customers and orders there are, in one query."""
    return tuple(
        db.session.execute(
            select(
                select(func.count(Customer.id)).scalar_subquery(),
                select(func.count(Order.id)).scalar_subquery(),
            )
        ).one()
    )


def _progress(job: CustomerImport, also: importer.Progress | None):
    def report(rows: int, position: int, size: int) -> None:
        job.rows_done, job.bytes_done = rows, position
        job.size_bytes = size  # for xlsx the unit is rows; keeps the bar honest
        db.session.commit()
        if also:
            also(rows, position, size)

    return report


def run_check(job_id: int, on_progress: importer.Progress | None = None) -> CustomerImport:
    return _run(job_id, ImportStatus.CHECKING, importer.check_file, on_progress)


def run_import(
    job_id: int, actor_id: int | None = None, on_progress: importer.Progress | None = None
) -> CustomerImport:
    job = _run(job_id, ImportStatus.IMPORTING, importer.import_file, on_progress)
    if job.status is ImportStatus.DONE:
        actor = db.session.get(User, actor_id) if actor_id else None
        skipped = job.rows_bad if job.good_rows_only else 0
        after = {
            "orders_new": job.orders_new,
            "customers_new": job.customers_new,
            "rows_skipped": skipped,
        }
        record(actor, "customers.import", job, after=after)
        db.session.commit()
    return job


def _run(job_id: int, running: ImportStatus, step, on_progress=None) -> CustomerImport:
    job = db.session.get(CustomerImport, job_id)
    job.status, job.rows_done, job.bytes_done, job.error = running, 0, 0, None
    db.session.commit()
    try:
        step(job, _progress(job, on_progress))
    except FileProblem as problem:
        db.session.rollback()
        job.status, job.error = ImportStatus.REFUSED, str(problem)
    except Exception:
        db.session.rollback()
        # The exception is for the log; staff get words and what they can do.
        current_app.logger.exception("customer import %s failed", job_id)
        job.status = ImportStatus.FAILED
        if running is ImportStatus.CHECKING:
            job.error = _(
                "The check of this file stopped unexpectedly; nothing was saved. Upload the "
                "file again, and if it stops again, tell the administrator."
            )
        else:
            job.error = _(
                "The import stopped unexpectedly. Orders saved so far are kept; press "
                "“Run the import again” below to add the rest without counting any twice."
            )
    db.session.commit()
    return job


def start(app: Flask, job: CustomerImport, task, *args) -> None:
    """Small files run inside the request; larger ones in a background
    thread while the page shows progress (the job row holds it)."""
    if (
        current_app.config["IMPORT_RUN_INLINE"]
        or job.size_bytes <= current_app.config["IMPORT_INLINE_MAX_BYTES"]
    ):
        task(job.id, *args)
        return

    def work():
        with app.app_context():
            task(job.id, *args)

    threading.Thread(target=work, name=f"customer-import-{job.id}", daemon=True).start()


signals = Namespace()
# Sent while inactive customers are purged, before their rows go, with
# `customers` (a select of their ids): each receiver deletes what its area
# keeps about them and answers with counts for the report (the invitations
# area: their invitations, places in stored rankings and the mail holding
# their address), so this area purges without knowing who else keeps what.
customers_purging = signals.signal("customers-purging")


@dataclass(frozen=True)
class PurgeReport:
    customers: int
    orders: int
    invitations: int = 0
    mails: int = 0  # the invitations' outbox messages, which hold the address


def purge_inactive(days: int, now: datetime | None = None, actor=None) -> PurgeReport:
    """Deletes customers without an order in the last `days` (and their
    orders, invitations, places in stored rankings and the invitations'
    outbox messages, whose MIME bytes hold the address; one not yet sent is
    not sent). Suppression hashes are kept, so an unsubscribed address stays
    suppressed if it is ever imported again."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    recent = exists().where(Order.customer_id == Customer.id, Order.ordered_at >= cutoff)
    stale = select(Customer.id).where(~recent)
    found = {
        "customers": db.session.scalar(select(func.count()).select_from(stale.subquery())),
        "orders": db.session.scalar(select(func.count()).where(Order.customer_id.in_(stale))),
    }
    for _receiver, deleted in customers_purging.send(None, customers=stale):
        for name, number in deleted.items():
            found[name] = found.get(name, 0) + number
    counts = PurgeReport(**found)
    db.session.execute(delete(Order).where(Order.customer_id.in_(stale)))
    db.session.execute(delete(Customer).where(Customer.id.in_(stale.scalar_subquery())))
    record(
        actor,
        "customers.purge",
        ("customers", None),
        after={"inactive_days": days, **counts.__dict__},
    )
    return counts


describe_actions(
    {
        "customers.upload": _l("Order file uploaded"),
        "customers.import": _l("Orders imported"),
        "customers.purge": _l("Inactive customers purged"),
    },
    {"customer_imports": _l("Order file"), "customers": _l("Customer")},
)
