"""The report's period: any range of Seoul dates, read from the query string
(the month, quarter and year shortcuts are links that fill it in)."""

from datetime import date

from flask_babel import gettext as _

from market.takings.forms import PeriodForm
from market.timeutil import format_korean_date

# Far enough for any real report; the year before the first must exist for
# the comparison, and Seoul midnight of the last day must fit a datetime.
FIRST_YEAR, LAST_YEAR = 2000, 2100


class SalesPeriodForm(PeriodForm):
    def period(self, default: tuple[date, date]) -> tuple[date, date]:
        """As PeriodForm's, and the report says what it did instead of
        guessing silently: a year out of range keeps its field's error (the
        default stands in), an end before the start is shown swapped with one
        note (swapped_note, for the page's notice). What was typed stays in the fields."""
        out_of_range = [
            field
            for field in (self.start, self.end)
            if field.data and not field.errors and not FIRST_YEAR <= field.data.year <= LAST_YEAR
        ]
        for field in out_of_range:  # PeriodForm then puts the default in its place
            field.data = None
            field.errors = ["out of range"]
        # The dates the period is made of (a missing one is the default's), so
        # one typed date past the default's other end is said to be swapped too.
        typed = [
            field.data if field.data and not field.errors else None
            for field in (self.start, self.end)
        ]
        first, last = (value or fallback for value, fallback in zip(typed, default, strict=True))
        reversed_ = first > last and any(typed)
        start, end = super().period(default)
        # One message for every date that cannot be used, unreadable (99999-01-01)
        # or out of range (0001-01-01), with no example date that looks like data.
        for field in (self.start, self.end):
            if field.errors:
                field.errors = [
                    _(
                        "Enter a date as YYYY-MM-DD, between the years %(first)d and %(last)d.",
                        first=FIRST_YEAR,
                        last=LAST_YEAR,
                    )
                ]
        # A swap is said once, in the page's notice (swapped_note), not as a
        # field error as well: the fields then show the period as it is used.
        self.swapped_note = None
        if reversed_ and all(typed):
            self.swapped_note = _(
                "The end date is before the start date, so the report shows the two swapped."
            )
        elif reversed_ and typed[0]:
            self.swapped_note = _(
                "Without an end date the report ends on %(date)s, which is before this "
                "start date, so it shows the two swapped.",
                date=format_korean_date(last),
            )
        elif reversed_:
            self.swapped_note = _(
                "Without a start date the report starts on %(date)s, which is after this "
                "end date, so it shows the two swapped.",
                date=format_korean_date(first),
            )
        return start, end

    @property
    def unusable(self) -> bool:
        """A date was typed that the report could not use (so it used another)."""
        return bool(self.start.errors or self.end.errors)
