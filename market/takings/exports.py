"""The report's tables, written as CSV (one table) and XLSX (every table on
its own sheet) by market.core.exports: UTF-8 with a byte-order mark, and
formula-looking text neutralised (an enterprise name is typed by the public
at sign-up)."""

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from market.core.exports import Table
from market.core.exports import neutralise as neutralise  # re-exported for older imports
from market.extensions import db
from market.markets.models import Market, Venue
from market.takings.models import Takings
from market.takings.reports import Report
from market.vendors.labels import category_label, enterprise_type_label
from market.vendors.models import Vendor


def report_tables(report: Report) -> list[Table]:
    """The report's tables, in the order of the page."""

    def share(amount: int) -> float:
        return round(report.share(amount), 1)

    return [
        Table(
            "markets",
            _("Per market day"),
            [
                _("Date"),
                _("Venue"),
                _("Enterprises reported"),
                _("Takings"),
                _("Average per enterprise"),
                _("Ceiling"),
            ],
            [
                [r.market_date, r.venue, r.entries, r.total, r.average, r.ceiling]
                for r in report.markets
            ],
        ),
        Table(
            "vendors",
            _("Per enterprise"),
            [
                _("Enterprise"),
                _("Category"),
                _("Enterprise type"),
                _("Market days"),
                _("Takings"),
                _("Average per market day"),
                _("Highest day's takings"),
            ],
            [
                [
                    r.name,
                    category_label(r.category),
                    enterprise_type_label(r.enterprise_type),
                    r.markets,
                    r.total,
                    r.average,
                    r.best,
                ]
                for r in report.vendors
            ],
        ),
        _group_table(
            "categories",
            _("Per category"),
            _("Category"),
            _("Number of enterprises"),
            report.categories,
            share,
        ),
        _group_table(
            "types",
            _("Per enterprise type"),
            _("Enterprise type"),
            _("Number of enterprises"),
            report.enterprise_types,
            share,
        ),
        Table(
            "venues",
            _("Per venue"),
            [
                _("Venue"),
                _("Market days"),
                _("Takings"),
                _("Average per market day"),
                _("Share (%)"),
            ],
            [[r.label, r.count, r.total, r.average, share(r.total)] for r in report.venues],
        ),
    ]


def _group_table(key, title, name_header, count_header, rows, share) -> Table:
    return Table(
        key,
        title,
        [
            name_header,
            count_header,
            _("Entries"),
            _("Takings"),
            _("Average per entry"),
            _("Share (%)"),
        ],
        [[r.label, r.count, r.entries, r.total, r.average, share(r.total)] for r in rows],
    )


def entries_table(start: date, end: date) -> Table:
    """Every entry of the period, one query, for whoever wants to pivot it themselves."""
    rows = db.session.execute(
        select(
            Market.market_date,
            Venue.name,
            Vendor.name,
            Vendor.category,
            Vendor.enterprise_type,
            Takings.amount,
            Takings.sales_count,
            Takings.cash,
            Takings.card,
            Takings.voucher,
        )
        .join(Market, Market.id == Takings.market_id)
        .join(Venue, Venue.id == Market.venue_id)
        .join(Vendor, Vendor.id == Takings.vendor_id)
        .where(Market.market_date >= start, Market.market_date <= end)
        .order_by(Market.market_date, Venue.name, Vendor.name, Takings.id)
    )
    return Table(
        "entries",
        _("Entries"),
        [
            _("Date"),
            _("Venue"),
            _("Enterprise"),
            _("Category"),
            _("Enterprise type"),
            _("Takings"),
            _("Number of sales"),
            _("Cash"),
            _("Card"),
            _("Gift vouchers"),
        ],
        [
            [day, venue, name, category_label(category), enterprise_type_label(kind), *numbers]
            for day, venue, name, category, kind, *numbers in rows
        ],
    )


def summary_table(report: Report) -> Table:
    s = report.summary
    best = report.best_day
    return Table(
        "summary",
        _("Summary"),
        [_("Figure"), _("Value")],
        [
            [_("Start date"), report.start],
            [_("End date"), report.end],
            [_("Total takings"), s.total],
            [_("Market days"), s.markets],
            [_("Number of enterprises"), s.vendors],
            [_("Entries"), s.entries],
            [_("Average per market day"), s.average_per_market],
            [_("Average per enterprise and day"), s.average_per_entry],
            [_("Best day"), f"{best.market_date} {best.venue}" if best else ""],
            [_("Best day's takings"), best.total if best else 0],
            [_("Cash"), s.cash],
            [_("Card"), s.card],
            [_("Gift vouchers"), s.voucher],
        ],
    )
