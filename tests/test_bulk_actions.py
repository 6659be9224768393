"""Bulk actions with one confirmation (issue 17): staff approve several
waiting enterprises, open several markets, mark every booth present; an
enterprise applies for several market days. Each goes through a second
step (확인) and runs the single action's own service, so mail and audit
match a one-at-a-time action; forged and repeated ids are named, never a 5xx."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from market.audit.models import AuditEntry
from market.booths import services as booth_services
from market.booths.models import Attendance, Booth
from market.extensions import db
from market.markets.models import Market, MarketStatus
from market.outbox.models import OutboxMessage
from market.vendors.models import Application, ApplicationStatus, Vendor, VendorStatus
from tests.booths_factories import applicants, open_market
from tests.markets_factories import make_market, make_venue, next_thursday
from tests.vendors_factories import make_application, make_vendor, make_vendor_login, today

HUGE = str(2**31 + 5)


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _page(client, response) -> str:
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 302:
        return client.get(response.headers["Location"]).get_data(as_text=True)
    return response.get_data(as_text=True)


# -- approving several enterprises ---------------------------------------------------


def test_approve_many_needs_a_second_step_then_mails_and_audits_each(staff_client):
    waiting = [make_vendor(f"대기기업{n}", status="pending") for n in range(3)]
    other = make_vendor("남겨둘기업", status="pending")
    page = staff_client.get("/staff/vendors/approve-many").get_data(as_text=True)
    assert all(v.name in page for v in [*waiting, other]) and "선택한 기업 승인…" in page
    ids = [str(v.id) for v in waiting]
    first = staff_client.post("/staff/vendors/approve-many", data={"vendor_id": ids})
    step = first.get_data(as_text=True)
    assert first.status_code == 200 and "확인: 3곳 승인하고 메일 보내기" in step
    assert _count(Vendor, Vendor.status == VendorStatus.APPROVED) == 0  # nothing yet
    assert _count(OutboxMessage) == 0
    done = staff_client.post(
        "/staff/vendors/approve-many", data={"vendor_id": ids, "confirmed": "1"}
    )
    assert "참여기업 3곳을 승인했습니다. 각 기업에 메일을 보냈습니다." in _page(staff_client, done)
    db.session.expire_all()
    assert {v.status for v in waiting} == {VendorStatus.APPROVED}
    assert db.session.get(Vendor, other.id).status is VendorStatus.PENDING
    mails = db.session.scalars(select(OutboxMessage)).all()
    assert sorted(m.to_address for m in mails) == sorted(v.email for v in waiting)
    assert {m.category for m in mails} == {"vendor-status"}
    audited = db.session.scalars(
        select(AuditEntry.object_id).where(AuditEntry.action == "vendor.approve")
    ).all()
    assert sorted(audited) == sorted(ids)


def test_approve_many_names_what_it_leaves_out_and_survives_forged_ids(staff_client):
    waiting = make_vendor("기다리는기업", status="pending")
    decided = make_vendor("이미승인기업", status="approved")
    values = [str(waiting.id), str(waiting.id), str(decided.id), "99999", HUGE, "x", "-1", "\x00"]
    step = staff_client.post("/staff/vendors/approve-many", data={"vendor_id": values})
    page = step.get_data(as_text=True)
    assert step.status_code == 200
    assert "확인: 1곳 승인하고 메일 보내기" in page
    assert "이미승인기업" in page and "이미 &#39;승인&#39; 상태라 그대로 두었습니다." in page
    assert "99999번" in page and "그런 참여기업이 없습니다." in page
    assert "선택한 값 4개" in page  # 2^31+5, text, negative, NUL: no id at all
    assert page.count(f'name="vendor_id" value="{waiting.id}"') == 1  # repeats dropped
    done = staff_client.post(
        "/staff/vendors/approve-many", data={"vendor_id": values, "confirmed": "1"}
    )
    page = _page(staff_client, done)
    assert "참여기업 1곳을 승인했습니다" in page and "제외: 이미승인기업" in page
    assert (
        _count(OutboxMessage) == 1
        and _count(AuditEntry, AuditEntry.action == "vendor.approve") == 1
    )


def test_approve_many_with_nothing_ticked_or_too_many_is_refused(staff_client):
    empty = staff_client.post("/staff/vendors/approve-many", data={})
    assert "먼저 하나 이상 선택하세요." in _page(staff_client, empty)
    many = [str(n) for n in range(1, 202)]
    too_many = staff_client.post("/staff/vendors/approve-many", data={"vendor_id": many})
    assert "한 번에 200개까지" in _page(staff_client, too_many)


def test_approve_many_is_staff_only(client, login_as, vendor_user):
    waiting = make_vendor("대기기업", status="pending")
    login_as(vendor_user)
    data = {"vendor_id": [str(waiting.id)], "confirmed": "1"}
    assert client.post("/staff/vendors/approve-many", data=data).status_code == 403
    db.session.expire_all()
    assert db.session.get(Vendor, waiting.id).status is VendorStatus.PENDING


def test_the_queue_links_to_approve_many(staff_client):
    assert "한꺼번에 승인" not in staff_client.get("/staff/vendors/").get_data(as_text=True)
    make_vendor("대기기업", status="pending")
    assert "한꺼번에 승인" in staff_client.get("/staff/vendors/").get_data(as_text=True)


def test_approve_many_queries_are_bounded(staff_client, count_queries):
    few = [str(make_vendor(f"적은{n}", status="pending").id) for n in range(2)]
    with count_queries() as small:
        staff_client.post("/staff/vendors/approve-many", data={"vendor_id": few})
    more = few + [str(make_vendor(f"많은{n}", status="pending").id) for n in range(8)]
    with count_queries() as large:
        staff_client.post("/staff/vendors/approve-many", data={"vendor_id": more})
    assert len(large.statements) == len(small.statements)


# -- opening several markets ---------------------------------------------------------


@pytest.fixture
def planned(app):
    venue = make_venue("수원시청", 8)
    return [make_market(venue, next_thursday(today(), weeks=4 + n)) for n in range(3)]


def test_open_many_opens_each_with_its_audit_entry(staff_client, planned):
    page = staff_client.get("/staff/markets/open-many").get_data(as_text=True)
    assert "선택한 장터 신청 받기…" in page and page.count('name="market_id"') == 3
    ids = [str(m.id) for m in planned[:2]]
    step = staff_client.post("/staff/markets/open-many", data={"market_id": ids})
    assert "확인: 장터 2개 신청 받기" in step.get_data(as_text=True)
    assert _count(Market, Market.status == MarketStatus.OPEN) == 0
    done = staff_client.post("/staff/markets/open-many", data={"market_id": ids, "confirmed": "1"})
    assert "장터 2개가 이제 참가 신청을 받습니다." in _page(staff_client, done)
    db.session.expire_all()
    assert [m.status for m in planned] == [
        MarketStatus.OPEN,
        MarketStatus.OPEN,
        MarketStatus.PLANNED,
    ]
    assert _count(AuditEntry, AuditEntry.action == "market.status") == 2
    assert all(m.sequence == 1 for m in planned[:2])  # the calendar sees the change


def test_open_many_leaves_out_open_cancelled_past_deadline_and_unknown(staff_client, planned):
    opened, late, fine = planned
    opened.status = MarketStatus.OPEN
    late.application_deadline = late.application_deadline - timedelta(days=60)
    db.session.commit()
    values = [str(opened.id), str(late.id), str(fine.id), str(fine.id), "424242", HUGE]
    step = staff_client.post("/staff/markets/open-many", data={"market_id": values})
    page = step.get_data(as_text=True)
    assert "확인: 장터 1개 신청 받기" in page
    assert "이미 &#39;참가 신청 중&#39; 상태라 그대로 두었습니다." in page
    assert "신청 마감(" in page and "지났습니다" in page
    assert "424242번" in page and "선택한 값 1개" in page
    staff_client.post("/staff/markets/open-many", data={"market_id": values, "confirmed": "1"})
    db.session.expire_all()
    assert late.status is MarketStatus.PLANNED and fine.status is MarketStatus.OPEN


def test_open_many_is_staff_only(client, login_as, vendor_user, planned):
    login_as(vendor_user)
    data = {"market_id": [str(planned[0].id)], "confirmed": "1"}
    assert client.post("/staff/markets/open-many", data=data).status_code == 403
    assert _count(Market, Market.status == MarketStatus.OPEN) == 0


# -- every booth present -------------------------------------------------------------


@pytest.fixture
def market_day(app, staff):
    market = open_market(booths=4, venue=make_venue("경기도청", 10))
    applicants(market, 4)
    booth_services.confirm(market.id, staff)
    market.market_date = today()
    db.session.commit()
    return market


def test_all_present_marks_only_booths_not_marked_yet(staff_client, staff, market_day):
    url = f"/staff/markets/{market_day.id}/attendance"
    staff_client.post(url, data={"number": 2, "value": "no_show"})
    assert "미확인 부스 모두 출석 처리…" in staff_client.get(url).get_data(as_text=True)
    step = staff_client.get(f"{url}/all-present").get_data(as_text=True)
    assert "아직 표시하지 않은 부스 3곳을 출석으로 표시합니다" in step
    assert "이미 표시한 부스 1곳은 그대로 둡니다." in step and "확인: 3곳 출석 처리" in step
    done = staff_client.post(f"{url}/all-present", data={"confirmed": "1"})
    assert "부스 3곳을 출석으로 표시했습니다." in _page(staff_client, done)
    stored = dict(db.session.execute(select(Booth.number, Booth.attendance)).all())
    assert stored == {
        1: Attendance.PRESENT,
        2: Attendance.NO_SHOW,
        3: Attendance.PRESENT,
        4: Attendance.PRESENT,
    }
    entries = _count(AuditEntry, AuditEntry.action == "booths.attendance")
    assert entries == 4  # the no-show, then one per booth marked present
    again = staff_client.get(f"{url}/all-present").get_data(as_text=True)
    assert "모든 부스를 이미 표시했습니다." in again


def test_all_present_before_the_market_day_is_refused(staff_client, market_day):
    market_day.market_date = today() + timedelta(days=3)
    db.session.commit()
    url = f"/staff/markets/{market_day.id}/attendance/all-present"
    assert "장터 당일부터" in staff_client.get(url).get_data(as_text=True)
    refused = staff_client.post(url, data={"confirmed": "1"})
    assert "장터 당일부터" in _page(staff_client, refused)
    assert _count(Booth, Booth.attendance.is_not(None)) == 0


def test_all_present_of_an_unknown_market_is_404(staff_client):
    assert staff_client.get(f"/staff/markets/{HUGE}/attendance/all-present").status_code == 404
    assert staff_client.post("/staff/markets/99999/attendance/all-present").status_code == 404


def test_all_present_is_staff_only(client, login_as, vendor_user, market_day):
    login_as(vendor_user)
    url = f"/staff/markets/{market_day.id}/attendance/all-present"
    assert client.post(url, data={"confirmed": "1"}).status_code == 403
    assert _count(Booth, Booth.attendance.is_not(None)) == 0


# -- an enterprise applying for several market days ----------------------------------


@pytest.fixture
def open_days(app):
    venue = make_venue("화성시청", 8)
    return [open_market(weeks=2 + n, booths=6, venue=venue) for n in range(3)]


def _vendor_client(client, login_as, **changes):
    vendor = make_vendor("다날짜기업", **changes)
    login_as(make_vendor_login(vendor))
    return vendor


def test_apply_many_applies_for_each_ticked_day_after_confirming(client, login_as, open_days):
    vendor = _vendor_client(client, login_as)
    page = client.get("/vendor/markets/apply-many").get_data(as_text=True)
    assert page.count('name="market_id"') == 3 and "선택한 날짜 신청…" in page
    ids = [str(m.id) for m in open_days[:2]]
    step = client.post("/vendor/markets/apply-many", data={"market_id": ids})
    assert "확인: 장터 2회 신청하기" in step.get_data(as_text=True)
    assert _count(Application) == 0
    done = client.post("/vendor/markets/apply-many", data={"market_id": ids, "confirmed": "1"})
    assert "장터 2회에 참가 신청했습니다." in _page(client, done)
    rows = db.session.scalars(select(Application).where(Application.vendor_id == vendor.id)).all()
    assert sorted(a.market_id for a in rows) == sorted(m.id for m in open_days[:2])
    assert {a.status for a in rows} == {ApplicationStatus.APPLIED}
    assert _count(AuditEntry, AuditEntry.action == "application.create") == 2


def test_apply_many_names_a_refused_day_and_keeps_the_others(client, login_as, open_days):
    vendor = _vendor_client(client, login_as)
    applied, late, fine = open_days
    make_application(vendor, applied)
    closed = make_market(make_venue("오산시청", 6), next_thursday(today(), weeks=9), booths=6)
    values = [str(applied.id), str(late.id), str(fine.id), str(closed.id), "77777", HUGE, HUGE]
    step = client.post("/vendor/markets/apply-many", data={"market_id": values})
    assert "확인: 장터 2회 신청하기" in step.get_data(as_text=True)
    # Between the two steps the deadline of one day passes: it is named, the other goes.
    late.application_deadline = late.application_deadline - timedelta(days=30)
    db.session.commit()
    done = client.post("/vendor/markets/apply-many", data={"market_id": values, "confirmed": "1"})
    page = _page(client, done)
    assert "장터 1회에 참가 신청했습니다." in page
    assert "이미 이 장터에 참가 신청을 했습니다." in page
    assert "마감" in page and "지났습니다" in page
    assert "이 장터는 참가 신청을 받고 있지 않습니다." in page
    assert "77777번. 그런 장터가 없습니다." in page
    assert "선택한 값 2개" in page
    mine = db.session.scalars(
        select(Application.market_id).where(Application.vendor_id == vendor.id)
    )
    assert sorted(mine) == sorted([applied.id, fine.id])


def test_apply_many_refuses_a_vendor_not_approved(client, login_as, open_days):
    _vendor_client(client, login_as, status="pending")
    page = client.get("/vendor/markets/apply-many").get_data(as_text=True)
    assert 'name="market_id"' not in page
    data = {"market_id": [str(open_days[0].id)], "confirmed": "1"}
    page = _page(client, client.post("/vendor/markets/apply-many", data=data))
    assert "승인된 기업만 참가 신청을 할 수 있습니다." in page
    assert _count(Application) == 0


def test_apply_many_is_for_vendors_only(staff_client, open_days):
    data = {"market_id": [str(open_days[0].id)], "confirmed": "1"}
    assert staff_client.post("/vendor/markets/apply-many", data=data).status_code == 403
    assert _count(Application) == 0
