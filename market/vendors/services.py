"""Rules for participating enterprises: registration, profile changes, the
staff's decisions and the calendar-feed token. No Flask request in here.

Applications to market days are in market.vendors.applications."""

from dataclasses import dataclass, fields
from datetime import date, timedelta
from enum import Enum
from typing import TypeVar

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from market.accounts.models import Role, User
from market.accounts.services import (
    MIN_PASSWORD_LENGTH,
    find_user_by_email,
    mail_confirmation,
    spend_a_password_hash,
)
from market.audit.services import describe_actions, record
from market.core.rules import RuleError, flush_or_refuse
from market.extensions import db
from market.outbox.services import enqueue
from market.timeutil import utcnow
from market.validators import business_number_valid, normalise_email
from market.vendors.labels import vendor_status_label
from market.vendors.mails import sign_up_account_exists_message, status_message
from market.vendors.models import Category, EnterpriseType, Vendor, VendorStatus, new_feed_token
from market.vendors.shop_links import (
    link_taken_message,
    name_taken_message,
    new_link_taken,
    new_name_taken,
)

# A change to any of these sends an approved (or rejected) enterprise back for review.
REVIEW_FIELDS = (
    "business_number",
    "cert_issuer",
    "cert_number",
    "cert_issued_on",
    "cert_expires_on",
)
EXPIRY_WARNING_DAYS = 60

E = TypeVar("E", bound=Enum)

# Which decision may follow which status.
DECISIONS = {
    VendorStatus.APPROVED: {VendorStatus.PENDING, VendorStatus.REJECTED, VendorStatus.SUSPENDED},
    VendorStatus.REJECTED: {VendorStatus.PENDING},
    VendorStatus.SUSPENDED: {VendorStatus.APPROVED},
}
NEEDS_REASON = {VendorStatus.REJECTED, VendorStatus.SUSPENDED}
ACTIONS = {
    VendorStatus.APPROVED: "vendor.approve",
    VendorStatus.REJECTED: "vendor.reject",
    VendorStatus.SUSPENDED: "vendor.suspend",
}


class VendorRuleError(RuleError):
    """A refused change to an enterprise or its applications."""


@dataclass
class VendorDetails:
    """What an enterprise tells us about itself; business_number as 10 digits,
    phone in E.164."""

    name: str
    business_number: str
    enterprise_type: EnterpriseType
    cert_issuer: str
    cert_number: str
    cert_issued_on: date
    cert_expires_on: date | None
    category: Category
    description: str
    shop_url: str | None
    contact_name: str
    phone: str
    email: str


def chosen(enum: type[E], value, message: str) -> E:
    """`value` as a member of `enum`, or a refusal with `message`: a form's
    choice (a decision, a status) that names none is the person's slip."""
    try:
        return enum(value)
    except ValueError:
        raise VendorRuleError({"status": message}) from None


def business_number_taken_message() -> str:
    return _("An enterprise with this business registration number is already registered.")


# -- checks -----------------------------------------------------------------


def check_vendor(details: VendorDetails, vendor: Vendor | None = None) -> dict[str, str]:
    """Every rule a profile must keep; an empty dict means it may be saved."""
    errors: dict[str, str] = {}
    if not business_number_valid(details.business_number or ""):
        errors["business_number"] = _(
            "This business registration number does not exist: check the digits."
        )
    elif business_number_owner(details.business_number) not in (None, getattr(vendor, "id", None)):
        errors["business_number"] = business_number_taken_message()
    if details.cert_expires_on and details.cert_expires_on < details.cert_issued_on:
        errors["cert_expires_on"] = _("The expiry date cannot be before the issue date.")
    if not (details.name or "").strip():
        errors["name"] = _("Enter the enterprise's name.")
    elif new_name_taken(details.name, vendor):
        errors["name"] = name_taken_message()
    if new_link_taken(details.shop_url, vendor):
        errors["shop_url"] = link_taken_message()
    return errors


def business_number_owner(digits: str) -> int | None:
    return db.session.scalar(select(Vendor.id).where(Vendor.business_number == digits))


def _apply(vendor: Vendor, details: VendorDetails) -> None:
    for field in fields(VendorDetails):
        value = getattr(details, field.name)
        if isinstance(value, str):
            value = value.strip()
        setattr(vendor, field.name, value)
    vendor.shop_url = vendor.shop_url or None
    vendor.email = normalise_email(vendor.email)


def vendor_values(vendor: Vendor) -> dict:
    """For the audit log; the feed token is a secret and stays out."""
    values = {field.name: getattr(vendor, field.name) for field in fields(VendorDetails)}
    values.update(status=vendor.status, status_reason=vendor.status_reason)
    return values


# -- registration and profile -------------------------------------------------


SIGN_UP_MAIL_CATEGORY = "sign-up-account-exists"


def register_vendor(
    details: VendorDetails, password: str, *, keep_accounts_private: bool = False
) -> tuple[Vendor, User] | None:
    """A new enterprise, pending review, and its first vendor login.

    An email that already has a login is refused, except with
    `keep_accounts_private` (the public sign-up page, where a refusal would
    tell anyone which addresses have accounts): then nothing is created, the
    owner of the address is mailed instead, and None comes back, after the
    same checks and about the same time as a new sign-up. A business number
    already registered is still refused: the directory shows it anyway."""
    errors = check_vendor(details)
    owner = find_user_by_email(details.email)
    if owner is not None and not keep_accounts_private:
        errors["email"] = _(
            "An account with this email already exists. Log in, or use another email."
        )
    if len(password or "") < MIN_PASSWORD_LENGTH:
        errors["password"] = _("Use at least %(num)d characters.", num=MIN_PASSWORD_LENGTH)
    if errors:
        raise VendorRuleError(errors)
    if owner is not None:
        spend_a_password_hash(password)  # what a new login's password costs
        enqueue(sign_up_account_exists_message(owner), category=SIGN_UP_MAIL_CATEGORY)
        return None
    vendor = Vendor(status=VendorStatus.PENDING, feed_token=new_feed_token())
    _apply(vendor, details)
    db.session.add(vendor)
    flush_or_refuse(VendorRuleError({"business_number": business_number_taken_message()}))
    # Signed up on the public page: no login until the address is confirmed
    # by the mailed link, or a new address could be told from one with a
    # login by logging in with the password just chosen.
    confirmed = None if keep_accounts_private else utcnow()
    user = User(
        email=vendor.email,
        name=vendor.contact_name,
        role=Role.VENDOR,
        vendor_id=vendor.id,
        email_confirmed_at=confirmed,
    )
    user.set_password(password)
    db.session.add(user)
    flush_or_refuse(
        VendorRuleError(
            {"email": _("An account with this email already exists. Log in, or use another email.")}
        )
    )
    record(user, "vendor.register", vendor, after=vendor_values(vendor))
    record(user, "user.create", user, after={"email": user.email, "role": user.role.value})
    if keep_accounts_private:
        mail_confirmation(user)  # one mail, as the owner of a known address gets one
    return vendor, user


def update_vendor(vendor: Vendor, details: VendorDetails, actor) -> bool:
    """Saves a profile. When the enterprise itself changes its business number
    or certification, an approved or rejected enterprise goes back to pending
    review; staff edits never change the status. True when it went back."""
    errors = check_vendor(details, vendor)
    if errors:
        raise VendorRuleError(errors)
    before = vendor_values(vendor)
    _apply(vendor, details)
    changed = [name for name in REVIEW_FIELDS if before[name] != getattr(vendor, name)]
    sent_back = (
        bool(changed)
        and not getattr(actor, "is_staff", False)
        and vendor.status in (VendorStatus.APPROVED, VendorStatus.REJECTED)
    )
    if sent_back:
        vendor.status, vendor.status_reason = VendorStatus.PENDING, None
        vendor.status_changed_at = utcnow()
    flush_or_refuse(VendorRuleError({"business_number": business_number_taken_message()}))
    after = vendor_values(vendor)
    record(actor, "vendor.update", vendor, before=before, after=after)
    if sent_back:
        record(
            actor,
            "vendor.review_again",
            vendor,
            before={"status": before["status"]},
            after={"status": vendor.status, "changed": changed},
        )
    return sent_back


# -- staff decisions ----------------------------------------------------------


def decide(
    vendor: Vendor, status: VendorStatus, actor, reason: str | None = None, link: str | None = None
) -> Vendor:
    """Approve, reject or suspend; the enterprise is told by email (queued in
    the same transaction; a mail that cannot be built is a failed outbox
    message with the reason) and the decision is in the audit log."""
    status = chosen(VendorStatus, status, _("Choose a decision."))
    reason = (reason or "").strip() or None
    if status not in DECISIONS or vendor.status not in DECISIONS[status]:
        raise VendorRuleError(
            {
                "status": _(
                    "An enterprise that is %(current)s cannot become %(new)s.",
                    current=vendor_status_label(vendor.status),
                    new=vendor_status_label(status),
                )
            }
        )
    if status in NEEDS_REASON and not reason:
        raise VendorRuleError(
            {"reason": _("Write the reason; the enterprise reads it in the email.")}
        )
    before = {"status": vendor.status, "status_reason": vendor.status_reason}
    vendor.status, vendor.status_reason = status, reason
    vendor.status_changed_at = utcnow()
    db.session.flush()
    record(
        actor,
        ACTIONS[status],
        vendor,
        before=before,
        after={"status": status, "status_reason": reason},
        reason=reason,
    )
    enqueue(status_message(vendor, link), category="vendor-status")
    return vendor


def decisions_for(vendor: Vendor) -> list[VendorStatus]:
    """The decisions staff may take on this enterprise now."""
    return [status for status, allowed in DECISIONS.items() if vendor.status in allowed]


def renew_feed_token(vendor: Vendor, actor) -> str:
    """A new private calendar address; the old one stops working at once."""
    vendor.feed_token = new_feed_token()
    db.session.flush()
    record(actor, "vendors_own.feed_token", vendor)
    return vendor.feed_token


# -- queries for pages ----------------------------------------------------------


def vendors_query(status: VendorStatus | None = None, search: str | None = None):
    query = select(Vendor)
    if status is not None:
        query = query.where(Vendor.status == status)
    if search and search.strip():
        term = search.strip()
        # autoescape: % and _ typed are literal ("100%" finds 100%국산콩,
        # not every enterprise), as in the customer search.
        matches = [
            Vendor.name.contains(term, autoescape=True),
            Vendor.contact_name.contains(term, autoescape=True),
        ]
        digits = term.replace("-", "")
        if digits.isdigit():
            matches.append(Vendor.business_number.contains(digits))
        query = query.where(or_(*matches))
    if status is VendorStatus.PENDING:  # the queue: first come, first reviewed
        return query.order_by(Vendor.status_changed_at, Vendor.id)
    return query.order_by(Vendor.name, Vendor.id)


def status_counts() -> dict[VendorStatus, int]:
    rows = db.session.execute(select(Vendor.status, func.count()).group_by(Vendor.status))
    return {VendorStatus(status): count for status, count in rows}


def expiring_query(today: date, days: int = EXPIRY_WARNING_DAYS):
    """Approved or pending enterprises whose certification has expired or will
    within `days`, soonest first."""
    return (
        select(Vendor)
        .where(
            Vendor.cert_expires_on.is_not(None),
            Vendor.cert_expires_on <= today + timedelta(days=days),
            Vendor.status.in_([VendorStatus.APPROVED, VendorStatus.PENDING]),
        )
        .order_by(Vendor.cert_expires_on, Vendor.name)
    )


def expiring_count(today: date, days: int = EXPIRY_WARNING_DAYS) -> int:
    return db.session.scalar(
        select(func.count()).select_from(expiring_query(today, days).subquery())
    )


def directory_query(category: Category | None = None):
    query = select(Vendor).where(Vendor.status == VendorStatus.APPROVED)
    if category is not None:
        query = query.where(Vendor.category == category)
    return query.order_by(Vendor.name, Vendor.id)


def vendor_logins(vendor: Vendor) -> list[User]:
    return list(db.session.scalars(select(User).where(User.vendor_id == vendor.id)))


def vendor_by_feed_token(token: str) -> Vendor | None:
    return db.session.scalar(select(Vendor).where(Vendor.feed_token == token))


describe_actions(
    {
        "vendor.register": _l("Enterprise registered"),
        "vendor.update": _l("Enterprise profile changed"),
        "vendor.review_again": _l("Enterprise sent back for review"),
        "vendor.approve": _l("Enterprise approved"),
        "vendor.reject": _l("Enterprise rejected"),
        "vendor.suspend": _l("Enterprise suspended"),
        "vendors_own.feed_token": _l("Private calendar address renewed"),
    },
    {"vendors": _l("Enterprise")},
)
