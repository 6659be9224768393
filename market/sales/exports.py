"""The report as files for submission: XLSX (a summary sheet, a sheet per
enterprise type, every enterprise, unmatched sellers, months) and CSV (every
enterprise on one flat table). Written by market.core.exports: numbers stay
numbers (money with the won sign), no formulas, formula-looking text
neutralised (an enterprise's name is typed at sign-up, a seller's name comes
from the marketplace's file), CSV with a byte-order mark."""

from flask_babel import gettext as _

from market.core.exports import Table
from market.sales.figures import EnterpriseFigures, Figures, per_market
from market.sales.report import Comparison, Group, SalesReport, comparison_label, headline
from market.vendors.labels import category_label, enterprise_type_label


def _percent(comparison: Comparison):
    """The change as a number, or in words why there is none (the page's rule)."""
    if comparison.percent is None:
        return comparison_label(comparison)
    return round(comparison.percent, 1)


# -- the enterprises -------------------------------------------------------------------


def _enterprise_headers(with_type: bool) -> list[str]:
    return [
        _("Enterprise"),
        *([_("Enterprise type")] if with_type else []),
        _("Category"),
        _("Market days with takings entered"),
        _("Cash"),
        _("Card"),
        _("Gift vouchers"),
        _("Not split"),
        _("Market takings"),
        _("Average per market"),
        _("Online orders"),
        _("Online sales"),
        _("Buyers"),
        _("Repeat buyers"),
        _("Total (both channels)"),
        _("Online share (%)"),
        _("Total a year earlier"),
        _("Change on a year earlier (%)"),
    ]


def _figures_cells(
    now: Figures, before: Figures, comparison: Comparison, summed: bool = False, average=None
) -> list:
    """An enterprise's figures; `summed` (a total or subtotal row) leaves
    the buyers blank (a buyer of two enterprises is one buyer, not two) and
    puts `average` (per market day held, or blank) for the enterprise's own."""
    return [
        now.offline.market_days,  # summed: attendances
        now.offline.cash,
        now.offline.card,
        now.offline.voucher,
        now.offline.unsplit,  # so cash + card + vouchers + this = takings
        now.offline.total,
        average if summed else now.offline.average,
        now.online.orders,
        now.online.total,
        None if summed else now.online.buyers,
        None if summed else now.online.repeat_buyers,
        now.total,
        round(now.online_share, 1),
        before.total,
        _percent(comparison),
    ]


def _enterprise_row(report: SalesReport, row: EnterpriseFigures, with_type: bool) -> list:
    kind = [enterprise_type_label(row.enterprise_type)] if with_type else []
    return [
        row.name,
        *kind,
        category_label(row.category),
        *_figures_cells(row.current, row.previous, report.compare(row.current, row.previous)),
    ]


def _sum_row(
    report: SalesReport, group: Group, with_type: bool, label: str, market_days: int | None = None
) -> list:
    """A total or subtotal; its average is per market day held (`market_days`,
    the whole report's), blank for a subtotal (its days are not counted apart)."""
    average = per_market(group.current.offline.total, market_days) if market_days else None
    return [
        label,
        *([""] if with_type else []),
        "",
        *_figures_cells(
            group.current,
            group.previous,
            report.compare(group.current, group.previous),
            summed=True,
            average=average,
        ),
    ]


def _money(with_type: bool) -> tuple[int, ...]:
    """Cash, card, vouchers, not split, takings, average, online sales, total, total before."""
    shift = 1 if with_type else 0
    return tuple(shift + i for i in (3, 4, 5, 6, 7, 8, 10, 13, 15))


def enterprises_table(report: SalesReport) -> Table:
    """Every enterprise, with its type and category, and the total: the CSV,
    and the XLSX's enterprise sheet."""
    rows = [_enterprise_row(report, row, True) for row in report.enterprises]
    rows.append(
        _sum_row(report, report.total, True, _("Total (both channels)"), report.market_days)
    )
    return Table(
        "enterprises", _("Enterprises"), _enterprise_headers(True), rows, money=_money(True)
    )


def type_table(report: SalesReport, group: Group) -> Table:
    """One type's enterprises and subtotal (a sheet even when it sold
    nothing); 예비사회적기업 names each enterprise's kind and subtotals both."""
    with_type = bool(group.parts)
    rows = [_enterprise_row(report, row, with_type) for row in group.rows]
    rows.append(_sum_row(report, group, with_type, _("Subtotal")))
    for part in group.parts:
        rows.append(_sum_row(report, part, with_type, _("Subtotal: %(type)s", type=part.label)))
    return Table(
        str(group.key), group.label, _enterprise_headers(with_type), rows, money=_money(with_type)
    )


def unmatched_table(report: SalesReport) -> Table:
    return Table(
        "unmatched",
        _("Unmatched sellers"),
        [
            _("Seller in the order file"),
            _("Online orders"),
            _("Online sales"),
            _("Buyers"),
            _("Repeat buyers"),
            _("Online sales a year earlier"),
        ],
        [
            [
                row.seller_name,
                row.current.orders,
                row.current.total,
                row.current.buyers,
                row.current.repeat_buyers,
                row.previous.total,
            ]
            for row in report.unmatched
        ],
        money=(2, 5),
    )


def months_table(report: SalesReport) -> Table:
    return Table(
        "months",
        _("Per month"),
        [
            _("Month"),
            _("Market days held"),
            _("Market takings"),
            _("Online orders"),
            _("Online sales"),
            _("Total (both channels)"),
        ],
        [
            [
                _("%(year)d-%(month)02d", year=m.month.year, month=m.month.month),
                m.market_days,
                m.offline,
                m.online_orders,
                m.online,
                m.total,
            ]
            for m in report.months
        ],
        money=(2, 4, 5),
    )


# -- the summary -----------------------------------------------------------------------

SUMMARY_MONEY = (3, 5, 6, 8)


def _summary_headers(name: str) -> list[str]:
    return [
        name,
        _("Enterprises that sold"),
        _("Attendances (market days with takings entered)"),
        _("Market takings"),
        _("Online orders"),
        _("Online sales"),
        _("Total (both channels)"),
        _("Online share (%)"),
        _("Total a year earlier"),
        _("Change on a year earlier (%)"),
    ]


def _summary_row(report: SalesReport, group: Group, prefix: str = "") -> list:
    now, before = group.current, group.previous
    return [
        prefix + group.label,
        group.enterprises,
        now.offline.market_days,
        now.offline.total,
        now.online.orders,
        now.online.total,
        now.total,
        round(now.online_share, 1),
        before.total,
        _percent(report.compare(now, before)),
    ]


def summary_table(report: SalesReport) -> Table:
    """The headline, the period, the totals, by type, by category, and what
    the unmatched sellers sold (not in the totals), one block under another."""
    rows: list[list] = [
        [_("Period"), f"{report.start.isoformat()} – {report.end.isoformat()}"],
        [
            _("Compared with"),
            f"{report.previous_start.isoformat()} – {report.previous_end.isoformat()}",
        ],
        [_("Market days held"), report.market_days],
        [],
        _summary_headers(_("Total (both channels)")),
        _summary_row(report, report.total),
        [],
        _summary_headers(_("Enterprise type")),
        *(
            row
            for group in report.by_type
            for row in (
                _summary_row(report, group),
                *(_summary_row(report, part, "└ ") for part in group.parts),
            )
        ),
        [],
        _summary_headers(_("Category")),
        *(_summary_row(report, group) for group in report.by_category),
        [],
        [
            _("Unmatched sellers (not in the totals)"),
            len(report.unmatched_now),
            "",
            "",
            report.unmatched_current.orders,
            report.unmatched_current.total,
        ],
    ]
    width = len(_summary_headers(""))  # every row as wide, for the sheet's column formats
    return Table(
        "summary",
        _("Summary"),
        [headline(report)] + [""] * (width - 1),
        [row + [None] * (width - len(row)) for row in rows],
        money=SUMMARY_MONEY,
    )


def workbook_tables(report: SalesReport) -> list[Table]:
    return [
        summary_table(report),
        *(type_table(report, group) for group in report.by_type),
        enterprises_table(report),
        unmatched_table(report),
        months_table(report),
    ]


def file_name(report: SalesReport, extension: str) -> str:
    """ASCII, for the Content-Disposition header: named by its dates."""
    return f"sales-{report.start.isoformat()}-{report.end.isoformat()}.{extension}"
