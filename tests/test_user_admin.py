"""The logins pages (/staff/users, issue 17): list and search, inviting a
staff member by mail, disabling, enabling, signing out everywhere, roles.
Admins manage everyone; staff never touch an admin nor make one; nobody acts
on their own login; the center keeps one active admin."""

import re
import threading
from email import message_from_bytes, policy

import pytest
from sqlalchemy import func, select

from market.accounts import admin
from market.accounts.models import Role, User
from market.accounts.services import AccountError
from market.audit.models import AuditEntry
from market.extensions import db
from market.outbox.models import OutboxMessage
from tests.conftest import is_postgres
from tests.helpers import PASSWORD, login

NEW = "처음비밀번호-2026"


@pytest.fixture
def boss(make_user):
    return make_user(Role.ADMIN, email="boss@example.kr", name="김관리")


def fresh(user) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def actions() -> list[str]:
    return db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()


def confirm(client, user, action, **data):
    """The action as the page does it: the question first, then confirmed."""
    url = f"/staff/users/{user.id}/{action}"
    first = client.post(url, data=data)
    if action in ("enable", "resend"):
        return first
    assert first.status_code == 200 and "confirmed" in first.get_data(as_text=True)
    return client.post(url, data={**data, "confirmed": "1"})


def test_the_list_shows_role_status_and_last_login_in_kst(client, boss, make_user, clock, login_as):
    staff = make_user(Role.STAFF, name="이직원")
    make_user(Role.VENDOR, name="박상인", active=False)
    login(client.application.test_client(), staff)  # 10:00 KST (the clock fixture)
    login_as(boss)
    page = client.get("/staff/users/").get_data(as_text=True)
    assert "이직원" in page and "박상인" in page and "김관리" in page
    assert "관리자" in page and "직원" in page and "사용 중지" in page
    assert "2026-11-26 10:00" in page  # the last login, Korea time
    found = client.get("/staff/users/?q=직원").get_data(as_text=True)
    assert "이직원" in found and "박상인" not in found
    assert "박상인" in client.get("/staff/users/?q=VENDOR").get_data(as_text=True)
    only = client.get("/staff/users/?role=admin").get_data(as_text=True)
    assert "김관리" in only and "이직원" not in only


@pytest.mark.parametrize(
    "query",
    [
        "?q=%00",
        "?q=%0d%0a",
        "?q=" + "x" * 5000,
        "?q=%25_%5C",
        "?role=root",
        "?page=99999999999",
        "?page=-3",
    ],
)
def test_odd_list_queries_are_no_error(staff_client, query):
    assert staff_client.get("/staff/users/" + query).status_code in (200, 400, 404)


def test_the_list_is_paginated_in_a_few_queries(staff_client, make_user, app, count_queries):
    app.config["PAGE_SIZE"] = 5
    for _ in range(12):
        make_user(Role.VENDOR)
    with count_queries() as counter:
        page = staff_client.get("/staff/users/?page=2").get_data(as_text=True)
    assert "page=3" in page
    assert counter.count <= 6, counter.statements


def test_inviting_a_staff_member_mails_a_link_to_set_a_password(client, boss, login_as):
    login_as(boss)
    response = client.post(
        "/staff/users/invite", data={"name": "최신입", "email": "New@Example.kr", "role": "staff"}
    )
    assert response.status_code == 302
    invited = db.session.scalar(select(User).where(User.email == "new@example.kr"))
    assert invited.role is Role.STAFF and invited.active
    [mail] = db.session.scalars(select(OutboxMessage)).all()
    assert mail.to_address.endswith("new@example.kr") and "초대" in mail.subject
    text = message_from_bytes(mail.mime, policy=policy.default).get_body(("plain",)).get_content()
    assert "72시간" in text and "최신입님" in text and "직원으로 초대" in text
    # nobody knows the password yet: no way in before the link
    assert login(client.application.test_client(), invited, "").status_code == 200
    link = re.search(r"/account/welcome/[A-Za-z0-9._-]+", text)[0]
    other = client.application.test_client()
    assert other.post(link, data={"new": NEW, "confirm": NEW}).status_code == 302
    assert login(other, "new@example.kr", NEW).status_code == 302
    assert other.get(link).status_code == 404, "the invitation link works once"
    assert actions().count("user.invite") == 1


def test_an_invitation_refuses_a_taken_email_and_odd_input(staff_client, staff):
    page = staff_client.post(
        "/staff/users/invite", data={"name": "누구", "email": staff.email, "role": "staff"}
    )
    assert page.status_code == 200 and "이미" in page.get_data(as_text=True)
    for data in (
        {"name": "a\x00b", "email": "x@example.kr", "role": "staff"},
        {"name": "줄\r\n바꿈", "email": "y@example.kr\r\nBcc: z@example.kr", "role": "staff"},
        {"name": "이름", "email": "z@example.kr", "role": "root"},
    ):
        assert staff_client.post("/staff/users/invite", data=data).status_code in (200, 400)
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_staff_cannot_invite_an_admin(staff_client):
    page = staff_client.post(
        "/staff/users/invite", data={"name": "관리자", "email": "a@example.kr", "role": "admin"}
    )
    assert page.status_code == 200
    assert db.session.scalar(select(User).where(User.email == "a@example.kr")) is None


@pytest.mark.parametrize("action", ["disable", "enable", "sign_out", "role", "resend"])
def test_staff_cannot_touch_an_admin(staff_client, boss, action):
    response = staff_client.post(
        f"/staff/users/{boss.id}/{action}", data={"role": "staff", "confirmed": "1"}
    )
    assert response.status_code == 403
    after = fresh(boss)
    assert after.active and after.role is Role.ADMIN
    assert not [a for a in actions() if a.startswith("user.") and a != "user.create"]


def test_staff_page_of_an_admin_offers_no_actions(staff_client, boss):
    page = staff_client.get(f"/staff/users/{boss.id}").get_data(as_text=True)
    assert f"/staff/users/{boss.id}/disable" not in page
    assert "관리자만" in page


def test_staff_can_manage_staff_and_vendors_but_make_no_admin(staff_client, make_user):
    colleague = make_user(Role.STAFF)
    vendor = make_user(Role.VENDOR)
    assert confirm(staff_client, colleague, "role", role="admin").status_code == 302
    assert fresh(colleague).role is Role.STAFF
    assert confirm(staff_client, vendor, "disable").status_code == 302
    assert not fresh(vendor).active
    assert confirm(staff_client, vendor, "enable").status_code == 302
    assert fresh(vendor).active
    assert confirm(staff_client, vendor, "role", role="staff").status_code == 302
    assert fresh(vendor).role is Role.VENDOR, "an enterprise's login keeps its role"


def test_disabling_signs_the_person_out_and_is_audited(app, client, boss, make_user, login_as):
    staff = make_user(Role.STAFF)
    theirs = app.test_client()
    login(theirs, staff)
    assert theirs.get("/staff/").status_code == 200
    login_as(boss)
    # the question comes first; nothing changes until it is confirmed
    question = client.post(f"/staff/users/{staff.id}/disable")
    assert question.status_code == 200 and fresh(staff).active
    client.post(f"/staff/users/{staff.id}/disable", data={"confirmed": "1"})
    assert not fresh(staff).active
    assert theirs.get("/staff/").status_code == 302
    assert "user.disable" in actions()


def test_signing_out_everywhere_ends_every_session(app, client, boss, make_user, login_as):
    staff = make_user(Role.STAFF)
    phone, desk = app.test_client(), app.test_client()
    login(phone, staff), login(desk, staff)
    login_as(boss)
    assert confirm(client, staff, "sign_out").status_code == 302
    assert phone.get("/staff/").status_code == 302 and desk.get("/staff/").status_code == 302
    assert fresh(staff).active
    assert "user.sessions_end" in actions()


def test_an_admin_makes_staff_admin_and_back(client, boss, make_user, login_as):
    staff = make_user(Role.STAFF)
    login_as(boss)
    confirm(client, staff, "role", role="admin")
    assert fresh(staff).role is Role.ADMIN
    confirm(client, staff, "role", role="staff")
    assert fresh(staff).role is Role.STAFF
    assert actions().count("user.role_change") == 2


def test_nobody_acts_on_their_own_login(client, boss, login_as):
    login_as(boss)
    for action in ("disable", "sign_out"):
        response = client.post(f"/staff/users/{boss.id}/{action}", data={"confirmed": "1"})
        assert response.status_code == 302
    client.post(f"/staff/users/{boss.id}/role", data={"role": "staff", "confirmed": "1"})
    after = fresh(boss)
    assert after.active and after.role is Role.ADMIN
    assert client.get("/staff/").status_code == 200, "still signed in"


def test_the_last_active_admin_is_kept(app, boss, make_user):
    second = make_user(Role.ADMIN)
    admin.disable(boss, second)  # two admins: one may go
    db.session.commit()
    with pytest.raises(AccountError):
        admin.change_role(second, boss, Role.STAFF)  # `second` is disabled now, but
    db.session.rollback()
    third = make_user(Role.ADMIN)
    admin.change_role(third, boss, Role.STAFF)
    db.session.commit()
    with pytest.raises(AccountError):  # only `third` is left
        admin.disable(make_user(Role.ADMIN, active=False), third)


def test_two_admins_demoting_each_other_at_once_leave_one(app, boss, make_user):
    """Each in its own connection, at the same moment: the lock makes the
    second wait and count again, so exactly one demotion happens."""
    if not is_postgres():
        pytest.skip("SQLite takes one writer at a time; the race needs PostgreSQL")
    other = make_user(Role.ADMIN)
    ids = (boss.id, other.id)
    barrier = threading.Barrier(2)
    results = []

    def demote(actor_id, target_id):
        with app.app_context():
            actor, target = db.session.get(User, actor_id), db.session.get(User, target_id)
            barrier.wait()
            try:
                admin.change_role(actor, target, Role.STAFF)
                db.session.commit()
                results.append("done")
            except AccountError:
                db.session.rollback()
                results.append("refused")
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=demote, args=ids),
        threading.Thread(target=demote, args=ids[::-1]),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == ["done", "refused"]
    db.session.expire_all()
    admins = db.session.scalar(select(func.count()).where(User.role == Role.ADMIN))
    assert admins == 1


@pytest.mark.parametrize("url", ["/staff/users/2147483648", "/staff/users/99999999999999999999"])
def test_ids_past_2_31_are_not_found(staff_client, url):
    assert staff_client.get(url).status_code == 404
    assert staff_client.post(url + "/disable", data={"confirmed": "1"}).status_code == 404


def test_an_unknown_action_is_not_found(staff_client, make_user):
    user = make_user(Role.VENDOR)
    assert staff_client.post(f"/staff/users/{user.id}/delete").status_code == 404


def test_resending_an_invitation_mails_a_fresh_link(staff_client, make_user):
    colleague = make_user(Role.STAFF)
    assert confirm(staff_client, colleague, "resend").status_code == 302
    [mail] = db.session.scalars(select(OutboxMessage)).all()
    assert colleague.email in mail.to_address
    assert login(staff_client.application.test_client(), colleague, PASSWORD).status_code == 302
