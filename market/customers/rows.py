"""Reading the marketplace's order export, row by row, without loading it.

CSV in UTF-8 (with or without BOM) or CP949, and XLSX; Korean or English
headers. `parse_row` turns one raw row into an OrderRow or the list of what
is wrong with it, in words staff understand."""

import codecs
import csv
import math
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import phonenumbers
from flask_babel import gettext as _

from market.timeutil import SEOUL, format_won, today_seoul
from market.validators import (
    CONTROL_CHARACTERS,
    WonParseError,
    checked_email,  # the one email rule of the app (every form's email field too)
    parse_won,
    visible,
)

# canonical key -> accepted header names (compared without spaces, lower-cased)
COLUMNS = {
    "order_no": ("주문번호", "order_no"),
    "ordered_at": ("주문일자", "ordered_at"),
    "buyer_name": ("구매자명", "buyer_name"),
    "email": ("구매자이메일", "email"),
    "phone": ("구매자연락처", "phone"),
    "seller": ("판매자", "seller"),
    "product": ("상품명", "product"),
    "amount": ("결제금액", "amount"),
    "marketing_consent": ("마케팅수신동의", "marketing_consent"),
    "consent_at": ("동의일자", "consent_at"),
}
REQUIRED = ("order_no", "ordered_at", "buyer_name", "email", "seller", "amount")
_HEADER_LOOKUP = {alias: key for key, aliases in COLUMNS.items() for alias in aliases}

_DATE = re.compile(
    r"^(\d{4})\s*[-./]\s*(\d{1,2})\s*[-./]\s*(\d{1,2})\.?"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$"
)
# The amounts the export really holds (12000, 12,000); anything else goes
# through parse_won, which also words the problem.
_PLAIN_WON = re.compile(r"\d{1,3}(?:,\d{3})+|\d+")
_KR_MOBILE = re.compile(r"^0(1[016789])[- ]?(\d{3,4})[- ]?(\d{4})$")
_YES, _NO = (
    {"y", "yes", "예", "동의", "1", "true", "o"},
    {"n", "no", "아니오", "미동의", "0", "false", "x", ""},
)


class FileProblem(ValueError):
    """The whole file cannot be read (not a row-level problem)."""


# What one order of the marketplace plausibly costs: an amount outside this
# is a mistake in the file (and one above 2^63 won fits no database column).
MIN_AMOUNT, MAX_AMOUNT = 1, 100_000_000
# Order and consent dates: from the marketplace's early days to tomorrow in
# Korea (an export made just after midnight, a clock a little ahead).
EARLIEST = datetime(2000, 1, 1, tzinfo=SEOUL)


@dataclass(frozen=True, slots=True)
class Limits:
    """The plausible dates, fixed once per pass (parse_row runs per row)."""

    earliest: datetime
    latest: datetime  # exclusive

    @classmethod
    def now(cls) -> "Limits":
        today = today_seoul()
        return cls(EARLIEST, datetime.combine(today + timedelta(days=2), time(), tzinfo=SEOUL))

    @property
    def last_day(self) -> date:
        return (self.latest - timedelta(days=1)).date()


class OrderRow(NamedTuple):
    """A tuple, not a dataclass: a million of them are made per import."""

    line: int
    order_no: str
    ordered_at: datetime
    buyer_name: str
    email: str
    phone: str | None
    seller: str
    product: str
    amount: int
    consent: bool
    consent_at: datetime | None


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    problems: tuple[str, ...]
    order_no: str = ""  # as written, so staff can find the row by it too


def detect_encoding(path: Path) -> str:
    """UTF-8 (BOM or not) when the whole file decodes as UTF-8, else CP949.
    Reads in chunks, so a large file is never held in memory."""
    with path.open("rb") as handle:
        head = handle.read(3)
        if head == codecs.BOM_UTF8:
            return "utf-8-sig"
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp949"
    return "utf-8"


class RowSource:
    """Iterates (line number, {canonical key: raw value}) over a CSV or XLSX
    file; `position`/`size` give progress in bytes (CSV) or rows (XLSX)."""

    def __init__(self, path: Path, filename: str):
        self.path = Path(path)
        self.is_xlsx = filename.lower().endswith((".xlsx", ".xlsm"))
        self.keys: list[str | None] = []  # the header's canonical keys, once read
        self._position = 0
        self._handle = None
        self.size = self.path.stat().st_size
        self.encoding = None if self.is_xlsx else detect_encoding(self.path)

    @property
    def position(self) -> int:
        # Asked for only when progress is reported: telling the byte offset
        # costs a system call, too dear to pay on every row.
        if self._handle is not None and not self._handle.closed:
            return self._handle.buffer.tell()
        return self._position

    def __iter__(self) -> Iterator[tuple[int, dict]]:
        for number, values in self.lists():
            yield number, self.as_dict(values)

    def lists(self) -> Iterator[tuple[int, list | tuple]]:
        """(line number, the row's values as read): text for CSV, typed
        cells for XLSX; `keys` names them once the first row is out."""
        yield from (self._xlsx_rows() if self.is_xlsx else self._csv_rows())

    def as_dict(self, values) -> dict:
        return _row_dict(self.keys, values)

    def _csv_rows(self):
        try:
            with self.path.open("r", encoding=self.encoding, newline="") as handle:
                self._handle = handle
                reader = csv.reader(handle)
                header = next(reader, None)
                self.keys = _map_header(header)
                # A row is named by its row number in the spreadsheet (the
                # header is 1, a blank line counts), as for XLSX below. Not
                # reader.line_num: that is the text line a row ends on, one
                # further for every line break inside a quoted cell, so rows
                # after such a cell were named off by one.
                for number, values in enumerate(reader, start=2):
                    if not "".join(values).strip():
                        continue
                    yield number, values
        except (UnicodeDecodeError, csv.Error) as error:
            # Not text in either encoding (a binary file renamed .csv, say),
            # or not CSV at all: the whole file is refused, nothing saved.
            raise FileProblem(
                _(
                    "The file could not be read as CSV: upload a CSV saved in UTF-8 or "
                    "CP949, or an XLSX file."
                )
            ) from error
        self._handle = None
        self._position = self.size

    def _xlsx_rows(self):
        from openpyxl import load_workbook

        check_xlsx_archive(self.path)  # before openpyxl unpacks anything
        try:
            workbook = load_workbook(self.path, read_only=True, data_only=True)
        except Exception as error:  # openpyxl raises many kinds for a bad file
            raise FileProblem(
                _("The file could not be opened as an Excel (.xlsx) file.")
            ) from error
        try:
            sheet = workbook.worksheets[0]
            # The row count the sheet claims (its <dimension>), for progress
            # only: read-only mode stops at it, so a file that claimed two
            # rows and held twelve imported two. Read to the sheet's end.
            self.size = max(sheet.max_row or 1, 1)
            sheet.reset_dimensions()
            rows = sheet.iter_rows(values_only=True)
            self.keys = _map_header(next(rows, None))
            for number, values in enumerate(rows, start=2):
                self._position = number
                if number > self.size:
                    self.size = number
                if not any(v not in (None, "") for v in values):
                    continue
                yield number, values
        finally:
            workbook.close()
        self._position = self.size


# An XLSX file is a zip archive, and openpyxl unpacks its parts while
# reading; some (shared strings, styles) whole into memory. A small file can
# unpack into gigabytes (a "zip bomb"), so the sizes its members declare are
# checked first: Python's zipfile never unpacks a member beyond the size it
# declares, so the declared sizes bound what reading can cost. A real export
# unpacks to about ten times its size, its sheet read as a stream.
XLSX_MAX_RATIO = 100
# About a 100 MB export; a larger one goes as CSV (the message says so).
XLSX_MAX_UNPACKED = 1 << 30
# A part read whole (shared strings, styles ...; not a sheet, read as a stream).
XLSX_MAX_PART = 200 << 20


def check_xlsx_archive(path: Path) -> None:
    """Refuses, before anything is unpacked, an XLSX file whose members
    would unpack to more than XLSX_MAX_RATIO times its size, more than
    XLSX_MAX_UNPACKED in all, or more than XLSX_MAX_PART in one part that
    is read whole."""
    size = max(path.stat().st_size, 1)
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as error:
        raise FileProblem(_("The file could not be opened as an Excel (.xlsx) file.")) from error
    unpacked = sum(member.file_size for member in members)
    largest = max(
        (m.file_size for m in members if not m.filename.startswith("xl/worksheets/")), default=0
    )
    if unpacked > XLSX_MAX_RATIO * size or unpacked > XLSX_MAX_UNPACKED or largest > XLSX_MAX_PART:
        raise FileProblem(
            _(
                "This Excel file would take up %(unpacked)s MB when opened, far more than a real "
                "order export (the file itself is %(size)s MB): it may be damaged or unsafe, so it "
                "was not opened. Export the orders again, or save them as CSV and upload that.",
                unpacked=f"{unpacked / (1 << 20):,.0f}",
                size=f"{size / (1 << 20):,.1f}",
            )
        )


def _map_header(header) -> list[str | None]:
    if not header:
        raise FileProblem(_("The file is empty: the first row must name the columns."))
    keys = [
        _HEADER_LOOKUP.get(re.sub(r"\s+", "", str(h or "")).lower().lstrip("\ufeff"))
        for h in header
    ]
    missing = [key for key in REQUIRED if key not in keys]
    if missing:
        names = ", ".join(f"{COLUMNS[key][0]}({key})" for key in missing)
        raise FileProblem(_("Required columns are missing: %(columns)s", columns=names))
    return keys


def _row_dict(keys, values) -> dict:
    return {key: value for key, value in zip(keys, values, strict=False) if key is not None}


def _text(raw: dict, key: str, label: str, problems: list, limit: int, required=True) -> str:
    value = raw.get(key)
    value = "" if value is None else str(value).strip()
    if not value:
        if required:
            problems.append(_("%(column)s is empty.", column=label))
    elif len(value) > limit:
        problems.append(
            _("%(column)s is longer than %(limit)d characters.", column=label, limit=limit)
        )
    elif CONTROL_CHARACTERS.search(value):
        # A line break in a name broke every mail to that customer, a NUL
        # every write on PostgreSQL: one line of visible text, or nothing.
        problems.append(_control_problem(label, value))
        return ""
    return value


def _shown_order_no(value) -> str:
    return visible(str(value).strip())[:64] if value is not None else ""


def _control_problem(label: str, value: str) -> str:
    return _(
        "%(column)s “%(value)s” holds a line break, tab or other control character "
        "(shown as ↵ or �): write it on one line.",
        column=label,
        value=visible(value),
    )


def parse_row(line: int, raw: dict, limits: Limits | None = None) -> OrderRow | BadRow:
    """Called once per row of a file that may have a million: the good row
    takes the shortest path, and words are only looked up for problems.
    `limits` (the plausible dates) is made once per file by the caller."""
    limits = limits or Limits.now()
    problems = []
    order_no = _text(raw, "order_no", "주문번호", problems, 64)
    buyer_name = _text(raw, "buyer_name", "구매자명", problems, 100)
    seller = _text(raw, "seller", "판매자", problems, 100)
    product = _text(raw, "product", "상품명", problems, 200, required=False)
    email = _text(raw, "email", "구매자이메일", problems, 254)
    if email:
        email, problem = checked_email(email)
        if problem:
            problems.append(problem)
    ordered_at = _parse_when(raw.get("ordered_at"), "주문일자", problems, True, limits)
    amount = _parse_amount(raw.get("amount"), problems)
    phone = _parse_phone(raw.get("phone"), problems)
    consent = _parse_consent(raw.get("marketing_consent"), problems)
    consent_at = _parse_when(raw.get("consent_at"), "동의일자", problems, False, limits)
    if consent and consent_at is None and not any("동의일자" in p for p in problems):
        problems.append(_("Marketing consent is Y but the consent date (동의일자) is empty."))
    if problems:
        return BadRow(line, tuple(problems), _shown_order_no(raw.get("order_no")))
    return OrderRow(
        line,
        order_no,
        ordered_at,
        buyer_name,
        email,
        phone,
        seller,
        product,
        amount,
        consent,
        consent_at if consent else None,
    )


def _date_from_text(text: str) -> datetime | None:
    match = _DATE.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = match.groups()
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour) if hour else 0,
            int(minute) if minute else 0,
            int(second) if second else 0,
            tzinfo=SEOUL,
        )
    except ValueError:
        return None


# Consent dates are whole days and repeat a lot, and a datetime is immutable,
# so parsed ones are kept; order times (to the minute) rarely repeat.
_day_from_text = lru_cache(maxsize=4096)(_date_from_text)


def _parse_when(
    value, label: str, problems: list, required: bool, limits: Limits
) -> datetime | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append(_("%(column)s is empty.", column=label))
        return None
    if isinstance(value, datetime):
        parsed = value if value.tzinfo else value.replace(tzinfo=SEOUL)
    elif isinstance(value, date):
        parsed = datetime.combine(value, time(), tzinfo=SEOUL)
    else:
        # The required date is the order time; the optional one the consent day.
        parsed = (_date_from_text if required else _day_from_text)(str(value).strip())
        if parsed is None:
            problems.append(
                _(
                    "%(column)s “%(value)s” is not a date like 2026-11-26.",
                    column=label,
                    value=visible(str(value)),
                )
            )
            return None
    if not limits.earliest <= parsed < limits.latest:
        # Year 1 (or 9999) parses, but has no UTC time to store it at.
        problems.append(
            _(
                "%(column)s “%(value)s” is outside the dates an order can have "
                "(%(first)s to %(last)s).",
                column=label,
                value=visible(str(value)),
                first=limits.earliest.date().isoformat(),
                last=limits.last_day.isoformat(),
            )
        )
        return None
    return parsed


def _parse_amount(value, problems: list) -> int:
    amount = _read_amount(value, problems)
    if amount is not None and not MIN_AMOUNT <= amount <= MAX_AMOUNT:
        problems.append(
            _(
                "결제금액 “%(value)s” is not a plausible amount for one order "
                "(%(min)s to %(max)s).",
                value=visible(str(value)),
                min=format_won(MIN_AMOUNT),
                max=format_won(MAX_AMOUNT),
            )
        )
        return 0
    return amount or 0


def _read_amount(value, problems: list) -> int | None:
    if value.__class__ is str and _PLAIN_WON.fullmatch(value):
        return int(value.replace(",", ""))
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < 0 or not math.isfinite(value) or value != int(value):
            problems.append(_("결제금액 must be a whole, non-negative amount in won."))
            return None
        return int(value)
    try:
        return parse_won("" if value is None else str(value))
    except WonParseError as error:
        problems.append(f"결제금액 “{visible(str(value))}”: {error}")
        return None


def _parse_phone(value, problems: list) -> str | None:
    raw = "" if value is None else str(value).strip()
    if not raw:
        return None
    if CONTROL_CHARACTERS.search(raw):
        problems.append(_control_problem("구매자연락처", raw))
        return None
    if match := _KR_MOBILE.match(raw):  # the common case, without the slower parser
        return "+82" + "".join(match.groups())
    try:
        number = phonenumbers.parse(raw, "KR")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        problems.append(_("The phone number “%(value)s” is not valid.", value=raw))
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _parse_consent(value, problems: list) -> bool:
    raw = "" if value is None else str(value).strip().lower()
    if raw in _YES:
        return True
    if raw in _NO:
        return False
    problems.append(_("마케팅수신동의 must be Y or N, not “%(value)s”.", value=visible(str(value))))
    return False
