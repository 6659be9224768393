"""Tables as CSV (one table) and XLSX (every table on its own sheet), for
every staff download: the takings report, the enterprise, application,
customer and invitation lists.

CSV is UTF-8 with a byte-order mark: without it Excel reads the file as the
local ANSI code page and Korean turns to mojibake. Any text cell that starts
with =, +, - or @ (or a tab or carriage return) is prefixed with a single
quote, so a spreadsheet shows it as text and never runs it as a formula: an
enterprise name is typed by the public at sign-up, a customer's name comes
from the marketplace's order file."""

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from unicodedata import east_asian_width

from flask import Response
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from market.timeutil import to_seoul

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
WON_FORMAT = "#,##0"
# Columns that hold money (Table.money) show the won sign too, for reports handed in as they are.
MONEY_FORMAT = '"₩"#,##0'
# Flask adds "; charset=utf-8" to a text/* mimetype itself (naming it here sent it twice).
CSV_MIMETYPE = "text/csv"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


@dataclass
class Table:
    key: str
    title: str
    headers: list[str]
    rows: list[list]
    money: tuple[int, ...] = ()  # indexes of the columns in won (XLSX: ₩#,##0)


def to_csv(table: Table) -> bytes:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(header) for header in table.headers])
    for row in table.rows:
        writer.writerow([_csv_cell(value) for value in row])
    return out.getvalue().encode("utf-8")


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return _local(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(value)


def _local(value: datetime) -> datetime:
    """A stored time (UTC) as the center reads it, in Korea time, without
    a zone: spreadsheets keep no time zones."""
    return to_seoul(value).replace(tzinfo=None) if value.tzinfo else value


def to_xlsx(tables: list[Table]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for table in tables:
        sheet = workbook.create_sheet(_sheet_title(table.title))
        sheet.append([neutralise(header) for header in table.headers])
        for row in table.rows:
            sheet.append([_xlsx_cell(value) for value in row])
        _format(sheet, table)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _xlsx_cell(value):
    if isinstance(value, datetime):
        return _local(value)
    return neutralise(value)


def download(body: bytes, mimetype: str, filename: str) -> Response:
    """A file to save, never shown in the browser; sent with Cache-Control:
    no-store, as every download (market.core.web)."""
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def send_table(table: Table, file_format: str, name: str) -> Response:
    """One table as `name`.csv or `name`.xlsx; the caller checked the format."""
    if file_format == "csv":
        return download(to_csv(table), CSV_MIMETYPE, f"{name}.csv")
    return download(to_xlsx([table]), XLSX_MIMETYPE, f"{name}.xlsx")


def _sheet_title(title: str) -> str:
    for character in "[]:*?/\\":
        title = title.replace(character, " ")
    return title[:31]


MAX_WIDTH = 40  # a column no wider than this: a long text wraps in the cell instead


def display_width(value) -> int:
    """How many character widths a value takes in a spreadsheet column: a
    Korean (or other East Asian wide) character takes two, others one; a
    number as its digits with thousands separators (and the won sign)."""
    if value is None:
        return 0
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"₩{value:,}"
    return sum(2 if east_asian_width(ch) in ("W", "F") else 1 for ch in str(value))


def _format(sheet, table: Table) -> None:
    sheet.freeze_panes = "A2"
    for column, header in enumerate(table.headers, start=1):
        values = [row[column - 1] for row in table.rows]
        widest = max([display_width(header), *(display_width(v) for v in values)]) + 2
        sheet.column_dimensions[get_column_letter(column)].width = min(max(widest, 10), MAX_WIDTH)
        for cell in sheet.iter_cols(min_col=column, max_col=column, min_row=2):
            for item in cell:
                if isinstance(item.value, int) and not isinstance(item.value, bool):
                    item.number_format = MONEY_FORMAT if column - 1 in table.money else WON_FORMAT
                elif isinstance(item.value, datetime):
                    item.number_format = "yyyy-mm-dd hh:mm"
                elif isinstance(item.value, date):
                    item.number_format = "yyyy-mm-dd"
