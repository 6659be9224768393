"""Validators and fields shared by every area's forms."""

import re

from flask_babel import lazy_gettext as _l
from wtforms import StringField

_WON = re.compile(r"^\s*[₩￦]?\s*(\d{1,3}(,\d{3})+|\d+)\s*(원)?\s*$")


class WonParseError(ValueError):
    pass


def parse_won(text: str) -> int:
    """Whole won from what people type: 1234000, 1,234,000, ₩1,234,000, 1,234,000원.

    Refuses negatives, fractions, badly placed commas and anything else."""
    if text is None or not str(text).strip():
        raise WonParseError(_l("Enter an amount in won."))
    raw = str(text).strip()
    if raw.startswith("-"):
        raise WonParseError(_l("The amount cannot be negative."))
    if "." in raw:
        raise WonParseError(_l("Enter whole won, without decimals."))
    match = _WON.match(raw)
    if not match:
        raise WonParseError(_l("Enter the amount in digits, for example 1,234,000."))
    return int(match.group(1).replace(",", ""))


class WonField(StringField):
    """A text field (so `1,234,000원` can be typed) whose data is an int."""

    def __init__(self, label=None, validators=None, minimum: int = 0, **kwargs):
        kwargs.setdefault("render_kw", {}).setdefault("inputmode", "numeric")
        super().__init__(label, validators, **kwargs)
        self.minimum = minimum
        self.won: int | None = None

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.won = None
        if self.data and self.data.strip():
            try:
                self.won = parse_won(self.data)
            except WonParseError as error:
                raise ValueError(str(error)) from error

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if isinstance(self.data, int):
            return f"{self.data:,}"
        return self.data or ""

    def process_data(self, value):
        self.data = value
        self.won = value if isinstance(value, int) else None

    def post_validate(self, form, validation_stopped):
        if not self.errors and self.won is not None and self.won < self.minimum:
            self.errors.append(
                str(_l("The amount must be at least %(min)s won.", min=f"{self.minimum:,}"))
            )
