"""The common row of a CSV export, checked and staged in one step.

A million-row export is nearly all well-formed rows of a few shapes
('2026-11-26 14:05', '12,000', 'Y', '010-1234-5678'). rows.parse_row checks
any row and words every problem, but builds a dict, datetimes and an
OrderRow for each; here a CSV row whose values all have those shapes and are
valid goes straight to its staging line (staging.staged_fields' format).
What repeats across a file is worked out once and kept: an hour's UTC time,
a consent day, an amount, a customer's email and its part. Those are worked
out by the same functions parse_row uses, so both paths accept the same
values; any row this path does not take, and so every bad row, goes through
parse_row, which names what is wrong (tests/test_import_fast_rows.py
compares the two on the same rows)."""

from datetime import timedelta
from operator import itemgetter
from zlib import crc32

from market.customers.rows import (
    _KR_MOBILE,
    COLUMNS,
    Limits,
    _parse_amount,
    _parse_consent,
    _parse_phone,
    _parse_when,
)
from market.customers.staging import NULL, PARTS, Staged, _consent_text, _escape, _utc_text
from market.validators import checked_email

# The row's values in this order (the import's columns, market.customers.rows);
# a file without one of these columns, or with a value in an unnamed column,
# is checked by parse_row alone.
KEYS = tuple(COLUMNS)
# Entries kept per cache: a million rows hold ~125,000 customers. Past it a
# new value is still checked, just not kept (bounded memory).
CACHE_LIMIT = 200_000
SIXTY = frozenset(f"{n:02d}" for n in range(60))
_HOUR = timedelta(hours=1)
_PART = tuple(range(PARTS))  # one int object per part, shared by the cached emails


class FastRows:
    """Called per CSV row: the Staged row, or None for parse_row to check."""

    def __init__(self, keys: list[str | None], limits: Limits):
        index = {
            key: at for at, key in enumerate(keys) if key is not None
        }  # the last wins, as in _row_dict
        self.usable = all(key in index for key in KEYS) and len(index) == len(keys)
        self._values = itemgetter(*(index.get(key, 0) for key in KEYS))
        self._width = len(keys)
        self._limits = limits
        self._hours: dict[str, str] = {}  # '2026-11-26 14' -> '2026-11-26 05:' ('' = not this path)
        self._days: dict[str, str | None] = {}  # consent date as written -> UTC text, None if blank
        self._amounts: dict[str, int] = {}
        self._consents: dict[str, bool] = {}
        # An email already as stored (the common case) -> its part: only the
        # part is kept per customer, the text is the row's own (memory).
        self._parts: dict[str, int] = {}

    def __call__(self, line: int, values: list[str]) -> Staged | None:
        if len(values) != self._width or not "".join(values).isprintable():
            # A control character (a line break, a tab, NUL ...) anywhere, or
            # any whitespace but the space: parse_row words it.
            return None
        order_no, when, name, email, phone, seller, product, amount, consent, consent_at = (
            self._values(values)
        )
        order_no, name, seller, product = (
            order_no.strip(),
            name.strip(),
            seller.strip(),
            product.strip(),
        )
        if not (
            0 < len(order_no) <= 64
            and 0 < len(name) <= 100
            and 0 < len(seller) <= 100
            and len(product) <= 200
        ):
            return None
        part = self._parts.get(email)
        customer = (email, part) if part is not None else self._email(email)
        ordered_at = self._ordered_at(when)
        amount = self._amounts.get(amount) or self._checked(_parse_amount, self._amounts, amount)
        agreed = self._consents.get(consent)
        if agreed is None:
            agreed = self._checked(_parse_consent, self._consents, consent)
        day = self._days[consent_at] if consent_at in self._days else self._day(consent_at)
        if (
            customer is None
            or ordered_at is None
            or amount is None
            or agreed is None
            or day == ""
            or (agreed and day is None)
        ):
            return None
        if match := _KR_MOBILE.match(phone):
            phone = "+82" + "".join(match.groups())
        else:
            problems = []
            phone = _parse_phone(phone, problems) or NULL
            if problems:
                return None
        email, part = customer
        free = f"{order_no}\t{name}\t{email}\t{seller}\t{product}"
        if "\\" in free:
            free = "\t".join(map(_escape, (order_no, name, email, seller, product)))
        return Staged(
            line,
            order_no,
            seller,
            part,
            f"{part}\t{line}\t{ordered_at}\t{phone}\t{amount}"
            f"\t{1 if agreed else 0}\t{day if agreed else NULL}\t{free}",
        )

    def _keep(self, cache: dict, key: str, value) -> None:
        if len(cache) < CACHE_LIMIT:
            cache[key] = value

    def _email(self, value: str) -> tuple[str, int] | None:
        text = value.strip()
        if not 0 < len(text) <= 254:
            return None
        stored, problem = checked_email(text)
        if problem:
            return None
        part = _PART[crc32(stored.encode()) % PARTS]
        if stored == value:
            self._keep(self._parts, value, part)
        return stored, part

    def _ordered_at(self, value: str) -> str | None:
        """'YYYY-MM-DD HH:MM' or 'YYYY-MM-DD HH:MM:SS' in Korea time, as UTC
        text: the hour's UTC start once per hour, then the minutes and
        seconds as written (Korea's offset is whole hours)."""
        hour = self._hours.get(value[:13])
        if hour is None:
            hour = self._hour(value[:13])
        if not hour or value[13:14] != ":" or value[14:16] not in SIXTY:
            return None
        if len(value) == 16:
            return f"{hour}{value[14:16]}:00.000000"
        if len(value) == 19 and value[16] == ":" and value[17:] in SIXTY:
            return f"{hour}{value[14:16]}:{value[17:]}.000000"
        return None

    def _hour(self, key: str) -> str:
        """The UTC text of the hour's start ('' when this path does not take
        it): its first and last second parse as order times the way
        parse_row reads them, within the limits, at the same whole-hour offset."""
        if len(key) != 13 or not key.isascii() or key[4] + key[7] + key[10] != "-- ":
            return ""
        problems = []
        first = _parse_when(f"{key}:00", "", problems, True, self._limits)
        last = _parse_when(f"{key}:59:59", "", problems, True, self._limits)
        hour = ""
        if (
            not problems
            and first.utcoffset() == last.utcoffset()
            and not first.utcoffset() % _HOUR
            and first.hour == int(key[11:])
        ):
            hour = _utc_text(first)[:14]
        self._keep(self._hours, key, hour)
        return hour

    def _day(self, value: str) -> str | None:
        problems = []
        parsed = _parse_when(value, "", problems, False, self._limits)
        day = "" if problems else (_consent_text(parsed) if parsed else None)
        self._keep(self._days, value, day)
        return day

    def _checked(self, parse, kept: dict, value: str):
        """An amount or a consent answer, as parse_row reads it (None when
        it finds a problem: that row goes through parse_row), kept."""
        problems = []
        parsed = parse(value, problems)
        if problems:
            return None
        self._keep(kept, value, parsed)
        return parsed
