"""Issue 17, words: particles that follow their word, no technical words on
staff and vendor pages, facts from the data, believable demo data; and the
public schedule's cancelled markets (marked in words, hidden on request)."""

from datetime import timedelta
from pathlib import Path

import pytest
from flask import render_template_string
from flask_babel import gettext as _
from sqlalchemy import func, select

from market.booths.models import Attendance, Booth
from market.demo import seed_demo
from market.extensions import db
from market.josa import josa, resolve_particles
from market.markets import services as markets
from market.markets.models import MarketStatus
from market.takings.models import Takings
from market.timeutil import utcnow
from market.vendors.models import Application
from tests.markets_factories import make_market, make_venue, next_thursday
from tests.takings_factories import add_takings, days_ago, market_on, vendor_at
from tests.test_invitations_pages import invite_now, make_buyers, page_url, upcoming_market
from tests.vendors_factories import today

# -- josa ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "ro", "eul", "i", "eun", "gwa"),
    [
        # 받침 있음
        ("마감", "마감으로", "마감을", "마감이", "마감은", "마감과"),
        ("예정", "예정으로", "예정을", "예정이", "예정은", "예정과"),
        # 받침 없음
        ("장터", "장터로", "장터를", "장터가", "장터는", "장터와"),
        ("취소", "취소로", "취소를", "취소가", "취소는", "취소와"),
        # ㄹ 받침: (으)로 -> 로, the others as any final
        ("서울", "서울로", "서울을", "서울이", "서울은", "서울과"),
        ("마을", "마을로", "마을을", "마을이", "마을은", "마을과"),
        # digits read in Sino-Korean: 일 칠 팔 end in ㄹ; 이 사 오 구 in none
        ("1", "1로", "1을", "1이", "1은", "1과"),
        ("2", "2로", "2를", "2가", "2는", "2와"),
        ("3", "3으로", "3을", "3이", "3은", "3과"),
        ("6", "6으로", "6을", "6이", "6은", "6과"),
        ("7", "7로", "7을", "7이", "7은", "7과"),
        ("10", "10으로", "10을", "10이", "10은", "10과"),  # 십
        ("2026-13-45", "2026-13-45로", "2026-13-45를", "2026-13-45가", None, None),  # 오
        ("₩30,000,000", "₩30,000,000으로", None, None, None, None),  # 삼천만
        # Latin: letters by their names; a word is not guessed
        ("QR", "QR로", "QR을", "QR이", None, None),  # 알
        ("PDF", "PDF로", "PDF를", "PDF가", None, None),  # 에프
        ("email", "email(으)로", "email을(를)", "email이(가)", "email은(는)", "email과(와)"),
    ],
)
def test_josa_on_a_table_of_words(word, ro, eul, i, eun, gwa):
    for pair, expected in (
        ("으로/로", ro),
        ("을/를", eul),
        ("이/가", i),
        ("은/는", eun),
        ("과/와", gwa),
    ):
        if expected is not None:
            assert josa(word, pair) == expected, pair
    if word == "예정":
        assert josa(word, "을/를") == "예정을"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("장터 상태가 '예정'(으)로 바뀌었습니다.", "장터 상태가 '예정'으로 바뀌었습니다."),
        ("상태가 '참가 신청 중'(으)로 바뀌었습니다.", "상태가 '참가 신청 중'으로 바뀌었습니다."),
        ("'취소됨'(으)로 변경", "'취소됨'으로 변경"),
        ("주문번호 A-12이(가) 이미 있습니다.", "주문번호 A-12가 이미 있습니다."),
        ("장소 '서울시청'을(를) 저장했습니다.", "장소 '서울시청'을 저장했습니다."),
        ("“2026-13-45”은(는) 없는 날짜입니다.", "“2026-13-45”는 없는 날짜입니다."),
        ("₩1,000,000에서 ₩2,000,000(으)로", "₩1,000,000에서 ₩2,000,000으로"),
        ("<strong>서울</strong>(으)로", "<strong>서울</strong>로"),
        ("&#39;마감&#39;(으)로", "&#39;마감&#39;으로"),
        ("“abc”은(는)", "“abc”은(는)"),  # not told: the form that reads either way stays
        ("괄호(참고)와 무관", "괄호(참고)와 무관"),
    ],
)
def test_resolve_particles(text, expected):
    assert resolve_particles(text) == expected


def test_messages_and_templates_fit_their_particles(app):
    with app.test_request_context("/"):
        status = markets.status_label(MarketStatus.PLANNED)
        message = _("The market is now %(status)s.", status=status)
        assert message == "장터 상태가 '예정'으로 바뀌었습니다."
        page = render_template_string(
            "{{ _('Make it: %(status)s', status=s) }} {{ '서울' | josa('으로/로') }}",
            s=markets.status_label(MarketStatus.CANCELLED),
        )
        assert page == "&#39;취소됨&#39;으로 변경 서울로" or page == "'취소됨'으로 변경 서울로"


def test_the_market_page_buttons_read_naturally(staff_client, app):
    market = make_market(make_venue(), next_thursday(today(), weeks=2))
    page = staff_client.get(f"/staff/markets/{market.id}").get_data(as_text=True)
    assert "(으)로" not in page
    assert "'참가 신청 중'으로 변경" in page or "&#39;참가 신청 중&#39;으로 변경" in page
    response = staff_client.post(
        f"/staff/markets/{market.id}/status", data={"status": "open"}, follow_redirects=True
    )
    assert "(으)로" not in response.get_data(as_text=True)


def test_a_date_error_fits_its_particle(staff_client, app):
    market = make_market(make_venue(), next_thursday(today(), weeks=2))
    response = staff_client.post(
        f"/staff/markets/{market.id}/copy", data={"market_date": "2027-02-30"}
    )
    text = response.get_data(as_text=True)
    assert "“2027-02-30”은(는)" not in text and "“2027-02-30”은 없는 날짜" in text  # 영 -> 은


# -- no technical words ------------------------------------------------------------------


def test_the_invitations_page_says_change_notices_not_sequence(client, staff, login_as):
    market = upcoming_market()
    hana, dul, _silent = make_buyers(market)
    invite_now(market, [hana, dul])
    login_as(staff)
    page = client.get(page_url(market)).get_data(as_text=True)
    assert "SEQUENCE" not in page and "변경 안내 차수" in page
    assert "List-Unsubscribe" not in page


def test_the_market_page_shows_no_calendar_uid(staff_client, app):
    market = make_market(make_venue(), next_thursday(today(), weeks=2))
    page = staff_client.get(f"/staff/markets/{market.id}").get_data(as_text=True)
    assert market.uid not in page and "캘린더 갱신 횟수: 0" in page


@pytest.mark.parametrize("word", ["SEQUENCE", "인코딩", "cp949", "작업이 돌면", "워커"])
def test_no_jargon_in_the_korean_catalogue(word):
    """No Korean message in use says it; an entry whose English is no longer
    in the code (left for the catalogue's next update) does not count."""
    from babel.messages.pofile import read_po

    root = Path(__file__).parents[1]
    with (root / "market/translations/ko/LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = read_po(handle)
    sources = "".join(
        path.read_text(encoding="utf-8")
        for folder in ("market", "templates")
        for path in (root / folder).rglob("*")
        if path.suffix in (".py", ".html", ".txt")
    )
    jargon = [
        message.id
        for message in catalog
        if message.id and word.lower() in str(message.string).lower()
    ]
    in_use = [msgid for msgid in jargon if isinstance(msgid, str) and f'("{msgid[:40]}' in sources]
    assert in_use == []


# -- facts from the data ----------------------------------------------------------------


def test_the_ceiling_help_quotes_the_real_best_day(client, login_as, staff):
    best = market_on(days_ago(14), ceiling=40_000_000)
    first, _ = vendor_at(best, "첫째기업")
    second, _ = vendor_at(best, "둘째기업")
    add_takings(first, best, 20_000_000)
    add_takings(second, best, 13_500_000)
    today_market = market_on(days_ago(0))
    vendor, _ = vendor_at(today_market, "셋째기업")
    add_takings(vendor, today_market, 1_000_000)
    login_as(staff)
    page = client.get(f"/staff/markets/{today_market.id}/takings").get_data(as_text=True)
    assert "31,000,000" not in page
    assert "₩33,500,000" in page and best.market_date.strftime("%Y년 %-m월 %-d일") in page


def test_the_ceiling_help_without_takings_quotes_no_number(client, login_as, staff):
    market = market_on(days_ago(0))
    login_as(staff)
    page = client.get(f"/staff/markets/{market.id}/takings").get_data(as_text=True)
    assert "31,000,000" not in page and "가장 많았던" not in page


def test_the_best_day_tile_shows_its_date(client, login_as):
    earlier = market_on(days_ago(21))
    vendor, user = vendor_at(earlier, "햇살협동조합")
    later = market_on(days_ago(7))
    from tests.takings_factories import take_part

    take_part(vendor, later)
    add_takings(vendor, earlier, 2_400_000)
    add_takings(vendor, later, 900_000)
    login_as(user)
    page = client.get("/vendor/takings/").get_data(as_text=True)
    assert f"최고 매출일: {earlier.market_date.year}년 {earlier.market_date.month}월" in page


# -- believable demo data -----------------------------------------------------------------


def test_demo_data_has_no_future_applications_and_no_takings_of_absent_vendors(clock, app):
    clock.seoul(2026, 10, 15, 9, 0)
    seed_demo()
    db.session.commit()
    now = utcnow()
    later = db.session.scalar(
        select(func.count()).select_from(Application).where(Application.applied_at > now)
    )
    assert later == 0
    absent_with_takings = db.session.scalar(
        select(func.count())
        .select_from(Takings)
        .join(
            Booth,
            (Booth.market_id == Takings.market_id) & (Booth.vendor_id == Takings.vendor_id),
        )
        .where(Booth.attendance == Attendance.NO_SHOW)
    )
    assert absent_with_takings == 0
    assert db.session.scalar(
        select(func.count()).select_from(Booth).where(Booth.attendance == Attendance.NO_SHOW)
    )  # the demo still has absent vendors, only without takings


# -- cancelled markets on the public schedule ------------------------------------------------


@pytest.fixture
def schedule_with_a_cancelled_market(app):
    venue = make_venue("경기도청", 10)
    first = next_thursday(today())
    kept = make_market(venue, first)
    called_off = make_market(venue, first + timedelta(weeks=1))
    markets.change_status(called_off, MarketStatus.CANCELLED, reason="우천")
    past = make_market(venue, first - timedelta(weeks=3))
    markets.change_status(past, MarketStatus.CANCELLED, reason="태풍")
    db.session.commit()
    return kept, called_off, past


def test_a_cancelled_market_is_marked_in_words(client, schedule_with_a_cancelled_market):
    _kept, called_off, _past = schedule_with_a_cancelled_market
    page = client.get("/").get_data(as_text=True)
    link = page.index(f'href="/markets/{called_off.id}"')
    card = page[page.rindex("<article", 0, link) :]
    card = card[: card.index("</article>")]
    assert 'class="cancelled-label">취소됨</span>' in card and "우천" in card


def test_cancelled_markets_can_be_hidden_and_the_filter_is_kept(
    client, schedule_with_a_cancelled_market, app
):
    kept, called_off, past = schedule_with_a_cancelled_market
    app.config["PAGE_SIZE"] = 1
    shown = client.get("/").get_data(as_text=True)
    assert f"/markets/{called_off.id}" in shown and "cancelled=hide" in shown
    hidden = client.get("/?cancelled=hide").get_data(as_text=True)
    assert f"/markets/{kept.id}" in hidden and f"/markets/{called_off.id}" not in hidden
    assert "취소된 장터도 보기" in hidden
    assert 'href="/markets/past?cancelled=hide"' in hidden
    past_page = client.get("/markets/past?cancelled=hide").get_data(as_text=True)
    assert f"/markets/{past.id}" not in past_page
    assert 'href="/?cancelled=hide"' in past_page
    assert f"/markets/{past.id}" in client.get("/markets/past").get_data(as_text=True)
    # the cached cards do not carry the filter: the same card serves both lists
    again = client.get("/").get_data(as_text=True)
    assert f"/markets/{called_off.id}" in again


def test_the_filter_keeps_the_page_number_out_and_other_args_in(client, app):
    venue = make_venue("경기도청", 10)
    for week in range(25):
        make_market(venue, next_thursday(today(), weeks=week))
    page = client.get("/?cancelled=hide&page=2").get_data(as_text=True)
    assert (
        'href="/?cancelled=hide&amp;page=1"' in page or 'href="/?page=1&amp;cancelled=hide"' in page
    )
    assert 'href="/?page=2"' not in page


@pytest.mark.parametrize("value", ["hide\x00", "HIDE", "x" * 5000, "%0d%0a"])
def test_odd_filter_values_show_everything(client, schedule_with_a_cancelled_market, value):
    response = client.get("/", query_string={"cancelled": value})
    assert response.status_code in (200, 400)


def test_the_report_names_the_amount_column_not_a_day(client, login_as, staff):
    """최고 매출일 is a date; a column of amounts per enterprise is 하루 최고 매출."""
    market = market_on(days_ago(7))
    vendor, _ = vendor_at(market, "우리밀빵집")
    add_takings(vendor, market, 2_000_000)
    login_as(staff)
    period = f"start={market.market_date.year}-01-01&end={market.market_date.year}-12-31"
    page = client.get(f"/staff/takings/report?{period}").get_data(as_text=True)
    assert "하루 최고 매출</th>" in page and "최고 매출일</th>" not in page
    csv_text = client.get(f"/staff/takings/report.csv?{period}&table=vendors").data
    header = csv_text.decode("utf-8-sig").splitlines()[0]
    assert "하루 최고 매출" in header and "최고 매출일" not in header
