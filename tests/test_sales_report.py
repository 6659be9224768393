"""판로지원 실적 (issue 19): the staff report of both channels.

A small hand-made data set whose every figure is worked out by hand below:
per enterprise, per type, per channel, the change on a year earlier,
unmatched sellers, repeat buyers and Seoul-midnight boundaries; the headline
sentence exactly; the XLSX and CSV; permissions; hostile periods; and a
fixed number of SQL statements whatever the data size."""

import csv
import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from market.customers.models import Order
from market.customers.samples import KOREAN_HEADER
from market.extensions import db
from market.sales import figures, report
from market.sales.figures import MonthChannels, monthly_channels, seoul_bounds, year_earlier
from market.takings.models import Takings
from market.vendors.models import Category, EnterpriseType
from tests.customer_factories import make_customer
from tests.takings_factories import add_takings, market_on
from tests.vendors_factories import make_vendor

START, END = date(2026, 1, 1), date(2026, 4, 30)
PERIOD = {"start": "2026-01-01", "end": "2026-04-30"}


def _order(number, customer, at, amount, vendor=None, seller=None):
    db.session.add(
        Order(
            order_no=number,
            customer_id=customer.id,
            ordered_at=at,
            vendor_id=vendor.id if vendor else None,
            seller_name=seller or (vendor.name if vendor else "?"),
            product="상품",
            amount=amount,
        )
    )


@pytest.fixture
def world(app):
    """Four enterprises, four market days, a dozen orders.

    Period 2026-01-01..04-30 (Seoul); the year before 2025-01-01..04-30.
      가온식품 (사회적기업, 식품): takings 300,000 (cash 100,000 card 200,000) on
        2/5 and 500,000 (cash) on 4/2; orders 20,000 (c1, Jan), 30,000 (c1,
        3/31 15:30 UTC = 4/1 KST), 10,000 (c2, 4/30 23:30 KST); not 70,000
        (c2, 5/1 00:10 KST). Year before: takings 400,000, order 15,000.
      나래공방 (마을기업, 공예품): takings 150,000 (vouchers) on 4/2; order 5,000.
      다솜협동조합 (협동조합, 식품): order 12,000 at 2026-01-01 00:00 KST; not
        8,000 a minute before (2025-12-31 23:59 KST); takings 999,000 in May.
      라온 (사회적기업, 공예품): only the year before, takings 200,000.
      Unmatched: 모르는상점 40,000 + 60,000 (c2), =HYPERLINK("x") 7,000 (c1);
        the year before 모르는상점 9,000.
    """
    a = make_vendor("가온식품", enterprise_type=EnterpriseType.SOCIAL, category=Category.FOOD)
    b = make_vendor("나래공방", enterprise_type=EnterpriseType.VILLAGE, category=Category.CRAFTS)
    c = make_vendor(
        "다솜협동조합", enterprise_type=EnterpriseType.COOPERATIVE, category=Category.FOOD
    )
    d = make_vendor("라온", enterprise_type=EnterpriseType.SOCIAL, category=Category.CRAFTS)
    feb, apr = market_on(date(2026, 2, 5)), market_on(date(2026, 4, 2))
    before, may = market_on(date(2025, 3, 6)), market_on(date(2026, 5, 7))
    add_takings(a, feb, 300_000, cash=100_000, card=200_000)
    add_takings(a, apr, 500_000, cash=500_000)
    add_takings(b, apr, 150_000, voucher=150_000)
    add_takings(a, before, 400_000)
    add_takings(d, before, 200_000)
    add_takings(c, may, 999_000)
    c1, c2, c3 = (make_customer(f"c{n}@example.com") for n in (1, 2, 3))
    _order("A1", c1, datetime(2026, 1, 10, 3, 0, tzinfo=UTC), 20_000, a)
    _order("A2", c1, datetime(2026, 3, 31, 15, 30, tzinfo=UTC), 30_000, a)
    _order("A3", c2, datetime(2026, 4, 30, 14, 30, tzinfo=UTC), 10_000, a)
    _order("A4", c2, datetime(2026, 4, 30, 15, 10, tzinfo=UTC), 70_000, a)
    _order("A0", c3, datetime(2025, 2, 1, 3, 0, tzinfo=UTC), 15_000, a)
    _order("B1", c3, datetime(2026, 2, 14, 0, 0, tzinfo=UTC), 5_000, b)
    _order("C0", c3, datetime(2025, 12, 31, 14, 59, tzinfo=UTC), 8_000, c)
    _order("C1", c1, datetime(2025, 12, 31, 15, 0, tzinfo=UTC), 12_000, c)
    _order("U1", c2, datetime(2026, 2, 1, 3, 0, tzinfo=UTC), 40_000, seller="모르는상점")
    _order("U2", c2, datetime(2026, 2, 2, 3, 0, tzinfo=UTC), 60_000, seller="모르는상점")
    _order("U3", c1, datetime(2026, 3, 3, 3, 0, tzinfo=UTC), 7_000, seller='=HYPERLINK("x")')
    _order("U0", c1, datetime(2025, 4, 1, 3, 0, tzinfo=UTC), 9_000, seller="모르는상점")
    db.session.commit()
    return {"a": a, "b": b, "c": c, "d": d}


def test_seoul_bounds_are_seoul_midnights():
    assert seoul_bounds(date(2026, 4, 1), date(2026, 4, 30)) == (
        datetime(2026, 3, 31, 15, 0, tzinfo=UTC),
        datetime(2026, 4, 30, 15, 0, tzinfo=UTC),
    )


def test_a_year_earlier_maps_29_february_to_the_28th():
    assert year_earlier(date(2028, 2, 29)) == date(2027, 2, 28)
    assert year_earlier(date(2026, 4, 30)) == date(2025, 4, 30)


def test_months_are_seoul_months_with_zeros_filled(world):
    months = monthly_channels(date(2026, 1, 1), date(2026, 6, 30))
    assert months == [
        MonthChannels(date(2026, 1, 1), 0, 32_000, 2, 0),  # A1, C1 (00:00 KST on 1 January)
        MonthChannels(date(2026, 2, 1), 300_000, 105_000, 3, 1),  # B1 and two unmatched
        MonthChannels(date(2026, 3, 1), 0, 7_000, 1, 0),  # A2 (15:30 UTC) is April already
        MonthChannels(date(2026, 4, 1), 650_000, 40_000, 2, 1),  # A2, A3 (23:30 KST)
        MonthChannels(date(2026, 5, 1), 999_000, 70_000, 1, 1),  # A4 (00:10 KST)
        MonthChannels(date(2026, 6, 1), 0, 0, 0, 0),
    ]
    matched = monthly_channels(date(2026, 2, 1), date(2026, 3, 31), matched_only=True)
    assert [(m.online, m.online_orders) for m in matched] == [(5_000, 1), (0, 0)]
    own = monthly_channels(date(2026, 1, 1), date(2026, 5, 31), vendor_id=world["a"].id)
    assert [(m.offline, m.online) for m in own] == [
        (0, 20_000),
        (300_000, 0),
        (0, 0),
        (500_000, 40_000),
        (0, 70_000),
    ]


def test_per_enterprise_figures_worked_out_by_hand(world):
    found = figures.enterprise_figures(START, END)
    assert (found.previous_start, found.previous_end) == (date(2025, 1, 1), date(2025, 4, 30))
    rows = {row.name: row for row in found.enterprises}
    assert list(rows) == ["가온식품", "나래공방", "다솜협동조합", "라온"]  # by total
    a = rows["가온식품"]
    assert a.current.offline == figures.Offline(2, 800_000, 600_000, 200_000, 0)
    assert a.current.offline.average == 400_000
    assert a.current.online == figures.Online(orders=3, total=60_000, buyers=2, repeat_buyers=1)
    assert a.current.total == 860_000
    assert (a.previous.offline.total, a.previous.online.total, a.previous.total) == (
        400_000,
        15_000,
        415_000,
    )
    assert rows["나래공방"].current.offline == figures.Offline(1, 150_000, 0, 0, 150_000)
    assert rows["나래공방"].current.online == figures.Online(1, 5_000, 1, 0)
    assert rows["다솜협동조합"].current.online == figures.Online(1, 12_000, 1, 0)
    assert rows["다솜협동조합"].current.offline.total == 0  # May is outside
    raon = rows["라온"]
    assert (raon.current.total, raon.previous.total, raon.active) == (0, 200_000, False)
    unmatched = {row.seller_name: row for row in found.unmatched}
    assert unmatched["모르는상점"].current == figures.Online(2, 100_000, 1, 1)
    assert unmatched["모르는상점"].previous == figures.Online(1, 9_000, 1, 0)
    assert unmatched['=HYPERLINK("x")'].current == figures.Online(1, 7_000, 1, 0)


def test_totals_by_type_channel_and_year(world):
    data = report.build_report(START, END)
    total = data.total
    assert (total.current.offline.total, total.current.online.total, total.current.total) == (
        950_000,
        77_000,
        1_027_000,
    )
    assert total.previous.total == 615_000  # 가온식품 415,000 + 라온 200,000
    assert total.enterprises == 3  # 라온 sold nothing this time
    assert round(total.current.online_share, 3) == 7.498  # 77,000 / 1,027,000
    assert round(total.change(), 2) == 66.99  # (1,027,000 - 615,000) / 615,000
    assert round(total.change("offline"), 2) == 58.33  # 950,000 against 600,000
    assert round(total.change("online"), 2) == 413.33  # 77,000 against 15,000
    assert data.market_days == 2
    by_type = {group.key: group for group in data.by_type}
    # The six types in its order, sold or not; 기타 only when it sold.
    assert list(by_type) == [
        "social",
        "pre_social",
        "village",
        "self_sufficiency",
        "cooperative",
        "social_cooperative",
    ]
    assert by_type["pre_social"].current.total == 0 and not by_type["pre_social"].rows
    social = by_type["social"]
    assert (social.current.total, social.previous.total, social.enterprises) == (
        860_000,
        615_000,
        1,
    )
    assert by_type["village"].current.total == 155_000
    assert by_type["village"].change() is None  # nothing a year earlier
    assert by_type["cooperative"].current.online.total == 12_000
    by_category = {group.key: group.current.total for group in data.by_category}
    assert by_category == {Category.FOOD: 872_000, Category.CRAFTS: 155_000}
    assert (data.unmatched_current.orders, data.unmatched_current.total) == (3, 107_000)
    assert [row.name for row in data.top] == ["가온식품", "나래공방", "다솜협동조합"]


def test_headline_sentence(world, app):
    with app.test_request_context():
        assert report.headline(report.build_report(START, END)) == (
            "2026년 1–4월: 3개 기업, 온라인 ₩77,000 · 장터 ₩950,000 (장터 2회)"
        )


@pytest.mark.parametrize(
    "start, end, label",
    [
        (date(2026, 1, 1), date(2026, 12, 31), "2026년"),
        (date(2026, 4, 1), date(2026, 4, 30), "2026년 4월"),
        (date(2026, 1, 1), date(2026, 4, 30), "2026년 1–4월"),
        (date(2025, 11, 1), date(2026, 2, 28), "2025년 11월–2026년 2월"),
        (date(2026, 1, 5), date(2026, 4, 20), "2026년 1월 5일–4월 20일"),
        (date(2025, 12, 5), date(2026, 1, 3), "2025년 12월 5일–2026년 1월 3일"),
        (date(2026, 4, 5), date(2026, 4, 5), "2026년 4월 5일"),
    ],
)
def test_period_labels(app, start, end, label):
    with app.test_request_context():
        assert report.period_label(start, end) == label


def test_the_page_shows_the_worked_out_figures(world, staff_client):
    page = staff_client.get("/staff/sales", query_string=PERIOD)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "2026년 1–4월: 3개 기업, 온라인 ₩77,000 · 장터 ₩950,000 (장터 2회)" in text
    for figure in ("₩1,027,000", "₩615,000", "↑ 67.0%", "₩860,000", "₩155,000", "₩12,000"):
        assert figure in text
    assert "전년 자료 없음" in text  # 나래공방 and the village type
    assert "모르는상점" in text and "₩100,000" in text
    assert "=HYPERLINK(&#34;x&#34;)" in text or "=HYPERLINK(&quot;x&quot;)" in text
    assert 'id="chart-months-title"' in text and 'id="chart-top-title"' in text
    assert "사회적기업" in text and "소계: 사회적기업" in text


def test_xlsx_for_submission(world, staff_client):
    page = staff_client.get("/staff/sales", query_string=PERIOD).get_data(as_text=True)
    response = staff_client.get("/staff/sales.xlsx", query_string=PERIOD)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == [
        "요약",
        "사회적기업",
        "예비사회적기업",
        "마을기업",
        "자활기업",
        "협동조합",
        "사회적협동조합",
        "참여기업",
        "연결 안 된 판매자",
        "월별",
    ]
    summary = book["요약"]
    assert summary["A1"].value == (
        "2026년 1–4월: 3개 기업, 온라인 ₩77,000 · 장터 ₩950,000 (장터 2회)"
    )
    total_row = next(
        row
        for row in summary.iter_rows(values_only=True)
        if row[0] == "전체 기업" and isinstance(row[6], int)
    )
    assert total_row[3] == 950_000 and total_row[5] == 77_000 and total_row[6] == 1_027_000
    assert f"₩{total_row[6]:,}" in page  # the page's total
    enterprises = list(book["참여기업"].iter_rows(values_only=True))
    headers, *rows, last = enterprises
    assert [row[0] for row in rows] == ["가온식품", "나래공방", "다솜협동조합", "라온"]
    total_column = headers.index("합계")
    assert last[0] == "합계" and last[total_column] == 1_027_000
    assert sum(row[total_column] for row in rows) == 1_027_000
    social = list(book["사회적기업"].iter_rows(values_only=True))
    assert social[-1][0] == "소계" and social[-1][headers.index("합계") - 1] == 860_000
    sellers = {row[0]: row for row in book["연결 안 된 판매자"].iter_rows(values_only=True)}
    assert sellers["모르는상점"][1:3] == (2, 100_000)
    assert '\'=HYPERLINK("x")' in sellers  # neutralised, shown as text
    money_cell = book["참여기업"].cell(row=2, column=total_column + 1)
    assert money_cell.value == 860_000 and money_cell.number_format == '"₩"#,##0'
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f"
                assert not (isinstance(cell.value, str) and cell.value.startswith("="))


def test_csv_is_one_flat_table_with_a_bom(world, staff_client):
    response = staff_client.get("/staff/sales.csv", query_string=PERIOD)
    assert response.status_code == 200
    assert response.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    header, *body = rows
    assert header[:3] == ["참여기업", "기업 유형", "품목"]
    assert [row[0] for row in body] == ["가온식품", "나래공방", "다솜협동조합", "라온", "합계"]
    assert body[0][1:3] == ["사회적기업", "식품"]
    assert body[-1][header.index("합계")] == "1027000"


def test_an_order_imported_twice_counts_once(app, runner, tmp_path):
    vendor = make_vendor("행복플러스", enterprise_type=EnterpriseType.SOCIAL)
    path = tmp_path / "orders.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(KOREAN_HEADER)
        writer.writerow(
            [
                "X-1",
                "2026-03-02 10:00",
                "김",
                "k@example.com",
                "",
                "행복플러스",
                "양말",
                "12000",
                "N",
                "",
            ]
        )
        writer.writerow(
            ["X-2", "2026-03-05", "김", "k@example.com", "", "행복플러스", "두유", "8000", "N", ""]
        )
    for _ in range(2):
        result = runner.invoke(args=["customers", "import", str(path)])
        assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count()).select_from(Order)) == 2
    found = figures.enterprise_figures(date(2026, 3, 1), date(2026, 3, 31))
    (row,) = found.enterprises
    assert row.vendor_id == vendor.id
    assert row.current.online == figures.Online(orders=2, total=20_000, buyers=1, repeat_buyers=1)


@pytest.mark.parametrize(
    "query, message, kept",
    [
        (
            {"start": "2026-04-30", "end": "2026-01-01"},
            "종료일이 시작일보다 앞서 있어",
            'value="2026-01-01"',
        ),
        ({"start": "99999-01-01", "end": "2026-04-30"}, "YYYY-MM-DD", 'value="99999-01-01"'),
        (
            {"start": "1000-01-01", "end": "2026-04-30"},
            "2000년에서 2100년 사이",
            'value="1000-01-01"',
        ),
        (
            {"start": "2026-01-01", "end": "9999-12-31"},
            "2000년에서 2100년 사이",
            'value="9999-12-31"',
        ),
    ],
)
def test_hostile_periods_say_so_and_keep_the_input(world, staff_client, query, message, kept):
    response = staff_client.get("/staff/sales", query_string=query)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert message in text and kept in text
    # A swapped period downloads as shown; an unusable date is refused (issue 19 review).
    status = 200 if query["start"] == "2026-04-30" else 400
    for export in ("/staff/sales.xlsx", "/staff/sales.csv"):
        assert staff_client.get(export, query_string=query).status_code == status


def test_a_reversed_period_is_shown_swapped(world, staff_client):
    text = staff_client.get(
        "/staff/sales", query_string={"start": "2026-04-30", "end": "2026-01-01"}
    ).get_data(as_text=True)
    assert "2026년 1–4월: 3개 기업" in text


def test_control_characters_in_the_period_are_no_server_error(staff_client):
    for value in ("2026-01-01\x00", "2026-01-01\r\nX", "%00"):
        response = staff_client.get("/staff/sales", query_string={"start": value})
        assert response.status_code < 500


def test_a_page_past_the_end_says_so(world, staff_client):
    text = staff_client.get("/staff/sales", query_string={**PERIOD, "page": 9}).get_data(
        as_text=True
    )
    assert "9쪽은 없습니다" in text


def _enterprises(first: int, count: int, day: date) -> None:
    market = market_on(day)
    customer = make_customer(f"many{first}@example.com")
    for n in range(first, first + count):
        vendor = make_vendor(f"기업{n:03d}", category=list(Category)[n % 7])
        add_takings(vendor, market, 10_000 + n)
        _order(f"N{n}", customer, datetime(2026, 3, 6, tzinfo=UTC), 1_000, vendor)
    db.session.commit()


def test_the_page_runs_a_fixed_number_of_statements(app, staff_client, count_queries):
    _enterprises(0, 2, date(2026, 3, 5))
    with count_queries() as small:
        assert staff_client.get("/staff/sales", query_string=PERIOD).status_code == 200
    _enterprises(2, 48, date(2026, 3, 12))
    with count_queries() as large:
        assert staff_client.get("/staff/sales", query_string=PERIOD).status_code == 200
    # The login, the fingerprint (market.sales.cache), then takings and
    # orders per month and per enterprise, and the orders half stored for
    # the other workers (market.sales.snapshots).
    assert small.count == large.count <= 7, large.statements


def test_a_kept_report_is_used_until_the_data_changes(world, staff_client, count_queries):
    """The report is kept per process (market.sales.cache): a second look
    costs the login and the fingerprint; a new order or a corrected takings
    entry is seen at once."""
    assert "₩1,027,000" in staff_client.get("/staff/sales", query_string=PERIOD).get_data(
        as_text=True
    )
    with count_queries() as again:
        text = staff_client.get("/staff/sales", query_string=PERIOD).get_data(as_text=True)
    assert "₩1,027,000" in text and again.count == 2, again.statements
    _order(
        "A5", make_customer("c9@example.com"), datetime(2026, 4, 1, tzinfo=UTC), 3_000, world["a"]
    )
    db.session.commit()
    text = staff_client.get("/staff/sales", query_string=PERIOD).get_data(as_text=True)
    assert "₩1,030,000" in text
    takings = db.session.scalars(select(Takings).where(Takings.vendor_id == world["b"].id)).one()
    takings.amount, takings.voucher = 160_000, 160_000
    db.session.commit()
    text = staff_client.get("/staff/sales", query_string=PERIOD).get_data(as_text=True)
    assert "₩1,040,000" in text


def test_a_purge_is_seen_at_once_by_a_kept_report(world, staff_client):
    """`customers purge` deletes orders without adding one; the kept report
    must not go on counting them."""
    from market.customers.services import purge_inactive

    assert "₩1,027,000" in staff_client.get("/staff/sales", query_string=PERIOD).get_data(
        as_text=True
    )
    counts = purge_inactive(days=1, now=datetime(2036, 1, 1, tzinfo=UTC))
    db.session.commit()
    assert counts.orders > 0
    text = staff_client.get("/staff/sales", query_string=PERIOD).get_data(as_text=True)
    assert "₩1,027,000" not in text


def test_month_chart_labels_months_or_years(app):
    from market.sales import charts

    def months(first_year, count):
        return [
            MonthChannels(date(first_year + (n // 12), n % 12 + 1, 1), 1_000, 2_000, 1)
            for n in range(count)
        ]

    with app.test_request_context():
        year = charts.months(months(2026, 12))
        ten = charts.months(months(2016, 132))
    assert [stack.label for stack in year.stacks if stack.label][-1] == "12월"
    assert all(len(stack.segments) == 2 for stack in year.stacks)  # market below, online on top
    labels = [stack.label for stack in ten.stacks if stack.label]
    assert labels and all(label.isdigit() for label in labels) and labels[-1] == "2026"
