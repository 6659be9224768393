"""Forms of the booth pages. Each is small: the button pressed says what to
do, the service checks everything that depends on the market."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, NumberRange

from market.core.converters import MAX_ID
from market.core.forms import AppForm

# Booth numbers and application ids are bounded: a number past the databases'
# integers reached the query and failed it (a 500) instead of being refused.


def _number(label):
    return IntegerField(
        label,
        validators=[
            InputRequired(_l("Choose a booth.")),
            NumberRange(1, MAX_ID, _l("Choose a booth.")),
        ],
    )


def _application(label=None):
    choose = _l("Choose an application of this market.")
    return IntegerField(label, validators=[InputRequired(choose), NumberRange(1, MAX_ID, choose)])


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
    application_id = _application(_l("Enterprise"))
    number = _number(_l("Booth"))


class UnpinForm(AppForm):
    application_id = _application()


class UnassignForm(AppForm):
    number = _number(_l("Booth"))


class AddForm(AppForm):
    application_id = _application(_l("Waiting enterprise"))
    number = _number(_l("Booth"))


class AttendanceForm(AppForm):
    value = SelectField(
        choices=[
            SelectChoice("present", "present"),
            SelectChoice("no_show", "no_show"),
            SelectChoice("", "clear"),
        ],
        # No Optional(): it would let any blank-looking value (" ") past the
        # choice check; "" is already a choice of its own (clear).
    )
