"""What the invitations achieved (staff): the funnel of one market and of a
season, with its chart, its tables and their CSV/XLSX downloads. The rules
and the SQL are market.invitations.funnel; the words and the tables
market.invitations.funnel_report."""

from datetime import date

from flask import Blueprint, abort, render_template, request, url_for

from market.accounts.decorators import staff_required
from market.core.exports import CSV_MIMETYPE, XLSX_MIMETYPE, download, to_csv, to_xlsx
from market.extensions import db
from market.invitations import effect, funnel, funnel_report
from market.markets.models import Market
from market.takings.forms import PeriodForm
from market.timeutil import today_seoul

bp = Blueprint("invitation_reports", __name__, url_prefix="/staff")

FORMATS = ("csv", "xlsx")


def _effect(market_ids: list[int]) -> effect.Effect:
    """Invited against the control group, online (market.invitations.effect)."""
    return effect.online_effect(market_ids, today_seoul())


def _season() -> tuple[PeriodForm, date, date, bool]:
    """The season asked for (this calendar year by default). `swapped`: the
    start came after the end, so the two were exchanged (the page says so)."""
    form = PeriodForm(request.args)
    form.validate()
    today = today_seoul()
    start, end = form.period((date(today.year, 1, 1), date(today.year, 12, 31)))
    typed = (form.start.data, form.end.data)
    swapped = (
        not form.start.errors and not form.end.errors and None not in typed and typed[0] > typed[1]  # type: ignore[operator]
    )
    return form, start, end, swapped


def _downloads(endpoint: str, **args) -> dict[str, str]:
    """The XLSX (every table) and each table's CSV."""
    urls = {"xlsx": url_for(endpoint, file_format="xlsx", **args)}
    for key in ("steps", "options", "sources", "effect"):
        urls[key] = url_for(endpoint, file_format="csv", table=key, **args)
    return urls


@bp.route("/markets/<int:market_id>/invitations/report")
@staff_required
def market_report(market_id: int):
    market = db.get_or_404(Market, market_id)
    report = funnel.market_funnel(market.id)
    return render_template(
        "invitations/report.html",
        market=market,
        report=report,
        chart=funnel_report.funnel_chart(report.total, "chart-funnel"),
        tables=funnel_report.report_tables(report),
        effect=_effect([market.id]),
        downloads=_downloads("invitation_reports.market_export", market_id=market.id),
    )


@bp.route("/markets/<int:market_id>/invitations/report.<file_format>")
@staff_required
def market_export(market_id: int, file_format: str):
    market = db.get_or_404(Market, market_id)
    if file_format not in FORMATS:
        abort(404)
    report = funnel.market_funnel(market.id)
    name = f"invitation-funnel-{market.market_date}-{market.id}"
    return _download(report, _effect([market.id]), file_format, name)


@bp.route("/invitations/report")
@staff_required
def season_report():
    form, start, end, swapped = _season()
    market_ids = funnel.season_market_ids(start, end)
    report = funnel.season_funnel(start, end, market_ids)
    return render_template(
        "invitations/report.html",
        market=None,
        form=form,
        start=start,
        end=end,
        swapped=swapped,
        report=report,
        chart=funnel_report.funnel_chart(report.total, "chart-funnel"),
        tables=funnel_report.report_tables(report),
        effect=_effect(market_ids),
        downloads=_downloads(
            "invitation_reports.season_export", start=start.isoformat(), end=end.isoformat()
        ),
    )


@bp.route("/invitations/report.<file_format>")
@staff_required
def season_export(file_format: str):
    if file_format not in FORMATS:
        abort(404)
    _form, start, end, _swapped = _season()
    market_ids = funnel.season_market_ids(start, end)
    report = funnel.season_funnel(start, end, market_ids)
    return _download(report, _effect(market_ids), file_format, f"invitation-funnel-{start}-{end}")


def _download(report: funnel.FunnelReport, found: effect.Effect, file_format: str, name: str):
    """XLSX: every table on its own sheet. CSV: one table, `table=` steps,
    options (the default), sources or effect."""
    tables = funnel_report.report_tables(report, found)
    if file_format == "xlsx":
        return download(to_xlsx(tables), XLSX_MIMETYPE, f"{name}.xlsx")
    by_key = {table.key: table for table in tables}
    table = by_key.get(request.args.get("table", "options")) or abort(404)
    return download(to_csv(table), CSV_MIMETYPE, f"{name}-{table.key}.csv")
