"""An uploaded order file is personal data: its bytes live in the database
(any worker on any host reads them), not in the instance folder; they go as
soon as the import ends, and whatever is left goes after a day (`customers
purge`); every file the app writes with order data is 0600. An XLSX file is
untrusted: a zip bomb is refused before anything is unpacked, and a sheet is
read to its end whatever its stored dimensions claim. Request bodies are
small everywhere but the staff's order-file upload."""

import http.client
import io
import json
import os
import re
import subprocess
import sys
import textwrap
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from market.customers import importer, uploads
from market.customers.models import CustomerImport, ImportStatus, ImportUploadChunk, Order
from market.customers.samples import KOREAN_HEADER
from market.customers.staging import staged_path
from market.extensions import db
from tests.servers import free_port, stop, wait_for_healthz
from tests.test_import_strict import _csv, _row

ROOT = Path(__file__).resolve().parents[1]
ZIP_BOMB_WORDS = "이 엑셀 파일은 열면"


@pytest.fixture(autouse=True)
def _inline(app_config, tmp_path):
    app_config["IMPORT_RUN_INLINE"] = True
    app_config["IMPORT_DIR"] = str(tmp_path / "imports")


def _multipart(content: bytes, name: str) -> tuple[bytes, str]:
    """The body a browser sends. Made here, since the test client spools a
    body over 500 KB to a temporary file it never closes."""
    boundary = "----market-test-boundary"
    body = (
        (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def _upload(client, content: bytes, name: str = "orders.csv", path="/staff/customers/imports"):
    body, content_type = _multipart(content, name)
    return client.post(path, data=body, content_type=content_type)


def _job() -> CustomerImport:
    db.session.expire_all()
    return db.session.scalars(select(CustomerImport).order_by(CustomerImport.id.desc())).first()


def _stored(job: CustomerImport) -> bytes:
    chunks = db.session.scalars(
        select(ImportUploadChunk.data)
        .where(ImportUploadChunk.import_id == job.id)
        .order_by(ImportUploadChunk.seq)
    ).all()
    return b"".join(chunks)


def _chunk_count() -> int:
    return db.session.scalar(select(func.count()).select_from(ImportUploadChunk))


def _files(app_config) -> list[str]:
    folder = Path(app_config["IMPORT_DIR"])
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


# -- where the bytes live, and for how long -----------------------------------------


def test_an_upload_is_kept_in_the_database_in_chunks_not_in_the_instance_folder(
    staff_client, app_config
):
    rows = [_row(n, product="양말 " + "가" * 150) for n in range(1, 5001)]
    content = _csv(rows)
    assert len(content) > 2 * uploads.CHUNK_BYTES  # three chunks at least
    assert _upload(staff_client, content).status_code == 302
    job = _job()
    assert job.status is ImportStatus.CHECKED and job.rows_total == 5000
    assert job.stored_path == uploads.IN_DATABASE and job.size_bytes == len(content)
    assert _stored(job) == content
    sizes = db.session.scalars(
        select(func.length(ImportUploadChunk.data)).where(ImportUploadChunk.import_id == job.id)
    ).all()
    assert len(sizes) >= 3 and max(sizes) <= uploads.CHUNK_BYTES
    # The only file on this host: the checked rows, waiting for staff's decision.
    assert _files(app_config) == [staged_path(job).name]


def test_the_readers_copy_is_private_and_removed_after(staff_client, app_config):
    content = _csv([_row(1), _row(2)])
    _upload(staff_client, content)
    job = _job()
    with uploads.local_copy(job) as path:
        assert path.read_bytes() == content
        assert _mode(path) == 0o600
        assert path.parent == Path(app_config["IMPORT_DIR"])
    assert not path.exists()


def test_the_staged_rows_are_readable_by_the_apps_user_only(staff_client):
    previous = os.umask(0o022)  # the usual umask, which made them world-readable
    try:
        _upload(staff_client, _csv([_row(1), _row(2)]))
    finally:
        os.umask(previous)
    staged = staged_path(_job())
    assert staged.exists() and _mode(staged) == 0o600
    assert _mode(staged.parent) == 0o700  # the folder the app made for them, too


def test_the_upload_is_deleted_when_its_import_is_done(staff_client, app_config):
    _upload(staff_client, _csv([_row(1), _row(2), _row(3)]))
    job = _job()
    assert _chunk_count() > 0
    staff_client.post(f"/staff/customers/imports/{job.id}/run", data={})
    job = _job()
    assert job.status is ImportStatus.DONE and job.orders_new == 3
    assert _chunk_count() == 0
    assert _files(app_config) == []


def test_the_upload_of_a_refused_file_is_deleted_at_once(staff_client, app_config):
    _upload(staff_client, bytes(range(256)) * 10)  # no CSV at all
    assert _job().status is ImportStatus.REFUSED
    assert _chunk_count() == 0 and _files(app_config) == []


def test_the_upload_of_a_check_that_failed_is_deleted_at_once(
    staff_client, app_config, monkeypatch
):
    def broken(order_nos):  # the database went away in the middle of the check
        raise ConnectionError("server closed the connection unexpectedly")

    monkeypatch.setattr(importer, "_count_known", broken)
    _upload(staff_client, _csv([_row(1), _row(2)]))
    job = _job()
    assert job.status is ImportStatus.FAILED and "파일을 다시 올려" in job.error
    assert _chunk_count() == 0 and _files(app_config) == []


def test_a_write_pass_that_failed_keeps_its_file_for_the_run_again_until_it_ends(
    staff_client, app_config
):
    _upload(staff_client, _csv([_row(1), _row(2), _row(3)]))
    job = _job()
    stage = staged_path(job)
    stage.write_text(stage.read_text() + "not\ta\tstaged\trow\n")  # a damaged stage
    staff_client.post(f"/staff/customers/imports/{job.id}/run", data={})
    assert _job().status is ImportStatus.FAILED and _chunk_count() > 0  # the page offers a rerun
    stage.unlink()
    staff_client.post(f"/staff/customers/imports/{job.id}/run", data={})
    assert _job().status is ImportStatus.DONE
    assert db.session.scalar(select(func.count()).select_from(Order)) == 3
    assert _chunk_count() == 0 and _files(app_config) == []


def _age(path: Path, when) -> None:
    os.utime(path, (when.timestamp(), when.timestamp()))


def test_purge_removes_uploads_and_leftovers_older_than_a_day(
    staff_client, runner, app_config, clock, login_as, staff
):
    uploaded_at = clock.now
    _upload(staff_client, _csv([_row(1), _row(2)]))
    waiting = _job()  # checked, waiting for staff's decision
    assert waiting.status is ImportStatus.CHECKED
    _upload(staff_client, _csv([_row(3)]))
    running = _job()
    running.status = ImportStatus.IMPORTING  # a worker reads it right now
    db.session.commit()
    folder = Path(app_config["IMPORT_DIR"])
    crashed = folder / f"{uploads.TEMP_PREFIX}{waiting.id}-x1y2.csv"  # a copy a crash left
    crashed.write_bytes(b"order data")
    reading = folder / f"{uploads.TEMP_PREFIX}{running.id}-a1b2.csv"
    reading.write_bytes(b"order data")
    for path in folder.iterdir():
        _age(path, uploaded_at)

    clock.advance(hours=23)
    result = runner.invoke(args=["customers", "purge"])
    assert result.exit_code == 0, result.output
    assert "Deleted 0 order files" in result.output
    assert _stored(waiting) and _stored(running) and crashed.exists()

    clock.advance(hours=2)
    result = runner.invoke(args=["customers", "purge"])
    assert result.exit_code == 0, result.output
    assert "Deleted 3 order files" in result.output  # the upload, its stage, the copy
    assert _stored(waiting) == b"" and not crashed.exists()
    assert not staged_path(waiting).exists()
    assert _stored(running), "a job being read is never purged"
    assert reading.exists() and staged_path(running).exists()
    # run later, the purged job says what to do, in words
    staff_client = login_as(staff)  # a day later: signed in again
    staff_client.post(f"/staff/customers/imports/{waiting.id}/run", data={})
    db.session.expire_all()
    job = db.session.get(CustomerImport, waiting.id)
    assert job.status is ImportStatus.REFUSED and "다시 올려 주세요" in job.error


# -- XLSX files are untrusted --------------------------------------------------------


def _xlsx(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(KOREAN_HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _rewrite_sheet(content: bytes, change) -> bytes:
    """The same workbook with its first sheet's XML passed through `change`."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            data = source.read(member)
            if member.filename == "xl/worksheets/sheet1.xml":
                data = change(data.decode()).encode()
            target.writestr(member, data)
    return out.getvalue()


def _zip_bomb(path: Path, unpacked_mb: int = 300) -> None:
    """A valid workbook whose second row holds one cell of 300 MB of zeros:
    about 300 KB on disk (deflate packs a run ~1000:1), written a megabyte
    at a time."""
    source = zipfile.ZipFile(io.BytesIO(_xlsx([])))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for member in source.infolist():
            if member.filename != "xl/worksheets/sheet1.xml":
                target.writestr(member.filename, source.read(member))
        sheet = source.read("xl/worksheets/sheet1.xml").decode()
        head, tail = sheet.split("</sheetData>")
        with target.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out:
            out.write(head.encode() + b'<row r="2"><c r="A2" t="inlineStr"><is><t>')
            zeros = b"0" * (1 << 20)
            for _ in range(unpacked_mb):
                out.write(zeros)
            out.write(b"</t></is></c></row></sheetData>" + tail.encode())


MEASURE = textwrap.dedent(
    """
    import json, resource, sys
    from pathlib import Path
    import openpyxl  # loaded before the start is measured, as the app has it
    from market.customers.rows import FileProblem, RowSource
    start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        rows = sum(1 for _ in RowSource(Path(sys.argv[1]), "orders.xlsx"))
        outcome = f"read {rows} rows"
    except FileProblem as problem:
        outcome = "refused: " + str(problem)
    except Exception as error:
        outcome = "failed: " + repr(error)[:200]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"outcome": outcome, "grew_kib": peak - start}))
    """
)


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    bomb = tmp_path / "orders.xlsx"
    _zip_bomb(bomb)
    assert bomb.stat().st_size < 400 * 1024
    with zipfile.ZipFile(bomb) as archive:
        assert sum(m.file_size for m in archive.infolist()) > 300 * 1024 * 1024
    # Its own process, so that its peak memory is this reading's alone.
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(bomb)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    assert measured["outcome"].startswith("refused"), measured
    assert measured["grew_kib"] < 100 * 1024, measured


def test_a_zip_bomb_upload_is_refused_in_korean(staff_client, app_config, tmp_path):
    bomb = tmp_path / "bomb.xlsx"
    _zip_bomb(bomb)
    _upload(staff_client, bomb.read_bytes(), name="orders.xlsx")
    job = _job()
    assert job.status is ImportStatus.REFUSED
    assert ZIP_BOMB_WORDS in job.error and "CSV" in job.error
    page = staff_client.get(f"/staff/customers/imports/{job.id}").get_data(as_text=True)
    assert ZIP_BOMB_WORDS in page
    assert _chunk_count() == 0 and _files(app_config) == []


def test_a_real_workbook_passes_the_archive_check(staff_client):
    _upload(staff_client, _xlsx([_row(n) for n in range(1, 200)]), name="orders.xlsx")
    job = _job()
    assert job.status is ImportStatus.CHECKED and job.rows_total == 199


def test_a_sheet_is_read_to_its_end_whatever_its_dimension_claims(staff_client):
    content = _xlsx([_row(n) for n in range(1, 13)])

    def claim_two_rows(xml: str) -> str:
        changed, count = re.subn(r'<dimension ref="[^"]*"\s*/>', '<dimension ref="A1:J2"/>', xml)
        assert count == 1
        return changed

    _upload(staff_client, _rewrite_sheet(content, claim_two_rows), name="orders.xlsx")
    job = _job()
    assert job.status is ImportStatus.CHECKED and job.rows_total == 12 and job.rows_bad == 0
    staff_client.post(f"/staff/customers/imports/{job.id}/run", data={})
    assert _job().orders_new == 12
    assert db.session.scalar(select(func.count()).select_from(Order)) == 12


# -- request bodies: small everywhere, large for the order file ----------------------

TOO_LARGE = "너무 커서 받을 수 없습니다"


def test_a_public_form_refuses_a_large_body_with_a_korean_page(client, app):
    assert app.config["MAX_CONTENT_LENGTH"] <= 2 * 1024 * 1024
    body = {"name": "가" * (3 * 1024 * 1024 // 3)}  # 3 MB of text
    for path in ("/vendors/register", "/account/login"):
        response = client.post(path, data=body)
        assert response.status_code == 413, path
        page = response.get_data(as_text=True)
        assert TOO_LARGE in page and "아무것도 저장하지 않았습니다" in page


def test_a_large_file_posted_to_another_form_is_refused(client):
    response = _upload(client, b"x" * (3 * 1024 * 1024), path="/vendors/register")
    assert response.status_code == 413 and TOO_LARGE in response.get_data(as_text=True)


def test_the_staff_import_takes_a_large_file_up_to_its_own_limit(staff_client, app_config, app):
    rows = [_row(n, product="양말 " + "가" * 150) for n in range(1, 7001)]
    content = _csv(rows)
    assert len(content) > 3 * 1024 * 1024  # beyond every other form's limit
    assert _upload(staff_client, content).status_code == 302
    assert _job().rows_total == 7000
    app.config["IMPORT_MAX_UPLOAD_BYTES"] = 4 * 1024 * 1024
    response = _upload(staff_client, content + content[-(len(content) // 2) :])
    assert response.status_code == 413
    assert TOO_LARGE in response.get_data(as_text=True)
    assert _job().rows_total == 7000  # no new job


def test_purge_removes_stale_uploads_counted_by_age_not_by_status_alone(
    staff_client, clock, app_config
):
    """An upload left by a crash in the middle of its check (the worker never
    came back) is purged a day later like any other."""
    _upload(staff_client, _csv([_row(1)]))
    job = _job()
    job.status = ImportStatus.UPLOADED
    db.session.commit()
    clock.advance(hours=24, minutes=1)
    assert uploads.purge_stale_uploads(clock.now) >= 1
    db.session.commit()
    assert _stored(job) == b""
    assert clock.now - job.created_at > timedelta(hours=24)


def test_the_import_route_keeps_the_small_limit_for_anyone_but_staff(app, staff_client):
    # As in production, the CSRF check reads a POST's body before any view
    # (and so before the view's login check) runs.
    app.config["WTF_CSRF_ENABLED"] = True
    big = b"x" * (3 * 1024 * 1024)
    response = _upload(app.test_client(), big)  # not signed in
    assert response.status_code == 413 and TOO_LARGE in response.get_data(as_text=True)
    # staff: the CSRF check reads the whole body, and finds no token in it
    response = _upload(staff_client, big)
    assert response.status_code == 400 and TOO_LARGE not in response.get_data(as_text=True)


def _post(port: int, path: str, size: int) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(
            "POST",
            path,
            body=b"name=" + b"a" * size,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_a_real_server_answers_a_too_large_body_with_the_page_not_a_reset(tmp_path):
    """Under gunicorn, as in production: a server that answers 413 and closes
    while the browser is still sending makes it show "connection reset"
    (here: a broken pipe), so the app reads what is left first."""
    port = free_port()
    env = {
        **os.environ,
        "MARKET_INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite'}",  # the 413 reads none
        "SECRET_KEY": "upload-limit-test-" + "x" * 20,
    }
    env.pop("TEST_DATABASE_URL", None)
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            *("--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "2", "wsgi:app"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_healthz(port, server, tmp_path / "gunicorn.log")
        for size in (3 * 1024 * 1024, 40 * 1024 * 1024):
            status, page = _post(port, "/vendors/register", size)
            assert status == 413 and TOO_LARGE in page, size
    finally:
        stop(server, timeout=30)
        log.close()
