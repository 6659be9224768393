"""Report downloads: CSV in UTF-8 with a BOM, XLSX that openpyxl opens, both
with the report's numbers and with formula-looking text neutralised."""

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from market.takings.exports import neutralise
from tests.markets_factories import make_market, make_venue
from tests.takings_factories import add_takings
from tests.vendors_factories import make_vendor

PERIOD = "start=2025-01-01&end=2025-12-31"


@pytest.fixture
def entries(app):
    """Three entries, one by an enterprise whose name is a spreadsheet formula."""
    venue = make_venue("@경기도청")
    spring, summer = make_market(venue, date(2025, 4, 3)), make_market(venue, date(2025, 7, 3))
    evil = make_vendor('=HYPERLINK("http://evil.example","클릭")')
    plain = make_vendor("우리밀빵집")
    add_takings(evil, spring, 1_500_000, cash=500_000, card=1_000_000)
    add_takings(plain, spring, 2_000_000)
    add_takings(plain, summer, 3_250_000, sales_count=120)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+82 10", "'+82 10"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("우리밀빵집", "우리밀빵집"),
        ("1,000", "1,000"),
        (1_500_000, 1_500_000),
        (None, None),
    ],
)
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def _csv(client, table: str) -> list[list[str]]:
    response = client.get(f"/staff/takings/report.csv?{PERIOD}&table={table}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_csv_has_a_bom_korean_headers_and_neutralised_formulas(client, login_as, staff, entries):
    login_as(staff)
    rows = _csv(client, "vendors")
    assert rows[0][:2] == ["참여기업", "품목"]
    names = {row[0]: row for row in rows[1:]}
    assert set(names) == {"우리밀빵집", '\'=HYPERLINK("http://evil.example","클릭")'}
    assert names["우리밀빵집"][3:7] == ["2", "5250000", "2625000", "3250000"]
    markets = _csv(client, "markets")
    assert [row[:4] for row in markets[1:]] == [
        ["2025-04-03", "'@경기도청", "2", "3500000"],
        ["2025-07-03", "'@경기도청", "1", "3250000"],
    ]
    entries_rows = _csv(client, "entries")
    assert len(entries_rows) == 4
    assert sum(int(row[5]) for row in entries_rows[1:]) == 6_750_000


def test_an_unknown_table_is_404(client, login_as, staff, entries):
    login_as(staff)
    assert client.get(f"/staff/takings/report.csv?{PERIOD}&table=nope").status_code == 404


def _as_csv(cell) -> str:
    """A cell as the CSV writes it (openpyxl reads dates back as datetimes)."""
    if cell is None:
        return ""
    return cell.date().isoformat() if isinstance(cell, date) else str(cell)


def test_xlsx_opens_and_holds_the_same_numbers(client, login_as, staff, entries):
    login_as(staff)
    response = client.get(f"/staff/takings/report.xlsx?{PERIOD}")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == [
        "요약",
        "장터별",
        "기업별",
        "품목별",
        "기업 유형별",
        "장소별",
        "입력 내역",
    ]
    summary = {row[0]: row[1] for row in workbook["요약"].iter_rows(min_row=2, values_only=True)}
    assert summary["총매출"] == 6_750_000 and summary["장터 수"] == 2
    for sheet, table in (("장터별", "markets"), ("기업별", "vendors"), ("입력 내역", "entries")):
        rows = workbook[sheet].iter_rows(values_only=True)
        assert [[_as_csv(cell) for cell in row] for row in rows] == _csv(client, table)
    vendors = workbook["기업별"]
    evil = next(row for row in vendors.iter_rows(min_row=2) if "HYPERLINK" in str(row[0].value))
    assert evil[0].data_type == "s" and evil[0].value.startswith("'=")
    assert all(isinstance(row[4], int) for row in vendors.iter_rows(min_row=2, values_only=True))
