import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from market.customers import services
from market.customers.models import Customer, CustomerImport, ImportStatus, Order, email_hash
from market.customers.rows import parse_row
from market.customers.samples import KOREAN_HEADER, write_order_file
from market.customers.staging import staged_path
from market.extensions import db
from market.vendors.models import Category, EnterpriseType, Vendor, VendorStatus

ENGLISH_HEADER = [
    "order_no",
    "ordered_at",
    "buyer_name",
    "email",
    "phone",
    "seller",
    "product",
    "amount",
    "marketing_consent",
    "consent_at",
]
GOOD = [
    [
        "A-1",
        "2026-11-26",
        "김민준",
        "Kim@Example.com",
        "010-1234-5678",
        "행복플러스",
        "수면 양말",
        "12,000원",
        "Y",
        "2026.01.05",
    ],
    [
        "A-2",
        "2026/11/20 14:03",
        "김민준",
        "kim@example.com",
        "",
        "잔다리마을공동체",
        "두유",
        "8000",
        "Y",
        "2026-01-05",
    ],
    [
        "A-3",
        "2026.10.01",
        "이서연",
        "seo@example.com",
        "01098765432",
        "모르는상점",
        "비누",
        "￦15,000",
        "N",
        "",
    ],
]


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _csv_bytes(rows, header=KOREAN_HEADER, encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def _vendor(name, shop_url=None):
    vendor = Vendor(
        name=name,
        business_number=f"{abs(hash(name)) % 10**10:010d}",
        enterprise_type=EnterpriseType.SOCIAL,
        cert_issuer="고용노동부",
        cert_number="2020-1",
        cert_issued_on=datetime(2020, 1, 1).date(),
        category=Category.FOOD,
        contact_name="담당",
        phone="+821012345678",
        email=f"{len(name)}@v.kr",
        shop_url=shop_url,
        # Only a live enterprise is matched (issue 19's review): these are approved.
        status=VendorStatus.APPROVED,
    )
    db.session.add(vendor)
    db.session.commit()
    return vendor


@pytest.fixture
def vendors(app):
    return [_vendor("행복플러스"), _vendor("잔다리마을공동체", "https://gmarket.example/jandari")]


@pytest.fixture(autouse=True)
def _inline(app_config, tmp_path):
    app_config["IMPORT_RUN_INLINE"] = True
    app_config["IMPORT_DIR"] = str(tmp_path / "imports")


def _upload(client, content: bytes, name="orders.csv"):
    return client.post(
        "/staff/customers/imports",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def _job() -> CustomerImport:
    db.session.expire_all()
    return db.session.scalars(select(CustomerImport).order_by(CustomerImport.id.desc())).first()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp949"])
def test_upload_check_then_import(staff_client, vendors, encoding):
    response = _upload(staff_client, _csv_bytes(GOOD, encoding=encoding))
    assert response.status_code == 302
    job = _job()
    assert job.status is ImportStatus.CHECKED
    assert (job.rows_total, job.rows_bad, job.orders_new) == (3, 0, 3)
    assert job.report["encoding"] == encoding
    assert _count(Order) == 0, "checking saves nothing"
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "모르는상점" in page  # the unmatched seller is listed
    staff_client.post(f"/staff/customers/imports/{job.id}/run", data={})
    job = _job()
    assert job.status is ImportStatus.DONE
    assert (job.orders_new, job.customers_new) == (3, 2)
    kim = db.session.scalar(select(Customer).where(Customer.email == "kim@example.com"))
    assert kim.phone == "+821012345678" and kim.consent
    # where consent was given, as the customer reads it: not the file's name
    assert kim.consent_source == "G마켓 구매 시 마케팅 수신 동의"
    assert kim.consent_at == datetime(2026, 1, 4, 15, 0, tzinfo=UTC)
    orders = {o.order_no: o for o in db.session.scalars(select(Order))}
    assert orders["A-1"].amount == 12000 and orders["A-3"].amount == 15000
    assert orders["A-1"].vendor_id == vendors[0].id
    assert orders["A-3"].vendor_id is None and orders["A-3"].seller_name == "모르는상점"
    assert orders["A-2"].ordered_at == datetime(2026, 11, 20, 5, 3, tzinfo=UTC)


def test_english_headers_and_shop_link_matching(staff_client, vendors):
    rows = [
        [
            "B-1",
            "2026-11-26",
            "박도윤",
            "park@example.com",
            "",
            "gmarket.example/jandari/",
            "두유",
            "1000",
            "N",
            "",
        ]
    ]
    _upload(staff_client, _csv_bytes(rows, header=ENGLISH_HEADER))
    job = _job()
    staff_client.post(f"/staff/customers/imports/{job.id}/run", data={})
    assert db.session.scalar(select(Order.vendor_id)) == vendors[1].id


def test_xlsx_upload(staff_client, vendors):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(KOREAN_HEADER)
    sheet.append(
        [
            "X-1",
            datetime(2026, 11, 26, 10, 30),
            "최지우",
            "choi@example.com",
            "010-2222-3333",
            "행복플러스",
            "양말",
            25000,
            "Y",
            datetime(2026, 2, 1),
        ]
    )
    content = io.BytesIO()
    workbook.save(content)
    _upload(staff_client, content.getvalue(), name="orders.xlsx")
    job = _job()
    assert job.status is ImportStatus.CHECKED and job.rows_bad == 0
    staff_client.post(f"/staff/customers/imports/{job.id}/run", data={})
    order = db.session.scalar(select(Order))
    assert order.amount == 25000
    assert order.ordered_at == datetime(2026, 11, 26, 1, 30, tzinfo=UTC)


BAD = [
    (["", "2026-11-26", "김", "a@example.com", "", "s", "p", "1000", "N", ""], "주문번호"),
    (["C-2", "26/11/2026", "김", "a@example.com", "", "s", "p", "1000", "N", ""], "주문일자"),
    (["C-3", "2026-11-26", "김", "not-an-email", "", "s", "p", "1000", "N", ""], "이메일"),
    (["C-4", "2026-11-26", "김", "a@example.com", "", "s", "p", "-500", "N", ""], "음수"),
    (["C-5", "2026-11-26", "김", "a@example.com", "", "s", "p", "12.5", "N", ""], "소수점"),
    (["C-6", "2026-11-26", "김", "a@example.com", "", "s", "p", "많이", "N", ""], "숫자로"),
    (["C-7", "2026-11-26", "김", "a@example.com", "123", "s", "p", "1000", "N", ""], "전화번호"),
    (
        ["C-8", "2026-11-26", "김", "a@example.com", "", "s", "p", "1000", "몰라", ""],
        "마케팅수신동의",
    ),
    (["C-9", "2026-11-26", "김", "a@example.com", "", "s", "p", "1000", "Y", ""], "동의일자"),
    (["C-10", "2026-11-26", "", "a@example.com", "", "s", "p", "1000", "N", ""], "구매자명"),
]


@pytest.mark.parametrize(("row", "word"), BAD)
def test_each_kind_of_bad_row_is_named(app, row, word):
    result = parse_row(7, dict(zip(ENGLISH_HEADER, row, strict=True)))
    assert result.line == 7
    assert any(word in problem for problem in result.problems), result.problems


def test_bad_rows_are_listed_with_lines_and_nothing_is_saved(staff_client, vendors):
    rows = GOOD + [row for row, _word in BAD] + [GOOD[0]]  # and a duplicated order number
    response = _upload(staff_client, _csv_bytes(rows))
    job = _job()
    assert job.rows_bad == len(BAD) + 1
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "음수" in page and "A-1" in page
    lines = [bad["line"] for bad in job.report["bad_rows"]]
    assert lines[0] == 5 and lines[-1] == 15  # header is line 1
    refused = staff_client.post(f"/staff/customers/imports/{job.id}/run", data={})
    assert refused.status_code == 302
    assert _count(Order) == 0 and _count(Customer) == 0
    staff_client.post(f"/staff/customers/imports/{job.id}/run", data={"good_rows_only": "y"})
    job = _job()
    assert job.status is ImportStatus.DONE and job.orders_new == 3
    page = staff_client.get(f"/staff/customers/imports/{job.id}").get_data(as_text=True)
    assert "건너뛰었습니다" in page


def test_missing_columns_refuse_the_file(staff_client):
    _upload(staff_client, _csv_bytes([["1", "2"]], header=["주문번호", "상품명"]))
    job = _job()
    assert job.status is ImportStatus.REFUSED
    assert "주문일자" in job.error and "구매자이메일" in job.error


def test_wrong_file_type_is_refused_on_the_form(staff_client):
    page = _upload(staff_client, b"hello", name="orders.txt").get_data(as_text=True)
    assert ".csv" in page and _count(CustomerImport) == 0


def test_reimport_counts_nothing_twice_and_keeps_newest_details(staff_client, vendors):
    _upload(staff_client, _csv_bytes(GOOD))
    staff_client.post(f"/staff/customers/imports/{_job().id}/run", data={})
    older = [
        [
            "A-9",
            "2025-01-01",
            "김옛날",
            "kim@example.com",
            "010-9999-0000",
            "행복플러스",
            "양말",
            "1000",
            "N",
            "",
        ]
    ]
    _upload(staff_client, _csv_bytes(GOOD + older))
    job = _job()
    assert (job.orders_known, job.orders_new) == (3, 1)
    staff_client.post(f"/staff/customers/imports/{job.id}/run", data={})
    assert _count(Order) == 4
    kim = db.session.scalar(select(Customer).where(Customer.email == "kim@example.com"))
    assert kim.name == "김민준" and kim.consent, "an older row does not overwrite newer details"


def test_cli_import_with_progress(runner, vendors, tmp_path):
    path = write_order_file(
        tmp_path / "orders.csv",
        5000,
        ["행복플러스", "잔다리마을공동체"],
        end=datetime(2026, 11, 26, tzinfo=UTC),
    )
    result = runner.invoke(args=["customers", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "5000 rows: 0 bad, 5000 new orders" in result.output
    assert "Imported 5000 new orders" in result.output
    again = runner.invoke(args=["customers", "import", str(path)])
    assert "0 new orders, 5000 already imported" in again.output
    assert _count(Order) == 5000


def test_cli_refuses_bad_rows_unless_asked(runner, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(_csv_bytes([*GOOD, BAD[3][0]], encoding="cp949"))
    result = runner.invoke(args=["customers", "import", str(path)])
    assert result.exit_code != 0 and "line 5" in result.output
    assert _count(Order) == 0
    result = runner.invoke(args=["customers", "import", str(path), "--good-rows-only"])
    assert result.exit_code == 0 and "skipped 1 bad rows" in result.output


def test_the_request_only_queues_the_job_and_the_worker_runs_it(app_config, staff_client, tmp_path):
    """No import runs in the web process: the page says the job waits for the
    worker ("대기 중"), then shows what the worker's pass found."""
    app_config["IMPORT_RUN_INLINE"] = False
    staff_client.application.config["IMPORT_RUN_INLINE"] = False
    path = write_order_file(tmp_path / "big.csv", 3000, ["가게"], datetime(2026, 11, 1, tzinfo=UTC))
    response = _upload(staff_client, path.read_bytes(), name="big.csv")
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert _job().status is ImportStatus.UPLOADED and _job().claimed_by is None
    page = staff_client.get(f"/staff/customers/imports/{job_id}").get_data(as_text=True)
    assert "대기 중" in page and "<progress" in page
    assert services.run_pending_jobs() == 1
    job = _job()
    assert job.status is ImportStatus.CHECKED and job.rows_total == 3000
    assert job.claimed_by is None and job.heartbeat_at is None
    page = staff_client.get(f"/staff/customers/imports/{job_id}").get_data(as_text=True)
    assert "3,000" in page and "대기 중" not in page
    staff_client.post(f"/staff/customers/imports/{job_id}/run", data={})
    assert _job().status is ImportStatus.IMPORTING and _count(Order) == 0
    assert "대기 중" in staff_client.get(f"/staff/customers/imports/{job_id}").get_data(
        as_text=True
    )
    assert services.run_pending_jobs() == 1
    assert _job().status is ImportStatus.DONE and _count(Order) == 3000
    assert services.run_pending_jobs() == 0


def test_checked_rows_are_staged_once_and_the_stage_removed_after_import(
    staff_client, vendors, app_config
):
    rows = [[*GOOD[2][:6], "", *GOOD[2][7:]]]  # an empty product is allowed
    _upload(staff_client, _csv_bytes(rows))
    job = _job()
    staged = staged_path(job)
    assert staged.parent == Path(app_config["IMPORT_DIR"])
    assert staged.exists(), "the check pass keeps the parsed rows for the write pass"
    staff_client.post(f"/staff/customers/imports/{job.id}/run", data={})
    assert _job().status is ImportStatus.DONE and not staged.exists()
    order = db.session.scalar(select(Order))
    assert order.product == "" and order.vendor_id is None
    customer = db.session.scalar(select(Customer))
    assert customer.phone == "+821098765432"
    assert customer.email_hash == email_hash("seo@example.com"), "the suppression key"


def test_import_without_a_staged_file_reads_the_upload_again(staff_client, vendors):
    _upload(staff_client, _csv_bytes([*GOOD, GOOD[0]]))  # the duplicate is a bad row
    job = _job()
    staged_path(job).unlink()
    staff_client.post(f"/staff/customers/imports/{job.id}/run", data={"good_rows_only": "y"})
    job = _job()
    assert job.status is ImportStatus.DONE and (job.orders_new, job.customers_new) == (3, 2)
    assert _count(Order) == 3


def test_newest_row_of_a_customer_wins_within_one_file(staff_client, vendors):
    newer = [*GOOD[1][:1], "2026-11-27 09:00", "김최신", *GOOD[1][3:]]
    newer[0] = "A-4"
    _upload(staff_client, _csv_bytes([*GOOD, newer]))
    staff_client.post(f"/staff/customers/imports/{_job().id}/run", data={})
    kim = db.session.scalar(select(Customer).where(Customer.email == "kim@example.com"))
    assert kim.name == "김최신" and kim.phone is None
    assert kim.details_as_of == datetime(2026, 11, 27, 0, 0, tzinfo=UTC)


def test_backslashes_survive_the_staging_file(staff_client, vendors):
    """Tabs and line breaks are refused by the check (tests/test_import_strict.py);
    backslashes, also where they spell COPY's escapes, are kept as written."""
    row = [*GOOD[2]]
    row[2], row[5], row[6] = "이\\서연", "모르는\\n상점", "비누 3개 \\N \\t"
    _upload(staff_client, _csv_bytes([row]))
    staff_client.post(f"/staff/customers/imports/{_job().id}/run", data={})
    order = db.session.scalar(select(Order))
    assert (order.seller_name, order.product) == ("모르는\\n상점", "비누 3개 \\N \\t")
    assert db.session.scalar(select(Customer.name)) == "이\\서연"


def test_a_file_written_in_many_chunks_keeps_each_customers_newest_details(
    runner, vendors, tmp_path, monkeypatch
):
    monkeypatch.setattr("market.customers.staging.CHUNK", 100)
    path = write_order_file(
        tmp_path / "orders.csv", 1000, ["행복플러스"], end=datetime(2026, 11, 26, tzinfo=UTC)
    )
    result = runner.invoke(args=["customers", "import", str(path)])
    assert "Imported 1000 new orders and 125 new customers" in result.output, result.output
    by_customer = select(Order.customer_id, func.max(Order.ordered_at)).group_by(Order.customer_id)
    newest = dict(db.session.execute(by_customer).all())
    customers = db.session.scalars(select(Customer)).all()
    assert len(customers) == len(newest) == 125
    assert all(c.details_as_of == newest[c.id] for c in customers)
