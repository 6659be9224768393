"""Files the order import cannot use, and the rows it names (what a
newcomer met trying the app by hand): a binary file is refused at the check
with a Korean, file-level message; a file of only column names says it holds no
orders; a failure never shows staff a Python class name and offers the
re-run it advises; rows are named by their spreadsheet row and 주문번호,
also after a cell with a line break."""

import csv
import io
import re

import pytest
from sqlalchemy import func, select

from market.customers import services
from market.customers.models import Customer, CustomerImport, ImportStatus, Order
from market.customers.samples import KOREAN_HEADER
from market.customers.staging import staged_path
from market.extensions import db
from tests.test_import_strict import _row

# In the words of the staff member's own spreadsheet program, not of encodings.
NOT_CSV = (
    "파일을 읽을 수 없습니다. "
    "엑셀에서 ‘CSV’ 또는 ‘Excel 통합 문서(XLSX)’로 저장한 파일을 올려 주세요."
)
# What a Python exception's class name looks like (UnicodeDecodeError, KeyError ...).
CLASS_NAME = re.compile(r"\b[A-Z][a-z]+(?:[A-Z][a-z]+)*(?:Error|Exception|Defect)\b")


@pytest.fixture(autouse=True)
def _inline(app_config, tmp_path):
    app_config["IMPORT_RUN_INLINE"] = True
    app_config["IMPORT_DIR"] = str(tmp_path / "imports")


def _csv(rows, header=KOREAN_HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def _upload(client, content: bytes, name: str = "orders.csv") -> tuple[CustomerImport, str]:
    response = client.post(
        "/staff/customers/imports",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert response.status_code == 200
    db.session.expire_all()
    job = db.session.scalars(select(CustomerImport).order_by(CustomerImport.id.desc())).first()
    return job, response.get_data(as_text=True)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _run_form(page: str) -> bool:
    return "/run" in page


# -- files that are no CSV -----------------------------------------------------------


def test_a_binary_file_is_refused_at_the_check_in_korean(staff_client):
    job, page = _upload(staff_client, bytes(range(256)))
    assert job.status is ImportStatus.REFUSED
    assert job.error == NOT_CSV
    assert NOT_CSV in page
    assert "UnicodeDecodeError" not in page and "다시 실행" not in page
    assert not _run_form(page)
    assert _count(Customer) == 0 and _count(Order) == 0


def test_the_cli_refuses_a_binary_file_with_the_same_words(runner, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_bytes(bytes(range(256)) * 4)
    result = runner.invoke(args=["customers", "import", str(path)])
    assert result.exit_code != 0
    assert NOT_CSV in result.output and "Error" not in result.output.replace("Error:", "")
    assert _count(Order) == 0


def test_a_cp949_file_with_a_byte_no_encoding_has_is_refused_whole(staff_client):
    content = _csv([_row(1, buyer_name="김민준"), _row(2)]).decode().encode("cp949") + b"\x80\xff\n"
    job, page = _upload(staff_client, content)
    assert job.status is ImportStatus.REFUSED and NOT_CSV in page
    assert _count(Order) == 0


def test_a_file_of_only_column_names_says_it_holds_no_orders(staff_client):
    job, page = _upload(staff_client, _csv([]))
    assert job.status is ImportStatus.REFUSED
    assert "파일에 주문이 없습니다" in page
    assert "새 주문 0건 가져오기" not in page and not _run_form(page)


def test_blank_lines_only_below_the_header_are_no_orders_either(staff_client):
    job, page = _upload(staff_client, _csv([]) + b"\r\n,,,\r\n\r\n")
    assert job.status is ImportStatus.REFUSED and "파일에 주문이 없습니다" in page


# -- failures show words, not class names, and the re-run they advise -----------------


def test_a_check_that_stops_names_no_exception_and_offers_no_rerun(app, staff_client, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_bytes(_csv([_row(1)]))
    job = services.register_file(path)
    db.session.commit()
    path.unlink()  # gone between upload and check: the check cannot read it
    job = services.run_check(job.id)
    assert job.status is ImportStatus.FAILED
    page = staff_client.get(f"/staff/customers/imports/{job.id}").get_data(as_text=True)
    assert "파일 검사가 예기치 않게 멈췄습니다" in job.error
    assert not CLASS_NAME.search(job.error) and not CLASS_NAME.search(page)
    assert not _run_form(page)
    # and the run page refuses it: a check that failed checked nothing
    staff_client.post(f"/staff/customers/imports/{job.id}/run", data={})
    assert _count(Order) == 0


def test_a_write_pass_that_stops_can_be_run_again_from_the_page(staff_client):
    job, _page = _upload(staff_client, _csv([_row(1), _row(2), _row(3)]))
    assert job.status is ImportStatus.CHECKED
    stage = staged_path(job)
    stage.write_text(stage.read_text() + "not\ta\tstaged\trow\n")  # a damaged stage
    staff_client.post(f"/staff/customers/imports/{job.id}/run", data={})
    db.session.expire_all()
    job = db.session.get(CustomerImport, job.id)
    assert job.status is ImportStatus.FAILED
    page = staff_client.get(f"/staff/customers/imports/{job.id}").get_data(as_text=True)
    assert "가져오기가 예기치 않게 멈췄습니다" in page
    assert not CLASS_NAME.search(job.error) and not CLASS_NAME.search(page)
    assert "가져오기 다시 실행" in page and _run_form(page)  # the re-run it advises
    stage.unlink()  # the run again reads the upload afresh
    staff_client.post(f"/staff/customers/imports/{job.id}/run", data={})
    db.session.expire_all()
    assert db.session.get(CustomerImport, job.id).status is ImportStatus.DONE
    assert _count(Order) == 3


# -- rows named as the spreadsheet shows them ---------------------------------------


def test_rows_after_a_cell_with_a_line_break_keep_their_spreadsheet_row(staff_client):
    rows = [_row(n) for n in range(1, 8)]  # spreadsheet rows 2 to 8
    rows.append(_row(9, buyer_name="김\r\n민준"))  # row 9, two text lines
    rows.append(_row(10))  # row 10, on text line 11
    rows.append(_row(11, amount="열두 냥"))  # row 11, on text line 12
    job, page = _upload(staff_client, _csv(rows))
    bad = {row["line"]: row["order_no"] for row in job.report["bad_rows"]}
    assert bad == {9: "A-9", 11: "A-11"}
    # the check's list names the row by its number and its 주문번호
    assert re.search(r">9</td>\s*<td[^>]*>A-9</td>", page)
    assert re.search(r">11</td>\s*<td[^>]*>A-11</td>", page)


def test_a_repeated_order_number_names_the_first_rows_spreadsheet_row(staff_client):
    rows = [_row(1, buyer_name="김\n민준"), _row(2), _row(2, email="other@example.com")]
    job, _page = _upload(staff_client, _csv(rows))
    problems = {row["line"]: " ".join(row["problems"]) for row in job.report["bad_rows"]}
    assert set(problems) == {2, 4}
    assert "3" in problems[4] and job.report["bad_rows"][1]["order_no"] == "A-2"


def test_the_cli_names_bad_rows_by_row_and_order_number(runner, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_bytes(_csv([_row(1, buyer_name="김\r\n민준"), _row(2, amount="x")]))
    result = runner.invoke(args=["customers", "import", str(path)])
    assert result.exit_code != 0
    assert "line 2 (order A-1)" in result.output and "line 3 (order A-2)" in result.output
