"""Forms of the booth pages. Each is small: the button pressed says what to
do, the service checks everything that depends on the market."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Optional

from market.core.forms import AppForm


def _number(label):
    return IntegerField(label, validators=[InputRequired(_l("Choose a booth."))])


class ConfirmForm(AppForm):
    fingerprint = HiddenField()
    replace = HiddenField()
    checked = BooleanField(
        _l("I have checked the booths, the waitlist and the reasons above."),
        validators=[DataRequired(_l("Tick the box to confirm that you checked the preview."))],
    )


class MoveForm(AppForm):
    number = _number(_l("Booth"))
    to_number = _number(_l("Move to booth"))


class SwapForm(AppForm):
    number = _number(_l("Booth"))
    other = _number(_l("Swap with booth"))


class PinForm(AppForm):
    application_id = IntegerField(_l("Enterprise"), validators=[InputRequired()])
    number = _number(_l("Booth"))


class UnpinForm(AppForm):
    application_id = IntegerField(validators=[InputRequired()])


class UnassignForm(AppForm):
    number = _number(_l("Booth"))


class AddForm(AppForm):
    application_id = IntegerField(_l("Waiting enterprise"), validators=[InputRequired()])
    number = _number(_l("Booth"))


class AttendanceForm(AppForm):
    value = SelectField(
        choices=[
            SelectChoice("present", "present"),
            SelectChoice("no_show", "no_show"),
            SelectChoice("", "clear"),
        ],
        validators=[Optional()],
    )
