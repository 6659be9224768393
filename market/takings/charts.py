"""A small SVG chart builder: Python works out the geometry, the Jinja macros
in templates/takings/_charts.html draw it.

Why not a library: the pages need three simple shapes (columns over time,
a line over many months, labelled rows), a strict Content-Security-Policy
forbids inline styles and scripts, and each chart needs a <title>/<desc>
text alternative and phone-sized lettering. pygal would bring its own CSS
and script hooks to switch off; these ~150 lines are easier to keep.

Charts are drawn in a 360-unit-wide viewBox that scales to the page: on a
phone (a card about 320 px wide) 14-unit text is still about 12 px; the
stylesheet caps their width so they do not grow huge on a desktop."""

from dataclasses import dataclass, field, replace
from math import floor, log10

WIDTH = 360
LEFT, RIGHT, TOP, BOTTOM = 60, 8, 12, 30  # plot margins (axis labels live there)
PLOT_HEIGHT = 170
ROW_HEIGHT, ROW_BAR = 42, 12
ROW_LABEL_MAX = 14  # characters beside a value label in 360 units


@dataclass(frozen=True)
class Item:
    label: str  # under a column / above a row
    value: int
    long_label: str = ""  # tooltip and the text alternative
    value_label: str = ""


@dataclass(frozen=True)
class Shape:
    x: float
    y: float
    width: float
    height: float
    item: Item
    show_label: bool = True


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass
class Chart:
    kind: str  # "columns", "line" or "rows"
    chart_id: str
    title: str
    desc: str
    width: int = WIDTH
    height: int = 0
    shapes: list[Shape] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    points: str = ""  # the line's polyline
    area: str = ""  # the polygon under the line
    markers: list[Shape] = field(default_factory=list)  # labelled points on the line
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    baseline: float = 0


def short_won(amount: int, lang: str = "ko") -> str:
    """Axis labels: 3,000만 / 1.2억 in Korean, 30M / 1.2B in English."""
    if lang == "ko":
        if amount >= 100_000_000:
            return f"{amount / 100_000_000:,.1f}".rstrip("0").rstrip(".") + "억"
        if amount >= 10_000:
            return f"{amount // 10_000:,}만"
        return f"{amount:,}"
    for size, unit in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "K")):
        if amount >= size:
            return f"{amount / size:,.1f}".rstrip("0").rstrip(".") + unit
    return f"{amount:,}"


def nice_step(largest: int, steps: int = 4) -> int:
    """A round step (1, 2, 2.5 or 5 × 10ⁿ) so `steps` ticks cover `largest`."""
    if largest <= 0:
        return 1
    raw = largest / steps
    magnitude = 10 ** floor(log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if factor * magnitude >= raw:
            return max(int(factor * magnitude), 1)
    return int(10 * magnitude)


def _axis(largest: int, lang: str) -> tuple[int, list[int]]:
    step = nice_step(largest)
    top = step * max(1, -(-largest // step))
    return top, list(range(0, top + 1, step))


def _y(value: int, top: int) -> float:
    return TOP + PLOT_HEIGHT - (value / top) * PLOT_HEIGHT


def columns(chart_id: str, title: str, desc: str, items: list[Item], lang: str = "ko") -> Chart:
    """One column per item (a market day), labels thinned so they never overlap."""
    top, tick_values = _axis(max((i.value for i in items), default=0), lang)
    chart = Chart("columns", chart_id, title, desc, height=TOP + PLOT_HEIGHT + BOTTOM)
    chart.ticks = [Tick(_y(v, top), short_won(v, lang)) for v in tick_values]
    chart.baseline = _y(0, top)
    slot = (chart.plot_right - chart.plot_left) / max(len(items), 1)
    every = max(1, -(-38 // int(slot)) if slot >= 1 else len(items))  # a label needs ~38 units
    for index, item in enumerate(items):
        y = _y(item.value, top)
        chart.shapes.append(
            Shape(
                x=chart.plot_left + index * slot + slot * 0.15,
                y=y,
                width=slot * 0.7,
                height=chart.baseline - y,
                item=item,
                show_label=(len(items) - 1 - index) % every == 0,
            )
        )
    return chart


def line(chart_id: str, title: str, desc: str, items: list[Item], lang: str = "ko") -> Chart:
    """Many points (months over years): a line with an area under it."""
    top, tick_values = _axis(max((i.value for i in items), default=0), lang)
    chart = Chart("line", chart_id, title, desc, height=TOP + PLOT_HEIGHT + BOTTOM)
    chart.ticks = [Tick(_y(v, top), short_won(v, lang)) for v in tick_values]
    chart.baseline = _y(0, top)
    span = chart.plot_right - chart.plot_left
    step = span / max(len(items) - 1, 1)
    coordinates = [
        (chart.plot_left + index * step, _y(item.value, top)) for index, item in enumerate(items)
    ]
    chart.points = " ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)
    if coordinates:
        chart.area = (
            f"{coordinates[0][0]:.1f},{chart.baseline:.1f} {chart.points} "
            f"{coordinates[-1][0]:.1f},{chart.baseline:.1f}"
        )
    labelled = [index for index, item in enumerate(items) if item.label]
    every = max(1, -(-len(labelled) * 40 // int(span)))  # a label needs ~40 units
    shown = set(labelled[::-1][::every])  # thinned from the latest backwards
    chart.markers = [
        Shape(x, y, 0, 0, item, show_label=index in shown)
        for index, ((x, y), item) in enumerate(zip(coordinates, items, strict=True))
    ]
    return chart


def rows(chart_id: str, title: str, desc: str, items: list[Item]) -> Chart:
    """Labelled horizontal bars: the label and value on one line, the bar below,
    so long Korean names never have to squeeze beside the bar."""
    largest = max((i.value for i in items), default=0) or 1
    chart = Chart("rows", chart_id, title, desc, height=len(items) * ROW_HEIGHT + 4)
    chart.plot_left, chart.plot_right = 0, WIDTH
    for index, item in enumerate(items):
        y = index * ROW_HEIGHT + 21
        if len(item.label) > ROW_LABEL_MAX:  # the full name stays in the tooltip and table
            item = replace(item, label=item.label[: ROW_LABEL_MAX - 1] + "…")
        chart.shapes.append(
            Shape(x=0, y=y, width=max(WIDTH * item.value / largest, 1), height=ROW_BAR, item=item)
        )
    return chart
