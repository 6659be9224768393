"""The report page's two long tables, a page at a time: the next rows on the
next page, the period kept in the page links, a page past the end said
plainly, the exports still complete, and the same number of queries for a
handful of enterprises as for many."""

import re
from datetime import date, timedelta
from html import unescape

from sqlalchemy import insert

from market.extensions import db
from market.takings.models import Takings
from market.takings.staff_views import MARKETS_PER_PAGE, VENDORS_PER_PAGE
from tests.markets_factories import make_market, make_venue
from tests.vendors_factories import make_vendor

PERIOD = "start=2025-01-01&end=2025-12-31"
REPORT = f"/staff/takings/report?{PERIOD}"


def _year_of_takings(vendors: int, markets: int, venue: str = "경기도청") -> None:
    """`vendors` enterprises over `markets` market days from 2025-01-02;
    enterprise n takes (n + 1) x ₩100,000 in all, so 기업00 is last by takings."""
    venue = make_venue(venue)
    days = [make_market(venue, date(2025, 1, 2) + timedelta(weeks=w)) for w in range(markets)]
    people = [make_vendor(f"기업{n:02d}") for n in range(vendors)]
    rows = [
        {"vendor_id": v.id, "market_id": days[n % markets].id, "amount": 100_000 * (n + 1)}
        for n, v in enumerate(people)
    ]
    # Market days nobody else reported on still get one entry, so each is a row.
    rows += [
        {"vendor_id": people[0].id, "market_id": m.id, "amount": 1_000}
        for m in days[min(vendors, markets) :]
    ]
    db.session.execute(insert(Takings), rows)
    db.session.commit()


def _get(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _vendor_names(page: str) -> list[str]:
    """The enterprise table's names in order (the chart's labels are not links)."""
    return re.findall(r'<a href="/staff/vendors/\d+">(기업\d\d)</a>', page)


def _next_link(page: str, anchor: str) -> str:
    found = re.findall(rf'<a href="([^"]+#{anchor})" rel="next">', page)
    assert len(found) == 1, found
    return unescape(found[0])


def test_page_two_shows_the_next_enterprises_and_keeps_the_period(app, staff_client):
    _year_of_takings(vendors=VENDORS_PER_PAGE + 10, markets=4)
    first = _get(staff_client, REPORT)
    names = _vendor_names(first)
    assert names[:2] == ["기업59", "기업58"] and len(names) == VENDORS_PER_PAGE
    assert "매출 순으로 참여기업 60곳 중 1~50번째입니다." in first

    link = _next_link(first, "vendors-table")
    assert "start=2025-01-01" in link and "end=2025-12-31" in link and "vendors_page=2" in link
    second = _get(staff_client, link)
    assert _vendor_names(second) == [f"기업{n:02d}" for n in range(9, -1, -1)]
    assert "매출 순으로 참여기업 60곳 중 51~60번째입니다." in second
    assert '<a href="/staff/takings/report?' in second and 'rel="prev"' in second
    # The other table and the top-ten chart stay as they were.
    assert "chart-vendors" in second and "기업59" in second
    assert len(re.findall(r'<td class="nowrap"[^>]*><a href="/staff/markets/', second)) == 4


def test_a_page_past_the_end_says_so_and_links_back(app, staff_client):
    _year_of_takings(vendors=3, markets=2)
    page = _get(staff_client, f"{REPORT}&vendors_page=9")
    assert "9쪽은 없습니다. 이 표는 1쪽까지 있습니다." in page
    back = re.search(r'<a href="([^"]+)">첫 쪽으로</a>', page).group(1)
    assert "vendors_page=1" in back and "start=2025-01-01" in back
    assert _vendor_names(_get(staff_client, unescape(back))) == ["기업02", "기업01", "기업00"]
    # Not a number, or below one: the first page.
    for odd in ("abc", "0", "-3"):
        assert _vendor_names(_get(staff_client, f"{REPORT}&vendors_page={odd}"))[0] == "기업02"


def test_the_market_days_are_paged_by_date(app, staff_client):
    _year_of_takings(vendors=2, markets=MARKETS_PER_PAGE + 2)
    first = _get(staff_client, REPORT)
    assert "날짜 순으로 장터 52개 중 1~50번째입니다." in first
    second = _get(staff_client, _next_link(first, "markets-table"))
    dates = re.findall(r'<a href="/staff/markets/\d+/takings">([^<]+)</a></td>', second)
    assert dates == ["2025년 12월 18일 (목)", "2025년 12월 25일 (목)"]
    assert "월별 매출" in second  # 52 market days are charted by month


def test_the_exports_still_have_every_row(app, staff_client):
    _year_of_takings(vendors=VENDORS_PER_PAGE + 10, markets=4)
    csv = staff_client.get(f"/staff/takings/report.csv?table=vendors&{PERIOD}")
    assert csv.get_data(as_text=True).count("\r\n") == 1 + VENDORS_PER_PAGE + 10


def test_few_or_many_enterprises_cost_the_same_queries(app, staff_client, count_queries):
    _year_of_takings(vendors=3, markets=2)
    with count_queries() as few:
        _get(staff_client, REPORT)
    _year_of_takings(VENDORS_PER_PAGE * 2 + 5, MARKETS_PER_PAGE + 5, venue="수원시청")
    with count_queries() as many:
        _get(staff_client, REPORT)
    with count_queries() as later_page:
        _get(staff_client, f"{REPORT}&vendors_page=3&markets_page=2")
    counts = (few.count, many.count, later_page.count)
    assert counts[0] == counts[1] == counts[2] <= 12, counts


def test_a_date_that_cannot_be_read_is_kept_and_explained(app, staff_client):
    page = _get(staff_client, "/staff/takings/report?start=2026-13-45&end=2026-06-30")
    assert 'value="2026-13-45"' in page, "what was typed stays in the field"
    assert "2026-11-26 형식으로 날짜를 입력하세요." in page
    assert "날짜를 읽을 수 없어" in page
    assert 'value="2026-06-30"' in page
