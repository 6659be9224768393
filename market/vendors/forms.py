from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    EmailField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    URL,
    DataRequired,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from market.accounts.services import MIN_PASSWORD_LENGTH
from market.core.forms import AppForm, new_password_fields
from market.timeutil import today_seoul
from market.validators import BusinessNumberField, EmailAddress, PhoneField
from market.vendors.labels import CATEGORIES, ENTERPRISE_TYPES
from market.vendors.models import Category, EnterpriseType
from market.vendors.services import VendorDetails

DATE_FORMAT = _l("Enter a date like 2024-03-15.")
# Plausible certification dates: Korea's social enterprises were first
# certified in 2007 (cooperatives and village enterprises later), so an
# issue date before 1990 or in the future is a typing mistake, and so is an
# expiry more than 20 years ahead (certifications run a few years).
EARLIEST_CERTIFICATION = date(1990, 1, 1)
MAX_CERTIFICATION_YEARS = 20


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice("", _l("Choose…"))] + [
        SelectChoice(value.value, label) for value, label in labels.items()
    ]


class VendorProfileForm(AppForm):
    name = StringField(
        _l("Enterprise name"),
        filters=[_strip],
        validators=[DataRequired(_l("Enter the enterprise's name.")), Length(max=100)],
    )
    business_number = BusinessNumberField(
        _l("Business registration number"),
        validators=[DataRequired(_l("Enter the business registration number."))],
    )
    enterprise_type = SelectField(
        _l("Enterprise type"),
        choices=_choices(ENTERPRISE_TYPES),
        validators=[DataRequired(_l("Choose the enterprise type."))],
    )
    cert_issuer = StringField(
        _l("Certified by"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Enter who issued the certification.")),
            Length(max=100),
        ],
    )
    cert_number = StringField(
        _l("Certification number"),
        filters=[_strip],
        validators=[DataRequired(_l("Enter the certification number.")), Length(max=50)],
    )
    cert_issued_on = DateField(
        _l("Certified on"), validators=[InputRequired(DATE_FORMAT)], format="%Y-%m-%d"
    )
    cert_expires_on = DateField(
        _l("Certification expires on"), validators=[Optional()], format="%Y-%m-%d"
    )
    category = SelectField(
        _l("Products"),
        choices=_choices(CATEGORIES),
        validators=[DataRequired(_l("Choose what you sell."))],
    )
    description = TextAreaField(
        _l("Short description"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Describe your enterprise and products in a few sentences.")),
            Length(max=1000, message=_l("Keep it under %(max)d characters.", max=1000)),
        ],
    )
    shop_url = URLField(
        _l("Online shop link"),
        filters=[_strip],
        validators=[
            Optional(),
            URL(message=_l("Enter a full link starting with https://")),
            Length(max=500),
        ],
    )
    contact_name = StringField(
        _l("Contact person"),
        filters=[_strip],
        validators=[DataRequired(_l("Enter the contact person's name.")), Length(max=50)],
    )
    phone = PhoneField(_l("Phone"), validators=[DataRequired(_l("Enter a phone number."))])
    email = EmailField(
        _l("Email"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Enter an email address.")),
            EmailAddress(),
        ],
    )

    def validate_cert_issued_on(self, field):
        if field.data and field.data < EARLIEST_CERTIFICATION:
            raise ValidationError(
                _l(
                    "Check the year: a certification date is %(year)d or later.",
                    year=EARLIEST_CERTIFICATION.year,
                )
            )
        if field.data and field.data > today_seoul():
            raise ValidationError(_l("The certification date cannot be in the future."))

    def validate_cert_expires_on(self, field):
        issued = self.cert_issued_on.data
        if field.data and issued and field.data < issued:
            raise ValidationError(_l("The expiry date cannot be before the issue date."))
        latest = date(today_seoul().year + MAX_CERTIFICATION_YEARS, 12, 31)
        if field.data and field.data > latest:
            raise ValidationError(
                _l(
                    "Check the year: an expiry date is at most %(years)d years ahead.",
                    years=MAX_CERTIFICATION_YEARS,
                )
            )

    def details(self) -> VendorDetails:
        return VendorDetails(
            name=self.name.data,
            business_number=self.business_number.digits,
            enterprise_type=EnterpriseType(self.enterprise_type.data),
            cert_issuer=self.cert_issuer.data,
            cert_number=self.cert_number.data,
            cert_issued_on=self.cert_issued_on.data,
            cert_expires_on=self.cert_expires_on.data,
            category=Category(self.category.data),
            description=self.description.data,
            shop_url=self.shop_url.data or None,
            contact_name=self.contact_name.data,
            phone=self.phone.e164,
            email=self.email.data,
        )


class RegistrationForm(VendorProfileForm):
    password, confirm = new_password_fields(
        _l("Password for your login"),
        _l("Choose a password."),
        _l("Password again"),
        _l("Enter the password again."),
        _l("The two passwords differ."),
        named="password",
        min_length=MIN_PASSWORD_LENGTH,
        too_short=_l("Use at least %(num)d characters.", num=MIN_PASSWORD_LENGTH),
    )


class ReasonForm(AppForm):
    """Staff decisions: the button pressed says which; a reason where needed."""

    reason = TextAreaField(_l("Reason"), filters=[_strip], validators=[Length(max=500)])


class ApplyForm(AppForm):
    note = TextAreaField(
        _l("Note for the center (optional)"),
        filters=[_strip],
        validators=[Optional(), Length(max=1000)],
    )


class ConfirmForm(AppForm):
    """A button that needs nothing but the CSRF token."""
