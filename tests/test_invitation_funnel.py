"""What the invitations achieved: the funnel ranked → invited → delivered →
answered → visited, per market and per season, its downloads, the
dashboard's line, and what hostile query strings get.

The data set is made by hand so every number below is worked out here:

market A (2026-05-07), three sends and two invitations without a send:
  send 1 (top 50, 365 days, ≥1 order): chosen 10, held back 2
     #1 delivered, coming (page), visited
     #2 delivered, coming (calendar)
     #3 bounced, no answer
     #4 failed, no answer
     #5 delivered, maybe (calendar), visited
     #6 delivered, not coming (page)
  send 2 (same options as send 1): chosen 3, held back 3, nobody invited
  send 3 (top 20, 90 days, ≥2 orders, skip 4 weeks, assigned only): chosen 5, held back 1
     #7 delivered, coming (page), visited
     #8 queued, no answer
     #9 delivered, no answer, visited
  no send:
     #10 delivered, not coming (no source recorded: the page)
     #11 no mail (withdrawn), no answer

  options of sends 1+2: sends 2, ranked 13, held back 5, invited 6, delivered 4,
     bounced 1, failed 1, coming 2, maybe 1, not coming 1, visited 2
  options of send 3: sends 1, ranked 5, held back 1, invited 3, delivered 2,
     not sent 1, coming 1, visited 2
  other: ranked 2 (its invited), invited 2, delivered 1, not sent 1, not coming 1
  all: ranked 20, invited 11, delivered 7, answered 6 (3 coming, 1 maybe,
     2 not coming), visited 4 (2 of whom said coming)
     invited/ranked 55.0%, delivered/invited 63.6%, answered/delivered 85.7%,
     visited/answered 66.7%; of the invited: 63.6%, 54.5%, 36.4%
     page: 2 coming, 2 not coming; calendar: 1 coming, 1 maybe

market B (2026-06-04): #12 delivered, coming (calendar), visited; #13 failed.
market C (2025-06-05, another season): #14 delivered, visited.
"""

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from itertools import count

import pytest
from openpyxl import load_workbook

from market.accounts.models import Role
from market.extensions import db
from market.invitations import funnel
from market.invitations.models import AnswerSource, Invitation, InvitationSend, InvitationStatus
from market.outbox.models import OutboxMessage, OutboxStatus
from market.timeutil import SEOUL, utcnow
from tests.customer_factories import make_customer
from tests.markets_factories import make_market, make_venue, next_thursday

SENT_AT = datetime(2026, 5, 1, 1, 0, tzinfo=UTC)
_emails = count(1)

BROAD = {
    "top_n": 50,
    "window_days": 365,
    "assigned_vendors_only": False,
    "min_orders": 1,
    "skip_invited_weeks": 0,
}
NARROW = {
    "top_n": 20,
    "window_days": 90,
    "assigned_vendors_only": True,
    "min_orders": 2,
    "skip_invited_weeks": 4,
}


def make_send(market, chosen: int, held_back: int, invited: int, **options) -> InvitationSend:
    send = InvitationSend(
        market_id=market.id,
        chosen=chosen,
        held_back=held_back,
        invited=invited,
        control_percent=10 if held_back else 0,
        control_seed=42 if held_back else None,
        **options,
    )
    db.session.add(send)
    db.session.flush()
    return send


def invite(market, send=None, mail="delivered", answer=None, source=None, visited=False):
    """One invitation with its mail's state ("delivered", "bounced", "failed",
    "queued" or None for no mail), its answer and whether it was checked in."""
    customer = make_customer(f"buyer{next(_emails)}@example.kr")
    message = None
    if mail:
        status = {
            "delivered": OutboxStatus.SENT,
            "bounced": OutboxStatus.SENT,
            "failed": OutboxStatus.FAILED,
            "queued": OutboxStatus.QUEUED,
        }[mail]
        message = OutboxMessage(
            category="invitation",
            to_address=customer.email,
            subject="초대",
            mime=b"",
            status=status,
            sent_at=SENT_AT if status == OutboxStatus.SENT else None,
            bounced_at=SENT_AT + timedelta(hours=1) if mail == "bounced" else None,
        )
        db.session.add(message)
        db.session.flush()
    invitation = Invitation(
        customer_id=customer.id,
        market_id=market.id,
        send_id=send.id if send else None,
        outbox_message_id=message.id if message else None,
        delivered_at=SENT_AT if mail in ("delivered", "bounced") else None,
        status=answer or InvitationStatus.INVITED,
        answer_source=source,
        answered_at=SENT_AT + timedelta(days=1) if answer else None,
        visited_at=SENT_AT + timedelta(days=6) if visited else None,
    )
    db.session.add(invitation)
    db.session.flush()
    return invitation


YES, MAYBE, NO = InvitationStatus.ACCEPTED, InvitationStatus.TENTATIVE, InvitationStatus.DECLINED
PAGE, CALENDAR = AnswerSource.PAGE, AnswerSource.CALENDAR


@pytest.fixture
def markets(app):
    venue = make_venue("경기도청", 10)
    a = make_market(venue, date(2026, 5, 7))
    b = make_market(venue, date(2026, 6, 4))
    c = make_market(venue, date(2025, 6, 5))
    first = make_send(a, chosen=10, held_back=2, invited=6, **BROAD)
    make_send(a, chosen=3, held_back=3, invited=0, **BROAD)
    third = make_send(a, chosen=5, held_back=1, invited=3, **NARROW)
    invite(a, first, "delivered", YES, PAGE, visited=True)
    invite(a, first, "delivered", YES, CALENDAR)
    invite(a, first, "bounced")
    invite(a, first, "failed")
    invite(a, first, "delivered", MAYBE, CALENDAR, visited=True)
    invite(a, first, "delivered", NO, PAGE)
    invite(a, third, "delivered", YES, PAGE, visited=True)
    invite(a, third, "queued")
    invite(a, third, "delivered", visited=True)
    invite(a, None, "delivered", NO, None)
    invite(a, None, None)
    invite(b, None, "delivered", YES, CALENDAR, visited=True)
    invite(b, None, "failed")
    invite(c, None, "delivered", visited=True)
    db.session.commit()
    return a, b, c


def _options(funnel_: funnel.Funnel):
    return funnel_.options.top_n if funnel_.options else None


def test_the_market_funnel_on_a_known_data_set(markets):
    report = funnel.market_funnel(markets[0].id)
    total = report.total
    assert (total.ranked, total.invited, total.delivered, total.answered, total.visited) == (
        20,
        11,
        7,
        6,
        4,
    )
    assert (total.accepted, total.tentative, total.declined) == (3, 1, 2)
    assert (total.bounced, total.failed, total.waiting, total.withdrawn) == (1, 1, 1, 1)
    assert total.visited_accepted == 2
    assert total.sends == 3 and total.held_back == 6
    page, calendar = total.by_source["page"], total.by_source["calendar"]
    assert (page.accepted, page.tentative, page.declined) == (2, 0, 2)
    assert (calendar.accepted, calendar.tentative, calendar.declined) == (1, 1, 0)
    steps = {step.key: step for step in total.steps()}
    assert steps["ranked"].of_previous is None and steps["ranked"].of_invited is None
    assert steps["invited"].of_previous == 55.0
    assert (steps["delivered"].of_previous, steps["delivered"].of_invited) == (63.6, 63.6)
    assert (steps["answered"].of_previous, steps["answered"].of_invited) == (85.7, 54.5)
    assert (steps["visited"].of_previous, steps["visited"].of_invited) == (66.7, 36.4)

    assert [_options(group) for group in report.groups] == [50, 20, None]
    broad, narrow, other = report.groups
    assert (broad.sends, broad.ranked, broad.held_back, broad.invited) == (2, 13, 5, 6)
    assert (broad.delivered, broad.bounced, broad.failed) == (4, 1, 1)
    assert (broad.accepted, broad.tentative, broad.declined, broad.visited) == (2, 1, 1, 2)
    assert (narrow.sends, narrow.ranked, narrow.held_back, narrow.invited) == (1, 5, 1, 3)
    assert (narrow.delivered, narrow.waiting, narrow.accepted, narrow.visited) == (2, 1, 1, 2)
    assert narrow.options.assigned_vendors_only is True
    assert (other.sends, other.ranked, other.invited, other.delivered) == (0, 2, 2, 1)
    assert (other.withdrawn, other.declined, other.by_source["page"].declined) == (1, 1, 1)


def test_the_season_adds_up_its_markets_and_leaves_other_seasons_out(markets):
    report = funnel.season_funnel(date(2026, 1, 1), date(2026, 12, 31))
    total = report.total
    assert report.markets == 2
    assert (total.ranked, total.invited, total.delivered, total.answered, total.visited) == (
        22,
        13,
        8,
        7,
        5,
    )
    assert (total.accepted, total.failed, total.visited_accepted) == (4, 2, 3)
    assert total.by_source["calendar"].accepted == 2
    other = report.groups[-1]
    assert other.options is None and other.invited == 4
    last_season = funnel.season_funnel(date(2025, 1, 1), date(2025, 12, 31))
    assert (last_season.markets, last_season.total.invited, last_season.total.visited) == (1, 1, 1)


def test_the_funnel_is_two_statements_however_many_invitations(app, count_queries):
    venue = make_venue("수원시청", 10)
    market = make_market(venue, date(2026, 5, 14))
    send = make_send(market, chosen=600, held_back=0, invited=0, **BROAD)
    for _ in range(5):
        invite(market, send, "delivered", YES, PAGE, visited=True)
    market_id = market.id
    db.session.commit()
    with count_queries() as few:
        funnel.market_funnel(market_id)
    for n in range(495):
        invite(market, send if n % 2 else None, ("delivered", "failed", "bounced")[n % 3])
    db.session.commit()
    with count_queries() as many:
        report = funnel.market_funnel(market_id)
    assert report.total.invited == 500
    assert many.count == few.count == 2


def test_the_report_pages_are_flat_in_queries(client, staff, login_as, count_queries):
    venue = make_venue("수원시청", 10)
    market = make_market(venue, date(2026, 5, 14))
    send = make_send(market, chosen=600, held_back=0, invited=0, **BROAD)
    for _ in range(5):
        invite(market, send, "delivered", YES, CALENDAR, visited=True)
    urls = (
        f"/staff/markets/{market.id}/invitations/report",
        "/staff/invitations/report?start=2026-01-01&end=2026-12-31",
        f"/staff/markets/{market.id}/invitations/report.xlsx",
    )
    db.session.commit()
    login_as(staff)
    few = []
    for url in urls:
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        few.append(counter.count)
    for n in range(495):
        invite(market, send if n % 2 else None, "delivered", (YES, NO, None)[n % 3], PAGE)
    db.session.commit()
    many = []
    for url in urls:
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        many.append(counter.count)
    assert many == few, (few, many)


# -- the pages -------------------------------------------------------------------------


def test_the_market_report_page_shows_the_funnel(client, staff, login_as, markets):
    login_as(staff)
    a = markets[0]
    page = client.get(f"/staff/markets/{a.id}/invitations/report").get_data(as_text=True)
    assert "초대의 성과" in page
    assert "<svg" in page and 'id="chart-funnel-title"' in page
    # the steps' counts and percentages (table cells)
    for text in ("55.0%", "63.6%", "85.7%", "66.7%", "36.4%"):
        assert text in page, text
    assert "상위 50명 · 최근 365일 · 주문 1회 이상" in page
    assert "상위 20명 · 최근 90일 · 주문 2회 이상 · 최근 4주 안에 초대한 고객 제외" in page
    assert "기타/이전 발송" in page
    assert "답변 페이지" in page and "캘린더 앱" in page
    assert f"/staff/markets/{a.id}/invitations/report.xlsx" in page
    # the effect on online sales (market.invitations.effect): too few to tell here
    assert "온라인 매출 효과" in page and '<div class="effect">' in page


def test_the_market_pages_link_to_the_report(client, staff, login_as, markets):
    login_as(staff)
    a = markets[0]
    page = client.get(f"/staff/markets/{a.id}/invitations").get_data(as_text=True)
    assert f"/staff/markets/{a.id}/invitations/report" in page
    # The staff menu's 보고서 page links the season report.
    assert "/staff/reports" in client.get("/staff/").get_data(as_text=True)
    assert "/staff/invitations/report" in client.get("/staff/reports").get_data(as_text=True)


def test_the_season_report_page(client, staff, login_as, markets):
    login_as(staff)
    page = client.get("/staff/invitations/report?start=2026-01-01&end=2026-12-31").get_data(
        as_text=True
    )
    assert "장터 2회" in page
    assert "2026년 1월 1일" in page and "2026년 12월 31일" in page
    assert ">13<" in page  # invited
    assert "start=2026-01-01" in page and "report.xlsx" in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=99999-01-01&end=2026-12-31", "날짜를 읽을 수 없어"),
        ("start=2026-12-31&end=2026-01-01", "시작일이 종료일보다 늦어"),
        ("start=2026-02-30", "날짜를 읽을 수 없어"),
        ("start=" + "9" * 400, "날짜를 읽을 수 없어"),
        ("end=%0D%0A2026-01-01", "날짜를 읽을 수 없어"),
    ],
)
def test_hostile_query_strings_get_a_clear_message(
    client, staff, login_as, markets, query, message
):
    login_as(staff)
    response = client.get(f"/staff/invitations/report?{query}")
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    for suffix in ("csv", "xlsx"):
        assert client.get(f"/staff/invitations/report.{suffix}?{query}").status_code == 200


def test_a_nul_in_the_query_is_refused_with_the_400_page(client, staff, login_as, markets):
    """The app refuses NUL in any query argument (market.core.web) before the view."""
    login_as(staff)
    for url in ("/staff/invitations/report", "/staff/invitations/report.csv"):
        response = client.get(f"{url}?start=2026-01-01%00&end=2026-12-31")
        assert response.status_code == 400
        assert "요청을 처리할 수 없습니다" in response.get_data(as_text=True)


def test_reversed_range_is_swapped_and_said(client, staff, login_as, markets):
    login_as(staff)
    page = client.get("/staff/invitations/report?start=2026-12-31&end=2026-01-01").get_data(
        as_text=True
    )
    assert "시작일이 종료일보다 늦어" in page
    assert "장터 2회" in page  # the swapped range still finds both markets


def test_unknown_markets_formats_and_tables_are_not_found(client, staff, login_as, markets):
    login_as(staff)
    a = markets[0]
    assert client.get("/staff/markets/999999/invitations/report").status_code == 404
    assert client.get(f"/staff/markets/{2**31}/invitations/report").status_code == 404
    assert client.get(f"/staff/markets/{a.id}/invitations/report.pdf").status_code == 404
    assert client.get(f"/staff/markets/{a.id}/invitations/report.csv?table=x").status_code == 404
    assert client.get("/staff/invitations/report.html").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/staff/markets/{id}/invitations/report",
        "/staff/markets/{id}/invitations/report.csv",
        "/staff/invitations/report",
        "/staff/invitations/report.xlsx",
    ],
)
def test_only_staff_and_admins_see_the_report(client, make_user, login_as, markets, url):
    url = url.format(id=markets[0].id)
    response = client.get(url)
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    login_as(make_user(Role.VENDOR))
    assert client.get(url).status_code == 403
    for role in (Role.STAFF, Role.ADMIN):
        client.post("/account/logout", data={})
        login_as(make_user(role))
        assert client.get(url).status_code == 200


# -- the downloads -----------------------------------------------------------------------


def test_csv_has_a_bom_and_the_pages_numbers(client, staff, login_as, markets):
    login_as(staff)
    a = markets[0]
    response = client.get(f"/staff/markets/{a.id}/invitations/report.csv?table=options")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    body = response.data
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][0] == "순위 옵션"
    assert rows[1][:6] == ["상위 50명 · 최근 365일 · 주문 1회 이상", "2", "13", "5", "6", "4"]
    assert rows[3][0] == "기타/이전 발송" and rows[3][2:5] == ["2", "0", "2"]
    assert rows[4][0] == "전체"
    assert rows[4] == [
        *["전체", "3", "20", "6", "11", "7", "1", "1", "2"],
        *["3", "1", "2", "4", "36.4"],
    ]
    steps = client.get(f"/staff/markets/{a.id}/invitations/report.csv?table=steps").data
    step_rows = list(csv.reader(io.StringIO(steps.decode("utf-8-sig"))))
    assert step_rows[1][:2] == ["순위에서 고른 고객", "20"]
    assert step_rows[5] == ["장터 방문", "4", "66.7", "36.4"]


def test_xlsx_has_every_table_with_numbers_and_no_formulas(client, staff, login_as, markets):
    login_as(staff)
    response = client.get("/staff/invitations/report.xlsx?start=2026-01-01&end=2026-12-31")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert len(book.sheetnames) == 4  # steps, options, sources, effect
    steps = [list(row) for row in book.worksheets[0].iter_rows(min_row=2, values_only=True)]
    assert [row[1] for row in steps] == [22, 13, 8, 7, 5]
    assert steps[2][2] == round(100 * 8 / 13, 1)
    options = [list(row) for row in book.worksheets[1].iter_rows(min_row=2, values_only=True)]
    assert options[-1][0] == "전체" and options[-1][4] == 13
    sources = [list(row) for row in book.worksheets[2].iter_rows(min_row=2, values_only=True)]
    assert sources == [["답변 페이지", 2, 0, 2, 4], ["캘린더 앱", 2, 1, 0, 3]]
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", cell.coordinate


def test_the_downloads_carry_the_effect(client, staff, login_as, clock):
    """The market's and the season's XLSX carry the effect section's table
    (groups, orders and spending before and after, the differences with their
    intervals, the verdict in words); the CSV gives it with table=effect."""
    from market.invitations.effect import online_effect
    from tests.effect_factories import past_market, seed_groups

    market = past_market(clock, date(2026, 9, 10))
    clock.seoul(2026, 11, 1)
    planted = seed_groups(market, invited=300, control=300, uplift=25_000)
    found = online_effect([market.id], date(2026, 11, 1))
    assert found.verdict == "more"
    login_as(staff)
    for url in (
        f"/staff/markets/{market.id}/invitations/report.xlsx",
        "/staff/invitations/report.xlsx?start=2026-01-01&end=2026-12-31",
    ):
        response = client.get(url)
        assert response.status_code == 200
        book = load_workbook(io.BytesIO(response.data))
        assert book.sheetnames[-1] == "온라인 매출 효과"
        sheet = book.worksheets[-1]
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        assert rows[0][:2] == ["구분", "고객"] and rows[0][6:8] == [
            "1인당 구매액 변화",
            "1인당 주문 수 변화",
        ]
        assert rows[0][-1] == "판정"
        assert rows[1][:6] == ["초대한 고객", *planted["invited"]]
        assert rows[2][:6] == ["비교군", *planted["control"]]
        low, high = found.interval
        assert rows[3][0] == "구매액 차이 (초대 − 비교군)"
        assert rows[3][6:10] == [round(found.difference), None, low, high]
        assert rows[3][10].startswith("초대받은 고객의 1인당 온라인 구매액이 비교군보다 ₩")
        assert "95% 신뢰구간" in rows[3][10]
        assert rows[4][0] == "주문 수 차이 (초대 − 비교군)"
        assert rows[4][7:10] == [round(found.orders_difference, 2), *found.orders_interval]
        assert rows[4][10].startswith("초대받은 고객의 1인당 주문 수 변화는 비교군보다")
        assert sheet["E2"].number_format == '"₩"#,##0'
    csv_body = client.get(
        f"/staff/markets/{market.id}/invitations/report.csv?table=effect"
    ).data.decode("utf-8-sig")
    csv_rows = list(csv.reader(io.StringIO(csv_body)))
    assert csv_rows[1][:2] == ["초대한 고객", "300"]
    assert csv_rows[3][10] == found_words(client, market)


def found_words(client, market) -> str:
    """The verdict sentence as the page shows it."""
    page = client.get(f"/staff/markets/{market.id}/invitations/report").text
    start = page.index('<p class="effect-verdict"><strong>') + len(
        '<p class="effect-verdict"><strong>'
    )
    return page[start : page.index("</strong>", start)].replace("&#39;", "'")


def test_the_effect_download_without_a_control_group_says_why(client, staff, login_as, markets):
    login_as(staff)
    b = markets[1]
    body = client.get(f"/staff/markets/{b.id}/invitations/report.csv?table=effect").data
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[3][0] == "구매액 차이 (초대 − 비교군)"
    assert rows[3][6:10] == ["", "", "", ""]
    assert "효과를 잴 수 없습니다" in rows[3][10]
    assert len(rows) == 4, "no orders row without a figure"


def test_answer_source_names_live_in_one_place():
    from market.invitations import funnel_report, views

    assert views.SOURCE_LABELS is funnel_report.SOURCE_LABELS
    assert set(funnel_report.SOURCE_LABELS) == set(AnswerSource)
    assert funnel_report.SOURCE_LABELS["page"] is funnel_report.SOURCE_LABELS[AnswerSource.PAGE]


# -- the dashboard ---------------------------------------------------------------------


def _next_market_with(invitations: int):
    venue = make_venue(f"장소 {invitations}", 10)
    today = utcnow().astimezone(SEOUL).date()
    market = make_market(venue, next_thursday(today))
    send = make_send(market, chosen=invitations, held_back=0, invited=invitations, **BROAD)
    return market, send


def test_the_dashboard_shows_the_next_markets_funnel(client, staff, login_as):
    market, send = _next_market_with(4)
    invite(market, send, "delivered", YES, PAGE, visited=True)
    invite(market, send, "delivered", MAYBE, CALENDAR)
    invite(market, send, "bounced")
    invite(market, send, "delivered", NO, PAGE)
    db.session.commit()
    login_as(staff)
    page = client.get("/staff/").get_data(as_text=True)
    assert f"/staff/markets/{market.id}/invitations/report" in page
    # no-break spaces keep each figure with its word on a phone (and each
    # piece, separator first, is a nowrap span: the text without its tags)
    assert "초대\u00a04 · 전달\u00a03 · 참석\u00a01 / 미정\u00a01 / 불참\u00a01 · 방문\u00a01" in (
        re.sub(r"<[^>]+>", "", page)
    )


def test_the_dashboard_funnel_is_flat_in_queries(client, staff, login_as, count_queries):
    market, send = _next_market_with(500)
    for _ in range(5):
        invite(market, send, "delivered", YES, PAGE)
    db.session.commit()
    login_as(staff)
    with count_queries() as few:
        assert client.get("/staff/").status_code == 200
    for n in range(495):
        invite(market, send, "delivered", (YES, NO, None)[n % 3], PAGE, visited=n % 2 == 0)
    db.session.commit()
    with count_queries() as many:
        page = client.get("/staff/").get_data(as_text=True)
    assert "초대\u00a0500" in page
    assert many.count == few.count
