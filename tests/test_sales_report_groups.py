"""판로지원 실적: the six types of the issue (예비사회적기업 one type of two
kinds), totals that say what they count, the year before of a whole month,
the monthly table and the cash/card/voucher split on the page, and a period
with one date that had to be swapped."""

import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from market.extensions import db
from market.sales import report
from market.sales.figures import enterprise_figures
from market.sales.periods import year_earlier_end
from market.vendors.models import Category, EnterpriseType
from tests.customer_factories import make_customer
from tests.takings_factories import add_takings, market_on
from tests.test_sales_report import _order
from tests.vendors_factories import make_vendor

PERIOD = {"start": "2026-01-01", "end": "2026-04-30"}
SIX = ["사회적기업", "예비사회적기업", "마을기업", "자활기업", "협동조합", "사회적협동조합"]


@pytest.fixture
def kinds(app):
    """예비사회적기업 of both kinds, an 기타 enterprise and a 마을기업, on two
    market days (2/5, 4/2) of January–April 2026:
      지역 (예비, 지역형): 100,000 on 2/5 (cash 60,000, card 40,000), 300,000 on 4/2;
        online 10,000 and 20,000 from buyer c1.
      부처 (예비, 부처형): 200,000 on 4/2 (vouchers); online 5,000 from c1.
      기타상점 (기타): 50,000 on 2/5.
      마을 (마을기업): online 7,000 from c1.
    Market days held: 2; attendances: 4; c1 bought from three enterprises."""
    regional = make_vendor("지역", enterprise_type=EnterpriseType.PRE_SOCIAL_REGIONAL)
    ministry = make_vendor("부처", enterprise_type=EnterpriseType.PRE_SOCIAL_MINISTRY)
    other = make_vendor("기타상점", enterprise_type=EnterpriseType.OTHER, category=Category.CRAFTS)
    village = make_vendor("마을", enterprise_type=EnterpriseType.VILLAGE)
    feb, apr = market_on(date(2026, 2, 5)), market_on(date(2026, 4, 2))
    add_takings(regional, feb, 100_000, cash=60_000, card=40_000)
    add_takings(regional, apr, 300_000)
    add_takings(ministry, apr, 200_000, voucher=200_000)
    add_takings(other, feb, 50_000)
    c1 = make_customer("c1@example.com")
    _order("R1", c1, datetime(2026, 3, 1, 3, tzinfo=UTC), 10_000, regional)
    _order("R2", c1, datetime(2026, 3, 2, 3, tzinfo=UTC), 20_000, regional)
    _order("M1", c1, datetime(2026, 3, 3, 3, tzinfo=UTC), 5_000, ministry)
    _order("V1", c1, datetime(2026, 3, 4, 3, tzinfo=UTC), 7_000, village)
    db.session.commit()


def test_pre_social_is_one_type_with_its_two_kinds(kinds, app):
    with app.test_request_context():
        data = report.build_report(date(2026, 1, 1), date(2026, 4, 30))
    assert [group.label for group in data.by_type] == [*SIX, "기타 사회적경제기업"]
    pre = data.by_type[1]
    assert (pre.current.total, pre.enterprises) == (635_000, 2)
    assert [(part.label, part.current.total) for part in pre.parts] == [
        ("예비사회적기업 지역형", 430_000),
        ("예비사회적기업 부처형", 205_000),
    ]
    assert data.by_type[-1].current.total == 50_000  # 기타, apart and last
    assert [row.name for row in data.by_type_rows] == ["지역", "부처", "마을", "기타상점"]


def test_the_page_shows_the_types_split_and_months(kinds, staff_client):
    text = staff_client.get("/staff/sales", query_string=PERIOD).get_data(as_text=True)
    assert "└ 예비사회적기업 지역형" in text and "└ 예비사회적기업 부처형" in text
    assert "소계: 예비사회적기업" in text
    assert "참여 3회" in text  # the subtotal counts attendances, not market days
    assert "장터 2회 · 장터 1회당 ₩200,000" in text  # 지역: 400,000 over its 2 days
    # 지역's split as a cell note; a label keeps to its amount (no-break spaces)
    assert "현금\u00a0₩60,000 · 카드\u00a0₩40,000 · 상품권\u00a0₩0" in text
    months = text[text.index('id="months-heading"') : text.index('id="top-heading"')]
    assert "<details>" in months and "2026년 3월" in months and "₩42,000" in months


def test_xlsx_lists_all_six_types_with_honest_totals(kinds, staff_client):
    response = staff_client.get("/staff/sales.xlsx", query_string=PERIOD)
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames[1:8] == [*SIX, "기타 사회적경제기업"]
    assert book["자활기업"].max_row == 2  # headers and a subtotal of zeros
    summary = list(book["요약"].iter_rows(values_only=True))
    labels = [row[0] for row in summary]
    for label in SIX:
        assert label in labels
    assert "└ 예비사회적기업 지역형" in labels
    row = summary[labels.index("자활기업")]
    assert row[1:7] == (0, 0, 0, 0, 0, 0)
    enterprises = list(book["참여기업"].iter_rows(values_only=True))
    headers, last = enterprises[0], enterprises[-1]
    column = {name: n for n, name in enumerate(headers)}
    assert "매출 입력한 장날" in column and "장터 1회당 평균" in column
    assert last[column["매출 입력한 장날"]] == 4  # attendances
    assert last[column["장터 1회당 평균"]] == 325_000  # 650,000 over 2 market days held
    assert last[column["구매자"]] is None and last[column["재구매자"]] is None
    pre = list(book["예비사회적기업"].iter_rows(values_only=True))
    assert [row[0] for row in pre[-3:]] == [
        "소계",
        "소계: 예비사회적기업 지역형",
        "소계: 예비사회적기업 부처형",
    ]
    assert pre[-3][pre[0].index("장터 1회당 평균")] is None  # a subtotal's days are not counted


def test_sheet_titles_are_distinct_and_short_in_english(kinds, client, staff, login_as):
    login_as(staff)
    client.post("/language", data={"lang": "en", "next": "/"})
    response = client.get("/staff/sales.xlsx", query_string=PERIOD)
    names = load_workbook(io.BytesIO(response.data)).sheetnames
    assert "Pre-certified social enterprise" in names
    assert len(set(names)) == len(names) and all(len(name) <= 31 for name in names)


@pytest.mark.parametrize(
    "end, earlier",
    [
        (date(2029, 2, 28), date(2028, 2, 29)),  # a whole February against a leap one
        (date(2028, 2, 29), date(2027, 2, 28)),
        (date(2026, 4, 30), date(2025, 4, 30)),
        (date(2026, 4, 20), date(2025, 4, 20)),
        (date(2026, 12, 31), date(2025, 12, 31)),
    ],
)
def test_a_period_ending_a_month_compares_with_that_whole_month(end, earlier):
    assert year_earlier_end(end) == earlier


def test_a_whole_february_counts_29_february_a_year_earlier(app):
    vendor = make_vendor("윤년상회")
    add_takings(vendor, market_on(date(2028, 2, 29)), 90_000)
    db.session.commit()
    figures = enterprise_figures(date(2029, 2, 1), date(2029, 2, 28))
    assert figures.previous_end == date(2028, 2, 29)
    assert figures.enterprises[0].previous.offline.total == 90_000


def test_only_a_start_after_today_says_it_was_swapped(staff_client):
    text = staff_client.get("/staff/sales", query_string={"start": "2099-01-01"}).get_data(
        as_text=True
    )
    assert "끝 날짜가 없어" in text and "두 날짜를 바꿔 보여 줍니다" in text
    text = staff_client.get("/staff/sales", query_string={"end": "2001-01-01"}).get_data(
        as_text=True
    )
    assert "시작 날짜가 없어" in text
