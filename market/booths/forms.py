"""Forms of the booth pages. Each is small: the button pressed says what to
do, the service checks everything that depends on the market."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Optional


def _number(label):
    return IntegerField(label, validators=[InputRequired(_l("Choose a booth."))])


class ConfirmForm(FlaskForm):
    fingerprint = HiddenField()
    replace = HiddenField()
    checked = BooleanField(
        _l("I have checked the booths, the waitlist and the reasons above."),
        validators=[DataRequired(_l("Tick the box to confirm that you checked the preview."))],
    )


class MoveForm(FlaskForm):
    number = _number(_l("Booth"))
    to_number = _number(_l("Move to booth"))


class SwapForm(FlaskForm):
    number = _number(_l("Booth"))
    other = _number(_l("Swap with booth"))


class PinForm(FlaskForm):
    application_id = IntegerField(_l("Enterprise"), validators=[InputRequired()])
    number = _number(_l("Booth"))


class UnpinForm(FlaskForm):
    application_id = IntegerField(validators=[InputRequired()])


class UnassignForm(FlaskForm):
    number = _number(_l("Booth"))


class AddForm(FlaskForm):
    application_id = IntegerField(_l("Waiting enterprise"), validators=[InputRequired()])
    number = _number(_l("Booth"))


class AttendanceForm(FlaskForm):
    value = SelectField(
        choices=[
            SelectChoice("present", "present"),
            SelectChoice("no_show", "no_show"),
            SelectChoice("", "clear"),
        ],
        validators=[Optional()],
    )
