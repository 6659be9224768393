"""Where a user is logged in (issue 17): a login_sessions row per browser,
shown on /account/devices, each ended on its own or all but this one; an
ended row signs that browser out at its next request, remember-me cookie
and all."""

import pytest
from sqlalchemy import select

from market.accounts.models import LoginSession, Role
from market.accounts.sessions import UNKNOWN, browser_summary
from market.extensions import db
from tests.helpers import PASSWORD

HOST = "market.test"
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; SM-S918N) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
SAMSUNG = (
    "Mozilla/5.0 (Linux; Android 13; SM-A536N) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36"
)
EDGE_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
)
WHALE = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Whale/3.25.232.19 Safari/537.36"
)


@pytest.mark.parametrize(
    ("agent", "summary"),
    [
        (ANDROID_CHROME, "Chrome · Android"),
        (IPHONE_SAFARI, "Safari · iPhone"),
        (SAMSUNG, "Samsung Internet · Android"),
        (EDGE_WINDOWS, "Edge · Windows"),
        (WHALE, "Whale · Windows"),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
            "Firefox · Linux",
        ),
        ("", UNKNOWN),
        ("curl/8.5.0", UNKNOWN),
        ("\x00\r\n" * 1000, UNKNOWN),
    ],
)
def test_browser_summary(agent, summary):
    assert browser_summary(agent) == summary


def sign_in(app, user, agent=ANDROID_CHROME, remember=False, **environ):
    client = app.test_client()
    data = {"email": user.email, "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    response = client.post(
        "/account/login", data=data, headers={"User-Agent": agent}, environ_base=environ
    )
    assert response.status_code == 302
    return client


def rows(user) -> list[LoginSession]:
    db.session.expire_all()
    return db.session.scalars(
        select(LoginSession).where(LoginSession.user_id == user.id).order_by(LoginSession.id)
    ).all()


def test_each_login_is_a_row_shown_on_the_devices_page(app, staff):
    phone = sign_in(app, staff, ANDROID_CHROME, REMOTE_ADDR="203.0.113.7")
    sign_in(app, staff, EDGE_WINDOWS, REMOTE_ADDR="198.51.100.2")
    [first, second] = rows(staff)
    assert (first.browser, first.ip_address) == ("Chrome · Android", "203.0.113.7")
    assert second.browser == "Edge · Windows"
    page = phone.get("/account/devices").get_data(as_text=True)
    assert "Chrome · Android" in page and "Edge · Windows" in page and "198.51.100.2" in page
    assert "지금 이 기기" in page and "다른 기기 모두 로그아웃" in page


def test_logging_out_one_device_ends_that_browser_even_with_remember_me(app, staff):
    phone = sign_in(app, staff, ANDROID_CHROME, remember=True)
    desk = sign_in(app, staff, EDGE_WINDOWS)
    remembered = phone.get_cookie("remember_token", domain=HOST).value
    phone_row = rows(staff)[0]
    assert desk.post(f"/account/devices/{phone_row.id}/end").status_code == 302
    assert phone.get("/staff/").status_code == 302
    # the remember-me cookie alone, in a browser that lost its session
    replay = app.test_client()
    replay.set_cookie("remember_token", remembered, domain=HOST)
    assert replay.get("/staff/").status_code == 302
    assert desk.get("/staff/").status_code == 200
    assert len(rows(staff)) == 1


def test_logging_out_every_other_device_keeps_this_one(app, staff):
    phone = sign_in(app, staff, ANDROID_CHROME, remember=True)
    tablet = sign_in(app, staff, IPHONE_SAFARI, remember=True)
    desk = sign_in(app, staff, EDGE_WINDOWS)
    assert desk.post("/account/devices/end-others").status_code == 302
    assert phone.get("/staff/").status_code == 302 and tablet.get("/staff/").status_code == 302
    assert desk.get("/staff/").status_code == 200
    assert [row.browser for row in rows(staff)] == ["Edge · Windows"]


def test_logging_out_this_device_from_the_list(app, staff):
    phone = sign_in(app, staff)
    [row] = rows(staff)
    response = phone.post(f"/account/devices/{row.id}/end")
    assert "/account/login" in response.headers["Location"]
    assert phone.get("/staff/").status_code == 302


def test_someone_elses_session_cannot_be_ended(app, staff, make_user):
    other = make_user(Role.STAFF)
    theirs = sign_in(app, other)
    mine = sign_in(app, staff)
    [their_row] = rows(other)
    assert mine.post(f"/account/devices/{their_row.id}/end").status_code == 302
    assert theirs.get("/staff/").status_code == 200


@pytest.mark.parametrize("session_id", ["2147483648", "99999999999999999999", "-1", "x"])
def test_odd_session_ids_are_not_found(app, staff, session_id):
    mine = sign_in(app, staff)
    assert mine.post(f"/account/devices/{session_id}/end").status_code == 404


def test_last_seen_moves_at_most_every_five_minutes(app, staff, clock, count_queries):
    phone = sign_in(app, staff)
    [row] = rows(staff)
    started = row.last_seen_at
    clock.advance(minutes=4)
    with count_queries() as counter:
        phone.get("/account/devices")
    assert not [s for s in counter.statements if s.lstrip().upper().startswith("UPDATE")]
    assert rows(staff)[0].last_seen_at == started
    clock.advance(minutes=2)
    phone.get("/account/devices")
    assert rows(staff)[0].last_seen_at > started


def test_a_signed_in_page_costs_one_query_for_the_user_and_session(app, staff, count_queries):
    phone = sign_in(app, staff)
    phone.get("/account/devices")
    with count_queries() as counter:
        phone.get("/account/password")
    assert len(counter.statements) == 1, counter.statements


def test_a_session_from_before_login_rows_gets_one(app, staff):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = f"{staff.id}:{staff.session_token}"
        session["_fresh"] = True
    assert client.get("/staff/").status_code == 200
    assert len(rows(staff)) == 1
    client.get("/staff/")
    assert len(rows(staff)) == 1


def test_the_address_is_the_visitors_behind_a_trusted_proxy(app_config, staff):
    app_config.update(TRUSTED_PROXY_HOPS=1)
    from market import create_app

    proxied = create_app(app_config)
    client = proxied.test_client()
    client.post(
        "/account/login",
        data={"email": staff.email, "password": PASSWORD},
        headers={"X-Forwarded-For": "192.0.2.44", "User-Agent": IPHONE_SAFARI},
    )
    assert rows(staff)[0].ip_address == "192.0.2.44"
    with proxied.app_context():
        db.engine.dispose()  # this second app's own connections


def test_a_password_change_keeps_this_device_and_ends_the_others(app, staff):
    phone = sign_in(app, staff)
    desk = sign_in(app, staff, EDGE_WINDOWS)
    new = "다른비밀번호-2026"
    response = desk.post(
        "/account/password", data={"current": PASSWORD, "new": new, "confirm": new}
    )
    assert response.status_code == 302
    assert desk.get("/staff/").status_code == 200
    assert phone.get("/staff/").status_code == 302
    assert [row.browser for row in rows(staff)] == ["Edge · Windows"]
