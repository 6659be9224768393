from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length

from market.accounts.services import MIN_PASSWORD_LENGTH
from market.core.forms import AppForm, new_password_fields


class LoginForm(AppForm):
    email = EmailField(
        _l("Email"),
        filters=[lambda value: value.strip() if value else value],
        validators=[
            DataRequired(_l("Enter your email.")),
            Email(_l("Enter a valid email address.")),
        ],
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])
    remember = BooleanField(_l("Keep me signed in"))
    submit = SubmitField(_l("Log in"))


def _new_password():
    """The new password and its repetition, the same wherever one is chosen."""
    return new_password_fields(
        _l("New password"),
        _l("Enter a new password."),
        _l("New password again"),
        _l("Enter the new password again."),
        _l("The two new passwords differ."),
        named="new",
        min_length=MIN_PASSWORD_LENGTH,
        too_short=_l("Use at least %(num)d characters.", num=MIN_PASSWORD_LENGTH),
    )


class ChangePasswordForm(AppForm):
    current = PasswordField(
        _l("Current password"), validators=[DataRequired(_l("Enter your current password."))]
    )
    new, confirm = _new_password()
    submit = SubmitField(_l("Change password"))


class ForgotPasswordForm(AppForm):
    email = EmailField(
        _l("Email"),
        filters=[lambda value: value.strip() if value else value],
        validators=[
            DataRequired(_l("Enter your email.")),
            Email(_l("Enter a valid email address.")),
        ],
    )
    submit = SubmitField(_l("Send the link"))


class ResetPasswordForm(AppForm):
    new, confirm = _new_password()
    submit = SubmitField(_l("Set the password"))


class InviteForm(AppForm):
    name = StringField(
        _l("Name"),
        filters=[lambda value: value.strip() if value else value],
        validators=[DataRequired(_l("Enter the person's name.")), Length(max=100)],
    )
    email = EmailField(
        _l("Email"),
        filters=[lambda value: value.strip() if value else value],
        validators=[
            DataRequired(_l("Enter the email.")),
            Email(_l("Enter a valid email address.")),
        ],
    )
    role = SelectField(_l("Role"), choices=[])
    submit = SubmitField(_l("Send the invitation"))
