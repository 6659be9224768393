"""UTC in the database, Asia/Seoul on the screen."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

SEOUL = ZoneInfo("Asia/Seoul")
WEEKDAYS_KO = "월화수목금토일"


# The app's one clock. Every "now" and "today" in the app comes from utcnow()
# or today_seoul(), so a test (or a demo) can set the time with set_clock().
# A module-level setting rather than app.config: utcnow() also runs where no
# app context is guaranteed (column defaults at flush, the import thread,
# next_send_time), and the CLI, the outbox worker and every request of a test
# see the same setting without each being handed the app.
_fixed_now: datetime | None = None


def utcnow() -> datetime:
    """Now, timezone-aware UTC: the real time unless set_clock() fixed it."""
    return _fixed_now if _fixed_now is not None else datetime.now(UTC)


def today_seoul() -> date:
    """Today's date in Korea, where market days, windows and "this week" are
    counted: at 00:30 KST it is already the next day, while UTC is not."""
    return utcnow().astimezone(SEOUL).date()


def set_clock(now: datetime | None) -> None:
    """Stops the clock at `now` (timezone-aware), or lets it run again with None.
    For tests and demos; production never calls it."""
    global _fixed_now
    if now is not None and now.tzinfo is None:
        raise ValueError("set_clock needs a timezone-aware datetime")
    _fixed_now = None if now is None else now.astimezone(UTC)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC: SQLite keeps no zone, PostgreSQL
    would convert to the session zone; storing naive UTC behaves the same on
    both and refuses naive input, which would be ambiguous."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def next_hour_tick(until: datetime, now: datetime) -> datetime | None:
    """When a countdown to `until` in whole hours ("2일 5시간 남음": the hours
    left, rounded down) next shows one hour less: one microsecond past
    `until` minus the whole hours left now (at that exact moment it still
    shows them). None once `until` has come. A page showing the countdown
    is kept until then (market.core.pagecache.valid_until)."""
    left = until - now
    if left <= timedelta(0):
        return None
    return until - (left // timedelta(hours=1)) * timedelta(hours=1) + timedelta(microseconds=1)


def to_seoul(value: datetime) -> datetime:
    return value.astimezone(SEOUL)


def format_seoul(value: datetime | None, with_seconds: bool = False) -> str:
    if value is None:
        return ""
    fmt = "%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M"
    return to_seoul(value).strftime(fmt)


def format_korean_date(value: date) -> str:
    """2026년 11월 26일 (목)"""
    return f"{value.year}년 {value.month}월 {value.day}일 ({WEEKDAYS_KO[value.weekday()]})"


def format_won(amount: int | None) -> str:
    if amount is None:
        return ""
    return f"₩{amount:,}"


# Advertising (정보통신망법 제50조) may only arrive between these hours, Korea time.
DEFAULT_SEND_WINDOW = "08:00-21:00"


def parse_window(text: str) -> tuple[time, time]:
    """'08:00-21:00' -> (08:00, 21:00), Korea time."""
    start, _, end = text.partition("-")
    window = time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
    if window[0] >= window[1]:
        raise ValueError(f"the send window {text!r} must start before it ends")
    return window


def in_window(now: datetime, window: tuple[time, time]) -> bool:
    return window[0] <= now.astimezone(SEOUL).time() < window[1]


def next_send_time(
    now: datetime, window: tuple[time, time] = parse_window(DEFAULT_SEND_WINDOW)
) -> datetime:
    """The first moment at or after `now` inside the sending hours, in UTC:
    advertising made at 23:30 waits for 08:00 the next morning."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if in_window(now, window):
        return now.astimezone(UTC)
    local = now.astimezone(SEOUL)
    day = local.date() if local.time() < window[0] else local.date() + timedelta(days=1)
    return datetime.combine(day, window[0], tzinfo=SEOUL).astimezone(UTC)
