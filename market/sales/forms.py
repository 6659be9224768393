"""The report's period: any range of Seoul dates, read from the query string
(the month, quarter and year shortcuts are links that fill it in)."""

from datetime import date

from flask_babel import gettext as _

from market.takings.forms import PeriodForm

# Far enough for any real report; the year before the first must exist for
# the comparison, and Seoul midnight of the last day must fit a datetime.
FIRST_YEAR, LAST_YEAR = 2000, 2100


class SalesPeriodForm(PeriodForm):
    def period(self, default: tuple[date, date]) -> tuple[date, date]:
        """As PeriodForm's, and the report says what it did instead of
        guessing silently: a year out of range keeps its field's error (the
        default stands in), an end before the start is shown swapped with a
        note on the end field. What was typed stays in the fields."""
        out_of_range = [
            field
            for field in (self.start, self.end)
            if field.data and not field.errors and not FIRST_YEAR <= field.data.year <= LAST_YEAR
        ]
        for field in out_of_range:  # PeriodForm then puts the default in its place
            field.data = None
            field.errors = ["out of range"]
        reversed_ = (
            self.start.data
            and self.end.data
            and not (self.start.errors or self.end.errors)
            and self.start.data > self.end.data
        )
        start, end = super().period(default)
        for field in out_of_range:
            field.errors = [
                _(
                    "Enter a date between the years %(first)d and %(last)d.",
                    first=FIRST_YEAR,
                    last=LAST_YEAR,
                )
            ]
        if reversed_:
            self.end.errors = [
                _("The end date is before the start date, so the report shows the two swapped.")
            ]
        return start, end
