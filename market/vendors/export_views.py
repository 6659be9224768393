"""Staff downloads of the enterprise and application lists, as CSV or XLSX
(market.vendors.exports). A blueprint of their own, beside the staff pages
(market.vendors.staff_views) whose lists they copy."""

from datetime import date

from flask import Blueprint, abort, request

from market.accounts.decorators import staff_required
from market.core.exports import send_table
from market.core.web import enum_arg
from market.extensions import db
from market.markets.models import Market
from market.timeutil import today_seoul
from market.vendors import exports
from market.vendors.models import ApplicationStatus, VendorStatus

bp = Blueprint("vendor_exports", __name__, url_prefix="/staff")


def _formats(rule: str):
    """The view at `rule`.csv and `rule`.xlsx."""

    def register(view):
        view = bp.route(f"{rule}.csv", defaults={"file_format": "csv"})(view)
        return bp.route(f"{rule}.xlsx", defaults={"file_format": "xlsx"})(view)

    return register


@_formats("/vendors/export")
@staff_required
def vendors(file_format: str):
    """The enterprise list as shown: the same status tab and search."""
    status = enum_arg(VendorStatus, "status", default="all")
    search = request.args.get("q", "")[:200]
    table = exports.vendors_table(status, search, today_seoul())
    return send_table(table, file_format, f"enterprises-{today_seoul()}")


@_formats("/markets/<int:market_id>/applications/export")
@staff_required
def market_applications(market_id: int, file_format: str):
    market = db.get_or_404(Market, market_id)
    status = enum_arg(ApplicationStatus, "status")
    table = exports.market_applications_table(market, status)
    return send_table(table, file_format, f"applications-{market.market_date}-{market.id}")


@_formats("/applications/<int:year>/export")
@staff_required
def season_applications(year: int, file_format: str):
    """Every application of a season (a calendar year of market days)."""
    if not date.min.year <= year <= date.max.year:
        abort(404)
    table = exports.season_applications_table(year)
    return send_table(table, file_format, f"applications-{year}")
