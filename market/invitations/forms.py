from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, IntegerField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, StopValidation

from market.core.forms import AppForm
from market.invitations.effect import MIN_GROUP
from market.invitations.ranking import RankingOptions
from market.invitations.sending import DEFAULT_CONTROL_PERCENT, MAX_BATCH, MAX_CONTROL_PERCENT


class WholeNumber:
    """First in a number field's chain: text that is no whole number
    ("abc", "10.5") gets this one message instead of WTForms' technical
    "not a valid integer value" followed by the range's message. The
    message may name the field's range as %(min)s and %(max)s: they are
    read from its NumberRange, so the numbers are written once."""

    def __init__(self, message):
        self.message = message

    def __call__(self, form, field):
        if field.process_errors:
            field.errors[:] = []
            limits = next((v for v in field.validators if isinstance(v, NumberRange)), None)
            message = str(self.message)
            if limits is not None:
                message %= {"min": limits.min, "max": limits.max}
            raise StopValidation(message)


# The ranking options' one message for "abc" or "10.5" (WholeNumber above).
RANKING_WHOLE_NUMBER = WholeNumber(_l("Enter a whole number from %(min)s to %(max)s."))


class RankingForm(AppForm):
    """The ranking's options, read from the query string (GET: no CSRF, the
    URL can be shared between staff) or from the "calculate again" POST
    (which CSRFProtect guards for the whole app)."""

    class Meta:
        csrf = False

    top_n = IntegerField(
        _l("How many customers"),
        default=50,
        validators=[
            InputRequired(_l("Enter how many customers to list.")),
            RANKING_WHOLE_NUMBER,
            NumberRange(1, MAX_BATCH, _l("Enter a number from %(min)s to %(max)s.")),
        ],
    )
    window_days = IntegerField(
        _l("Orders from the last … days"),
        default=365,
        validators=[
            InputRequired(_l("Enter a number of days.")),
            RANKING_WHOLE_NUMBER,
            NumberRange(1, 3650, _l("Enter a number from %(min)s to %(max)s.")),
        ],
    )
    assigned_only = BooleanField(_l("Only buyers from vendors assigned to this market"))
    min_orders = IntegerField(
        _l("At least … orders"),
        default=1,
        validators=[
            InputRequired(_l("Enter a number of orders.")),
            RANKING_WHOLE_NUMBER,
            NumberRange(1, 1000, _l("Enter a number from %(min)s to %(max)s.")),
        ],
    )
    skip_weeks = IntegerField(
        _l("Leave out anyone invited in the last … weeks"),
        default=0,
        validators=[
            InputRequired(_l("Enter a number of weeks (0 leaves no one out).")),
            RANKING_WHOLE_NUMBER,
            NumberRange(0, 104, _l("Enter a number from %(min)s to %(max)s.")),
        ],
    )

    def options(self) -> RankingOptions:
        return RankingOptions(
            top_n=self.top_n.data,
            window_days=self.window_days.data,
            assigned_vendors_only=bool(self.assigned_only.data),
            min_orders=self.min_orders.data,
            skip_invited_weeks=self.skip_weeks.data,
        )

    def query_args(self) -> dict:
        """The options as the query string of the page (links keep them)."""
        args = {
            "top_n": self.top_n.data,
            "window_days": self.window_days.data,
            "min_orders": self.min_orders.data,
            "skip_weeks": self.skip_weeks.data,
        }
        if self.assigned_only.data:
            args["assigned_only"] = "y"
        return args


class FilledInIfSent:
    """An empty field is refused; a field not sent at all keeps its
    default (a page opened before the field existed, a script's POST)."""

    def __init__(self, message):
        self.message = message

    def __call__(self, form, field):
        if field.raw_data and not field.raw_data[0].strip():
            field.errors[:] = []
            raise StopValidation(self.message)


class SendForm(AppForm):
    """The reviewed customers (checkboxes named customer_id), the share
    held back as the control group and, on the second step, the
    confirmation. The ranking's options come along as hidden fields
    (RankingForm reads them) so the send records what was chosen from."""

    confirmed = HiddenField()
    control_percent = IntegerField(
        _l("Control group (%)"),
        default=DEFAULT_CONTROL_PERCENT,
        validators=[
            FilledInIfSent(_l("Enter a share from 0 to 50 (0 holds no one back).")),
            WholeNumber(_l("Enter the share as a whole number from 0 to 50, such as 10.")),
            NumberRange(0, MAX_CONTROL_PERCENT, _l("Enter a number from %(min)s to %(max)s.")),
        ],
    )
    # The effect report's smallest group (market.invitations.effect), for
    # the warning when the control group drawn would be smaller.
    min_group = MIN_GROUP


class AnswerForm(AppForm):
    answer = RadioField(
        _l("Your answer"),
        choices=[
            SelectChoice("accept", _l("I will come")),
            SelectChoice("decline", _l("I can't come")),
            SelectChoice("tentative", _l("I don't know yet")),
        ],
        validators=[InputRequired(_l("Choose an answer."))],
    )
