"""Check-in at the market (issue 18): staff find an invitee by the pass's QR
address, its short code, or name plus the phone's last four digits, and mark
the visit once, on the market's own day only."""

import os
import re
import threading

import pytest
from sqlalchemy import select

from market.accounts.models import Role, User
from market.extensions import db
from market.invitations import checkin
from market.invitations.models import (
    PASS_ALPHABET,
    PASS_LOOK_ALIKES,
    AnswerSource,
    Invitation,
    InvitationStatus,
)
from market.markets.models import Market, MarketStatus
from market.timeutil import utcnow
from tests.customer_factories import make_customer
from tests.markets_factories import make_venue
from tests.takings_factories import market_on


def invite(market, email, name, phone=None, code=None, **extra) -> Invitation:
    customer = make_customer(email, name=name, phone=phone)
    invitation = Invitation(customer_id=customer.id, market_id=market.id, **extra)
    if code:
        invitation.pass_code = code
    db.session.add(invitation)
    db.session.commit()
    return invitation


@pytest.fixture
def today_market(app, clock):
    """A market today (Thursday 2026-11-26, 10:00 in Korea) with three invitees."""
    market = market_on(clock.today)
    invite(
        market,
        "hana@example.com",
        "김하나",
        "+821012345678",
        code="7KQ4MX",
        status=InvitationStatus.ACCEPTED,
        answer_source=AnswerSource.CALENDAR,
        answered_at=utcnow(),
    )
    invite(market, "dul@example.com", "김두리", "+821098765678", code="ABCDEF")
    invite(market, "set@example.com", "이셋", "+821055554321", code="HJKMNP")
    return market


def url(market, tail=""):
    return f"/staff/markets/{market.id}/check-in{tail}"


def visit_of(code: str) -> Invitation:
    db.session.expire_all()
    return db.session.scalar(select(Invitation).where(Invitation.pass_code == code))


# --- the rules -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("7kq4mx", "7KQ4MX"),
        (" 7KQ 4MX ", "7KQ4MX"),
        ("7KQ-4MX", "7KQ4MX"),
        ("7kq\u3000—4mx", "7KQ4MX"),
        # a Korean keyboard in full-width mode (NFKC reads it as ASCII)
        ("ＡＢＣＤＥＦ", "ABCDEF"),
        ("７ｋｑ－４ｍｘ", "7KQ4MX"),
    ],
)
def test_a_typed_code_is_read_in_capitals_without_spaces_or_hyphens(app, typed, code):
    assert checkin.normalise_code(typed) == code


@pytest.mark.parametrize("typed", ["ﬀﬀﬀ", "ßßß", "7KQ4Mｍ\u0301", "ＡＢＣ\ufb00Ｆ"])
def test_letters_unicode_makes_into_several_are_no_code(app, typed):
    """Upper-casing ﬀ gives FF and ß SS: three typed characters are no
    six-letter code."""
    with pytest.raises(checkin.CheckInError):
        checkin.normalise_code(typed)


def test_a_full_width_look_alike_is_said_so(app):
    with pytest.raises(checkin.CheckInError) as refused:
        checkin.normalise_code("０ＫＱ４ＭＸ")
    assert "0, O, 1, I, L" in refused.value.errors["code"]


def test_the_alphabet_is_the_digits_and_capitals_without_the_look_alikes():
    assert PASS_ALPHABET == "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    assert checkin.LOOK_ALIKES == set(PASS_LOOK_ALIKES) == set("0O1IL")


@pytest.mark.parametrize("typed", ["7KQ4M0", "7kq4mo", "1KQ4MX", "IKQ4MX", "LKQ4MX"])
def test_look_alike_characters_are_a_wrong_code_said_so(app, typed):
    with pytest.raises(checkin.CheckInError) as refused:
        checkin.normalise_code(typed)
    assert "0, O, 1, I, L" in refused.value.errors["code"]


@pytest.mark.parametrize("typed", ["", "   ", "7KQ4M", "7KQ4MXX", "가나다라마바", "7KQ4M!"])
def test_a_code_of_the_wrong_shape_is_refused(app, typed):
    with pytest.raises(checkin.CheckInError):
        checkin.normalise_code(typed)


# --- by QR address -------------------------------------------------------------------


def test_the_pass_address_shows_the_invitee_and_changes_nothing(
    client, staff, login_as, today_market
):
    login_as(staff)
    response = client.get(url(today_market, "/7KQ4MX"))
    assert response.status_code == 200
    page = response.text
    assert "김하나" in page
    assert "h***@example.com" in page and "hana@example.com" not in page
    assert "5678" in page and "12345678" not in page and "1234-5678" not in page
    assert "참석" in page and "캘린더 앱" in page
    assert "입장 확인</button>" in page
    assert "오늘 입장 0명 / 초대 3명" in page
    assert visit_of("7KQ4MX").visited_at is None  # GET never checks in


def test_check_in_by_qr_address(client, staff, login_as, today_market, clock):
    login_as(staff)
    response = client.post(url(today_market, "/7KQ4MX"))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(url(today_market, "/7KQ4MX"))
    invitation = visit_of("7KQ4MX")
    assert invitation.visited_at == clock.now
    assert invitation.visited_by_id == staff.id
    page = client.get(response.headers["Location"]).text
    assert "입장 확인 완료: 김하나" in page
    assert "10:00 입장 확인됨" in page
    assert "오늘 입장 1명 / 초대 3명" in page
    assert "입장 확인</button>" not in page


def test_a_lower_case_address_finds_the_same_pass(client, staff, login_as, today_market):
    login_as(staff)
    assert client.post(url(today_market, "/7kq4mx")).status_code == 303
    assert visit_of("7KQ4MX").visited_at is not None


# --- by short code -------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["ABCDEF", "abcdef", "abc def", " ABC-DEF "])
def test_check_in_by_typed_code(client, staff, login_as, today_market, typed):
    login_as(staff)
    response = client.post(url(today_market, "/code"), data={"code": typed})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(url(today_market, "/ABCDEF"))
    assert visit_of("ABCDEF").visited_by_id == staff.id
    assert "입장 확인 완료: 김두리" in client.get(response.headers["Location"]).text


def test_a_typed_look_alike_is_told_and_checks_no_one_in(client, staff, login_as, today_market):
    login_as(staff)
    response = client.post(url(today_market, "/code"), data={"code": "7KQ4M0"})
    assert response.status_code == 200
    assert "0, O, 1, I, L이 들어가지 않습니다" in response.text
    assert "7KQ4M0" in response.text  # what was typed stays in the box
    assert visit_of("7KQ4MX").visited_at is None


def test_a_code_of_another_market_is_not_found(client, staff, login_as, today_market, clock):
    other = market_on(clock.today, venue=make_venue("다른 장소"))
    other_market_code = "QRSTUV"
    invite(other, "other@example.com", "남의장터", code=other_market_code)
    login_as(staff)
    response = client.post(url(today_market, "/code"), data={"code": other_market_code})
    assert response.status_code == 200
    assert "이 장터의 입장권이 아닙니다" in response.text
    response = client.get(url(today_market, f"/{other_market_code}"))
    assert response.status_code == 404
    assert "이 장터의 입장권이 아닙니다" in response.text
    assert client.post(url(today_market, f"/{other_market_code}")).status_code == 404
    assert visit_of(other_market_code).visited_at is None
    # The service refuses too, given an invitation of another market.
    with pytest.raises(checkin.CheckInError):
        checkin.check_in(today_market, visit_of(other_market_code).id, staff, utcnow())


# --- by name and phone ---------------------------------------------------------------


def test_name_and_last_four_digits_find_one_invitee(client, staff, login_as, today_market):
    login_as(staff)
    response = client.post(url(today_market, "/find"), data={"name": "이 셋", "phone": "4321"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(url(today_market, "/HJKMNP"))
    assert visit_of("HJKMNP").visited_at is None  # finding is not checking in


def test_a_whole_phone_number_is_read_for_its_last_four_digits(
    client, staff, login_as, today_market
):
    login_as(staff)
    response = client.post(
        url(today_market, "/find"), data={"name": "이셋", "phone": "010-5555-4321"}
    )
    assert response.headers["Location"].endswith(url(today_market, "/HJKMNP"))


def test_several_matches_are_listed_to_choose(client, staff, login_as, today_market):
    login_as(staff)
    response = client.post(url(today_market, "/find"), data={"name": "김", "phone": "5678"})
    assert response.status_code == 200
    page = response.text
    assert "여러 분이 찾아졌습니다" in page
    assert "김하나" in page and "김두리" in page and "이셋" not in page
    assert url(today_market, "/7KQ4MX") in page and url(today_market, "/ABCDEF") in page
    assert "hana@example.com" not in page and "+821012345678" not in page


@pytest.mark.parametrize(("name", "phone"), [("김하나", "0000"), ("박", "5678"), ("하나", "5678")])
def test_no_match_says_so(client, staff, login_as, today_market, name, phone):
    login_as(staff)
    response = client.post(url(today_market, "/find"), data={"name": name, "phone": phone})
    assert response.status_code == 200
    assert "맞는 분이 없습니다" in response.text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "김하나", "phone": "567"}, "전화번호 뒤 4자리를 입력하세요"),
        ({"name": "  ", "phone": "5678"}, "방문객 이름을 입력하세요"),
    ],
)
def test_name_search_needs_a_name_and_four_digits(
    client, staff, login_as, today_market, data, message
):
    login_as(staff)
    response = client.post(url(today_market, "/find"), data=data)
    assert response.status_code == 200
    assert message in response.text


# --- once ------------------------------------------------------------------------------


def test_a_second_check_in_says_when_and_by_whom(client, make_user, login_as, today_market, clock):
    first = make_user(Role.STAFF, name="박직원")
    login_as(first)
    client.post(url(today_market, "/code"), data={"code": "7KQ4MX"})
    clock.seoul(2026, 11, 26, 11, 5)
    login_as(make_user(Role.STAFF, name="최직원"))
    response = client.post(url(today_market, "/code"), data={"code": "7KQ4MX"})
    page = client.get(response.headers["Location"]).text
    assert "이미 10:00에 입장 확인됨 (확인한 직원: 박직원)" in page
    invitation = visit_of("7KQ4MX")
    assert invitation.visited_by_id == first.id
    assert invitation.visited_at.hour == 1  # 10:00 in Korea, unchanged
    assert "오늘 입장 1명 / 초대 3명" in page


def test_already_without_a_staff_member_left(app, staff, today_market, clock):
    """The staff account was deleted since (visited_by_id SET NULL)."""
    invitation = visit_of("7KQ4MX")
    checkin.check_in(today_market, invitation.id, staff, utcnow())
    db.session.commit()
    db.session.execute(
        Invitation.__table__.update()
        .values(visited_by_id=None)
        .where(Invitation.__table__.c.id == invitation.id)
    )
    db.session.commit()
    again = checkin.check_in(today_market, invitation.id, staff, utcnow())
    assert not again.fresh
    message = checkin.already_message(again.visited_at, again.checked_in_by)
    assert "10:00" in message
    assert str(checkin.ALREADY % {"time": "10:00"}) == message


def _race(app, market_id: int, invitation_id: int, staff_ids: list[int]) -> list:
    start = threading.Barrier(len(staff_ids))
    outcomes, errors = [], []

    def scan(staff_id: int) -> None:
        try:
            with app.app_context():
                market = db.session.get(Market, market_id)
                actor = db.session.get(User, staff_id)
                start.wait()
                try:
                    done = checkin.check_in(market, invitation_id, actor, utcnow())
                    db.session.commit()
                    outcomes.append((done.fresh, done.checked_in_by))
                finally:
                    db.session.remove()
        except Exception as error:  # reported in the test's own thread
            errors.append(error)

    threads = [threading.Thread(target=scan, args=(staff_id,)) for staff_id in staff_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    return outcomes


def test_two_staff_scanning_at_once_exactly_one_checks_in(app, make_user, today_market):
    """Four sessions at once (threads released together): on PostgreSQL the
    row lock makes the later UPDATEs find visited_at set; on SQLite the
    write lock serialises them the same way."""
    staff_members = [make_user(Role.STAFF, name=f"직원{n}") for n in range(4)]
    invitation = visit_of("7KQ4MX")
    outcomes = _race(app, today_market.id, invitation.id, [s.id for s in staff_members])
    assert len(outcomes) == 4
    winners = [by for fresh, by in outcomes if fresh]
    assert len(winners) == 1, outcomes
    # every other scan was told who won
    assert {by for fresh, by in outcomes if not fresh} == set(winners)
    invitation = visit_of("7KQ4MX")
    winner = next(s for s in staff_members if s.name == winners[0])
    assert invitation.visited_by_id == winner.id


def test_a_later_scan_never_moves_the_first_check_in(app, staff, make_user, today_market):
    """The first check-in's time and staff member stay: a later scan only reads them."""
    other = make_user(Role.STAFF, name="나중직원")
    invitation = visit_of("7KQ4MX")
    checkin.check_in(today_market, invitation.id, staff, utcnow())
    db.session.commit()
    second = checkin.check_in(today_market, invitation.id, other, utcnow())
    db.session.commit()
    assert not second.fresh
    assert visit_of("7KQ4MX").visited_by_id == staff.id


# --- only on the market's day, not for a cancelled market -----------------------------------


@pytest.mark.parametrize("day", [(2026, 11, 25, 23, 59), (2026, 11, 27, 0, 0)])
def test_refused_on_another_day_in_korea(client, staff, login_as, today_market, clock, day):
    login_as(staff)
    clock.seoul(*day)
    response = client.post(url(today_market, "/code"), data={"code": "7KQ4MX"})
    page = client.get(response.headers["Location"]).text
    assert "입장 확인은 장터 당일인 2026년 11월 26일 (목)에만 할 수 있습니다." in page
    assert "입장 확인</button>" not in page
    assert client.post(url(today_market, "/7KQ4MX")).status_code == 303
    assert visit_of("7KQ4MX").visited_at is None
    page = client.get(url(today_market)).text
    assert "장터 당일" in page
    # the count says no "today" on a day that is not the market's
    assert "입장 0명 / 초대 3명" in page and "오늘 입장" not in page


def test_on_another_day_the_forms_are_shown_disabled_under_the_notice(
    client, staff, login_as, today_market, clock
):
    """They would be refused: the scan button, the code and the name forms
    are greyed out, the notice (one pair of brackets) says why."""
    login_as(staff)
    clock.seoul(2026, 11, 27, 9, 0)
    page = client.get(url(today_market)).text
    assert page.count('<fieldset class="checkin-fields" disabled>') == 3
    assert page.count('<fieldset class="checkin-fields">') == 0
    assert "장터 당일인 2026년 11월 26일 (목)에만" in page and "))" not in page
    clock.seoul(2026, 11, 26, 9, 0)
    page = client.get(url(today_market)).text
    assert page.count('<fieldset class="checkin-fields">') == 3
    assert "disabled" not in page and "장터 당일" not in page


def test_the_scanner_says_the_camera_needs_https_on_a_plain_http_address(
    client, staff, login_as, today_market
):
    """Over http at a LAN address the browser offers no camera at all
    (window.isSecureContext is false): the page says so instead of asking
    staff to allow the camera."""
    login_as(staff)
    page = client.get(url(today_market)).text
    needs_https = "카메라는 HTTPS 주소에서만 열립니다. 코드를 입력하거나 이름으로 찾으세요."
    assert f'data-needs-https="{needs_https}"' in page
    script = os.path.join(client.application.static_folder, "js", "checkin.js")
    with open(script, encoding="utf-8") as text:
        code = text.read()
    secure = code.index("window.isSecureContext")
    assert secure < code.index("navigator.mediaDevices.getUserMedia")
    assert 'getAttribute("data-needs-https")' in code[secure : secure + 200]


def test_on_the_day_in_korea_though_not_in_utc(client, staff, login_as, today_market, clock):
    """00:30 on the market day in Korea is still the day before in UTC."""
    login_as(staff)
    clock.seoul(2026, 11, 26, 0, 30)
    client.post(url(today_market, "/code"), data={"code": "7KQ4MX"})
    assert visit_of("7KQ4MX").visited_at is not None


def test_refused_for_a_cancelled_market(client, staff, login_as, today_market):
    today_market.status = MarketStatus.CANCELLED
    today_market.cancel_reason = "태풍"
    db.session.commit()
    login_as(staff)
    response = client.post(url(today_market, "/7KQ4MX"))
    page = client.get(response.headers["Location"]).text
    assert "취소된 장터라 입장 확인을 할 수 없습니다." in page
    assert visit_of("7KQ4MX").visited_at is None


# --- who may --------------------------------------------------------------------------


CHECK_IN_REQUESTS = [
    ("get", ""),
    ("get", "/7KQ4MX"),
    ("post", "/7KQ4MX"),
    ("post", "/code"),
    ("post", "/find"),
]


@pytest.mark.parametrize(("method", "tail"), CHECK_IN_REQUESTS)
def test_a_vendor_gets_403(client, vendor_user, login_as, today_market, method, tail):
    login_as(vendor_user)
    response = getattr(client, method)(url(today_market, tail), data={"code": "7KQ4MX"})
    assert response.status_code == 403
    assert visit_of("7KQ4MX").visited_at is None


@pytest.mark.parametrize(("method", "tail"), CHECK_IN_REQUESTS)
def test_anonymous_goes_to_the_login(client, today_market, method, tail):
    response = getattr(client, method)(url(today_market, tail), data={"code": "7KQ4MX"})
    assert response.status_code == 302
    assert "/account/login" in response.headers["Location"]
    assert visit_of("7KQ4MX").visited_at is None


def test_an_admin_may_check_in(client, make_user, login_as, today_market):
    login_as(make_user(Role.ADMIN))
    assert client.post(url(today_market, "/7KQ4MX")).status_code == 303
    assert visit_of("7KQ4MX").visited_at is not None


# --- hostile input --------------------------------------------------------------------


@pytest.mark.parametrize(
    "code", ["7KQ4M%00", "%00", "A" * 5000, "7KQ%0D%0A4MX", "%ED%95%9C%EA%B8%80", "..%2F..%2Fx"]
)
def test_odd_pass_addresses_are_not_found(client, staff, login_as, today_market, code):
    login_as(staff)
    for method in (client.get, client.post):
        assert method(url(today_market, f"/{code}")).status_code == 404


@pytest.mark.parametrize(
    "data",
    [
        {"code": "7KQ4MX\x00"},
        {"code": "7KQ\r\n4MX"},
        {"code": "A" * 5000},
        {"code": "가" * 5000},
        {"name": "김하나\x00", "phone": "5678"},
        {"name": "김\r\n하나", "phone": "5678"},
        {"name": "김" * 5000, "phone": "5678"},
        {"name": "김하나", "phone": "5" * 5000},
        {"name": "%", "phone": "5678"},
        {"name": "김하나", "phone": "%_%_"},
        {},
    ],
)
def test_odd_form_input_is_told_not_a_server_error(client, staff, login_as, today_market, data):
    login_as(staff)
    for tail in ("/code", "/find"):
        response = client.post(url(today_market, tail), data=data)
        assert response.status_code in (200, 303, 400), response.status_code
        if response.status_code == 200:
            assert 'class="error"' in response.text or "flash" in response.text
    db.session.expire_all()
    assert db.session.scalar(select(Invitation).where(Invitation.visited_at.is_not(None))) is None


@pytest.mark.parametrize("market_id", ["0", "2147483648", "99999999999999999999"])
def test_market_ids_past_the_range_are_not_found(client, staff, login_as, market_id):
    login_as(staff)
    for tail in ("", "/7KQ4MX"):
        assert client.get(f"/staff/markets/{market_id}/check-in{tail}").status_code == 404
    for tail in ("/code", "/find", "/7KQ4MX"):
        assert client.post(f"/staff/markets/{market_id}/check-in{tail}").status_code == 404


# --- the pages ------------------------------------------------------------------------


def test_the_scanner_page_has_the_camera_code_and_name_forms(client, staff, login_as, today_market):
    login_as(staff)
    response = client.get(url(today_market))
    assert response.status_code == 200
    page = response.text
    assert 'id="scan-start"' in page
    assert f'data-prefix="/staff/markets/{today_market.id}/check-in/"' in page
    assert "/static/js/checkin.js" in page and "/static/js/jsqr/jsQR.js" in page
    assert "<script>" not in page  # nothing inline: the CSP allows none
    assert 'autocapitalize="characters"' in page and 'autocomplete="off"' in page
    assert 'inputmode="numeric"' in page
    assert "오늘 입장 0명 / 초대 3명" in page
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_the_scanner_accepts_the_passes_address_and_its_own(
    client, app, staff, login_as, today_market
):
    """Passes carry PUBLIC_BASE_URL; staff may open the page at another
    address (www. or not, a LAN address): the page hands its script both,
    and the pass alphabet, so the script keeps no copy of either."""
    app.config["PUBLIC_BASE_URL"] = "https://market.example.kr"
    login_as(staff)
    page = client.get(url(today_market)).text  # at the test client's host, market.test
    path = f"/staff/markets/{today_market.id}/check-in/"
    [accept] = re.findall(r'data-accept="([^"]*)"', page)
    assert accept.split() == [f"https://market.example.kr{path}", f"http://market.test{path}"]
    assert f'data-pass-alphabet="{PASS_ALPHABET}" data-pass-length="6"' in " ".join(page.split())
    script = os.path.join(client.application.static_folder, "js", "checkin.js")
    with open(script, encoding="utf-8") as text:
        assert "2-9A-H" not in text.read(), "the alphabet comes from the page"


def test_the_reader_ships_with_its_licence(client):
    with client.get("/static/js/jsqr/jsQR.js") as script:
        assert script.status_code == 200
        text = script.text
    assert "jsQR" in text
    assert "eval(" not in text and "new Function" not in text
    licence = os.path.join(client.application.static_folder, "js", "jsqr", "LICENSE")
    with open(licence, encoding="utf-8") as text:
        assert "Apache License" in text.read()


def test_the_market_page_links_to_check_in_on_the_day_only(
    client, staff, login_as, today_market, clock
):
    login_as(staff)
    link = url(today_market)
    assert f'href="{link}"' in client.get(f"/staff/markets/{today_market.id}").text
    clock.seoul(2026, 11, 25)
    assert f'href="{link}"' not in client.get(f"/staff/markets/{today_market.id}").text


def test_the_dashboard_offers_check_in_on_the_market_day(
    client, staff, login_as, today_market, clock
):
    login_as(staff)
    link = f'href="{url(today_market)}"'
    assert link in client.get("/staff/").text
    clock.seoul(2026, 11, 25)  # the day before: the same market is next, no check-in yet
    assert link not in client.get("/staff/").text


def _add_invitees(market, count: int, visited: int, start: int) -> None:
    for n in range(start, start + count):
        invite(market, f"guest{n}@example.com", f"손님{n}", f"+8210{n:08d}")
    for invitation in db.session.scalars(
        select(Invitation).where(Invitation.market_id == market.id).limit(visited)
    ):
        invitation.visited_at = utcnow()
    db.session.commit()


def test_the_pages_run_a_bounded_number_of_queries(
    client, staff, login_as, today_market, count_queries
):
    login_as(staff)
    pages = [
        ("get", url(today_market), {}),
        ("get", url(today_market, "/7KQ4MX"), {}),
        ("post", url(today_market, "/find"), {"name": "손", "phone": "0000"}),
    ]
    client.get(url(today_market))
    small = []
    for method, address, data in pages:
        with count_queries() as counter:
            assert getattr(client, method)(address, data=data).status_code == 200
        small.append(counter.count)
    _add_invitees(today_market, 30, visited=12, start=10)
    large = []
    for method, address, data in pages:
        with count_queries() as counter:
            assert getattr(client, method)(address, data=data).status_code == 200
        large.append(counter.count)
    assert large == small
    assert max(large) <= 8, large
    with count_queries() as counter:
        response = client.post(url(today_market, "/code"), data={"code": "HJKMNP"})
    assert response.status_code == 303
    # 8, and the commit's new data version for the kept answer pages (the
    # pass shows the check-in): market.core.versions
    assert counter.count <= 9, counter.statements
