"""The booth map: where every box, line of text and colour goes (no I/O).

`templates/booths/_map.html` draws it as inline SVG. Booths stand along one
row, booth 1 on the left; a phone gets the same booths wrapped onto two rows
(a second SVG with its own viewBox, shown instead by CSS), so names stay
readable at 360 px. Colour marks the category, but every box also says the
category in words, and the SVG has a title and a description for screen
readers: colour is never the only signal. A vendor's own booth ("내 부스")
gets a thick dark frame and says so in words on the map and in the
description, not by colour alone.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace

from flask_babel import gettext as _

from market.vendors.labels import category_label

# Light fills with dark text (contrast above 7:1), one per category.
COLOURS = {
    "food": "#ffe3c2",
    "farm": "#d3f2d0",
    "household": "#d0e7ff",
    "clothing": "#f1dcf7",
    "electronics": "#d5f1f3",
    "crafts": "#fff0b3",
    "other": "#e6e8eb",
}
EMPTY_FILL = "#ffffff"
SQUEEZE_AT_MOST = 0.9  # a name squeezed to 90 % of its width stays on one line


@dataclass(frozen=True)
class MapBooth:
    number: int
    name: str | None = None  # None: an empty booth
    category: str | None = None  # a Category value
    pinned: bool = False
    mine: bool = False  # the booth of the vendor looking at the map


@dataclass(frozen=True)
class Layout:
    """Sizes in viewBox units for one way of drawing the row."""

    per_row: int
    box_width: int = 112
    box_height: int = 124
    gap: int = 8
    number_size: int = 20
    name_size: int = 17
    name_chars: int = 5  # per line before a name wraps
    category_size: int = 14


@dataclass(frozen=True)
class TextLine:
    text: str
    x: float
    y: float
    size: int
    squeeze: float | None = None  # a textLength when the line is wider than the box


@dataclass(frozen=True)
class Box:
    booth: MapBooth
    x: int
    y: int
    width: int
    height: int
    fill: str
    lines: tuple[TextLine, ...]


@dataclass(frozen=True)
class Drawing:
    width: int
    height: int
    boxes: tuple[Box, ...]


@dataclass(frozen=True)
class BoothMap:
    booths: tuple[MapBooth, ...]
    wide: Drawing  # one row
    narrow: Drawing  # two rows, for phones
    title: str
    description: str
    label: str


def booth_map(booth_count: int, occupied: Iterable[MapBooth], mine: int | None = None) -> BoothMap:
    """`mine`: the number of the booth to highlight as the viewer's own."""
    by_number = {b.number: b for b in occupied}
    if mine in by_number:
        by_number[mine] = replace(by_number[mine], mine=True)
    booths = tuple(by_number.get(n, MapBooth(n)) for n in range(1, booth_count + 1))
    wide = draw(booths, Layout(per_row=booth_count))
    narrow = draw(
        booths,
        Layout(
            per_row=math.ceil(booth_count / 2),
            name_size=21,
            name_chars=4,
            category_size=17,
            number_size=23,
            box_height=132,
        ),
    )
    taken = sum(1 for b in booths if b.name)
    title = _("Booth map")
    label = _(
        "Booth map: %(taken)d of %(count)d booths taken, booth 1 on the left.",
        taken=taken,
        count=booth_count,
    )
    if mine in by_number:
        label += " " + _("Your booth is booth %(number)d.", number=mine)
    return BoothMap(booths, wide, narrow, title, " ".join(map(describe, booths)), label)


def describe(booth: MapBooth) -> str:
    if booth.name is None:
        return _("Booth %(number)d: empty.", number=booth.number)
    text = _(
        "Booth %(number)d: %(name)s, %(category)s.",
        number=booth.number,
        name=booth.name,
        category=category_label(booth.category),
    )
    return text + " " + _("Your booth.") if booth.mine else text


def draw(booths: tuple[MapBooth, ...], layout: Layout) -> Drawing:
    rows = math.ceil(len(booths) / layout.per_row)
    step_x, step_y = layout.box_width + layout.gap, layout.box_height + layout.gap
    boxes = []
    for index, booth in enumerate(booths):
        x = layout.gap + (index % layout.per_row) * step_x
        y = layout.gap + (index // layout.per_row) * step_y
        boxes.append(
            Box(
                booth,
                x,
                y,
                layout.box_width,
                layout.box_height,
                COLOURS.get(booth.category or "", EMPTY_FILL) if booth.name else EMPTY_FILL,
                _lines(booth, x, y, layout),
            )
        )
    return Drawing(layout.gap + layout.per_row * step_x, layout.gap + rows * step_y, tuple(boxes))


def _lines(booth: MapBooth, x: int, y: int, layout: Layout) -> tuple[TextLine, ...]:
    middle = x + layout.box_width / 2
    room = layout.box_width - 16
    # Outside the f-strings: pybabel does not look into them for messages.
    if booth.mine:
        number = f"{booth.number} · " + _("My booth")
    elif booth.pinned:
        number = f"{booth.number} · " + _("pinned")
    else:
        number = f"{booth.number}"
    lines = [_line(number, x + 8, y + 8 + layout.number_size, layout.number_size, room)]
    if booth.name is None:
        text = _("Empty")
        top = y + layout.box_height / 2 + layout.name_size / 2
        return (*lines, _line(text, middle, top, layout.name_size, room))
    fits = text_width(booth.name, layout.name_size) * SQUEEZE_AT_MOST <= room
    names = [booth.name] if fits else wrap(booth.name, layout.name_chars)
    top = y + layout.box_height * 0.46
    for i, part in enumerate(names):
        lines.append(_line(part, middle, top + i * (layout.name_size + 3), layout.name_size, room))
    category = category_label(booth.category)
    bottom = y + layout.box_height - 10
    lines.append(_line(category, middle, bottom, layout.category_size, room))
    return tuple(lines)


def _line(text: str, x: float, y: float, size: int, room: int) -> TextLine:
    width = text_width(text, size)
    return TextLine(text, x, y, size, squeeze=room if width > room else None)


def wrap(name: str, per_line: int, max_lines: int = 2) -> list[str]:
    """One line, or two split at a space or else in the middle; a line still
    too wide for the box is squeezed by the template (textLength)."""
    name = " ".join(name.split())
    if len(name) <= per_line:
        return [name]
    if " " in name:
        head, _space, tail = name.rpartition(" ") if len(name.split()) == 2 else _halve(name)
        return [head, tail][:max_lines]
    half = math.ceil(len(name) / 2)
    return [name[:half], name[half:]]


def _halve(name: str) -> tuple[str, str, str]:
    """Split a name of three or more words at the space nearest its middle."""
    spaces = [i for i, char in enumerate(name) if char == " "]
    cut = min(spaces, key=lambda i: abs(i - len(name) / 2))
    return name[:cut], " ", name[cut + 1 :]


def text_width(text: str, size: int) -> float:
    """A rough width: Hangul and other wide characters take a full em, the rest about half."""
    return sum(size if ord(char) > 0x2E80 else size * 0.58 for char in text)
