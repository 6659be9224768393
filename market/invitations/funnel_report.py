"""The funnel report as people read it: step names, the ranking options in
words, the SVG chart (drawn by templates/takings/_charts.html from
market.takings.charts) and the tables the page shows and the CSV/XLSX
downloads carry, so the files hold exactly the page's numbers."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from market.core.exports import Table
from market.invitations.funnel import Funnel, FunnelReport, Options
from market.invitations.models import AnswerSource
from market.takings import charts

STEP_LABELS = {
    "ranked": _l("Chosen from the ranking"),
    "invited": _l("Invited"),
    "delivered": _l("Delivered"),
    "answered": _l("Answered"),
    "visited": _l("Visited the market"),
}
SOURCE_LABELS = {
    AnswerSource.PAGE.value: _l("answer page"),
    AnswerSource.CALENDAR.value: _l("calendar app"),
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
        _("Not sent yet"),
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
        _percent_cell(funnel.visited, funnel.invited),
    ]


def _percent_cell(part: int, whole: int) -> float | None:
    return None if not whole else round(100 * part / whole, 1)


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


def report_tables(report: FunnelReport) -> list[Table]:
    return [steps_table(report), options_table(report), sources_table(report)]
