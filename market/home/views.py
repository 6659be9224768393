"""The landing pages: /home sends each person to theirs."""

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import get_locale
from flask_login import current_user

from market import calendar
from market.accounts.decorators import staff_required, vendor_required
from market.accounts.models import Role
from market.booths import screens as booth_screens
from market.core import pagecache
from market.core.signed_in_pages import signed_in_page
from market.home import dashboard
from market.sales import charts as sales_charts
from market.sales.vendor_figures import vendor_year
from market.takings import history as takings_history
from market.timeutil import today_seoul, utcnow
from market.vendors import applications, changes
from market.vendors.views import feed_urls

bp = Blueprint("home", __name__)


@bp.route("/home")
def index():
    """Where each person starts: staff on the dashboard, vendors on their
    enterprise's home, everyone else on the public schedule."""
    if current_user.is_authenticated and current_user.is_staff:
        return redirect(url_for("home.staff"))
    if current_user.is_authenticated and current_user.role is Role.VENDOR:
        return redirect(url_for("home.vendor"))
    return redirect(url_for("public.schedule"))


@bp.route("/staff/")
@staff_required
@signed_in_page()
def staff():
    """Kept per data version and day (market.core.signed_in_pages). What
    changes by the clock alone (the next market's deadline, its hourly
    countdown) ends the kept page where it turns: a new clock rule here
    must do the same (pagecache.valid_until)."""
    summary = dashboard.staff_summary(lang=str(get_locale()))
    pagecache.valid_until(summary["changes_at"])
    return render_template("home/staff.html", summary=summary)


@bp.route("/staff/reports")
@staff_required
def reports():
    """One menu entry for the reports, each described, so the menu fits one
    line on a desktop."""
    return render_template("home/reports.html")


@bp.route("/vendor/")
@vendor_required
@signed_in_page()
def vendor():
    """Kept per data version, day and login (market.core.signed_in_pages).
    Its apply and withdraw buttons end at a deadline with no data changing,
    so the kept page ends at the next one; a new clock rule here must end
    it too (pagecache.valid_until)."""
    vendor = current_user.vendor
    if vendor is None:
        return render_template("home/no_vendor.html")
    now, today = utcnow(), today_seoul()
    feed_url, webcal_url = feed_urls(vendor)
    upcoming = applications.upcoming_applications(vendor, today)
    booth_numbers = booth_screens.booth_numbers([a.id for a in upcoming])
    # "내 부스": the map of the next market where the enterprise has a booth.
    mine = next((a for a in upcoming if a.id in booth_numbers), None)
    sales = vendor_year(vendor.id, today)  # its own two channels this year
    open_rows = applications.open_markets_with_mine(vendor, now)
    shown = [market for market, _mine in open_rows] + [a.market for a in upcoming]
    pagecache.valid_until(applications.next_deadline(shown, now))
    return render_template(
        "home/vendor.html",
        vendor=vendor,
        today=today,
        open_markets=[
            (market, mine, applications.apply_refusal(vendor, market, now))
            for market, mine in open_rows
        ],
        upcoming=upcoming,
        booth_numbers=booth_numbers,
        my_booth=mine and (mine.market, booth_numbers[mine.id]),
        my_booth_map=mine and booth_screens.public_map(mine.market, booth_numbers[mine.id]),
        withdrawable=applications.withdrawable_ids(upcoming, now),
        past=applications.past_applications(vendor, today),
        takings_due=takings_history.open_entries(vendor, today),
        feed_url=feed_url,
        webcal_url=webcal_url,
        google_subscribe_url=calendar.google_subscribe_link(webcal_url),
        change_waiting=changes.pending_change(vendor) is not None,
        sales=sales,
        sales_chart=sales_charts.months(sales.months, str(get_locale())),
    )
