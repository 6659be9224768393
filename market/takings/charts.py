"""A small SVG chart builder: Python works out the geometry, the Jinja macros
in templates/takings/_charts.html draw it.

Why not a library: the pages need three simple shapes (columns over time,
a line over many months, labelled rows), a strict Content-Security-Policy
forbids inline styles and scripts, and each chart needs a <title>/<desc>
text alternative and phone-sized lettering. pygal would bring its own CSS
and script hooks to switch off; these ~150 lines are easier to keep.

Charts are drawn in a 360-unit-wide viewBox that scales to the page: about
290 px wide in a card on a 360 px phone (0.8 px a unit), up to 576 px on a
desktop (1.6 px a unit). One lettering size in units cannot suit both (12.5
units were 10 px on the phone, 20 px on the desktop), so the stylesheet
sizes the text by the width of the chart's box (container queries in
static/css/app.css): 15 units in a box under 330 px, 13 units up to 440 px,
10 units beyond, which keeps every label between about 12 and 16 CSS px. One
drawing with CSS steps rather than a phone and a desktop drawing: half the
markup, one <title>/<desc>, and every chart template (the sales, funnel and
effect charts too) follows without a change. The geometry leaves room for
the largest lettering (TEXT units): the axis margin, the spacing of the
labels under the columns and the length of a row's name are worked out for
it, so nothing overlaps on the phone and the desktop just has more air."""

from dataclasses import dataclass, field, replace
from math import floor, log10

WIDTH = 360
TEXT = 15  # the largest lettering in units (a phone's, app.css), the geometry's measure
# Plot margins, for labels at TEXT: "9,000만" beside the axis is ~63 units,
# the top tick's label rises ~14 above its line, "12/3" under the last column ~38 wide.
LEFT, RIGHT, TOP, BOTTOM = 70, 14, 16, 30
PLOT_HEIGHT = 170
ROW_HEIGHT, ROW_BAR = 42, 12
LABEL_SPACE = 48  # units between the centres of labels under columns ("12/17": ~44 at TEXT)


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
    every = max(1, -(-LABEL_SPACE // int(slot)) if slot >= 1 else len(items))
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
    every = max(1, -(-len(labelled) * LABEL_SPACE // int(span)))
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
        item = replace(item, label=fit_label(item.label, item.value_label))
        chart.shapes.append(
            Shape(x=0, y=y, width=max(WIDTH * item.value / largest, 1), height=ROW_BAR, item=item)
        )
    return chart


def text_width(text: str) -> float:
    """A generous estimate of `text`'s width in ems (no font metrics on the
    server): Hangul, CJK, ₩, % and the like a full em, digits and Latin
    letters 0.7, spaces and punctuation 0.4."""
    width = 0.0
    for char in text:
        if ord(char) > 0x2000 or char in "%@MWmw":
            width += 1.0
        elif char.isalnum():
            width += 0.7
        else:
            width += 0.4
    return width


GAP = 0.6  # ems between a row's name and its value label (9 units, ~7 px on a phone)


def fit_label(label: str, value_label: str) -> str:
    """A row's name shortened (with …) so it and its value label share one
    line of the chart at the phone's lettering (TEXT units); the full name
    stays in the tooltip and the table."""
    room = WIDTH / TEXT - text_width(value_label) - GAP
    if text_width(label) <= room:
        return label
    while len(label) > 4 and text_width(label) + 1 > room:  # 1: the "…"
        label = label[:-1]
    return label.rstrip() + "…"
