"""The charts' geometry leaves room for the phone's lettering (TEXT units,
see market/takings/charts.py and the container queries in app.css): a row's
name and value share one line, labels under columns and a line keep their
distance. What Chromium renders is measured in tests/browser/test_chart_text.py."""

from datetime import date
from itertools import pairwise

from market.sales import charts as sales_charts
from market.sales.figures import MonthChannels
from market.takings import charts
from market.takings.charts import GAP, LABEL_SPACE, TEXT, WIDTH, Item, fit_label, text_width

LINE = WIDTH / TEXT  # ems on one line of a chart at the phone's lettering


def test_a_rows_name_is_shortened_only_as_far_as_its_value_needs():
    value = "₩58,509,000 · 91% 온라인"
    assert fit_label("행복플러스", value) == "행복플러스"
    short = fit_label("한국컴퓨터재생센터협동조합연합회", value)
    assert short.endswith("…") and "한국컴퓨터재생센터협동조합연합회".startswith(short[:-1])
    assert text_width(short) + GAP + text_width(value) <= LINE
    # A short value leaves the name more room; an impossible one keeps a few letters.
    assert len(fit_label("한국컴퓨터재생센터협동조합연합회", "₩1,000")) > len(short)
    assert len(fit_label("한국컴퓨터재생센터", "₩1" * 40)) == 5


def test_rows_charts_fit_their_names():
    items = [
        Item("가나다라마바사아자차카타파하가나다라", 5_000_000, value_label="₩5,000,000 · 50.0%")
    ]
    chart = charts.rows("c", "t", "d", items)
    shape = chart.shapes[0]
    assert text_width(shape.item.label) + GAP + text_width(shape.item.value_label) <= LINE


def test_labels_under_columns_and_on_a_line_keep_their_distance():
    items = [Item(f"{n}", n * 1000) for n in range(30)]
    columns = charts.columns("c", "t", "d", items)
    shown = [s.x + s.width / 2 for s in columns.shapes if s.show_label]
    assert all(b - a >= LABEL_SPACE for a, b in pairwise(shown))
    months = [Item(str(2016 + n // 12) if n % 12 == 0 else "", n) for n in range(132)]
    line = charts.line("c", "t", "d", months)
    xs = [m.x for m in line.markers if m.show_label]
    assert len(xs) >= 3 and all(b - a >= LABEL_SPACE for a, b in pairwise(xs))


def test_sales_month_labels_keep_their_distance(app):
    rows = [MonthChannels(date(2025 + n // 12, n % 12 + 1, 1), 1_000, 2_000, 1) for n in range(18)]
    with app.test_request_context():
        chart = sales_charts.months(rows)
    xs = [stack.x for stack in chart.stacks if stack.label]
    assert len(xs) >= 3 and all(b - a >= LABEL_SPACE for a, b in pairwise(xs))
    # "9,000만" beside the axis fits in the margin at the phone's lettering.
    assert text_width("9,000만") * TEXT + 6 <= chart.plot_left
