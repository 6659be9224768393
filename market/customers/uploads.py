"""Where an uploaded order file lives until its import ends: the database.

The instance folder is not shared between web hosts and workers, so the
bytes go into `customer_import_chunks`, about a megabyte a row, written and
read a chunk at a time (a 150 MB export is never whole in memory). The
check and the write pass read a private temporary copy (`local_copy`), since
the CSV and XLSX readers need a file they can seek in.

An order file is personal data: its bytes, and the checked rows staged from
them, are deleted as soon as the import ends (`discard_upload`), and
whatever a crash left behind goes after a day (`purge_stale_uploads`, run by
`flask customers purge`). Every file written here is readable by the app's
user only (0600).

A file registered from the command line (`flask customers import PATH`)
stays where it is: it is the operator's, read in place, never deleted."""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import delete, insert, select

from market.customers.models import CustomerImport, ImportStatus, ImportUploadChunk
from market.customers.rows import FileProblem
from market.customers.staging import imports_dir, staged_path
from market.extensions import db

CHUNK_BYTES = 1 << 20
# What stored_path holds for a file whose bytes are in the database (the
# column predates them; a file on this machine has an absolute path there).
IN_DATABASE = "database:"
STALE_AFTER = timedelta(hours=24)
# Jobs whose bytes are being read right now: never purged.
RUNNING = (ImportStatus.CHECKING, ImportStatus.IMPORTING)
TEMP_PREFIX = "upload-"


def save_upload(job: CustomerImport, stream) -> int:
    """Stores the stream's bytes for this (flushed) job, a chunk at a time;
    returns how many bytes were stored. The caller commits."""
    size = seq = 0
    while chunk := _read_full(stream, CHUNK_BYTES):
        db.session.execute(insert(ImportUploadChunk).values(import_id=job.id, seq=seq, data=chunk))
        size += len(chunk)
        seq += 1
    job.stored_path = IN_DATABASE
    return size


def _read_full(stream, size: int) -> bytes:
    """Up to `size` bytes: a network stream may hand over less per read."""
    parts, wanted = [], size
    while wanted and (part := stream.read(wanted)):
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


def in_database(job: CustomerImport) -> bool:
    return job.stored_path == IN_DATABASE


@contextmanager
def local_copy(job: CustomerImport) -> Iterator[Path]:
    """A path to the job's file for reading: a private temporary copy of
    the stored bytes (mode 0600), removed on exit; a file registered from
    the command line is yielded as it is."""
    if not in_database(job):
        yield Path(job.stored_path)
        return
    handle, name = tempfile.mkstemp(  # mkstemp creates the file 0600
        prefix=f"{TEMP_PREFIX}{job.id}-",
        suffix=Path(job.filename).suffix.lower(),
        dir=imports_dir(),
    )
    path = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            if not _copy_chunks(job.id, out):
                raise FileProblem(
                    _(
                        "The uploaded file is no longer kept (files are deleted after the "
                        "import, or a day after the upload). Upload the file again."
                    )
                )
        yield path
    finally:
        path.unlink(missing_ok=True)


def _copy_chunks(import_id: int, out) -> int:
    """Writes the stored chunks in order, one row in memory at a time."""
    seqs = db.session.scalars(
        select(ImportUploadChunk.seq)
        .where(ImportUploadChunk.import_id == import_id)
        .order_by(ImportUploadChunk.seq)
    ).all()
    for seq in seqs:  # a column, not the entity: nothing piles up in the session
        out.write(
            db.session.execute(
                select(ImportUploadChunk.data).where(
                    ImportUploadChunk.import_id == import_id, ImportUploadChunk.seq == seq
                )
            ).scalar_one()
        )
    return len(seqs)


def ended(job: CustomerImport) -> bool:
    """Nothing will read the job's file again: imported, refused, or a check
    that failed (staff upload the file again). A checked file waits for
    staff's decision, and a write pass that failed for the run again the
    page offers (it goes on from where it stopped); both keep their bytes
    until then, or for a day (purge_stale_uploads)."""
    if job.status in (ImportStatus.DONE, ImportStatus.REFUSED):
        return True
    return job.status is ImportStatus.FAILED and not job.ready_to_import


def discard_upload(job: CustomerImport) -> None:
    """Deletes the job's stored bytes and its staged rows; the caller commits."""
    db.session.execute(delete(ImportUploadChunk).where(ImportUploadChunk.import_id == job.id))
    path = staged_path(job)
    path.unlink(missing_ok=True)
    path.with_suffix(".part").unlink(missing_ok=True)
    for run in path.parent.glob(f"{path.stem}.part*"):  # a check pass's runs (staging.RUNS)
        run.unlink(missing_ok=True)


def purge_stale_uploads(now: datetime) -> int:
    """Deletes the stored bytes of jobs uploaded more than a day ago that
    are not being read, and files a crash left in the imports folder for a
    day; returns how many uploads and files went. The caller commits."""
    cutoff = now - STALE_AFTER
    stale = (
        select(CustomerImport.id)
        .where(CustomerImport.created_at < cutoff, CustomerImport.status.not_in(RUNNING))
        .where(
            select(ImportUploadChunk.seq)
            .where(ImportUploadChunk.import_id == CustomerImport.id)
            .exists()
        )
    )
    ids = db.session.scalars(stale).all()
    if ids:
        db.session.execute(delete(ImportUploadChunk).where(ImportUploadChunk.import_id.in_(ids)))
    return len(ids) + _purge_files(now, cutoff)


def _purge_files(now: datetime, cutoff: datetime) -> int:
    running = set(
        db.session.scalars(select(CustomerImport.id).where(CustomerImport.status.in_(RUNNING)))
    )
    kept = {_staged_stem(job_id) for job_id in running}  # checked-7.tsv, checked-7.part
    removed = 0
    for path in imports_dir().iterdir():
        if not path.is_file() or path.stem in kept or _job_of_temp(path) in running:
            continue
        modified = datetime.fromtimestamp(path.stat().st_mtime, tz=now.tzinfo)
        if modified < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _staged_stem(job_id: int) -> str:
    return staged_path(CustomerImport(id=job_id)).stem


def _job_of_temp(path: Path) -> int | None:
    if not path.name.startswith(TEMP_PREFIX):
        return None
    number = path.name[len(TEMP_PREFIX) :].split("-", 1)[0]
    return int(number) if number.isdigit() else None
