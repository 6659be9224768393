"""Staff pages for takings: one market day (entries, missing vendors,
corrections, the ceiling) and the report over a period with its exports."""

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from market.accounts.decorators import staff_required
from market.core.exports import CSV_MIMETYPE, XLSX_MIMETYPE, download, to_csv, to_xlsx
from market.core.pagination import paginate_rows
from market.core.signed_in_pages import signed_in_page
from market.core.transaction import saving
from market.extensions import db
from market.markets.models import Market
from market.takings import exports, reports, services
from market.takings.forms import SPLIT_LABELS, CeilingForm, PeriodForm, StaffTakingsForm
from market.takings.report_charts import report_charts
from market.timeutil import format_won, today_seoul
from market.vendors.models import Vendor

bp = Blueprint("takings_staff", __name__, url_prefix="/staff")

# The report's two long tables, a page at a time; the CSV and XLSX have every row.
MARKETS_PER_PAGE = 50  # about a year of weekly markets
VENDORS_PER_PAGE = 50


@bp.route("/markets/<int:market_id>/takings")
@staff_required
def market_day(market_id: int):
    return _market_day(db.get_or_404(Market, market_id), CeilingForm(formdata=None))


def _market_day(market: Market, ceiling_form: CeilingForm):
    rows = services.market_vendors(market)
    total = services.market_total(market.id)
    opens, closes = services.entry_window(market)
    return render_template(
        "takings/market_day.html",
        market=market,
        rows=rows,
        missing=[vendor for vendor, _booth, takings in rows if takings is None],
        total=total,
        headroom=services.headroom(market.takings_ceiling, total),
        best_day=services.best_market_day(),
        ceiling_form=ceiling_form,
        opens=opens,
        closes=closes,
    )


@bp.route("/markets/<int:market_id>/takings/ceiling", methods=["POST"])
@staff_required
def raise_ceiling(market_id: int):
    market = db.get_or_404(Market, market_id)
    form = CeilingForm()
    if form.validate_on_submit():
        before = market.takings_ceiling
        with saving(form) as saved:
            services.raise_ceiling(market, form.new_ceiling.won, form.reason.data, current_user)
        if saved:
            flash(
                _(
                    "The daily ceiling was raised from %(before)s to %(after)s.",
                    before=format_won(before),
                    after=format_won(market.takings_ceiling),
                ),
                "success",
            )
            return redirect(url_for("takings_staff.market_day", market_id=market.id))
    return _market_day(market, form)


@bp.route("/markets/<int:market_id>/takings/<int:vendor_id>", methods=["GET", "POST"])
@staff_required
def staff_entry(market_id: int, vendor_id: int):
    market = db.get_or_404(Market, market_id)
    vendor = db.get_or_404(Vendor, vendor_id)
    takings = services.find_takings(vendor.id, market.id)
    if takings is None and not services.is_participant(vendor.id, market.id):
        abort(404)
    form = StaffTakingsForm()
    if request.method == "GET":
        form.fill(takings)
    if form.validate_on_submit():
        with saving(form) as saved:
            services.save_by_staff(vendor, market, form.values(), current_user, form.reason.data)
        if saved:
            flash(
                _(
                    "Takings of %(vendor)s saved: %(amount)s.",
                    vendor=vendor.name,
                    amount=format_won(form.amount.won),
                ),
                "success",
            )
            return redirect(url_for("takings_staff.market_day", market_id=market.id))
    return render_template(
        "takings/staff_entry.html",
        market=market,
        vendor=vendor,
        takings=takings,
        form=form,
        split_labels=SPLIT_LABELS,
    )


# -- the report ------------------------------------------------------------------------


def _period() -> tuple[PeriodForm, date, date]:
    form = PeriodForm(request.args)
    form.validate()
    today = today_seoul()
    start, end = form.period((date(today.year, 1, 1), date(today.year, 12, 31)))
    return form, start, end


@bp.route("/takings/report")
@staff_required
@signed_in_page()
def report():
    """Kept per data version and day (market.core.signed_in_pages): its only
    rule of time is the default period, this year, which follows the day.
    A rule that turns at a time of day would have to end the kept page
    (pagecache.valid_until)."""
    form, start, end = _period()
    data = reports.build_overview(start, end)
    # The summary has already counted both tables' rows: no COUNT per table.
    markets = paginate_rows(
        reports.market_rows_query(start, end),
        data.summary.markets,
        MARKETS_PER_PAGE,
        "markets_page",
    )
    vendors = paginate_rows(
        reports.vendor_rows_query(start, end),
        data.summary.vendors,
        VENDORS_PER_PAGE,
        "vendors_page",
    )
    return render_template(
        "takings/report.html",
        form=form,
        report=data,
        markets=markets,
        vendors=vendors,
        charts=report_charts(data, str(get_locale())),
        years=reports.years_with_takings(),
        export_args={"start": start.isoformat(), "end": end.isoformat()},
    )


@bp.route("/takings/report.csv")
@staff_required
def report_csv():
    _form, start, end = _period()
    key = request.args.get("table", "markets")
    if key == "entries":
        table = exports.entries_table(start, end)
    else:
        tables = {
            table.key: table for table in exports.report_tables(reports.build_report(start, end))
        }
        table = tables.get(key) or abort(404)
    return download(to_csv(table), CSV_MIMETYPE, f"takings-{key}-{start}-{end}.csv")


@bp.route("/takings/report.xlsx")
@staff_required
def report_xlsx():
    _form, start, end = _period()
    data = reports.build_report(start, end)
    tables = [
        exports.summary_table(data),
        *exports.report_tables(data),
        exports.entries_table(start, end),
    ]
    return download(to_xlsx(tables), XLSX_MIMETYPE, f"takings-{start}-{end}.xlsx")
