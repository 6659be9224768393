"""Form pieces more than one area uses."""

from flask import flash
from flask_wtf import FlaskForm
from wtforms import Form, PasswordField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length

from market.validators import NoControlCharacters

_SINGLE_LINE, _MULTI_LINE = NoControlCharacters(), NoControlCharacters(multiline=True)


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
        return field


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


def new_password_fields(
    label, required, again_label, again_required, differ, *, named: str, min_length: int, too_short
) -> tuple[PasswordField, PasswordField]:
    """A new password and its confirmation; `named` is the first field's
    attribute name, which the confirmation must equal."""
    password = PasswordField(
        label, validators=[DataRequired(required), Length(min=min_length, message=too_short)]
    )
    confirm = PasswordField(
        again_label, validators=[DataRequired(again_required), EqualTo(named, differ)]
    )
    return password, confirm
