"""The report's two stacked charts: months with the market and the
marketplace stacked in each column, and the top enterprises with both
channels in one bar. Geometry here, drawing in templates/sales/_charts.html;
the axis, the money labels and the 360-unit canvas are the takings charts'
(market.takings.charts), so both reports read alike on a phone."""

from dataclasses import dataclass, field

from flask_babel import gettext as _

from market.sales.figures import EnterpriseFigures, MonthChannels
from market.takings.charts import (
    BOTTOM,
    LABEL_SPACE,
    LEFT,
    PLOT_HEIGHT,
    RIGHT,
    ROW_BAR,
    ROW_HEIGHT,
    TOP,
    WIDTH,
    Tick,
    fit_label,
    nice_step,
    short_won,
)
from market.timeutil import format_won

CHANNELS = ("offline", "online")  # bottom to top, left to right


@dataclass(frozen=True)
class Segment:
    channel: str  # "offline" or "online": its CSS class
    x: float
    y: float
    width: float
    height: float
    title: str  # the tooltip: what, and how much


@dataclass(frozen=True)
class Stack:
    label: str  # under a column, above a bar ("" where thinned out)
    value_label: str  # beside a bar
    x: float  # a column's centre (its label's), a bar's left end
    y: float  # the baseline of a column, the top of a bar
    segments: list[Segment]


@dataclass
class StackedChart:
    kind: str  # "stacked-columns" or "stacked-rows"
    chart_id: str
    title: str
    desc: str
    width: int = WIDTH
    height: int = 0
    stacks: list[Stack] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    baseline: float = 0


def _names() -> dict[str, str]:
    return {"offline": _("Market"), "online": _("Online")}


def months(rows: list[MonthChannels], lang: str = "ko") -> StackedChart:
    """A column per month, the market at the bottom, online on top."""
    largest = max((row.total for row in rows), default=0)
    step = nice_step(largest)
    top = step * max(1, -(-largest // step))
    names = _names()
    if rows and largest:
        best = max(rows, key=lambda row: row.total)
        desc = _(
            "Monthly sales by channel, highest in %(month)s: %(total)s "
            "(market %(offline)s, online %(online)s). The table below has every number.",
            month=_month_label(best),
            total=format_won(best.total),
            offline=format_won(best.offline),
            online=format_won(best.online),
        )
    else:
        desc = _("No sales in this period.")
    chart = StackedChart(
        "stacked-columns",
        "chart-months",
        _("Sales per month"),
        desc,
        height=TOP + PLOT_HEIGHT + BOTTOM,
    )
    chart.ticks = [Tick(_y(v, top), short_won(v, lang)) for v in range(0, top + 1, step)]
    chart.baseline = _y(0, top)
    slot = (chart.plot_right - chart.plot_left) / max(len(rows), 1)
    labels = _month_labels(rows, slot)
    for index, row in enumerate(rows):
        x = chart.plot_left + index * slot + slot * 0.15
        width = slot * 0.7
        bottom, segments = chart.baseline, []
        month = None  # worked out once for both segments (ten years: 120 months)
        for channel, value in (("offline", row.offline), ("online", row.online)):
            height = PLOT_HEIGHT * value / top if top else 0
            if height > 0:
                month = month or _month_label(row)
                segments.append(
                    Segment(
                        channel,
                        x,
                        bottom - height,
                        width,
                        height,
                        f"{month} {names[channel]}: {format_won(value)}",
                    )
                )
                bottom -= height
        chart.stacks.append(
            Stack(labels[index], format_won(row.total), x + width / 2, chart.baseline, segments)
        )
    return chart


def top_enterprises(rows: list[EnterpriseFigures], count: int) -> StackedChart:
    """A bar per enterprise (the highest totals), the market part first."""
    largest = max((row.current.total for row in rows), default=0) or 1
    names = _names()
    if rows:
        desc = _(
            "The %(count)d enterprises with the highest sales, highest %(name)s: %(total)s. "
            "The table below has every number.",
            count=len(rows),
            name=rows[0].name,
            total=format_won(rows[0].current.total),
        )
    else:
        desc = _("No sales in this period.")
    chart = StackedChart(
        "stacked-rows",
        "chart-top",
        _("Top %(count)d enterprises by sales", count=count),
        desc,
        height=len(rows) * ROW_HEIGHT + 4,
    )
    chart.plot_left, chart.plot_right = 0, WIDTH
    for index, row in enumerate(rows):
        y = index * ROW_HEIGHT + 21
        x, segments = 0.0, []
        for channel, value in (
            ("offline", row.current.offline.total),
            ("online", row.current.online.total),
        ):
            width = WIDTH * value / largest
            if width > 0:
                title = f"{row.name} {names[channel]}: {format_won(value)}"
                segments.append(Segment(channel, x, y, max(width, 1), ROW_BAR, title))
                x += width
        value_label = (
            f"{format_won(row.current.total)} · {row.current.online_share:.0f}% {names['online']}"
        )
        chart.stacks.append(Stack(fit_label(row.name, value_label), value_label, 0, y, segments))
    return chart


def _y(value: int, top: int) -> float:
    return TOP + PLOT_HEIGHT - (value / top) * PLOT_HEIGHT


def _month_label(row: MonthChannels) -> str:
    return _("%(year)d-%(month)02d", year=row.month.year, month=row.month.month)


def _month_labels(rows: list[MonthChannels], slot: float) -> list[str]:
    """What stands under each column, thinned so labels (LABEL_SPACE units
    apart at the phone's lettering) never overlap: up to two years, months
    ('4월', with the year where it starts or changes), counted back from
    the latest; longer, the years
    alone under their Januaries (a month name every few columns of ten
    years tells nothing)."""
    if len(rows) <= 24:
        every = max(1, -(-LABEL_SPACE // int(slot)) if slot >= 1 else len(rows))
        return [
            _short_month(row, index) if (len(rows) - 1 - index) % every == 0 else ""
            for index, row in enumerate(rows)
        ]
    januaries = [index for index, row in enumerate(rows) if row.month.month == 1]
    every = max(1, -(-LABEL_SPACE // max(int(slot * 12), 1)))
    shown = set(januaries[::-1][::every])
    return [str(row.month.year) if index in shown else "" for index, row in enumerate(rows)]


def _short_month(row: MonthChannels, index: int) -> str:
    """'4월' under a column; the year where it starts or changes."""
    if index == 0 or row.month.month == 1:
        return _("%(year)d-%(month)02d", year=row.month.year % 100, month=row.month.month)
    return _("%(month)d (month)", month=row.month.month)
