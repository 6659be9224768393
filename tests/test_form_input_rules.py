"""What people type, checked once and told clearly (after a newcomer
tried the app by hand): one email rule for every form and the
importer, invisible format characters, dates that do not exist, lists,
length messages, NUL bytes that keep the form, plausible certification dates
and password lengths. Through the real pages wherever it is a page."""

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from market.accounts import services as accounts
from market.accounts.models import User
from market.customers.rows import parse_row
from market.extensions import db
from market.markets.models import Venue
from market.outbox.models import OutboxMessage, OutboxStatus
from market.validators import checked_email, one_line, visible
from market.vendors.models import Vendor, VendorStatus
from tests.booths_factories import open_market
from tests.helpers import login
from tests.markets_factories import make_venue
from tests.vendors_factories import PASSWORD, make_vendor, make_vendor_login, registration_form

RLO = "\u202e"
ZWSP = "\u200b"
INVISIBLE = "보이지 않는 문자"


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _sign_up(client, **changes):
    response = client.post("/vendors/register", data=registration_form(**changes))
    return response, response.get_data(as_text=True)


def _profile_form(vendor, **changes) -> dict:
    form = registration_form(business_number=vendor.business_number, email=vendor.email)
    form.pop("password"), form.pop("confirm")
    return {**form, **changes}


# -- 1. one email rule ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("김철수@x.kr", "@ 앞에는 영문자, 숫자와 . _ - + 만 써 주세요"),
        ("a,b@x.kr", "@ 앞에는 영문자"),
        ("local@localhost", "@ 뒤의 “localhost”은(는) 인터넷 도메인이 아닙니다"),
        ("kim@example.invalid", "@ 뒤의 “example.invalid”은(는) 인터넷 도메인이 아닙니다"),
        ("kim.example.kr", "완전하지 않습니다"),
    ],
)
def test_sign_up_refuses_an_address_the_mailer_cannot_write(client, typed, says):
    response, page = _sign_up(client, email=typed)
    assert response.status_code == 200
    assert says in page
    assert _count(Vendor) == 0 and _count(User) == 0


def test_the_domain_is_blamed_for_localhost_not_the_name():
    _email, problem = checked_email("local@localhost")
    assert "localhost" in problem and "@ 앞에는" not in problem


def test_profile_refuses_it_too_and_approving_queues_a_mail_that_builds(
    app, client, login_as, staff
):
    vendor = make_vendor("행복플러스", status=VendorStatus.PENDING)
    login_as(make_vendor_login(vendor))
    refused = client.post("/vendor/profile", data=_profile_form(vendor, email="김철수@x.kr"))
    assert refused.status_code == 200
    assert "@ 앞에는 영문자" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Vendor, vendor.id).email != "김철수@x.kr"
    # What the form keeps is what the mailer writes: a domain in Korean is
    # stored in its ASCII form, and the approval mail is built.
    saved = client.post("/vendor/profile", data=_profile_form(vendor, email="Kim@한국.kr"))
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(Vendor, vendor.id).email == "kim@xn--3e0b707e.kr"
    staff_client = app.test_client()

    login(staff_client, staff)
    staff_client.post(f"/staff/vendors/{vendor.id}/decide", data={"decision": "approved"})
    (row,) = db.session.scalars(select(OutboxMessage)).all()
    assert row.status is OutboxStatus.QUEUED, row.last_error


def test_the_importer_and_the_forms_share_the_rule(app):
    with app.test_request_context("/"):
        bad = parse_row(
            7,
            {
                "order_no": "A-1",
                "ordered_at": "2026-05-01 10:00",
                "buyer_name": "김민준",
                "email": "local@localhost",
                "seller": "행복플러스",
                "amount": "12000",
            },
        )
        (problem,) = [p for p in bad.problems if "이메일" in p]
        assert problem == checked_email("local@localhost")[1]
        assert "인터넷 도메인이 아닙니다" in problem


def test_login_with_such_an_address_just_finds_nobody(client):
    response = client.post("/account/login", data={"email": "김철수@x.kr", "password": "x" * 9})
    assert response.status_code == 200
    assert "로그인" in response.get_data(as_text=True)


def test_the_create_user_command_uses_the_rule(app):
    with pytest.raises(accounts.AccountError, match="localhost"):
        accounts.create_user("staff@localhost", "김직원", "long-password-1", "staff")


# -- 2. invisible format characters ---------------------------------------------------


@pytest.mark.parametrize(
    "char", ["\u202e", "\u202a", "\u2066", "\u2069", "\u200e", "\u200f", "\u061c", "\ufeff"]
)
def test_sign_up_refuses_bidi_and_zero_width_characters_in_a_name(client, char):
    response, page = _sign_up(client, name=f"새협동조합{char}gnp.exe")
    assert response.status_code == 200 and INVISIBLE in page
    assert _count(Vendor) == 0


@pytest.mark.parametrize("char", ["\u200b", "\u200c", "\u200d", "\u2060"])
def test_zero_width_characters_and_the_joiner_are_refused_too(client, char):
    response, page = _sign_up(client, contact_name=f"김{char}행복")
    assert response.status_code == 200 and INVISIBLE in page


def test_a_venue_renamed_to_zero_width_spaces_is_empty(client, login_as, staff):
    venue = make_venue("경기도청", 10)
    login_as(staff)
    data = {"name": ZWSP * 3, "address": "수원시 팔달구 효원로 1", "booth_spots": "10"}
    response = client.post(f"/staff/venues/{venue.id}/edit", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "장소 이름을 입력하세요" in page, page
    db.session.expire_all()
    assert db.session.get(Venue, venue.id).name == "경기도청"


@pytest.mark.parametrize("blank", ["\u3164", " \u200b ", "\u115f\u1160"])
def test_a_required_name_that_shows_nothing_is_refused_as_empty(client, blank):
    response, page = _sign_up(client, name=blank)
    assert response.status_code == 200 and "기업 이름을 입력하세요" in page
    assert _count(Vendor) == 0


def test_messages_show_format_characters_by_their_code_point():
    assert visible(f"새협동조합{RLO}gnp.exe") == "새협동조합⟨U+202E⟩gnp.exe"
    assert visible(f"a{ZWSP}b\r\nc\x00") == "a⟨U+200B⟩b↵↵c\ufffd"
    bad = parse_row(
        23,
        {
            "order_no": "A-23",
            "ordered_at": "2026-05-01 10:00",
            "buyer_name": f"김{RLO}민준",
            "email": "kim@example.com",
            "seller": "행복플러스",
            "amount": "12000",
        },
    )
    assert any("김⟨U+202E⟩민준" in p for p in bad.problems), bad.problems
    assert not any(RLO in p for p in bad.problems)


def test_stored_names_lose_them_in_mail():
    assert one_line(f"새협동조합{RLO}gnp.exe") == "새협동조합 gnp.exe"


# -- 3. clear messages ----------------------------------------------------------------


def test_a_date_that_does_not_exist_is_told_so(client):
    response, page = _sign_up(client, cert_issued_on="2026-02-30")
    assert response.status_code == 200
    assert "“2026-02-30”은 없는 날짜입니다" in page  # issue 17: the particle fits (영 -> 은)
    assert "형식" not in page.split("2026-02-30", 1)[1][:200]


def test_season_blackouts_name_every_bad_date(client, login_as, staff):
    venue = make_venue("경기도청", 10)
    login_as(staff)
    data = {
        "start": "2027-03-04",
        "end": "2027-05-27",
        "venue_ids": [str(venue.id)],
        "start_time": "10:00",
        "end_time": "15:00",
        "booth_count": "8",
        "blackout_dates": "2027-04-01\n내일, 2027-02-30\n2027-13-01\n2027/04/08",
    }
    page = client.post("/staff/markets/season", data=data).get_data(as_text=True)
    # issue 17: particles fit their word (내일 -> 은, 30 -> 삼십 -> 은, 01 -> 일 -> 은)
    assert "“내일”은 날짜가 아닙니다" in page
    assert "“2027-02-30”은 없는 날짜입니다" in page
    assert "“2027-13-01”은 없는 날짜입니다" in page
    assert "2027/04/08" not in page.split("blackout_dates", 1)[1].split("</textarea>", 1)[1]


def test_a_tampered_choice_is_told_once_in_plain_korean(client, login_as, staff):
    _response, page = _sign_up(client, category="9999999999999999999")
    assert page.count("목록에 있는 항목 중에서 골라 주세요") == 1
    assert "유효한 선택" not in page
    venue = make_venue("경기도청", 10)
    login_as(staff)
    data = {
        "start": "2027-03-04",
        "end": "2027-05-27",
        "venue_ids": [str(venue.id), "99999"],
        "start_time": "10:00",
        "end_time": "15:00",
        "booth_count": "8",
    }
    page = client.post("/staff/markets/season", data=data).get_data(as_text=True)
    assert page.count("목록에 있는 항목 중에서 골라 주세요") == 1
    assert "유효한 선택" not in page and "99999" not in page


def test_length_messages_read_as_korean(client):
    _response, page = _sign_up(client, contact_name="김" * 51)
    assert "50자보다 길게 쓸 수 없습니다" in page and "자 보다" not in page


# -- 4. a NUL in a form body keeps the form -------------------------------------------


def test_a_nul_in_sign_up_is_a_field_error_and_the_rest_is_kept(client):
    response, page = _sign_up(client, contact_name="김\x00행복", cert_number="2015-777")
    assert response.status_code == 200
    assert "줄바꿈, 탭 같은 제어 문자를 넣을 수 없습니다" in page
    assert 'value="2015-777"' in page and 'value="행복플러스"' in page
    assert _count(Vendor) == 0


def test_a_nul_in_a_text_area_is_a_field_error(client):
    response, page = _sign_up(client, description="양말\x00")
    assert response.status_code == 200 and "보이지 않는 제어 문자" in page


def test_a_nul_in_a_staff_venue_name_is_a_field_error(client, login_as, staff):
    login_as(staff)
    response = client.post(
        "/staff/venues/new",
        data={"name": "경기\x00도청", "address": "수원시 팔달구", "booth_spots": "10"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "제어 문자" in page
    assert 'value="수원시 팔달구"' in page
    assert _count(Venue) == 0


def test_a_nul_in_a_search_or_an_address_is_still_refused(client, login_as, staff):
    login_as(staff)
    assert client.get("/staff/vendors/?q=%00").status_code == 400
    assert client.get("/staff/outbox/?q=a%00b").status_code == 400
    assert client.get("/u/abc%00def").status_code == 404


def test_views_reading_the_form_themselves_cope_with_a_nul(client, login_as, staff):
    vendor = make_vendor("행복플러스", status=VendorStatus.PENDING)
    login_as(staff)
    response = client.post(f"/staff/vendors/{vendor.id}/decide", data={"decision": "\x00"})
    assert response.status_code < 500
    response = client.post("/language", data={"lang": "\x00", "next": "/staff/\x00"})
    assert response.status_code == 302
    assert "\x00" not in response.headers["Location"]


@pytest.mark.parametrize("url", ["/?q=%00", "/markets/?page=1%0A2", "/%00"])
def test_the_language_switch_never_echoes_a_control_character(client, url):
    page = client.get(url).get_data(as_text=True)
    (next_value,) = re.findall(r'name="next" value="([^"]*)"', page)
    assert "\x00" not in next_value and "%00" not in next_value
    assert "%0A" not in next_value and "\n" not in next_value
    assert next_value.startswith("/")


# -- 5. plausible certification dates and passwords -----------------------------------


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("cert_issued_on", "0001-01-01", "1990년 이후"),
        ("cert_issued_on", "1989-12-31", "1990년 이후"),
        ("cert_issued_on", "2099-01-01", "오늘보다 뒤일 수 없습니다"),
        ("cert_expires_on", "9999-12-31", "20년 이내"),
    ],
)
def test_sign_up_refuses_impossible_certification_dates(client, field, value, says):
    response, page = _sign_up(client, **{field: value})
    assert response.status_code == 200 and says in page
    assert _count(Vendor) == 0


def test_plausible_certification_dates_pass(clock, client):
    today = date(2026, 11, 26)
    clock.seoul(2026, 11, 26)
    response, _page = _sign_up(
        client, cert_issued_on="1990-01-01", cert_expires_on=f"{today.year + 20}-12-31"
    )
    assert response.status_code == 302


def test_a_password_has_at_most_200_characters(client, login_as):
    long = "p" * 10_000
    response, page = _sign_up(client, password=long, confirm=long)
    assert response.status_code == 200 and "비밀번호는 200자까지 쓸 수 있습니다" in page
    assert _count(Vendor) == 0
    vendor = make_vendor("행복플러스")
    user = make_vendor_login(vendor)
    login_as(user)
    response = client.post(
        "/account/password",
        data={"current": PASSWORD, "new": "p" * 201, "confirm": "p" * 201},
    )
    assert "비밀번호는 200자까지 쓸 수 있습니다" in response.get_data(as_text=True)
    with pytest.raises(accounts.AccountError):
        accounts.create_user("new@example.kr", "김직원", "p" * 201, "staff")


def test_the_ranking_options_come_back_without_the_nul(client, login_as, staff):
    market = open_market(weeks=3, booths=4)
    login_as(staff)
    response = client.post(
        f"/staff/markets/{market.id}/invitations/ranking",
        data={"top_n": "5\x00", "window_days": "30", "min_orders": "1"},
    )
    assert response.status_code == 303
    assert "%00" not in response.location and "window_days=30" in response.location
    assert client.get(response.location).status_code == 200
