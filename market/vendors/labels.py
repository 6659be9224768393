"""Readable names for the vendor enums, in the catalogue's language.

Lazy strings, so they can be used at import time (form choices) and are
translated when shown."""

from flask import Flask
from flask_babel import lazy_gettext as _l

from market.core.i18n import label_text
from market.validators import format_business_number, format_phone
from market.vendors.models import ApplicationStatus, Category, EnterpriseType, VendorStatus

ENTERPRISE_TYPES = {
    EnterpriseType.SOCIAL: _l("Social enterprise"),
    EnterpriseType.PRE_SOCIAL_REGIONAL: _l("Pre-certified social enterprise (regional)"),
    EnterpriseType.PRE_SOCIAL_MINISTRY: _l("Pre-certified social enterprise (ministry)"),
    EnterpriseType.VILLAGE: _l("Village enterprise"),
    EnterpriseType.SELF_SUFFICIENCY: _l("Self-sufficiency enterprise"),
    EnterpriseType.COOPERATIVE: _l("Cooperative"),
    EnterpriseType.SOCIAL_COOPERATIVE: _l("Social cooperative"),
    EnterpriseType.OTHER: _l("Other social-economy enterprise"),
}

CATEGORIES = {
    Category.FOOD: _l("Food"),
    Category.FARM: _l("Farm produce"),
    Category.HOUSEHOLD: _l("Household goods"),
    Category.CLOTHING: _l("Clothing and accessories"),
    Category.ELECTRONICS: _l("Refurbished electronics"),
    Category.CRAFTS: _l("Crafts"),
    Category.OTHER: _l("Other products"),
}

VENDOR_STATUSES = {
    VendorStatus.PENDING: _l("pending review"),
    VendorStatus.APPROVED: _l("approved"),
    VendorStatus.REJECTED: _l("rejected"),
    VendorStatus.SUSPENDED: _l("suspended"),
}

APPLICATION_STATUSES = {
    ApplicationStatus.APPLIED: _l("applied"),
    ApplicationStatus.ASSIGNED: _l("booth assigned"),
    ApplicationStatus.WAITLISTED: _l("waitlisted"),
    ApplicationStatus.DECLINED: _l("not selected"),
    ApplicationStatus.WITHDRAWN: _l("withdrawn"),
}

# Badge colours (static/css/app.css .badge-*).
VENDOR_BADGES = {"pending": "warn", "approved": "ok", "rejected": "bad", "suspended": "bad"}
APPLICATION_BADGES = {
    "applied": "warn",
    "assigned": "ok",
    "waitlisted": "muted",
    "declined": "bad",
    "withdrawn": "muted",
}


def enterprise_type_label(value) -> str:
    return label_text(ENTERPRISE_TYPES[EnterpriseType(value)])


def category_label(value) -> str:
    return label_text(CATEGORIES[Category(value)])


def vendor_status_label(value) -> str:
    return label_text(VENDOR_STATUSES[VendorStatus(value)])


def application_status_label(value) -> str:
    return label_text(APPLICATION_STATUSES[ApplicationStatus(value)])


def register_template_helpers(app: Flask) -> None:
    """The enterprise's numbers as people write them, and the enums' labels
    and badge colours, for every page that shows an enterprise."""
    app.add_template_filter(format_business_number, "business_number")
    app.add_template_filter(format_phone, "phone")
    for label in (
        enterprise_type_label,
        category_label,
        vendor_status_label,
        application_status_label,
    ):
        app.add_template_global(label)
    app.add_template_global(VENDOR_BADGES, "vendor_badges")
    app.add_template_global(APPLICATION_BADGES, "application_badges")
