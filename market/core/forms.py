"""Form pieces more than one area uses."""

from flask import flash
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, Length


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
