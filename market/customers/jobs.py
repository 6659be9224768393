"""Import jobs as the worker sees them: claims, heartbeats and takeovers.

A web request never runs an import: it records the job (status uploaded:
check it; importing: write it, good_rows_only as staff chose) with the time
it was queued. `flask worker` (market.worker) claims one job at a time from
the database and runs it (market.customers.services.run_next), so a
restarted web process loses nothing and any worker on any host may run it.

A claim is a conditional UPDATE, like the outbox's: on PostgreSQL the row is
picked with SKIP LOCKED, so two workers never take the same job; SQLite runs
the statement under its single write lock, so the second worker sees the job
claimed. While a job runs, a thread writes its heartbeat every
IMPORT_HEARTBEAT_SECONDS; a job whose heartbeat is older than
IMPORT_STALE_SECONDS (its worker was killed, or its host went away) is taken
over by the next worker that looks. A write pass resumes after the last part
it committed (staging.write_staged); a job taken over more than
IMPORT_MAX_TAKEOVERS times fails with a reason staff can act on, so none
stays "importing" for ever."""

import logging
import os
import secrets
import socket
import threading
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, select, update
from sqlalchemy.exc import OperationalError

from market.core import versions
from market.customers.models import CustomerImport, ImportStatus
from market.extensions import db
from market.timeutil import utcnow

log = logging.getLogger("market.imports")

# What a worker has to do for a job in one of these states (see above).
PENDING = (ImportStatus.UPLOADED, ImportStatus.CHECKING, ImportStatus.IMPORTING)


class Interrupted(BaseException):
    """The worker is stopping, or another worker took the job over: leave
    the job as it is for the next one. A BaseException, so that the
    import's `except Exception` (which fails the job) lets it through."""


def worker_id() -> str:
    """Names one run of a job: host, process, and a random tail."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"[:100]


def _seconds(name: str) -> timedelta:
    return timedelta(seconds=current_app.config[name])


def claim_next(me: str, now: datetime | None = None) -> int | None:
    """Claims one job for worker `me` and commits; returns its id, or None.
    A job whose worker stopped beating is taken first (it has waited
    longest), and counts as a takeover. Call with nothing pending."""
    now = now or utcnow()
    pending = CustomerImport.status.in_(PENDING)
    kinds = (
        (
            and_(
                pending,
                CustomerImport.claimed_by.is_not(None),
                CustomerImport.heartbeat_at < now - _seconds("IMPORT_STALE_SECONDS"),
            ),
            {"takeovers": CustomerImport.takeovers + 1},
        ),
        (and_(pending, CustomerImport.claimed_by.is_(None)), {}),
    )
    try:
        for kind, more in kinds:
            picked = (
                select(CustomerImport.id)
                .where(kind)
                .order_by(CustomerImport.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            claimed = db.session.execute(
                update(CustomerImport)
                .where(CustomerImport.id.in_(picked), kind)
                .values(claimed_by=me, heartbeat_at=now, **more)
                .returning(CustomerImport.id)
                .execution_options(synchronize_session=False)
            ).scalar()
            if claimed is not None:
                db.session.commit()
                return claimed
        # Nothing claimed, nothing to keep: a commit here would move the
        # kept pages' data version (market.core.versions) at every poll.
        db.session.rollback()
    except OperationalError as error:
        db.session.rollback()
        if db.engine.dialect.name != "sqlite":
            raise
        # Still locked after the busy timeout (a long chunk of another
        # import): look again next pass rather than stop the worker.
        log.warning("imports: could not claim a job this pass: %s", error)
    return None


def hold(job: CustomerImport) -> str:
    """Marks a job this process is about to run itself (the command line,
    the demo) as claimed, so no worker takes it; the caller commits."""
    job.claimed_by = worker_id()
    job.heartbeat_at = utcnow()
    return job.claimed_by


def release(job_id: int, me: str) -> None:
    """Gives an unfinished job back (the worker is stopping): the next
    worker takes it at once instead of waiting for the heartbeat to age."""
    db.session.execute(
        update(CustomerImport)
        .where(CustomerImport.id == job_id, CustomerImport.claimed_by == me)
        .values(claimed_by=None, heartbeat_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def still_held(conn, job_id: int, me: str | None) -> None:
    """In a write pass's chunk transaction, before it writes: renews the
    heartbeat, or stops the pass if another worker has taken the job over.
    On PostgreSQL the row stays locked until the chunk commits, so no
    takeover can happen half-way through a chunk."""
    held = conn.execute(
        update(CustomerImport)
        .where(CustomerImport.id == job_id, CustomerImport.claimed_by == me)
        .values(heartbeat_at=utcnow())
    ).rowcount
    if not held:
        raise Interrupted(f"import {job_id}: the claim of {me} was taken over")


class Heartbeat:
    """A thread that writes the job's heartbeat while it runs, through its
    own connection. `check()`, called at each progress report, stops the run
    (Interrupted) when the worker is stopping or the claim was lost."""

    def __init__(self, job_id: int, me: str, stop: threading.Event | None = None):
        self.job_id, self.me, self.stop = job_id, me, stop
        self.lost = False
        self.every = current_app.config["IMPORT_HEARTBEAT_SECONDS"]
        self._engine = db.engine
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"import-{job_id}-heartbeat")

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._done.wait(self.every):
            try:
                with self._engine.begin() as conn:
                    beat = (
                        update(CustomerImport)
                        .where(
                            CustomerImport.id == self.job_id,
                            CustomerImport.claimed_by == self.me,
                        )
                        .values(heartbeat_at=utcnow())
                    )
                    if not conn.execute(beat).rowcount:
                        self.lost = True
                        return
                    # The import's page says whether a worker still beats
                    # (waiting): a kept page must not outlive the beat.
                    versions.changed(conn, CustomerImport.__table__)
            except OperationalError as error:  # SQLite busy with a long chunk: next time
                log.info("imports: heartbeat of job %s skipped: %s", self.job_id, error)

    def check(self) -> None:
        if self.lost:
            raise Interrupted(f"import {self.job_id}: another worker took it over")
        if self.stop is not None and self.stop.is_set():
            raise Interrupted(f"import {self.job_id}: the worker is stopping")


def waiting(job: CustomerImport, now: datetime | None = None) -> str | None:
    """What the page says about a job no worker is running right now:
    "queued" (a worker will take it shortly, or after the job it is busy
    with), "no_worker" (it has waited longer than a polling worker would let
    it while no worker is busy with another job, or its worker stopped
    beating and none took it over), or None (being worked on, or finished)."""
    if job.status not in PENDING:
        return None
    now = now or utcnow()
    stale = now - _seconds("IMPORT_STALE_SECONDS")
    if job.claimed_by is None:
        queued = job.queued_at or job.created_at
        late = queued is not None and now - queued > _seconds("IMPORT_WORKER_MISSING_SECONDS")
        return "no_worker" if late and not _a_worker_is_busy(stale) else "queued"
    if job.heartbeat_at is None or job.heartbeat_at < stale:
        return "no_worker"
    return None


def _a_worker_is_busy(stale: datetime) -> bool:
    """Some job has a live heartbeat: a worker runs, one job at a time."""
    beating = select(CustomerImport.id).where(CustomerImport.heartbeat_at >= stale).limit(1)
    return db.session.scalar(beating) is not None
