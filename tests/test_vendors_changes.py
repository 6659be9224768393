"""A live enterprise's new name, business number or category waits for staff:
until approved, the approved values are public and match imported orders."""

import os
import threading
from dataclasses import fields

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from market.accounts.models import Role
from market.audit.models import AuditEntry
from market.customers.importer import SellerMatcher
from market.extensions import db
from market.outbox.mime import parse
from market.outbox.models import OutboxMessage
from market.vendors import changes, services
from market.vendors.models import Category, Vendor, VendorChange, VendorStatus
from tests.booths_factories import applicant, open_market
from tests.test_vendors_approval import _profile_form
from tests.vendors_factories import make_vendor, make_vendor_login, valid_business_number

OLD, NEW = "잔다리마을공동체", "콩세상협동조합"


def _reload(vendor) -> Vendor:
    db.session.expire_all()
    return db.session.get(Vendor, vendor.id)


def _changes() -> list[VendorChange]:
    db.session.expire_all()
    return list(db.session.scalars(select(VendorChange)))


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def _emails() -> list:
    return [parse(row.mime) for row in db.session.scalars(select(OutboxMessage))]


def _matched(seller: str) -> int | None:
    return SellerMatcher.load().match(seller)


@pytest.fixture
def live(client, login_as):
    """An approved enterprise, signed in, that asked to be renamed (and to
    change its phone number, which needs no review)."""
    vendor = make_vendor(OLD, shop_url=None)
    login_as(make_vendor_login(vendor))
    response = client.post(
        "/vendor/profile", data=_profile_form(vendor, name=NEW, phone="010-2222-3333")
    )
    assert response.status_code == 302
    return _reload(vendor)


@pytest.fixture
def switch_to(client, login_as):
    """Logs out whoever is signed in, then in as `user`."""

    def switch(user):
        client.post("/account/logout")
        return login_as(user)

    return switch


def _decide(client, vendor, decision, reason=""):
    return client.post(
        f"/staff/vendors/{vendor.id}/change", data={"decision": decision, "reason": reason}
    )


def test_a_rename_is_not_public_nor_matched_until_approved(client, live):
    assert live.name == OLD and live.status is VendorStatus.APPROVED
    assert live.phone == "+821022223333"  # other fields save at once
    (change,) = _changes()
    assert change.name == NEW and change.business_number is None and change.category is None
    directory = client.get("/vendors/").get_data(as_text=True)
    assert OLD in directory and NEW not in directory
    assert _matched(OLD) == live.id and _matched(NEW) is None
    profile = client.get("/vendor/profile").get_data(as_text=True)
    assert "검토 중" in profile and NEW in profile and "변경 요청 철회" in profile
    assert "변경 요청 보기" in client.get("/vendor/").get_data(as_text=True)
    assert "vendor.change_request" in _actions()


def test_approval_makes_the_new_name_public_and_matched(client, live, switch_to, staff):
    switch_to(staff)
    response = _decide(client, live, "approve")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/staff/vendors/changes")
    vendor = _reload(live)
    assert vendor.name == NEW and _changes() == []
    directory = client.get("/vendors/").get_data(as_text=True)
    assert NEW in directory and OLD not in directory
    assert _matched(NEW) == vendor.id and _matched(OLD) is None
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "vendor.change_approve")
    )
    assert entry.actor_id == staff.id
    assert entry.before["name"] == OLD and entry.after["name"] == NEW
    (message,) = _emails()
    assert message["Subject"] == f"[굿모닝장터] {NEW} 기업 정보 변경이 승인되었습니다"
    body = message.get_body(("plain",)).get_content()
    assert f"기업 이름: {OLD} → {NEW}" in body and "박담당님" in body


def test_rejection_keeps_the_old_values_and_says_why(client, live, switch_to, staff):
    switch_to(staff)
    _decide(client, live, "reject", reason="사업자등록증을 보내 주세요.")
    vendor = _reload(live)
    assert vendor.name == OLD and _changes() == []
    assert _matched(OLD) == vendor.id and _matched(NEW) is None
    assert "vendor.change_reject" in _actions()
    (message,) = _emails()
    # Not compared whole: Python's header folding drops the space where it
    # splits this subject into two encoded words (an outbox matter).
    assert message["Subject"].endswith("기업 정보 변경이 반려되었습니다")
    assert "사유: 사업자등록증을 보내 주세요." in message.get_body(("plain",)).get_content()


def test_booth_maps_show_the_approved_values_until_approval(client, login_as, switch_to, staff):
    market = open_market(booths=4)
    vendor = db.session.get(Vendor, applicant(market, OLD).vendor_id)
    login_as(make_vendor_login(vendor))
    client.post("/vendor/profile", data=_profile_form(vendor, name=NEW, category="crafts"))
    switch_to(staff)
    booths = f"/staff/markets/{market.id}/booths"
    page = client.get(booths).get_data(as_text=True)
    assert f"1번 부스: {OLD}, 식품." in page and NEW not in page
    _decide(client, vendor, "approve")
    assert f"1번 부스: {NEW}, 공예품." in client.get(booths).get_data(as_text=True)


def test_staff_see_the_change_beside_the_current_values(client, live, switch_to, staff):
    switch_to(staff)
    page = client.get(f"/staff/vendors/{live.id}/change").get_data(as_text=True)
    assert page.index(OLD) < page.index(NEW)
    assert "지금 정보 (사용 중)" in page and "요청한 값" in page
    listing = client.get("/staff/vendors/changes").get_data(as_text=True)
    assert OLD in listing and NEW in listing
    assert "검토할 정보 변경 (1)" in client.get("/staff/vendors/").get_data(as_text=True)
    assert "변경 검토하기" in client.get(f"/staff/vendors/{live.id}").get_data(as_text=True)
    assert "검토할 기업 정보 변경" in client.get("/staff/").get_data(as_text=True)


def test_a_second_edit_replaces_the_waiting_request(client, live):
    client.post("/vendor/profile", data=_profile_form(live, name="두번째이름", category="crafts"))
    (change,) = _changes()
    assert change.name == "두번째이름" and change.category is Category.CRAFTS
    assert _reload(live).category is Category.FOOD


def test_saving_other_fields_keeps_the_request(client, live):
    form = client.get("/vendor/profile").get_data(as_text=True)
    assert f'value="{NEW}"' in form  # the form shows the requested name
    client.post("/vendor/profile", data=_profile_form(live, name=NEW, description="새 소개"))
    assert _reload(live).description == "새 소개"
    assert [change.name for change in _changes()] == [NEW]


def test_typing_the_approved_values_back_withdraws(client, live):
    client.post("/vendor/profile", data=_profile_form(live, name=OLD))
    assert _changes() == [] and _actions()[-1] == "vendor.change_withdraw"


def test_the_enterprise_withdraws_its_request(client, live):
    response = client.post("/vendor/profile/change/withdraw")
    assert response.status_code == 302
    assert _changes() == [] and _reload(live).name == OLD
    assert "vendor.change_withdraw" in _actions()
    page = client.get("/vendor/profile").get_data(as_text=True)
    assert "변경 요청을 철회했습니다" in page and "변경 요청 철회" not in page


def test_a_new_business_number_waits_and_is_refused_when_taken(client, login_as):
    make_vendor("다른기업", business_number="2208162517")
    vendor = make_vendor()
    login_as(make_vendor_login(vendor))
    refused = client.post(
        "/vendor/profile", data=_profile_form(vendor, business_number="220-81-62517")
    )
    assert "이미 등록된 기업이 있습니다" in refused.get_data(as_text=True)
    assert _changes() == []
    free = valid_business_number()
    client.post("/vendor/profile", data=_profile_form(vendor, business_number=free))
    vendor = _reload(vendor)
    assert vendor.status is VendorStatus.APPROVED and vendor.business_number != free
    assert [change.business_number for change in _changes()] == [free]


def test_a_number_taken_since_the_request_is_refused_at_approval(
    client, login_as, switch_to, staff
):
    vendor = make_vendor()
    login_as(make_vendor_login(vendor))
    free = valid_business_number()
    client.post("/vendor/profile", data=_profile_form(vendor, business_number=free))
    make_vendor("먼저등록한기업", business_number=free)
    switch_to(staff)
    response = _decide(client, vendor, "approve")
    assert response.status_code == 200
    assert "다른 기업이 등록되어 있어 변경을 승인할 수 없습니다" in response.get_data(as_text=True)
    assert _reload(vendor).business_number != free and len(_changes()) == 1
    assert _emails() == []


def test_the_unique_business_number_backs_approval_when_two_race(
    client, login_as, switch_to, staff, monkeypatch
):
    """Two approvals at once both pass the check; the constraint refuses the second."""
    vendor = make_vendor()
    login_as(make_vendor_login(vendor))
    free = valid_business_number()
    client.post("/vendor/profile", data=_profile_form(vendor, business_number=free))
    make_vendor("먼저등록한기업", business_number=free)
    monkeypatch.setattr(services, "business_number_owner", lambda digits: None)
    switch_to(staff)
    response = _decide(client, vendor, "approve")
    assert response.status_code == 200
    assert "다른 기업이 등록되어 있어 변경을 승인할 수 없습니다" in response.get_data(as_text=True)
    assert _reload(vendor).business_number != free and len(_changes()) == 1


def test_one_waiting_request_per_enterprise_in_the_database(app):
    vendor = make_vendor()
    db.session.add(VendorChange(vendor_id=vendor.id, name="하나"))
    db.session.commit()
    db.session.add(VendorChange(vendor_id=vendor.id, name="둘"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(func.count(VendorChange.id))) == 1


def test_staff_edits_and_unapproved_enterprises_apply_at_once(client, login_as, switch_to, staff):
    pending = make_vendor("검토중기업", status="pending")
    login_as(make_vendor_login(pending))
    client.post("/vendor/profile", data=_profile_form(pending, name="검토중새이름"))
    assert _reload(pending).name == "검토중새이름" and _changes() == []
    approved = make_vendor("승인된기업")
    switch_to(staff)
    client.post(f"/staff/vendors/{approved.id}/edit", data=_profile_form(approved, name="새이름"))
    assert _reload(approved).name == "새이름" and _changes() == []


def test_a_rejected_enterprise_with_a_new_number_goes_back_for_review(client, login_as):
    vendor = make_vendor(status="rejected")
    login_as(make_vendor_login(vendor))
    free = valid_business_number()
    client.post("/vendor/profile", data=_profile_form(vendor, business_number=free))
    vendor = _reload(vendor)
    assert vendor.business_number == free and vendor.status is VendorStatus.PENDING


# -- who may use the new pages ------------------------------------------------------


STAFF_PAGES = ("/staff/vendors/changes", "/staff/vendors/{id}/change")


def test_anonymous_visitors_are_sent_to_log_in(client):
    vendor = make_vendor(OLD)
    db.session.add(VendorChange(vendor_id=vendor.id, name=NEW))
    db.session.commit()
    for url in (*STAFF_PAGES, "/vendor/profile/change/withdraw"):
        url = url.format(id=vendor.id)
        response = client.post(url) if "withdraw" in url else client.get(url)
        assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    assert _decide(client, vendor, "approve").status_code == 302
    assert len(_changes()) == 1 and _reload(vendor).name == OLD


def test_vendors_cannot_see_the_staff_pages(client, live):
    for url in STAFF_PAGES:
        assert client.get(url.format(id=live.id)).status_code == 403
    assert _decide(client, live, "approve").status_code == 403
    assert _reload(live).name == OLD


def test_another_enterprise_neither_sees_nor_withdraws_the_request(client, live, switch_to):
    other = make_vendor("이웃기업")
    switch_to(make_vendor_login(other))
    assert NEW not in client.get("/vendor/profile").get_data(as_text=True)
    client.post("/vendor/profile/change/withdraw")
    assert [change.vendor_id for change in _changes()] == [live.id]


@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN])
def test_staff_and_admins_review_but_cannot_withdraw_for_the_enterprise(
    client, live, switch_to, make_user, role
):
    switch_to(make_user(role))
    for url in STAFF_PAGES:
        assert client.get(url.format(id=live.id)).status_code == 200
    assert client.post("/vendor/profile/change/withdraw").status_code == 403
    assert len(_changes()) == 1


# -- hostile input ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("사유\x00", "제어 문자"),
        ("가" * 501, "500"),
    ],
)
def test_a_hostile_reason_is_refused_clearly(client, live, switch_to, staff, reason, message):
    switch_to(staff)
    response = _decide(client, live, "reject", reason=reason)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert len(_changes()) == 1 and _emails() == []


def test_a_reason_on_several_lines_is_kept(client, live, switch_to, staff):
    switch_to(staff)
    _decide(client, live, "reject", reason="첫째 줄\r\n둘째 줄")
    body = _emails()[0].get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "사유: 첫째 줄\n둘째 줄" in body


def test_a_forged_decision_decides_nothing(client, live, switch_to, staff):
    switch_to(staff)
    response = _decide(client, live, "delete")
    assert response.status_code == 200 and "결정을 선택하세요" in response.get_data(as_text=True)
    assert len(_changes()) == 1 and _reload(live).name == OLD


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("새이름\x00", "제어 문자"),
        ("새이름\r\nBcc: x@example.kr", "제어 문자"),
        ("가" * 101, "100자보다 길게 쓸 수 없습니다"),
    ],
)
def test_a_hostile_new_name_is_refused_clearly(client, live, name, message):
    response = client.post("/vendor/profile", data=_profile_form(live, name=name))
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert [change.name for change in _changes()] == [NEW]


# -- two at once (PostgreSQL: SQLite has one writer at a time) ----------------------

server_database = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="two requests racing need a server database (TEST_DATABASE_URL)",
)


def _race(app, vendor_id: int, work) -> list:
    """Runs work(vendor) in two threads at once, each in its own session;
    each result is "saved" or the refusal's messages."""
    start, results, errors = threading.Barrier(2), [], []

    def run(index: int) -> None:
        try:
            with app.app_context():
                vendor = db.session.get(Vendor, vendor_id)
                start.wait()
                try:
                    work(vendor, index)
                    db.session.commit()
                    results.append("saved")
                except services.VendorRuleError as error:
                    db.session.rollback()
                    results.append(error.errors)
                finally:
                    db.session.remove()
        except Exception as error:  # reported in the test's own thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    return results


@server_database
def test_two_first_requests_at_once_leave_one(app):
    vendor = make_vendor(OLD)

    def rename(vendor, index):
        details = _details(vendor, name=f"{NEW}{index}")
        changes.save_own_profile(vendor, details, actor=None)

    results = _race(app, vendor.id, rename)
    # The later one either waited and replaced the request, or was refused
    # by the unique vendor_id in words, never a 500; one request remains.
    assert all(result in ("saved", {"form": changes._busy_message()}) for result in results)
    assert "saved" in results and len(_changes()) == 1


@server_database
def test_two_staff_deciding_at_once_decide_once(app):
    vendor = make_vendor(OLD)
    db.session.add(VendorChange(vendor_id=vendor.id, name=NEW))
    db.session.commit()
    decisions = ("approve", "reject")
    results = _race(
        app, vendor.id, lambda vendor, index: changes.decide_change(vendor, decisions[index], None)
    )
    assert results.count("saved") == 1 and len(results) == 2
    assert _changes() == [] and len(_emails()) == 1


def _details(vendor, **changes_) -> services.VendorDetails:
    values = {field.name: getattr(vendor, field.name) for field in fields(services.VendorDetails)}
    values.update(changes_)
    return services.VendorDetails(**values)
