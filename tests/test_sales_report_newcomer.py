"""판로지원 실적 after a newcomer's reading (issue 19): a total is compared
with a year earlier only where that year has data for both channels; the
unsplit part of the takings is shown so cash, card and vouchers add up;
XLSX columns as wide as their Korean names; one notice for a period that
could not be used as typed, and no download of another period."""

import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from market.core.exports import display_width
from market.customers.models import Order
from market.extensions import db
from market.sales import report
from market.vendors.models import Category, EnterpriseType
from tests.customer_factories import make_customer
from tests.takings_factories import add_takings, market_on
from tests.vendors_factories import make_vendor

PERIOD = {"start": "2026-01-01", "end": "2026-04-30"}
LONG_NAME = "한국컴퓨터재생센터"


def _order(number, customer, at, amount, vendor):
    db.session.add(
        Order(
            order_no=number,
            customer_id=customer.id,
            ordered_at=at,
            vendor_id=vendor.id,
            seller_name=vendor.name,
            product="상품",
            amount=amount,
        )
    )


@pytest.fixture
def no_market_last_year(app):
    """Takings only this year (the app's market records start in 2026),
    orders both years.
      행복플러스: takings 300,000 (cash 250,000, card 50,000) on 3/5 and
        150,000 not split on 3/12, + online 100,000; a year earlier online
        100,000. As totals: 550,000 against 100,000 = ↑450%, which is wrong.
      한국컴퓨터재생센터: takings 200,000 not split at all."""
    happy = make_vendor("행복플러스", enterprise_type=EnterpriseType.SOCIAL, category=Category.FOOD)
    long = make_vendor(LONG_NAME, enterprise_type=EnterpriseType.SOCIAL, category=Category.CRAFTS)
    day = market_on(date(2026, 3, 5))
    add_takings(happy, day, 300_000, cash=250_000, card=50_000)
    add_takings(happy, market_on(date(2026, 3, 12)), 150_000)
    add_takings(long, day, 200_000)
    customer = make_customer("c@example.com")
    _order("H1", customer, datetime(2026, 2, 1, 3, 0, tzinfo=UTC), 100_000, happy)
    _order("H0", customer, datetime(2025, 2, 1, 3, 0, tzinfo=UTC), 100_000, happy)
    db.session.commit()
    return happy


def test_a_total_is_not_compared_with_a_year_without_market_data(no_market_last_year, app):
    data = report.build_report(date(2026, 1, 1), date(2026, 4, 30))
    assert data.coverage == report.Coverage(offline=False, online=True)
    assert data.compare(data.total.current, data.total.previous) == report.Comparison(
        None, "offline", other_sold=True
    )
    # Market alone this year: the total is the market's, said without "total not compared".
    long = next(row for row in data.enterprises if row.name == LONG_NAME)
    assert data.compare(long.current, long.previous) == report.Comparison(None, "offline")
    happy = next(row for row in data.enterprises if row.name == "행복플러스")
    assert data.compare(happy.current, happy.previous).missing == "offline"
    # Online alone has data both years: still compared (100,000 against 100,000).
    assert data.total.change("online") == 0.0
    with app.test_request_context():
        assert report.comparison_label(report.Comparison(None, "offline", True)) == (
            "전년 장터 자료 없음 — 합계 비교 생략"
        )
        assert report.comparison_label(report.Comparison(None, "offline")) == (
            "전년 장터 자료 없음"
        )


def test_a_total_with_both_channels_a_year_earlier_is_compared(app):
    vendor = make_vendor("가온", enterprise_type=EnterpriseType.SOCIAL, category=Category.FOOD)
    add_takings(vendor, market_on(date(2025, 3, 6)), 100_000)
    add_takings(vendor, market_on(date(2026, 3, 5)), 150_000)
    _order(
        "G0", make_customer("g@example.com"), datetime(2025, 2, 1, 3, 0, tzinfo=UTC), 50_000, vendor
    )
    db.session.commit()
    data = report.build_report(date(2026, 1, 1), date(2026, 4, 30))
    # 150,000 against 150,000; online sold nothing now, so no channel is unknown.
    assert data.compare(data.total.current, data.total.previous) == report.Comparison(0.0)


def test_the_page_and_the_xlsx_do_not_compare_totals_without_market_data(
    no_market_last_year, staff_client
):
    text = staff_client.get("/staff/sales", query_string=PERIOD).get_data(as_text=True)
    assert "전년 장터 자료 없음 — 합계 비교 생략" in text
    assert "↑ 450.0%" not in text  # 행복플러스's old overstated growth
    assert "↑ 650.0%" not in text  # the total's: 750,000 against 100,000
    response = staff_client.get("/staff/sales.xlsx", query_string=PERIOD)
    book = load_workbook(io.BytesIO(response.data))
    headers, *rows = book["참여기업"].iter_rows(values_only=True)
    column = headers.index("전년 대비(%)")
    assert {row[0]: row[column] for row in rows}["행복플러스"] == (
        "전년 장터 자료 없음 — 합계 비교 생략"
    )
    summary = [row for row in book["요약"].iter_rows(values_only=True) if row[0] == "전체 기업"]
    assert summary[-1][9] == "전년 장터 자료 없음 — 합계 비교 생략"


def test_the_unsplit_takings_are_shown_so_the_parts_add_up(no_market_last_year, staff_client):
    text = staff_client.get("/staff/sales", query_string=PERIOD).get_data(as_text=True)
    # 650,000 at the market: cash 250,000 + card 50,000 + vouchers 0 + 350,000 not split.
    assert "현금 ₩250,000, 카드 ₩50,000, 상품권 ₩0, 나누어 적지 않음 ₩350,000" in text
    # 행복플러스's note; the label keeps together and to its amount (no-break spaces)
    assert "나누어\u00a0적지\u00a0않음\u00a0₩150,000" in text
    assert "나누어\u00a0적지\u00a0않음\u00a0₩200,000" in text  # split not given at all
    response = staff_client.get("/staff/sales.xlsx", query_string=PERIOD)
    headers, *rows = load_workbook(io.BytesIO(response.data))["참여기업"].iter_rows(
        values_only=True
    )
    at = {name: headers.index(name) for name in ("현금", "카드", "상품권", "나누어 적지 않음")}
    takings = headers.index("장터 매출")
    for row in rows:
        assert sum(row[i] for i in at.values()) == row[takings]
    assert {row[0]: row[at["나누어 적지 않음"]] for row in rows}[LONG_NAME] == 200_000


def test_xlsx_name_columns_fit_korean_names(no_market_last_year, staff_client):
    response = staff_client.get("/staff/sales.xlsx", query_string=PERIOD)
    book = load_workbook(io.BytesIO(response.data))
    need = display_width(LONG_NAME)
    assert need == 18  # nine Korean characters, two widths each
    for title in ("사회적기업", "참여기업"):
        assert book[title].column_dimensions["A"].width >= need
    assert display_width("₩1,000") == 6 and display_width(None) == 0


def test_a_reversed_period_gives_one_notice(staff_client):
    text = staff_client.get(
        "/staff/sales", query_string={"start": "2026-04-30", "end": "2026-01-01"}
    ).get_data(as_text=True)
    assert text.count("종료일이 시작일보다 앞서 있어") == 1
    assert "입력한 날짜를 그대로 쓸 수 없어" not in text  # the dates were used, swapped
    assert text.count('role="alert"') == 1


@pytest.mark.parametrize("typed", ["99999-12-01", "0001-01-01", "1999-12-31", "2101-01-01"])
def test_every_unusable_date_gets_the_same_message(staff_client, typed):
    text = staff_client.get(
        "/staff/sales", query_string={"start": typed, "end": "2026-04-30"}
    ).get_data(as_text=True)
    assert "날짜를 YYYY-MM-DD 형식으로, 2000년에서 2100년 사이로 입력하세요." in text
    assert "2026-11-26" not in text  # no fixed example date that reads like data
    assert text.count('role="alert"') == 1


@pytest.mark.parametrize("export", ["/staff/sales.xlsx", "/staff/sales.csv"])
@pytest.mark.parametrize(
    "query",
    [
        {"start": "99999-12-01", "end": "2026-01-01"},
        {"start": "2026-01-01", "end": "0001-01-01"},
        {"start": "2026-13-01", "end": "2026-01-01"},
    ],
)
def test_a_download_of_an_unreadable_period_is_refused(staff_client, export, query):
    response = staff_client.get(export, query_string=query)
    assert response.status_code == 400
    assert "Content-Disposition" not in response.headers  # no file of another period
    text = response.get_data(as_text=True)
    assert "이 기간으로는 내려받을 수 없습니다" in text and "YYYY-MM-DD" in text


def test_a_download_with_a_control_character_is_refused_too(staff_client):
    # The app's own 400 page (market.core.web refuses control characters first).
    response = staff_client.get(
        "/staff/sales.csv", query_string={"start": "2026-01-01\x00", "end": "2026-02-01"}
    )
    assert response.status_code == 400 and "Content-Disposition" not in response.headers


def test_a_download_of_a_good_or_swapped_period_is_named_by_its_dates(staff_client):
    for query in (PERIOD, {"start": "2026-04-30", "end": "2026-01-01"}):
        response = staff_client.get("/staff/sales.xlsx", query_string=query)
        assert response.status_code == 200
        assert "sales-2026-01-01-2026-04-30.xlsx" in response.headers["Content-Disposition"]
