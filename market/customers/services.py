"""Running import jobs, and purging customers nobody has heard from."""

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from blinker import Namespace
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, exists, func, or_, select, update

from market.accounts.models import User
from market.audit.services import describe_actions, record
from market.core.rules import RuleError
from market.customers import importer, jobs, uploads
from market.customers.models import Customer, CustomerImport, ImportStatus, Order
from market.customers.rows import FileProblem
from market.extensions import db
from market.timeutil import utcnow

ALLOWED_SUFFIXES = (".csv", ".xlsx")


class ImportRefused(RuleError):
    """An upload or a run of the import that cannot go ahead; the words say why."""


def register_file(path: Path, actor=None) -> CustomerImport:
    """A job for a file already on this machine (the CLI): read in place,
    and run by the process that registers it (held: no worker takes it,
    since one on another host could not read the file)."""
    path = Path(path).resolve()
    _order_file_suffix(path.name)
    job = _new_job(path.name, path, path.stat().st_size, actor)
    jobs.hold(job)
    return job


def store_upload(stream, filename: str, actor=None) -> CustomerImport:
    """Makes a job and stores the uploaded file's bytes in the database, a
    chunk at a time (never whole in memory): any worker on any host reads
    them (market.customers.uploads). The caller commits; a refusal rolls back."""
    _order_file_suffix(filename)
    job = _new_job(Path(filename).name, uploads.IN_DATABASE, 0, actor)
    size = job.size_bytes = uploads.save_upload(job, stream)
    if size == 0:
        raise ImportRefused({"file": _("The file is empty.")})
    record(actor, "customers.upload", job, after={"filename": job.filename, "bytes": size})
    return job


def _order_file_suffix(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise ImportRefused({"file": _("Upload the order export as a .csv or .xlsx file.")})
    return suffix


def _new_job(filename: str, path: Path | str, size: int, actor) -> CustomerImport:
    job = CustomerImport(
        filename=filename,
        stored_path=str(path),
        size_bytes=size,
        created_by_id=getattr(actor, "id", None),
        queued_at=utcnow(),  # uploaded: waits for a worker to check it
    )
    db.session.add(job)
    db.session.flush()
    return job


def prepare_import(
    job: CustomerImport, good_rows_only: bool, actor=None, hold: bool = False
) -> None:
    """Queues the write pass of this file for a worker, or refuses: the file
    must be checked (a failed write pass may be run again, and goes on from
    where it stopped; a check that failed checked nothing), and a file with
    bad rows is imported only when staff chose to skip them. `hold`: this
    process runs it itself (the command line). The caller commits.

    The move to "importing" is one conditional UPDATE, so of two clicks on
    "run" (two requests at once, two web hosts) exactly one queues the import;
    the other is refused."""
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
    now = utcnow()
    ready = or_(
        CustomerImport.status == ImportStatus.CHECKED,
        and_(CustomerImport.status == ImportStatus.FAILED, CustomerImport.rows_total.is_not(None)),
    )
    queued = db.session.execute(
        update(CustomerImport)
        .where(CustomerImport.id == job.id, ready)
        .values(
            status=ImportStatus.IMPORTING,
            good_rows_only=good_rows_only,
            error=None,
            queued_at=now,
            requested_by_id=getattr(actor, "id", None),
            claimed_by=jobs.worker_id() if hold else None,
            heartbeat_at=now if hold else None,
            takeovers=0,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.expire(job)
    if not queued:
        raise ImportRefused(_("This file is already being imported, or has been imported."))


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


def _progress(job: CustomerImport, also: importer.Progress | None, beat: jobs.Heartbeat):
    def report(rows: int, position: int, size: int) -> None:
        beat.check()  # stops here when the worker is stopping or was taken over
        job.rows_done, job.bytes_done = rows, position
        job.size_bytes = size  # for xlsx the unit is rows; keeps the bar honest
        db.session.commit()
        if also:
            also(rows, position, size)

    return report


def run_check(job_id: int, on_progress: importer.Progress | None = None, **claim) -> CustomerImport:
    return _run(job_id, ImportStatus.CHECKING, importer.check_file, on_progress, **claim)


def run_import(
    job_id: int,
    actor_id: int | None = None,
    on_progress: importer.Progress | None = None,
    **claim,
) -> CustomerImport:
    job = _run(job_id, ImportStatus.IMPORTING, importer.import_file, on_progress, **claim)
    if job.status is ImportStatus.DONE:
        actor_id = actor_id or job.requested_by_id
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


def _run(
    job_id: int,
    running: ImportStatus,
    step,
    on_progress=None,
    me: str | None = None,
    stop: threading.Event | None = None,
) -> CustomerImport:
    """Runs one pass of a job in this process, which holds its claim: the
    worker that claimed it (`me`), or the command that registered it (the
    job's claimed_by, see register_file); a job nobody holds is held now.
    Raises jobs.Interrupted, leaving the job for another run, when `stop`
    is set or another worker took the job over; the caller releases it."""
    job = db.session.get(CustomerImport, job_id)
    me = me or job.claimed_by or jobs.hold(job)
    job.status, job.rows_done, job.bytes_done, job.error = running, 0, 0, None
    db.session.commit()
    with jobs.Heartbeat(job.id, me, stop) as beat:
        _step(job, running, step, _progress(job, on_progress, beat))
    job.claimed_by = job.heartbeat_at = None  # finished: no worker needed any more
    if uploads.ended(job):  # personal data: gone as soon as nothing will read it
        uploads.discard_upload(job)
    db.session.commit()
    return job


def _step(job: CustomerImport, running: ImportStatus, step, progress) -> None:
    job_id = job.id
    try:
        step(job, progress)
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


def run_next(stop: threading.Event | None = None) -> bool:
    """One pass of the worker's import loop: claims a waiting job (or one
    whose worker stopped) and runs its check or write pass; False when no
    job was waiting. A write pass taken over resumes after the last part
    its predecessor committed. Stopping (`stop` set) gives the job back at
    the next progress report, for the next worker to go on with."""
    db.session.commit()  # a claim must be the first write of its transaction
    me = jobs.worker_id()
    job_id = jobs.claim_next(me)
    if job_id is None:
        return False
    job = db.session.get(CustomerImport, job_id)
    try:
        if job.takeovers > current_app.config["IMPORT_MAX_TAKEOVERS"]:
            _give_up(job, me, stop)
        elif job.status is ImportStatus.IMPORTING:
            run_import(job_id, me=me, stop=stop)
        else:
            run_check(job_id, me=me, stop=stop)
    except jobs.Interrupted as why:
        db.session.rollback()
        current_app.logger.info("%s; released", why)
        jobs.release(job_id, me)
    return True


def run_pending_jobs() -> int:
    """Runs every waiting job here and now, one after another, as `flask
    worker` would: for tests, and IMPORT_RUN_INLINE. Returns how many ran."""
    ran = 0
    while run_next():
        ran += 1
    return ran


def _give_up(job: CustomerImport, me: str, stop) -> None:
    """Its workers died again and again (say, killed for lack of memory):
    fail it with words staff can act on rather than try for ever."""

    def stopped_again(job, progress):
        raise RuntimeError(f"import {job.id} was taken over {job.takeovers - 1} times")

    _run(job.id, job.status, stopped_again, me=me, stop=stop)
    if job.status is ImportStatus.FAILED and job.rows_total is not None:
        job.error = _(
            "The import stopped several times before it finished, each time because the "
            "background worker stopped. Orders saved so far are kept. Press “Run the "
            "import again” to go on from there; if it stops again, tell the administrator."
        )
    else:
        job.error = _(
            "The check of this file stopped several times before it finished, each time "
            "because the background worker stopped; nothing was saved. Upload the file "
            "again, and if it stops again, tell the administrator."
        )
    db.session.commit()


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
    control_group: int = 0  # places in markets' control groups (never invited)


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
