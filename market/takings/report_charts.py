"""The report's charts, with their titles and text alternatives (<desc>), in
the reader's language. Shapes only: drawing is templates/takings/_charts.html."""

from datetime import date

from flask_babel import gettext as _

from market.takings import charts
from market.takings.charts import Item
from market.takings.reports import TOP_VENDORS, MarketRow, MonthRow, Report
from market.timeutil import format_korean_date, format_won


def _extremes(items: list[Item]) -> str:
    if not items:
        return _("No takings in this period.")
    high = max(items, key=lambda item: item.value)
    low = min(items, key=lambda item: item.value)
    return _(
        "Highest %(high)s (%(high_label)s), lowest %(low)s (%(low_label)s). "
        "The table below has every number.",
        high=format_won(high.value),
        high_label=high.long_label or high.label,
        low=format_won(low.value),
        low_label=low.long_label or low.label,
    )


def over_time(days: list[MarketRow], months: list[MonthRow], lang: str) -> charts.Chart:
    """Columns per market day for a season; a monthly line for longer ranges.
    The caller passes one of the two (see reports.DAY_COLUMNS)."""
    title = _("Takings per market day")
    if days or not months:
        items = [
            Item(
                label=f"{row.market_date.month}/{row.market_date.day}",
                value=row.total,
                long_label=f"{format_korean_date(row.market_date)} {row.venue}",
                value_label=format_won(row.total),
            )
            for row in days
        ]
        return charts.columns("chart-markets", title, _extremes(items), items, lang)
    # Translated once, not per month: gettext costs ~0.07 ms a call, ten years are 125 months.
    month_label = _("%(year)d-%(month)02d")
    items = [
        Item(
            label=str(month.year) if month.month == 1 or index == 0 else "",
            value=month.total,
            long_label=month_label % {"year": month.year, "month": month.month},
            value_label=format_won(month.total),
        )
        for index, month in enumerate(_every_month(months))
    ]
    title = _("Takings per month")
    return charts.line("chart-markets", title, _extremes(items), items, lang)


def _every_month(rows: list[MonthRow]) -> list[MonthRow]:
    """Months without a market day count as zero, so the line keeps time."""
    found = {(row.year, row.month): row for row in rows}
    if not found:
        return []
    (year, month), last = min(found), max(found)
    months = []
    while (year, month) <= last:
        months.append(found.get((year, month), MonthRow(year, month, 0, 0)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def ranking(chart_id: str, title: str, rows: list, report: Report) -> charts.Chart:
    items = [
        Item(
            label=row.label,
            value=row.total,
            long_label=row.label,
            value_label=f"{format_won(row.total)} · {report.share(row.total):.1f}%",
        )
        for row in rows
    ]
    return charts.rows(chart_id, title, _extremes(items), items)


def report_charts(report: Report, lang: str) -> dict[str, charts.Chart]:
    return {
        "time": over_time(report.days, report.months, lang),
        "vendors": ranking(
            "chart-vendors",
            _("Top %(count)d enterprises by takings", count=TOP_VENDORS),
            report.top_vendors,
            report,
        ),
        "categories": ranking(
            "chart-categories", _("Takings per product category"), report.categories, report
        ),
        "venues": ranking("chart-venues", _("Takings per venue"), report.venues, report),
        "types": ranking(
            "chart-types", _("Takings per enterprise type"), report.enterprise_types, report
        ),
    }


def vendor_history_chart(points: list[tuple[date, str, int]], lang: str) -> charts.Chart:
    """A vendor's own latest market days, oldest first."""
    items = [
        Item(
            label=f"{day.month}/{day.day}",
            value=amount,
            long_label=f"{format_korean_date(day)} {venue}",
            value_label=format_won(amount),
        )
        for day, venue, amount in points
    ]
    return charts.columns(
        "chart-history", _("My takings per market day"), _extremes(items), items, lang
    )
