"""Validators and fields shared by every area's forms."""

import re

import phonenumbers
from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import StopValidation

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


# -- 사업자등록번호 (business registration number) ------------------------------

BUSINESS_NUMBER_WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)


class BusinessNumberError(ValueError):
    pass


def business_check_digit(first_nine: str) -> int:
    """The National Tax Service check digit: weights 1,3,7,1,3,7,1,3,5 over the
    first nine digits, plus the tens digit of (9th digit × 5)."""
    digits = [int(c) for c in first_nine]
    total = sum(d * w for d, w in zip(digits, BUSINESS_NUMBER_WEIGHTS, strict=True))
    total += digits[8] * 5 // 10
    return (10 - total % 10) % 10


def business_number_valid(digits: str) -> bool:
    return (
        len(digits) == 10
        and digits.isascii()
        and digits.isdigit()
        and digits != "0" * 10
        and business_check_digit(digits[:9]) == int(digits[9])
    )


def parse_business_number(text: str | None) -> str:
    """Ten digits from `124-81-00998`, `1248100998` or `124 81 00998`."""
    raw = re.sub(r"[\s\-]", "", text or "")
    if not raw:
        raise BusinessNumberError(_l("Enter the business registration number."))
    if not (raw.isascii() and raw.isdigit()) or len(raw) != 10:
        raise BusinessNumberError(
            _l("A business registration number has 10 digits, like 124-81-00998.")
        )
    if not business_number_valid(raw):
        raise BusinessNumberError(
            _l("This business registration number does not exist: check the digits.")
        )
    return raw


def format_business_number(digits: str | None) -> str:
    if not digits or len(digits) != 10:
        return digits or ""
    return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"


class BusinessNumberField(StringField):
    """Typed with or without hyphens; `digits` holds the 10 checked digits."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {}).update(
            {"inputmode": "numeric", "autocomplete": "off", "placeholder": "000-00-00000"}
        )
        super().__init__(label, validators, **kwargs)
        self.digits: str | None = None

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.digits = None
        if self.data and self.data.strip():
            try:
                self.digits = parse_business_number(self.data)
            except BusinessNumberError as error:
                raise ValueError(str(error)) from error

    def process_data(self, value):
        self.data = format_business_number(value) if value else value
        self.digits = value or None


# -- phone numbers ---------------------------------------------------------------


class PhoneError(ValueError):
    pass


def parse_phone(text: str | None, region: str = "KR") -> str:
    """E.164 (+821012345678) from what people type: 010-1234-5678, 01012345678,
    +82 10 1234 5678, 02-123-4567."""
    if not text or not text.strip():
        raise PhoneError(_l("Enter a phone number."))
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        raise PhoneError(_l("Enter a phone number like 010-1234-5678.")) from error
    if not phonenumbers.is_valid_number(number):
        raise PhoneError(_l("This is not a valid phone number; enter it like 010-1234-5678."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str | None) -> str:
    """010-1234-5678 for Korean numbers, the international form for others."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if number.country_code == 82:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


class PhoneField(StringField):
    """A phone number; `e164` holds the parsed number."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {}).update({"inputmode": "tel", "autocomplete": "tel"})
        super().__init__(label, validators, **kwargs)
        self.e164: str | None = None

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.e164 = None
        if self.data and self.data.strip():
            try:
                self.e164 = parse_phone(self.data)
            except PhoneError as error:
                raise ValueError(str(error)) from error

    def process_data(self, value):
        self.data = format_phone(value) if value else value
        self.e164 = value or None


# -- control characters ------------------------------------------------------------

# C0 controls (NUL to US, so also TAB, LF and CR), DEL, C1 controls (NEL
# among them), the Unicode line and paragraph separators, and lone
# surrogates. Python's mail headers refuse everything `str.splitlines`
# breaks on (CR, LF, VT, FF, FS, GS, RS, NEL, U+2028, U+2029), PostgreSQL
# refuses NUL in text, no encoder takes a lone surrogate, and the rest are
# invisible on a page yet end up in names, subjects and calendars.
_CONTROL = "\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff"
CONTROL_CHARACTERS = re.compile(f"[{_CONTROL}]")
# A multi-line text keeps its line breaks (CR, LF) and tabs; nothing else.
CONTROL_IN_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_CONTROL_RUN = re.compile(f"[{_CONTROL}]+")
_LINE_BREAK = re.compile("\r\n?|[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")

SINGLE_LINE_MESSAGE = _l(
    "Line breaks, tabs and other control characters cannot be used here: write it on one line."
)
MULTI_LINE_MESSAGE = _l(
    "The text holds invisible control characters (such as NUL): delete them or type the text again."
)


def has_control_characters(text: str, multiline: bool = False) -> bool:
    """True when `text` holds a character a single-line field (or, with
    `multiline`, a text that may keep CR, LF and TAB) must not hold."""
    pattern = CONTROL_IN_LINES if multiline else CONTROL_CHARACTERS
    return pattern.search(text) is not None


def one_line(text: str | None) -> str:
    """`text` made safe for a mail header, a display name or a calendar
    property: every run of control characters becomes one space. For data
    stored before the fields refused them; it never raises."""
    if not text:
        return ""
    return _CONTROL_RUN.sub(" ", str(text)).strip()


def plain_lines(text: str | None) -> str:
    """A multi-line text with LF line ends and no other control character
    (each becomes a space), for mail bodies and calendar descriptions."""
    if not text:
        return ""
    lines = _LINE_BREAK.sub("\n", str(text)).split("\n")
    return "\n".join(_CONTROL_RUN.sub(" ", line).rstrip() for line in lines)


_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def visible(text: str) -> str:
    """`text` with its control characters shown, for a message that quotes a
    refused value: line breaks as ↵, anything else as the replacement sign."""
    return CONTROL_CHARACTERS.sub(lambda m: "↵" if m.group() in _BREAKS else "\ufffd", text)


class NoControlCharacters:
    """Refuses control characters in a form field: in its text, or in what
    was typed for a number, date or choice, or in an upload's file name.
    Runs first (see market.core.forms.CheckedText) and stops the field's
    validation: what follows need not see such a value."""

    field_flags: dict = {}

    def __init__(self, multiline: bool = False, message=None):
        self.multiline = multiline
        self.message = message or (MULTI_LINE_MESSAGE if multiline else SINGLE_LINE_MESSAGE)

    def __call__(self, form, field):
        # Text as the form keeps it (a trailing line break its strip filter
        # removed is harmless); for other fields what was typed.
        values = [field.data] if isinstance(field.data, str) else field.raw_data or ()
        for value in values:
            text = getattr(value, "filename", value)  # an upload: its file name
            if isinstance(text, str) and has_control_characters(text, self.multiline):
                field.errors[:] = []
                raise StopValidation(str(self.message))
