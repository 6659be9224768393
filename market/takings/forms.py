"""Forms for takings: the entry (vendor and staff), the ceiling, the report period.

The forms only parse what was typed; the rules (split adds up, window,
ceiling) live in services.py so that tests and commands share them."""

import re
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField, StringField
from wtforms.validators import DataRequired, Length, Optional

from market.core.forms import AppForm, QueryForm
from market.takings.services import TakingsValues
from market.validators import WonField

_COUNT = re.compile(r"^\s*(\d{1,3}(,\d{3})+|\d+)\s*(건|개)?\s*$")
SPLIT_LABELS = {
    "cash": _l("Cash"),
    "card": _l("Card"),
    "voucher": _l("Gift vouchers (Onnuri and the like)"),
}


class CountField(StringField):
    """A whole number of sales, typed on a phone's number pad: `count` is the int."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {}).update({"inputmode": "numeric", "autocomplete": "off"})
        super().__init__(label, validators, **kwargs)
        self.count: int | None = None

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.count = None
        text = (self.data or "").strip()
        if not text:
            return
        if text.startswith("-"):
            raise ValueError(_l("The number of sales cannot be negative."))
        match = _COUNT.match(text)
        if not match:
            raise ValueError(_l("Enter the number of sales in digits, for example 85."))
        self.count = int(match.group(1).replace(",", ""))

    def process_data(self, value):
        self.data = "" if value is None else str(value)
        self.count = value


def _amount_field(label):
    return WonField(
        label,
        validators=[Optional()],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "placeholder": "0"},
    )


class Refusals:
    """Where a refusal that concerns no single field is shown: show_errors()
    (market.core.forms) adds to its `errors` as it does to a field's."""

    def __init__(self) -> None:
        self.errors: list[str] = []


class TakingsForm(AppForm):
    amount = WonField(
        _l("Takings of the market day (won)"),
        validators=[DataRequired(_l("Enter an amount in won."))],
        render_kw={
            "inputmode": "numeric",
            "autocomplete": "off",
            "enterkeyhint": "done",
            "class": "amount-input",
        },
    )
    sales_count = CountField(_l("Number of sales"), validators=[Optional()])
    cash = _amount_field(SPLIT_LABELS["cash"])
    card = _amount_field(SPLIT_LABELS["card"])
    voucher = _amount_field(SPLIT_LABELS["voucher"])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Named as the services' keys: the cash/card/voucher group, and the
        # page as a whole (shown above the form rather than flashed).
        self.split = Refusals()
        self.form = Refusals()

    def fill(self, takings) -> None:
        """Shows a saved entry (on GET)."""
        if takings is None:
            return
        for name in ("amount", "cash", "card", "voucher", "sales_count"):
            getattr(self, name).process_data(getattr(takings, name))

    def values(self) -> TakingsValues:
        return TakingsValues(
            amount=self.amount.won,
            sales_count=self.sales_count.count,
            cash=self.cash.won,
            card=self.card.won,
            voucher=self.voucher.won,
        )

    @property
    def split_given(self) -> bool:
        return any(self[name].data for name in SPLIT_LABELS)


class StaffTakingsForm(TakingsForm):
    reason = StringField(
        _l("Reason for the correction"),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[Length(max=500)],
    )


class CeilingForm(AppForm):
    new_ceiling = WonField(
        _l("New daily ceiling (won)"),
        validators=[DataRequired(_l("Enter the new ceiling in won."))],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    reason = StringField(
        _l("Reason"),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[DataRequired(_l("Write why the ceiling is raised.")), Length(max=500)],
    )


class PeriodForm(QueryForm):
    """The report's date range, read from the query string (a GET form)."""

    start = DateField(_l("Start date"), validators=[Optional()])
    end = DateField(_l("End date"), validators=[Optional()])

    def period(self, default: tuple[date, date]) -> tuple[date, date]:
        """The range asked for; a date that cannot be read keeps its field's
        error (shown next to what was typed) and the default stands in."""
        for field in (self.start, self.end):
            if field.errors:
                field.errors = [_("Enter a date like 2026-11-26.")]
        start = self.start.data if not self.start.errors and self.start.data else default[0]
        end = self.end.data if not self.end.errors and self.end.data else default[1]
        return (start, end) if start <= end else (end, start)
