"""The funnel report as people read it: step names, the ranking options in
words, the SVG chart (drawn by templates/takings/_charts.html from
market.takings.charts) and the tables the page shows and the CSV/XLSX
downloads carry, so the files hold exactly the page's numbers (the effect's
table carries the numbers of the page's effect section, _effect.html).
SOURCE_LABELS are the answer sources' names everywhere (the invitations
list, the customer page, check-in, this report)."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from market.core.exports import Table
from market.invitations.effect import Effect
from market.invitations.funnel import Funnel, FunnelReport, Options, percent
from market.invitations.models import AnswerSource
from market.takings import charts

STEP_LABELS = {
    "ranked": _l("Chosen from the ranking"),
    "invited": _l("Invited"),
    "delivered": _l("Delivered"),
    "answered": _l("Answered"),
    "visited": _l("Visited the market"),
}
# Keyed by the enum, a StrEnum: the funnel's plain "page"/"calendar" keys find it too.
SOURCE_LABELS = {
    AnswerSource.PAGE: _l("answer page"),
    AnswerSource.CALENDAR: _l("calendar app"),
}


def options_label(options: Options | None) -> str:
    """A send's ranking options in words, e.g. 상위 50명 · 최근 365일 · 주문 1회 이상."""
    if options is None:
        return _("Other / earlier sends")
    if not options.from_ranking:
        return _("Chosen without a ranking")
    parts = [
        _("top %(count)d", count=options.top_n),
        _("last %(days)d days", days=options.window_days),
        _("at least %(count)d orders", count=options.min_orders),
    ]
    if options.skip_invited_weeks:
        parts.append(
            _("invited in the last %(weeks)d weeks left out", weeks=options.skip_invited_weeks)
        )
    if options.assigned_vendors_only:
        parts.append(_("buyers of this market's enterprises only"))
    return " · ".join(parts)


def percent_text(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}%"


def funnel_chart(funnel: Funnel, chart_id: str) -> charts.Chart:
    """Horizontal bars, one per step, with the count and (in brackets, short
    enough for a phone) its share of the step before; the table below the
    chart says it in words."""
    items = []
    for step in funnel.steps():
        share = "" if step.of_previous is None else f" ({percent_text(step.of_previous)})"
        items.append(
            charts.Item(
                label=str(STEP_LABELS[step.key]),
                value=step.count,
                long_label=str(STEP_LABELS[step.key]),
                value_label=ngettext("%(num)d person", "%(num)d people", step.count) + share,
            )
        )
    desc = _(
        "Of %(ranked)d customers chosen, %(invited)d were invited, %(delivered)d "
        "received the email, %(answered)d answered and %(visited)d came to the market.",
        ranked=funnel.ranked,
        invited=funnel.invited,
        delivered=funnel.delivered,
        answered=funnel.answered,
        visited=funnel.visited,
    )
    return charts.rows(chart_id, _("From ranking to visit"), desc, items)


# -- the tables (page and downloads) ------------------------------------------------------


def steps_table(report: FunnelReport) -> Table:
    return Table(
        "steps",
        _("Funnel"),
        [_("Step"), _("People"), _("Of the step before (%)"), _("Of the invited (%)")],
        [
            [str(STEP_LABELS[step.key]), step.count, step.of_previous, step.of_invited]
            for step in report.total.steps()
        ],
    )


def options_table(report: FunnelReport) -> Table:
    headers = [
        _("Ranking options"),
        _("Sends"),
        str(STEP_LABELS["ranked"]),
        _("Held back (control group)"),
        str(STEP_LABELS["invited"]),
        str(STEP_LABELS["delivered"]),
        _("Returned (bounced)"),
        _("Failed"),
        _("Waiting or withdrawn"),
        _("Coming"),
        _("Maybe"),
        _("Not coming"),
        str(STEP_LABELS["visited"]),
        _("Visited, of the invited (%)"),
    ]
    rows = [
        _options_row(options_label(funnel.options), funnel)
        for funnel in [*report.groups, report.total]
    ]
    rows[-1][0] = _("All")
    return Table("options", _("By ranking options"), headers, rows)


def _options_row(label: str, funnel: Funnel) -> list:
    return [
        label,
        funnel.sends,
        funnel.ranked,
        funnel.held_back,
        funnel.invited,
        funnel.delivered,
        funnel.bounced,
        funnel.failed,
        funnel.waiting + funnel.withdrawn,
        funnel.accepted,
        funnel.tentative,
        funnel.declined,
        funnel.visited,
        percent(funnel.visited, funnel.invited),
    ]


def sources_table(report: FunnelReport) -> Table:
    return Table(
        "sources",
        _("Answers by where they came from"),
        [_("Answered on"), _("Coming"), _("Maybe"), _("Not coming"), _("All answers")],
        [
            [str(SOURCE_LABELS[source]), t.accepted, t.tentative, t.declined, t.total]
            for source, t in report.total.by_source.items()
        ],
    )


def effect_table(effect: Effect) -> Table:
    """Both groups' orders and spending before and after, then the
    difference (invited − control, within each send and combined) in
    spending and in orders with their 95 % confidence intervals and the
    verdict in the page's words. Blank cells: nothing to say there."""
    days = effect.window_days
    headers = [
        _("Group"),
        _("Customers"),
        _("Orders, %(days)d days before", days=days),
        _("Orders, %(days)d days after", days=days),
        _("Spending, %(days)d days before", days=days),
        _("Spending, %(days)d days after", days=days),
        _("Change in spending per customer"),
        _("Change in orders per customer"),
        _("Lower end of the %(level)d%% confidence interval", level=95),
        _("Upper end of the %(level)d%% confidence interval", level=95),
        _("In words"),
    ]
    rows: list[list] = [
        [
            label,
            group.customers,
            group.orders_before,
            group.orders_after,
            group.spend_before,
            group.spend_after,
            round(group.mean_change_per_customer),
            round(group.orders_change_per_customer, 2),
            None,
            None,
            "",
        ]
        for label, group in (
            (_("Invited customers"), effect.invited),
            (_("Control group"), effect.control),
        )
    ]
    blank = [None] * 5  # customers … spending after: not for a difference
    spend_low, spend_high = effect.interval or (None, None)
    spend = None if effect.difference is None else round(effect.difference)
    label = _("Difference in spending (invited − control)")
    rows.append([label, *blank, spend, None, spend_low, spend_high, effect.words])
    if effect.orders_difference is not None and effect.orders_interval is not None:
        orders_low, orders_high = effect.orders_interval
        label = _("Difference in orders (invited − control)")
        orders = round(effect.orders_difference, 2)
        rows.append([label, *blank, None, orders, orders_low, orders_high, effect.orders_words])
    return Table("effect", _("Effect on online sales"), headers, rows, money=(4, 5, 6))


def report_tables(report: FunnelReport, effect: Effect | None = None) -> list[Table]:
    """The funnel's tables, then the effect's when given (the downloads)."""
    tables = [steps_table(report), options_table(report), sources_table(report)]
    if effect is not None:
        tables.append(effect_table(effect))
    return tables
