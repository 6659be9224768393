"""판로지원 실적 (staff): the report page and its XLSX and CSV."""

from calendar import monthrange
from datetime import date
from functools import cached_property

from flask import Blueprint, current_app, render_template, request
from flask_babel import get_locale

from market.accounts.decorators import staff_required
from market.core.exports import CSV_MIMETYPE, XLSX_MIMETYPE, download, to_csv, to_xlsx
from market.core.pagination import ListPagination, page_number
from market.core.signed_in_pages import signed_in_page
from market.sales import charts, exports
from market.sales.cache import sales_report
from market.sales.forms import SalesPeriodForm
from market.sales.report import (
    TOP_ENTERPRISES,
    SalesReport,
    change,
    change_label,
    comparison_label,
    headline,
)
from market.timeutil import today_seoul

bp = Blueprint("sales", __name__, url_prefix="/staff")

ENTERPRISES_PER_PAGE = 50
UNMATCHED_SHOWN = 30  # the XLSX lists them all


def _period() -> tuple[SalesPeriodForm, date, date]:
    form = SalesPeriodForm(request.args)
    form.validate()
    today = today_seoul()
    start, end = form.period((date(today.year, 1, 1), today))  # this year so far
    return form, start, end


def _shortcuts(report: SalesReport) -> dict:
    """Links that fill the period in: years, the quarters and the months of
    the year shown (the last year shown when the period spans several)."""
    today = today_seoul()
    year = report.end.year
    quarters = [(q, date(year, 3 * q - 2, 1), _month_end(year, 3 * q)) for q in range(1, 5)]
    months = [(m, date(year, m, 1), _month_end(year, m)) for m in range(1, 13)]
    return {
        "this_year": (date(today.year, 1, 1), today),
        "years": [
            (y, date(y, 1, 1), date(y, 12, 31)) for y in range(today.year, today.year - 5, -1)
        ],
        "year": year,
        "quarters": quarters,
        "months": months,
    }


class _Charts:
    """The report's charts, worked out when the page draws them: only the
    first time for a kept report (its parts are kept as HTML, see
    SalesReport.kept_html)."""

    def __init__(self, report: SalesReport, lang: str) -> None:
        self.report, self.lang = report, lang

    @cached_property
    def months(self) -> charts.StackedChart:
        return charts.months(self.report.months, self.lang)

    @cached_property
    def top(self) -> charts.StackedChart:
        return charts.top_enterprises(self.report.top, TOP_ENTERPRISES)


def _month_end(year: int, month: int) -> date:
    return date(year, month, monthrange(year, month)[1])


@bp.route("/sales")
@staff_required
@signed_in_page(enabled=lambda: current_app.config["SALES_REPORT_CACHE"])
def report():
    """Kept per data version and day (market.core.signed_in_pages): its only
    rules of time are the default period (this year so far) and the
    shortcuts, which follow the day. A rule that turns at a time of day
    would have to end the kept page (pagecache.valid_until)."""
    form, start, end = _period()
    data = sales_report(start, end)
    enterprises = ListPagination(
        page=page_number("page"),
        per_page=ENTERPRISES_PER_PAGE,
        max_per_page=200,
        error_out=False,
        rows=data.by_type_rows,
    )
    lang = str(get_locale())
    return render_template(
        "sales/report.html",
        form=form,
        report=data,
        headline=headline(data),
        enterprises=enterprises,
        unmatched=data.unmatched_now[:UNMATCHED_SHOWN],
        groups_by_type=data.type_of,
        change=change,
        change_label=change_label,
        comparison_label=comparison_label,
        charts=_Charts(data, lang),
        lang=lang,
        shortcuts=_shortcuts(data),
        export_args={"start": start.isoformat(), "end": end.isoformat()},
    )


def _refused(form: SalesPeriodForm):
    """A download of a period that could not be read: 400 and why, never
    the file of another period (the default) under a name that looks right."""
    messages = dict.fromkeys(form.start.errors + form.end.errors)
    return render_template("sales/period_refused.html", messages=list(messages)), 400


@bp.route("/sales.xlsx")
@staff_required
def report_xlsx():
    form, start, end = _period()
    if form.unusable:
        return _refused(form)
    data = sales_report(start, end)
    return download(
        to_xlsx(exports.workbook_tables(data)), XLSX_MIMETYPE, exports.file_name(data, "xlsx")
    )


@bp.route("/sales.csv")
@staff_required
def report_csv():
    form, start, end = _period()
    if form.unusable:
        return _refused(form)
    data = sales_report(start, end)
    return download(
        to_csv(exports.enterprises_table(data)), CSV_MIMETYPE, exports.file_name(data, "csv")
    )
