"""The enterprise and application lists as tables to download
(market.core.exports writes them: UTF-8 with BOM, XLSX, formula-safe;
an enterprise name or a note is typed by the public)."""

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from market.core.exports import Table
from market.extensions import db
from market.markets.models import Market, Venue
from market.validators import format_business_number, format_phone
from market.vendors.labels import (
    application_status_label,
    category_label,
    enterprise_type_label,
    vendor_status_label,
)
from market.vendors.models import Application, ApplicationStatus, Vendor, VendorStatus
from market.vendors.services import vendors_query


def vendors_table(status: VendorStatus | None, search: str, today: date) -> Table:
    """The enterprises of the staff list (same status and search), with
    status and certification expiry: one query."""
    vendors = db.session.scalars(vendors_query(status, search))
    return Table(
        "vendors",
        _("Enterprises"),
        [
            _("Enterprise"),
            _("Business number"),
            _("Type"),
            _("Products"),
            _("Status"),
            _("Since"),
            _("Certification expires"),
            _("Certification expired"),
            _("Contact person"),
            _("Phone"),
            _("Email"),
        ],
        [
            [
                vendor.name,
                format_business_number(vendor.business_number),
                enterprise_type_label(vendor.enterprise_type),
                category_label(vendor.category),
                vendor_status_label(vendor.status),
                vendor.status_changed_at,
                vendor.cert_expires_on,
                _expired(vendor.cert_expires_on, today),
                vendor.contact_name,
                format_phone(vendor.phone),
                vendor.email,
            ]
            for vendor in vendors
        ],
    )


def _expired(expires_on: date | None, today: date) -> str:
    if expires_on is None:
        return _("no expiry")
    return _("Yes") if expires_on < today else _("No")


def applications_table(markets_where, title: str, status: ApplicationStatus | None = None) -> Table:
    """The applications of the markets chosen by `markets_where` (an SQL
    condition on Market), by market date then arrival: one query."""
    query = (
        select(Application, Vendor, Market.market_date, Venue.name)
        .join(Vendor, Vendor.id == Application.vendor_id)
        .join(Market, Market.id == Application.market_id)
        .join(Venue, Venue.id == Market.venue_id)
        .where(markets_where)
        .order_by(Market.market_date, Market.id, Application.applied_at, Application.id)
    )
    if status is not None:
        query = query.where(Application.status == status)
    return Table(
        "applications",
        title,
        [
            _("Date"),
            _("Venue"),
            _("Enterprise"),
            _("Products"),
            _("Application status"),
            _("Applied at"),
            _("Waiting list position"),
            _("Note"),
            _("Reason"),
        ],
        [
            [
                market_date,
                venue,
                vendor.name,
                category_label(vendor.category),
                application_status_label(application.status),
                application.applied_at,
                application.waitlist_position,
                application.note or "",
                application.status_reason or "",
            ]
            for application, vendor, market_date, venue in db.session.execute(query)
        ],
    )


def market_applications_table(market: Market, status: ApplicationStatus | None) -> Table:
    return applications_table(
        Market.id == market.id, _("Applications %(date)s", date=market.market_date), status
    )


def season_applications_table(year: int) -> Table:
    """A season is a calendar year of market days."""
    return applications_table(
        Market.market_date.between(date(year, 1, 1), date(year, 12, 31)),
        _("Applications %(year)d", year=year),
    )
