"""The report's periods: inclusive Seoul dates, their bounds in UTC, the
same period a year earlier, and the month of a date in SQL (an order's
Seoul date is market.dbtypes.seoul_date, stored on the order)."""

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from market.timeutil import SEOUL

# -- months in SQL ---------------------------------------------------------------------


class date_month(FunctionElement):
    """'YYYY-MM' of a DATE column (a market day is a Seoul date already)."""

    type = String()
    inherit_cache = True
    name = "date_month"


# substr rather than strftime('%Y-%m'): no percent sign to escape for any driver.
@compiles(date_month, "sqlite")
def _date_month_sqlite(element, compiler, **kw):
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 7)"


@compiles(date_month)
def _date_month_postgresql(element, compiler, **kw):
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM')"


# -- periods ---------------------------------------------------------------------------


def seoul_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The inclusive Seoul dates [start, end] as UTC [from, until): the
    period opens at Seoul midnight of `start` (15:00 UTC the day before) and
    closes at Seoul midnight after `end`."""
    opens = datetime.combine(start, time(), tzinfo=SEOUL).astimezone(UTC)
    if end >= date.max:
        closes = datetime.max.replace(tzinfo=UTC)
    else:
        closes = datetime.combine(end + timedelta(days=1), time(), tzinfo=SEOUL).astimezone(UTC)
    return opens, closes


def year_earlier(day: date) -> date:
    """The same day a year earlier; 29 February becomes 28 February (the
    last day of that February), so a period ending on the last day of a
    leap February compares with the whole February before, and one starting
    on 29 February compares from the 28th. Year 1 stays (no year 0)."""
    if day.year == 1:
        return day
    if day.month == 2 and day.day == 29:
        return date(day.year - 1, 2, 28)
    return day.replace(year=day.year - 1)


def year_earlier_end(day: date) -> date:
    """The end of the period a year earlier: a period ending on the last day
    of its month ends on the last day of that month a year earlier, so a
    whole non-leap February (to the 28th) compares with a whole leap
    February (to the 29th); other days as year_earlier."""
    if day.year > 1 and day < date.max and (day + timedelta(days=1)).day == 1:
        following = date(day.year - 1, day.month, 28) + timedelta(days=4)
        return following - timedelta(days=following.day)
    return year_earlier(day)


def months_between(start: date, end: date) -> list[date]:
    """The first day of every month that [start, end] touches."""
    months = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months
