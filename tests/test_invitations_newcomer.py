"""What a newcomer ran into on the invitations pages (issue 18): a control
group too small for the effect report said nothing; a share like "abc"
gave two errors, one technical; the demo showed no send and no effect."""

import pytest
from sqlalchemy import func, select

from market.demo import seed_demo
from market.extensions import db
from market.home.dashboard import next_market
from market.invitations.effect import MIN_GROUP, online_effect
from market.invitations.models import AnswerSource, ControlCustomer, Invitation, InvitationSend
from market.timeutil import today_seoul
from tests.markets_factories import make_market, make_venue
from tests.test_control_group import MARKET_DAY, RANKING, count, make_people, send_url


@pytest.fixture
def market(app, clock):
    clock.seoul(2026, 11, 20)
    return make_market(make_venue(), MARKET_DAY)


@pytest.mark.parametrize("value", ["abc", "10.5", "1e3"])
def test_a_share_that_is_no_whole_number_gets_one_clear_message(
    client,
    staff,
    login_as,
    market,
    value,
):
    people = make_people(5)
    login_as(staff)
    html = client.post(
        send_url(market), data={"customer_id": people, "control_percent": value}
    ).text
    assert html.count('class="error"') == 1
    assert "소수점 없이 입력하세요" in html
    assert "정수 값" not in html and "0부터 50까지의 숫자를 입력하세요" not in html
    assert count(Invitation) == 0


def test_the_confirmation_warns_when_the_control_group_is_too_small(
    client,
    staff,
    login_as,
    market,
):
    people = make_people(50)
    login_as(staff)
    html = client.post(
        send_url(market), data={"customer_id": people, "control_percent": "10", **RANKING}
    ).text
    assert (
        f"비교군이 5명이라 이 장터 하나로는 효과를 판단할 수 없습니다 (각 {MIN_GROUP}명 이상 필요)"
        in html
    )
    assert "비율을 높이거나, 여러 장터를 시즌 보고서에서 합쳐 보세요." in html
    assert 'name="confirmed" value="yes"' in html, "it warns, it does not forbid"
    assert "시즌 보고서 열기" in html


def test_no_warning_when_both_groups_are_large_enough(client, staff, login_as, market):
    people = make_people(80)
    login_as(staff)
    html = client.post(send_url(market), data={"customer_id": people, "control_percent": "40"}).text
    assert "32" in html and "효과를 판단할 수 없습니다" not in html
    none = client.post(send_url(market), data={"customer_id": people, "control_percent": "0"})
    assert "효과를 판단할 수 없습니다" not in none.text, "no control group asked for: no warning"


@pytest.mark.parametrize("day", [(2026, 11, 24), (2027, 2, 3)])
def test_the_demo_shows_a_send_answers_and_an_effect(clock, app, day):
    clock.seoul(*day)
    seed_demo()
    db.session.commit()
    # The dashboard's next market: invited from the ranking, 10 % held back.
    with app.test_request_context():  # its booth map is a cached fragment
        upcoming = next_market(today_seoul())["market"]
    send = db.session.scalar(select(InvitationSend).where(InvitationSend.market_id == upcoming.id))
    assert send.top_n == 50 and send.control_percent == 10 and send.held_back >= 1
    sources = dict(
        db.session.execute(
            select(Invitation.answer_source, func.count())
            .where(Invitation.market_id == upcoming.id, Invitation.answer_source.is_not(None))
            .group_by(Invitation.answer_source)
        ).all()
    )
    assert sources.get(AnswerSource.PAGE) and sources.get(AnswerSource.CALENDAR)
    # A past market with groups large enough for a verdict on the planted uplift.
    past = db.session.scalar(
        select(InvitationSend.market_id).where(InvitationSend.market_id != upcoming.id)
    )
    effect = online_effect([past], today_seoul())
    assert effect.invited.customers >= MIN_GROUP and effect.control.customers >= MIN_GROUP
    assert effect.verdict == "more"
    assert db.session.scalar(
        select(func.count(Invitation.id)).where(Invitation.visited_at.is_not(None))
    )
    held = count(ControlCustomer)
    seed_demo()  # twice: nothing twice
    db.session.commit()
    assert count(ControlCustomer) == held


def test_the_page_puts_the_send_controls_first_and_folds_the_invited_list(
    client, staff, login_as, app
):
    from tests.test_invitations_pages import _fill, page_url, upcoming_market

    market = upcoming_market()
    _fill(market, 12, 2)  # ten to choose from: 10 % holds back 1
    login_as(staff)
    html = client.get(page_url(market)).text
    send_button = html.index("선택한 고객에게 초대 보내기")
    assert html.index('name="control_percent"') < send_button < html.index('name="customer_id"')
    assert "아래 10명 모두에게 10%로 보내면 비교군은 1명입니다." in html
    assert '<details class="invited-list">' in html and "초대한 고객 2명 보기" in html
    assert 'class="tiles tiles-compact"' in html
    paged = client.get(page_url(market, page=1)).text
    assert '<details class="invited-list" open>' in paged, "paging through the list keeps it open"


@pytest.mark.parametrize("value", ["abc", "10.5", "1e3"])
def test_a_ranking_option_that_is_no_whole_number_gets_one_clear_message(
    client, staff, login_as, market, value
):
    """The ranking's options gave WTForms' 'not a valid integer value' plus
    the range's message; now the same single message as the control share
    (forms.WholeNumber), with the field's own range."""
    login_as(staff)
    page = f"/staff/markets/{market.id}/invitations"
    html = client.get(page, query_string={**RANKING, "top_n": value}).text
    assert "1부터 1000까지의 숫자를 소수점 없이 입력하세요." in html
    assert html.count("소수점 없이 입력하세요") == html.count("1부터 1000까지의 숫자를 소수점")
    assert "정수 값" not in html and "1부터 1000까지의 숫자를 입력하세요" not in html
    html = client.get(page, query_string={**RANKING, "window_days": value}).text
    assert "1부터 3650까지의 숫자를 소수점 없이 입력하세요." in html and "정수 값" not in html
