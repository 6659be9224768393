from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    URL,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from market.core.forms import AppForm
from market.markets.models import MAX_BOOTHS, MIN_BOOTHS, MarketStatus
from market.timeutil import SEOUL
from market.validators import WonField, parse_date

REQUIRED_DATE = _l("Enter a date like 2026-11-26.")
REQUIRED_TIME = _l("Enter a time like 10:00.")


def booth_count_field() -> IntegerField:
    """The number of booths of a market, within the range the database allows."""
    return IntegerField(
        _l("Number of booths"),
        validators=[
            InputRequired(_l("Enter the number of booths.")),
            NumberRange(
                MIN_BOOTHS,
                MAX_BOOTHS,
                _l(
                    "A market has between %(min)d and %(max)d booths.",
                    min=MIN_BOOTHS,
                    max=MAX_BOOTHS,
                ),
            ),
        ],
    )


class VenueForm(AppForm):
    name = StringField(
        _l("Venue name"), validators=[DataRequired(_l("Enter the venue's name.")), Length(max=100)]
    )
    address = StringField(
        _l("Road address"),
        validators=[DataRequired(_l("Enter the road address (도로명주소).")), Length(max=200)],
    )
    map_url = URLField(
        _l("Map link"),
        validators=[
            Optional(),
            URL(message=_l("Enter a full link starting with https://")),
            Length(max=500),
        ],
    )
    booth_spots = IntegerField(
        _l("Booth spots"),
        validators=[
            InputRequired(_l("Enter how many booths fit at the venue.")),
            NumberRange(1, 100, _l("Enter a number from 1 to 100.")),
        ],
    )


class MarketForm(AppForm):
    market_date = DateField(_l("Date"), validators=[InputRequired(REQUIRED_DATE)])
    start_time = TimeField(_l("Starts"), validators=[InputRequired(REQUIRED_TIME)])
    end_time = TimeField(_l("Ends"), validators=[InputRequired(REQUIRED_TIME)])
    venue_id = SelectField(
        _l("Venue"), coerce=int, validators=[InputRequired(_l("Choose a venue."))]
    )
    booth_count = booth_count_field()
    application_deadline = DateTimeLocalField(
        _l("Application deadline"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    takings_ceiling = WonField(
        _l("Daily takings ceiling (won)"),
        minimum=1,
        validators=[DataRequired(_l("Enter an amount in won."))],
    )
    # Asked (by markets.services.update_market) only when the ceiling changes,
    # as the takings page's ceiling form asks it; kept in the audit log.
    ceiling_reason = StringField(
        _l("Reason for changing the ceiling"),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[Optional(), Length(max=500)],
    )
    date_exception_reason = StringField(
        _l("Reason if not a Thursday"), validators=[Optional(), Length(max=500)]
    )
    note = TextAreaField(
        _l("Note for vendors and visitors"), validators=[Optional(), Length(max=2000)]
    )

    def deadline_seoul(self) -> datetime | None:
        """The deadline as typed, read as Korea time."""
        value = self.application_deadline.data
        return value.replace(tzinfo=SEOUL) if value else None


class StatusForm(AppForm):
    status = SelectField(
        _l("New status"),
        choices=[SelectChoice(s.value, s.value) for s in MarketStatus],
        validators=[DataRequired()],
    )
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])


class CopyForm(AppForm):
    """The date a market is copied to (markets.planning.copy_market)."""

    market_date = DateField(_l("New date"), validators=[InputRequired(REQUIRED_DATE)])
    date_exception_reason = StringField(
        _l("Reason if not a Thursday"), validators=[Optional(), Length(max=500)]
    )


class VenueRotationField(SelectMultipleField):
    """Several <select name="venue_ids"> in a row; their order is the rotation.
    Empty selects are ignored."""

    def process_formdata(self, valuelist):
        super().process_formdata([value for value in valuelist if value])


class SeasonForm(AppForm):
    start = DateField(_l("First day"), validators=[InputRequired(REQUIRED_DATE)])
    end = DateField(_l("Last day"), validators=[InputRequired(REQUIRED_DATE)])
    venue_ids = VenueRotationField(_l("Venues, used in turn week by week"), coerce=int)
    start_time = TimeField(_l("Starts"), validators=[InputRequired(REQUIRED_TIME)])
    end_time = TimeField(_l("Ends"), validators=[InputRequired(REQUIRED_TIME)])
    booth_count = booth_count_field()
    blackout_dates = TextAreaField(
        _l("Blackout dates (one per line or separated by commas)"), validators=[Optional()]
    )
    # Offered by the preview when a venue is too small for booth_count.
    fit_to_venue = BooleanField(_l("Make them with the venue's own number of booths"))
    # The fingerprint of the plan the preview showed (schedule.plan_fingerprint).
    plan = HiddenField()

    # Stays empty when the field is left blank (Optional() skips the validator).
    parsed_blackouts: frozenset[date] = frozenset()

    def validate_blackout_dates(self, field):
        self.parsed_blackouts = parse_dates(field.data or "")


def parse_dates(text: str) -> frozenset[date]:
    """The dates of `text` (2026-05-07, 2026.05.07 or 2026/05/07, one per
    line or separated by commas); every one that is not a date is named,
    not only the first."""
    dates, problems = set(), []
    for chunk in text.replace(",", "\n").split():
        try:
            dates.add(parse_date(chunk))
        except ValueError as error:
            problems.append(str(error))
    if problems:
        raise ValidationError(" ".join(problems))
    return frozenset(dates)
