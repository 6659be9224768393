"""Form pieces more than one area uses."""

from flask import flash, has_request_context
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as wtforms_translations
from wtforms import Form, PasswordField, TextAreaField
from wtforms.fields import DateField, DateTimeLocalField, SelectFieldBase
from wtforms.validators import DataRequired, EqualTo, Length

from market.extensions import request_catalogue
from market.validators import MAX_PASSWORD_LENGTH, DatesThatExist, NoControlCharacters

_SINGLE_LINE, _MULTI_LINE = NoControlCharacters(), NoControlCharacters(multiline=True)
_DATES = DatesThatExist()

# Every list (select, radio buttons) of every form: a value not in the list
# (a tampered page, or a choice removed since the page was shown) is told
# this, once, instead of WTForms' own words, which quote the value and whose
# Korean is a machine translation that says it twice.
CHOOSE_FROM_THE_LIST = _l("Choose one of the options in the list.")


def _wtforms_messages_for_the_catalogue():  # pragma: no cover - never called
    """Marks the WTForms messages whose Korean messages.po corrects, so that
    `make messages` (which extracts only our own code) keeps their entries."""
    ngettext(
        "Field cannot be longer than %(max)d character.",
        "Field cannot be longer than %(max)d characters.",
        1,
    )
    ngettext(
        "Field must be at least %(min)d character long.",
        "Field must be at least %(min)d characters long.",
        1,
    )
    gettext("Field must be between %(min)d and %(max)d characters long.")


class _Translations:
    """WTForms' built-in messages through the app's catalogue first (where
    messages.po corrects their Korean), then through WTForms' own.

    Every field a form binds asks for a text (a field without a label, its
    name), and Flask-WTF reads WTForms' catalogue from disk once per request
    to answer: in a request the answer is kept with the app's catalogue
    (market.extensions.request_catalogue), so each is worked out once per
    process and language. Outside a request WTForms' catalogue is not used."""

    def gettext(self, string):
        translations, texts = request_catalogue()
        key = ("wtforms", string)
        text = texts.get(key)
        if text is None:
            translated = translations.ugettext(string)
            if translated != string:
                text = translated
            elif not has_request_context():
                return wtforms_translations.gettext(string)
            else:
                text = wtforms_translations.gettext(string)
            texts[key] = text
        return text

    def ngettext(self, singular, plural, n):
        translated = request_catalogue()[0].ungettext(singular, plural, n)
        if translated not in (singular, plural):
            return translated
        return wtforms_translations.ngettext(singular, plural, n)


class CheckedText:
    """A WTForms Meta that puts the control-character check first on every
    field a form binds: a text area may keep line breaks and tabs, every
    other field (text, email, link, hidden, number, date, choice, the name
    of an uploaded file) must be one line. Passwords are left alone: they
    are only hashed, never shown, stored or mailed, and refusing a character
    could lock out someone whose password already has it.

    In the form's Meta rather than on each field, so no field can be
    forgotten: a name with a line break in it broke the mail built from it
    (see AppForm)."""

    def bind_field(self, form, unbound_field, options):
        field = super().bind_field(form, unbound_field, options)
        if not isinstance(field, PasswordField):
            check = _MULTI_LINE if isinstance(field, TextAreaField) else _SINGLE_LINE
            field.validators = [check, *field.validators]
        if isinstance(field, DateField | DateTimeLocalField):
            field.validators.insert(1, _DATES)
        if isinstance(field, SelectFieldBase):
            field.invalid_choice_message = field.invalid_choice_message or CHOOSE_FROM_THE_LIST
            field.invalid_value_message = field.invalid_value_message or CHOOSE_FROM_THE_LIST
        return field

    def get_translations(self, form):
        return _TRANSLATIONS


_TRANSLATIONS = _Translations()


class AppForm(FlaskForm):
    """The base of every form of the app (tests/test_control_characters.py
    checks that none is made from FlaskForm directly)."""

    Meta = CheckedText


class QueryForm(Form):
    """The base of the forms read from a query string (no CSRF token)."""

    Meta = CheckedText


def show_errors(form, errors: dict[str, str]) -> None:
    """A service's refusals next to the fields they concern; the rest as flashes."""
    for name, message in errors.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, message]
        else:
            flash(message, "error")


TOO_LONG_PASSWORD = _l("A password has at most %(max)d characters.", max=MAX_PASSWORD_LENGTH)


def new_password_fields(
    label, required, again_label, again_required, differ, *, named: str, min_length: int, too_short
) -> tuple[PasswordField, PasswordField]:
    """A new password and its confirmation; `named` is the first field's
    attribute name, which the confirmation must equal."""
    password = PasswordField(
        label,
        validators=[
            DataRequired(required),
            Length(min=min_length, message=too_short),
            Length(max=MAX_PASSWORD_LENGTH, message=TOO_LONG_PASSWORD),
        ],
    )
    confirm = PasswordField(
        again_label, validators=[DataRequired(again_required), EqualTo(named, differ)]
    )
    return password, confirm
