import pytest

from market.accounts.models import Role, User
from market.audit.models import AuditEntry
from market.extensions import db
from tests.helpers import PASSWORD, login


def test_login_page_renders_in_korean(client):
    page = client.get("/account/login").get_data(as_text=True)
    assert "로그인" in page
    assert 'lang="ko"' in page


def test_login_and_logout(client, staff):
    response = login(client, staff)
    assert response.status_code == 302
    assert response.headers["Location"] == "/home"
    assert client.get("/home").headers["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200
    db.session.expire_all()
    assert db.session.get(User, staff.id).last_login_at is not None
    client.post("/account/logout")
    assert client.get("/staff/").status_code == 302


def test_login_email_is_case_insensitive(client, staff):
    assert login(client, "  STAFF@Example.kr ").status_code == 302


def test_wrong_password_keeps_email_and_says_why(client, staff):
    response = login(client, staff, password="wrong-password")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "이메일 또는 비밀번호가 맞지 않거나" in page
    assert 'value="staff@example.kr"' in page
    assert client.get("/staff/").status_code == 302


def test_unknown_email_gets_the_same_answer(client):
    page = login(client, "nobody@example.kr").get_data(as_text=True)
    assert "이메일 또는 비밀번호가 맞지 않거나" in page


def test_inactive_user_cannot_log_in(client, make_user):
    user = make_user(Role.STAFF, active=False)
    response = login(client, user)
    assert response.status_code == 200
    assert client.get("/staff/").status_code == 302


def test_login_form_errors_for_empty_fields(client):
    page = client.post("/account/login", data={"email": "", "password": ""}).get_data(as_text=True)
    assert "이메일을 입력하세요." in page
    assert "비밀번호를 입력하세요." in page


def test_next_parameter_is_followed_only_within_the_site(client, staff):
    response = client.post(
        "/account/login?next=/staff/audit/",
        data={"email": staff.email, "password": PASSWORD},
    )
    assert response.headers["Location"] == "/staff/audit/"
    client.post("/account/logout")
    response = client.post(
        "/account/login?next=https://evil.example/",
        data={"email": staff.email, "password": PASSWORD},
    )
    assert response.headers["Location"] == "/home"


def test_anonymous_is_sent_to_login_with_next(client):
    response = client.get("/staff/audit/")
    assert response.status_code == 302
    assert "/account/login" in response.headers["Location"]
    assert "next=" in response.headers["Location"]


def test_change_password(client, staff, login_as):
    login_as(staff)
    response = client.post(
        "/account/password",
        data={"current": PASSWORD, "new": "new-password-9", "confirm": "new-password-9"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, staff.id).check_password("new-password-9")
    assert db.session.query(AuditEntry).filter_by(action="user.password_change").count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"current": "wrong", "new": "new-password-9", "confirm": "new-password-9"},
            "현재 비밀번호가 맞지 않습니다.",
        ),
        ({"current": PASSWORD, "new": "short", "confirm": "short"}, "8자 이상 입력하세요."),
        (
            {"current": PASSWORD, "new": "new-password-9", "confirm": "other-password"},
            "두 새 비밀번호가 서로 다릅니다.",
        ),
    ],
)
def test_change_password_refusals_change_nothing(client, staff, login_as, data, message):
    login_as(staff)
    response = client.post("/account/password", data=data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, staff.id).check_password(PASSWORD)


def test_passwords_are_hashed_with_scrypt(staff):
    assert staff.password_hash.startswith("scrypt:")
    assert PASSWORD not in staff.password_hash


def test_english_can_be_chosen(client):
    client.post("/language", data={"lang": "en", "next": "/account/login"})
    page = client.get("/account/login").get_data(as_text=True)
    assert "Log in" in page and 'lang="en"' in page
    client.post("/language", data={"lang": "ko"})
    assert "로그인" in client.get("/account/login").get_data(as_text=True)


@pytest.fixture
def limited_app_config(app_config):
    app_config.update(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    return app_config


def test_login_is_rate_limited(limited_app_config, client, staff):
    for _ in range(3):
        assert login(client, staff, password="wrong").status_code == 200
    response = login(client, staff)
    assert response.status_code == 429
    assert "시도 횟수가 너무 많습니다" in response.get_data(as_text=True)


def test_forms_refuse_a_missing_csrf_token(app_config, client, staff):
    client.application.config["WTF_CSRF_ENABLED"] = True
    response = login(client, staff)
    assert response.status_code == 400
    assert "양식의 유효 시간이 지났습니다" in response.get_data(as_text=True)


def test_forms_accept_the_csrf_token_of_the_page(client, staff):
    client.application.config["WTF_CSRF_ENABLED"] = True
    page = client.get("/account/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        "/account/login", data={"email": staff.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
