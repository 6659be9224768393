"""Validators and fields shared by every area's forms."""

import re
from datetime import date
from functools import lru_cache

import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
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


# The longest password accepted wherever one is set (the forms, and the
# create-user command). Nobody types more (a password manager makes 20 to 64
# characters, a passphrase stays well under 200); a limit makes a paste
# accident visible at once instead of becoming a password no one can type
# again, and bounds the work of hashing it. Here, at the bottom floor, so the
# core forms and the accounts area share it.
MAX_PASSWORD_LENGTH = 200


# -- control characters ------------------------------------------------------------

# C0 controls (NUL to US, so also TAB, LF and CR), DEL, C1 controls (NEL
# among them), the Unicode line and paragraph separators, and lone
# surrogates. Python's mail headers refuse everything `str.splitlines`
# breaks on (CR, LF, VT, FF, FS, GS, RS, NEL, U+2028, U+2029), PostgreSQL
# refuses NUL in text, no encoder takes a lone surrogate, and the rest are
# invisible on a page yet end up in names, subjects and calendars.
_CONTROL = "\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff"
# Invisible format characters: the bidi embeddings, overrides and isolates
# (U+202A-202E, U+2066-2069), the direction marks (U+200E, U+200F, U+061C),
# and the zero-width ones (U+200B-200D, U+2060, U+FEFF). A name holding
# U+202E shows (and mails, as a subject) everything after it backwards
# (`새협동조합\u202egnp.exe`), and a name of zero-width spaces looks empty.
# The zero-width joiner is refused too: it only glues emoji sequences and
# Indic or Arabic letters, which no name, address or title of ours needs,
# and alone it makes two names that look the same differ.
_FORMAT = "\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff"
FORMAT_CHARACTERS = re.compile(f"[{_FORMAT}]")
# What a single-line field refuses, and one_line() folds in stored data.
CONTROL_CHARACTERS = re.compile(f"[{_CONTROL}{_FORMAT}]")
_CONTROL_ONLY = re.compile(f"[{_CONTROL}]")
# A multi-line text keeps its line breaks (CR, LF) and tabs; nothing else.
CONTROL_IN_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_CONTROL_RUN = re.compile(f"{CONTROL_CHARACTERS.pattern}+")
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
    refused value: line breaks as ↵, format characters by their code point
    (⟨U+202E⟩: a bidi override quoted raw would turn the rest of the message
    backwards), anything else as the replacement sign."""
    return CONTROL_CHARACTERS.sub(_shown, text)


def _shown(match: re.Match) -> str:
    char = match.group()
    if char in _BREAKS:
        return "↵"
    if FORMAT_CHARACTERS.match(char):
        return f"⟨U+{ord(char):04X}⟩"
    return "\ufffd"


# Looks like nothing on a page: white space, the format characters above and
# the Hangul fillers (U+115F, U+1160, U+3164, U+FFA0), an old trick for a
# "blank" name in Korean.
_BLANK = re.compile(f"[\\s{_FORMAT}\u115f\u1160\u3164\uffa0]*")

FORMAT_MESSAGE = _l(
    "The text holds invisible characters (such as a writing-direction mark or a zero-width "
    "space, often copied from another program): delete them or type the text again."
)
FILE_NAME_MESSAGE = _l(
    "The file name holds characters we cannot accept (a line break or an invisible "
    "character): rename the file and choose it again."
)
EMPTY_MESSAGE = _l("Fill this in: it holds only spaces or invisible characters.")


def looks_blank(text: str) -> bool:
    """True when `text` shows nothing at all on a page."""
    return _BLANK.fullmatch(text) is not None


class NoControlCharacters:
    """Refuses control characters in a form field: in its text, or in what
    was typed for a number, date or choice, or in an upload's file name.
    A single-line field also refuses the invisible format characters, and a
    required field that shows nothing is refused as empty.
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
            if isinstance(text, str):
                self._check(field, text, upload=text is not value)

    def _check(self, field, text: str, upload: bool) -> None:
        if text and field.flags.required and not upload and looks_blank(text):
            self._refuse(field, _required_message(field) or EMPTY_MESSAGE)
        if not has_control_characters(text, self.multiline):
            return
        if upload:
            self._refuse(field, FILE_NAME_MESSAGE)
        if self.multiline or _CONTROL_ONLY.search(text):
            self._refuse(field, self.message)
        self._refuse(field, FORMAT_MESSAGE)  # only format characters

    @staticmethod
    def _refuse(field, message) -> None:
        field.errors[:] = []
        raise StopValidation(str(message))


def _required_message(field):
    """The field's own "enter …" message, when it has one."""
    for validator in field.validators:
        if getattr(validator, "field_flags", {}).get("required") and validator.message:
            return validator.message
    return None


# -- email addresses -------------------------------------------------------------------

# An address the mailer and email-validator both take at once (lower-cased
# ASCII dot-atom @ letter-digit-hyphen labels, a letter TLD): most addresses.
# The rest go to email-validator, which also says what is wrong.
# tests/test_import_strict.py checks that this is a subset of what it accepts.
# A label with "--" in its third and fourth places (ab--c.kr) is left to
# email-validator: IDNA reserves that shape for Punycode (RFC 5891 4.2.3.1).
_ATEXT = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]"
FAST_EMAIL = re.compile(
    rf"(?=.{{1,64}}@){_ATEXT}+(?:\.{_ATEXT}+)*"
    r"@(?=.{4,253}$)(?:(?![a-z0-9]{2}--)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)
_SPECIAL_USE = frozenset(SPECIAL_USE_DOMAIN_NAMES)
MAX_EMAIL_LENGTH = 254

EMAIL_INCOMPLETE = _l(
    "The email address “%(value)s” is not complete: write it like name@example.kr."
)
EMAIL_LOCAL_PART = _l(
    "The email address “%(value)s” cannot receive our mail: write it like "
    "name@example.kr, with English letters, digits and . _ - + before the @."
)
EMAIL_DOMAIN = _l(
    "The email address “%(value)s” cannot receive our mail: “%(domain)s” after the @ "
    "is not an internet domain. Write it like name@example.kr."
)
EMAIL_TOO_LONG = _l("An email address has at most %(max)d characters.", max=MAX_EMAIL_LENGTH)


def normalise_email(email: str) -> str:
    """How every address is stored and compared: trimmed, in lower case."""
    return email.strip().lower()


def checked_email(text: str) -> tuple[str, str | None]:
    """The address as stored (lower case, the domain in ASCII) and None, or
    the text and what is wrong with it, in words staff and vendors follow.

    The one email rule of the app (the importer and every form's email
    field): as strict as the mailer, which writes ASCII addresses only (no
    SMTPUTF8), so `김철수@x.kr` is refused, and `a,b@x.kr`, `a<b>@x.kr` or
    `"q"x@x.kr` are not one address at all."""
    email = normalise_email(text)
    if FAST_EMAIL.fullmatch(email) and email.rpartition(".")[2] not in _SPECIAL_USE:
        return email, None
    stored, wrong = _checked_by_validator(email)
    if wrong is None:
        return stored, None
    domain = email.rpartition("@")[2]
    message = {
        "long": EMAIL_TOO_LONG,
        "incomplete": EMAIL_INCOMPLETE,
        "domain": EMAIL_DOMAIN,
        "local": EMAIL_LOCAL_PART,
    }[wrong]
    return email, str(message) % {"value": visible(email), "domain": visible(domain)}


@lru_cache(maxsize=4096)  # a bad address repeats on every order of its buyer
def _checked_by_validator(email: str) -> tuple[str, str | None]:
    """The address as stored and None, or the address and which part is
    wrong (words are looked up by the caller, in the current language)."""
    if len(email) > MAX_EMAIL_LENGTH:
        return email, "long"
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain:
        return email, "incomplete"
    try:
        checked = validate_email(email, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        # Which side of the @ is wrong: a domain that cannot take mail
        # (`local@localhost`) is named as such, not blamed on the name.
        try:
            validate_email(f"name@{domain}", check_deliverability=False, allow_smtputf8=False)
        except EmailNotValidError:
            return email, "domain"
        return email, "local"
    return checked.ascii_email.lower(), None


class EmailAddress:
    """The form side of `checked_email`: refuses what the mailer cannot
    write, and leaves the address in the field as it will be stored."""

    field_flags: dict = {}

    def __call__(self, form, field):
        if not field.data:
            return
        email, problem = checked_email(field.data)
        if problem:
            raise StopValidation(problem)
        field.data = email


# -- dates -------------------------------------------------------------------------

_DATE_SHAPE = re.compile(r"\s*(\d{4})[-./](\d{1,2})[-./](\d{1,2})\.?\s*")

DATE_DOES_NOT_EXIST = _l(
    "There is no such date as “%(value)s”: check the month and the day "
    "(for example, February has 28 or 29 days)."
)
NOT_A_DATE = _l("“%(value)s” is not a date: write it like 2026-05-07.")


def parse_date(text: str) -> date:
    """A date written 2026-05-07, 2026.5.7 or 2026/05/07. The ValueError
    says whether `text` is no date at all or one that does not exist
    (2027-02-30, 2027-13-01): the latter is not told to use a format it
    already uses."""
    match = _DATE_SHAPE.fullmatch(text)
    if match is None:
        raise ValueError(str(NOT_A_DATE) % {"value": visible(text.strip())})
    try:
        return date(*map(int, match.groups()))
    except ValueError:
        raise ValueError(str(DATE_DOES_NOT_EXIST) % {"value": visible(text.strip())}) from None


def date_problem(text: str) -> str | None:
    try:
        parse_date(text)
    except ValueError as error:
        return str(error)
    return None


class DatesThatExist:
    """For a date field whose text did not parse: says whether it was no
    date at all or one that does not exist, instead of WTForms' "not a
    valid date value". Put after the control-character check by
    market.core.forms.CheckedText."""

    field_flags: dict = {}

    def __call__(self, form, field):
        if not field.process_errors or not field.raw_data:
            return
        text = " ".join(field.raw_data)
        if not text.strip():
            return
        problem = date_problem(text.partition("T")[0])
        if problem is None:  # the date exists: the time part is wrong
            return
        field.errors[:] = []
        raise StopValidation(problem)
