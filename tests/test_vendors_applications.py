"""Applying for market days, withdrawing, and the staff's list per market."""

from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import func, select

from market.audit.models import AuditEntry
from market.extensions import db
from market.markets import services as markets
from market.markets.models import MarketStatus
from market.outbox.models import OutboxMessage
from market.timeutil import utcnow
from market.vendors import applications
from market.vendors.models import Application, ApplicationStatus
from market.vendors.services import VendorRuleError
from tests.markets_factories import make_market, make_venue, next_thursday
from tests.vendors_factories import (
    make_application,
    make_vendor,
    make_vendor_login,
    today,
)


@pytest.fixture
def venue(app):
    return make_venue("경기도청", 10)


def open_market(venue, weeks: int = 2, **changes):
    market = make_market(venue, next_thursday(today(), weeks=weeks), **changes)
    markets.change_status(market, MarketStatus.OPEN)
    db.session.commit()
    return market


@pytest.fixture
def market(venue):
    return open_market(venue)


@pytest.fixture
def vendor(app):
    return make_vendor("잔다리마을공동체")


@pytest.fixture
def vendor_client(client, login_as, vendor):
    return login_as(make_vendor_login(vendor))


def _applications() -> list[Application]:
    db.session.expire_all()
    return list(db.session.scalars(select(Application).order_by(Application.id)))


def test_home_lists_open_markets_with_their_deadline(vendor_client, market, venue):
    make_market(venue, next_thursday(today(), weeks=3))  # planned: not open yet
    page = vendor_client.get("/vendor/").get_data(as_text=True)
    assert "참가 신청을 받는 장터" in page
    assert f"/vendor/markets/{market.id}/apply" in page
    assert "신청 마감" in page
    assert page.count("/apply") == 1


def test_apply_with_a_note(vendor_client, market, vendor):
    form = vendor_client.get(f"/vendor/markets/{market.id}/apply").get_data(as_text=True)
    assert "센터에 전할 메모" in form
    response = vendor_client.post(
        f"/vendor/markets/{market.id}/apply", data={"note": "두유 40병을 가져갑니다."}
    )
    assert response.status_code == 302
    (application,) = _applications()
    assert application.vendor_id == vendor.id and application.market_id == market.id
    assert application.status is ApplicationStatus.APPLIED
    assert application.note == "두유 40병을 가져갑니다."
    assert (
        db.session.scalar(select(AuditEntry.action).where(AuditEntry.object_type == "applications"))
        == "application.create"
    )
    page = vendor_client.get("/vendor/").get_data(as_text=True)
    assert "신청함" in page and "두유 40병을 가져갑니다." in page


def test_one_application_per_market(vendor_client, market):
    vendor_client.post(f"/vendor/markets/{market.id}/apply", data={})
    again = vendor_client.get(f"/vendor/markets/{market.id}/apply")
    assert again.status_code == 302
    assert len(_applications()) == 1


def test_the_database_refuses_a_second_application_that_slips_past_the_check(
    app, market, vendor, monkeypatch
):
    applications.apply(vendor, market, None, actor=None)
    db.session.commit()
    monkeypatch.setattr(applications, "find_application", lambda vendor, market: None)
    with pytest.raises(VendorRuleError) as refused:
        applications.apply(vendor, market, "again", actor=None)
    assert refused.value.errors == {"market": applications.already_applied_message()}
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Application)) == 1


def test_applying_after_the_deadline_is_refused(vendor_client, venue):
    market = open_market(venue, application_deadline=utcnow() - timedelta(hours=1))
    assert f"/vendor/markets/{market.id}/apply" not in vendor_client.get("/vendor/").get_data(
        as_text=True
    )
    response = vendor_client.post(
        f"/vendor/markets/{market.id}/apply", data={"note": "늦었어요"}, follow_redirects=True
    )
    assert "신청 마감" in response.get_data(as_text=True)
    assert _applications() == []


def test_an_expired_certification_cannot_apply(client, login_as, market):
    vendor = make_vendor(cert_expires_on=market.market_date - timedelta(days=1))
    login_as(make_vendor_login(vendor))
    home = client.get("/vendor/").get_data(as_text=True)
    assert "인증이 이 장터 전인" in home
    response = client.post(f"/vendor/markets/{market.id}/apply", follow_redirects=True)
    assert "인증이 이 장터 전인" in response.get_data(as_text=True)
    assert _applications() == []


def test_a_certification_valid_on_the_market_day_is_enough(client, login_as, market):
    vendor = make_vendor(cert_expires_on=market.market_date)
    login_as(make_vendor_login(vendor))
    client.post(f"/vendor/markets/{market.id}/apply", data={})
    assert len(_applications()) == 1


@pytest.mark.parametrize("status", ["pending", "rejected", "suspended"])
def test_only_approved_enterprises_apply(client, login_as, market, status):
    login_as(make_vendor_login(make_vendor(status=status)))
    response = client.post(f"/vendor/markets/{market.id}/apply", follow_redirects=True)
    assert "승인된 기업만" in response.get_data(as_text=True)
    assert _applications() == []


def test_a_market_not_open_is_refused(vendor_client, venue):
    planned = make_market(venue, next_thursday(today(), weeks=4))
    page = vendor_client.get(f"/vendor/markets/{planned.id}/apply").get_data(as_text=True)
    assert "참가 신청을 받고 있지 않습니다" in page
    response = vendor_client.post(f"/vendor/markets/{planned.id}/apply", follow_redirects=True)
    assert "참가 신청을 받고 있지 않습니다" in response.get_data(as_text=True)
    assert _applications() == []


def test_withdraw_keeps_the_row_and_allows_applying_again(vendor_client, market, vendor):
    application = make_application(vendor, market)
    confirm = vendor_client.get(f"/vendor/applications/{application.id}/withdraw")
    assert "철회할까요" in confirm.get_data(as_text=True)
    vendor_client.post(f"/vendor/applications/{application.id}/withdraw")
    (row,) = _applications()
    assert row.status is ApplicationStatus.WITHDRAWN
    vendor_client.post(f"/vendor/markets/{market.id}/apply", data={"note": "다시"})
    (row,) = _applications()
    assert row.id == application.id
    assert row.status is ApplicationStatus.APPLIED and row.note == "다시"
    actions = list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.object_type == "applications")
            .order_by(AuditEntry.id)
        )
    )
    assert actions == ["application.withdraw", "application.reapply"]


def test_after_the_deadline_the_vendor_changes_nothing_but_staff_can(
    client, login_as, vendor, market, staff
):
    application = make_application(vendor, market)
    market.application_deadline = utcnow() - timedelta(minutes=1)
    db.session.commit()
    login_as(make_vendor_login(vendor))
    response = client.post(f"/vendor/applications/{application.id}/withdraw")
    assert "신청 마감" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert _applications()[0].status is ApplicationStatus.APPLIED
    client.post("/account/logout")
    login_as(staff)
    client.post(
        f"/staff/applications/{application.id}/status",
        data={"status": "withdrawn", "reason": "전화로 취소 요청"},
    )
    row = _applications()[0]
    assert row.status is ApplicationStatus.WITHDRAWN and row.status_reason == "전화로 취소 요청"


def test_staff_decline_needs_a_reason(client, login_as, staff, vendor, market):
    application = make_application(vendor, market)
    login_as(staff)
    response = client.post(
        f"/staff/applications/{application.id}/status", data={"status": "declined"}
    )
    assert "사유를 적어 주세요" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert _applications()[0].status is ApplicationStatus.APPLIED


def test_staff_list_and_filter_applications_per_market(client, login_as, staff, market):
    applied = make_vendor("신청한기업")
    withdrawn = make_vendor("철회한기업")
    make_application(applied, market, note="사과 한 상자")
    make_application(withdrawn, market, status=ApplicationStatus.WITHDRAWN)
    login_as(staff)
    url = f"/staff/markets/{market.id}/applications"
    page = client.get(url).get_data(as_text=True)
    assert "신청한기업" in page and "철회한기업" in page and "사과 한 상자" in page
    assert "전체 (2)" in page and "신청함 (1)" in page
    only_applied = client.get(f"{url}?status=applied").get_data(as_text=True)
    assert "신청한기업" in only_applied and "철회한기업" not in only_applied
    assert client.get(f"{url}?status=nonsense").status_code == 200
    assert client.get("/staff/markets/999/applications").status_code == 404


def test_staff_decline_tells_the_enterprise_why(client, login_as, staff, vendor, market):
    application = make_application(vendor, market)
    login_as(staff)
    client.post(
        f"/staff/applications/{application.id}/status",
        data={"status": "declined", "reason": "같은 품목이 이미 많습니다"},
    )
    [mail] = db.session.scalars(select(OutboxMessage)).all()
    assert mail.to_address == vendor.email and mail.category == "booth"
    assert mail.subject.endswith("장터 참가 신청이 받아들여지지 않았습니다")
    body = message_from_bytes(mail.mime, policy=policy.default).get_body().get_content()
    assert "사유: 같은 품목이 이미 많습니다" in body
    client.post(
        f"/staff/applications/{application.id}/status", data={"status": "applied", "reason": ""}
    )
    assert len(db.session.scalars(select(OutboxMessage)).all()) == 1, "reopening sends nothing"
