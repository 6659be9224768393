"""The server-drawn charts read at phone size: their SVG text scales with the
viewBox, so each page's charts are measured as Chromium renders them (the
font size times the text's screen scale, getScreenCTM) at 360 and 1280 px.
Before the lettering followed the chart's width (app.css, container queries)
the axis labels were 10 px on a phone and 20-24 px on a desktop.

Also the phone's card tables (.table-stack): a table's footer (the totals)
fills its card, instead of ending in a grey part-width bar."""

import pytest

from market.demo import DEMO_PASSWORD
from tests.browser.conftest import log_in
from tests.browser.test_accessibility import assert_accessible

STAFF, VENDOR = "staff@demo.market.kr", "vendor@demo.market.kr"
PAGES = [
    (STAFF, "/staff/sales", {"chart-months", "chart-top"}),
    (STAFF, "/staff/takings/report", {"chart-markets", "chart-vendors"}),
    (STAFF, "/staff/invitations/report", {"chart-funnel"}),
    (STAFF, "/staff/", {"chart-markets"}),
    (VENDOR, "/vendor/", {"chart-months"}),
]

# Per visible chart: its id, the rendered font sizes of its texts, whether
# its title and description are its accessible name, how many text boxes
# overlap another and how many reach outside the chart.
MEASURE = """() => [...document.querySelectorAll("svg.chart-svg")]
  .filter((svg) => svg.getBoundingClientRect().width > 0)
  .map((svg) => {
    const box = svg.getBoundingClientRect();
    const texts = [...svg.querySelectorAll("text")]
      .filter((t) => t.getBoundingClientRect().height > 0);
    const rects = texts.map((t) => t.getBoundingClientRect());
    const meet = (a, b) => a.left < b.right - 1 && b.left < a.right - 1
      && a.top < b.bottom - 1 && b.top < a.bottom - 1;
    let overlaps = 0;
    rects.forEach((a, i) => rects.slice(i + 1).forEach((b) => { if (meet(a, b)) overlaps++; }));
    const ids = (svg.getAttribute("aria-labelledby") || "").split(" ");
    const [title, desc] = ids.map((id) => document.getElementById(id));
    const cut = (r) => r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1;
    return {
      id: ids[0].replace(/-title$/, ""),
      sizes: texts.map((t) => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a),
      named: svg.getAttribute("role") === "img" && title?.tagName === "title"
        && (desc?.textContent || "").trim().length > 0,
      overlaps,
      outside: rects.filter(cut).length,
    };
  })"""


@pytest.fixture(scope="module")
def demo(server):
    server.flask("seed-demo")
    return server


def _context(browser, width: int):
    return browser.new_context(
        viewport={"width": width, "height": 900},
        locale="ko-KR",
        timezone_id="Asia/Seoul",
        is_mobile=width < 720,
        has_touch=width < 720,
    )


@pytest.mark.parametrize("width, smallest, largest", [(360, 11.5, 14.5), (1280, 11.5, 16.5)])
def test_chart_text_is_readable_on_a_phone_and_not_huge_on_a_desktop(
    demo, browser, width, smallest, largest
):
    context = _context(browser, width)
    page = context.new_page()
    problems, user = [], None
    for email, path, wanted in PAGES:
        if email != user:
            page.context.clear_cookies()
            log_in(page, demo.url, email, DEMO_PASSWORD)
            user = email
        page.goto(demo.url + path)
        charts = page.evaluate(MEASURE)
        assert wanted <= {chart["id"] for chart in charts}, (path, charts)
        for chart in charts:
            where = f"{path} {chart['id']} at {width} px"
            sizes = chart["sizes"]
            assert sizes, where
            if min(sizes) < smallest or max(sizes) > largest:
                problems.append(f"{where}: text {min(sizes):.1f}..{max(sizes):.1f} px")
            if not chart["named"]:
                problems.append(f"{where}: no <title>/<desc> name")
            if chart["overlaps"] or chart["outside"]:
                problems.append(f"{where}: {chart['overlaps']} overlapping, {chart['outside']} cut")
    context.close()
    assert problems == [], "\n".join(problems)


def test_a_card_tables_totals_fill_the_card_on_a_phone(demo, browser):
    context = _context(browser, 360)
    page = context.new_page()
    log_in(page, demo.url, STAFF, DEMO_PASSWORD)
    footers = []
    for path in ("/staff/takings/report", "/staff/sales"):
        page.goto(demo.url + path)
        footers += page.evaluate(
            """() => [...document.querySelectorAll(".table-stack tfoot")].map((foot) => ({
              foot: foot.getBoundingClientRect().width,
              table: foot.closest("table").getBoundingClientRect().width,
              border: getComputedStyle(foot.querySelector("tr:last-child")).borderBottomWidth,
            }))"""
        )
    context.close()
    assert footers, "no card table with totals was checked"
    for footer in footers:
        assert footer["foot"] == pytest.approx(footer["table"], abs=1), footer
        assert footer["border"] == "0px", footer


@pytest.mark.parametrize("email, path", [(None, "/"), (STAFF, "/staff/")])
def test_pages_with_the_demo_data_are_accessible(demo, browser, email, path):
    """axe-core on pages as the demo fills them (test_accessibility runs on a
    nearly empty database): a market open for enterprises shows its green
    badge, which had 4.0:1 on the page background (WCAG AA needs 4.5:1)."""
    context = _context(browser, 360)
    page = context.new_page()
    if email:
        log_in(page, demo.url, email, DEMO_PASSWORD)
    page.goto(demo.url + path)
    assert page.locator(".badge").count() > 0, "no badge to check"
    assert_accessible(page)
    context.close()
