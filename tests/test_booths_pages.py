"""The booth pages as staff, vendors and visitors use them, the dashboard flag,
the CLI and the demo data."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from market.accounts.models import Role
from market.booths import services
from market.booths.models import Attendance, Booth
from market.extensions import db
from market.markets.models import Market, MarketStatus
from market.outbox.models import OutboxMessage
from market.vendors.models import Application, ApplicationStatus, Category, Vendor
from tests.booths_factories import applicant, applicants, open_market
from tests.markets_factories import make_venue
from tests.vendors_factories import make_vendor_login, today


@pytest.fixture
def market(app):
    market = open_market(booths=4, venue=make_venue("경기도청", 10))
    applicants(market, 5)
    return market


def _booths(market) -> dict[int, int]:
    rows = db.session.execute(
        select(Booth.number, Booth.application_id).where(Booth.market_id == market.id)
    )
    return dict(rows.all())


def _fingerprint(client, market) -> str:
    page = client.get(f"/staff/markets/{market.id}/booths").get_data(as_text=True)
    return re.search(r'name="fingerprint"[^>]*value="([^"]*)"', page).group(1)


def _confirm(client, market, **extra):
    fingerprint = extra.pop("fingerprint", None) or _fingerprint(client, market)
    data = {"fingerprint": fingerprint, "replace": "", "checked": "y", **extra}
    return client.post(f"/staff/markets/{market.id}/booths/confirm", data=data)


# -- staff ---------------------------------------------------------------------------


def test_staff_see_a_preview_with_map_reasons_and_a_confirm_button(client, login_as, staff, market):
    login_as(staff)
    page = client.get(f"/staff/markets/{market.id}/booths").get_data(as_text=True)
    assert "미리보기입니다" in page
    assert 'role="img"' in page and "<title" in page and "<desc" in page
    assert 'aria-label="부스 배치도: 부스 4개 중 4개 배정, 1번 부스가 왼쪽 끝."' in page
    assert "1번 부스: 기업000, 식품." in page  # the description names vendor and category
    assert "우선순위 1위로 1번 부스 배정" in page
    assert "대기 명단 (1)" in page and "부스가 모두 차서 대기 1순위" in page
    assert "부스 배정 확정하고 기업에 메일 보내기" in page
    assert db.session.scalar(select(func.count(Booth.id))) == 0


def test_confirm_needs_the_tick_and_then_stores_and_mails(client, login_as, staff, market):
    login_as(staff)
    seen = _fingerprint(client, market)
    response = _confirm(client, market, checked="")
    assert response.status_code == 302
    assert _booths(market) == {}
    response = _confirm(client, market)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "부스 배정을 확정했습니다: 배정 4곳, 대기 1곳, 참가 불가 0곳" in page
    assert "확정된 부스 (4/4)" in page
    assert len(_booths(market)) == 4
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 5
    again = _confirm(client, market, fingerprint=seen)  # a second staff member's form: refused
    assert "이미 확정" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_manual_changes_through_the_page(client, login_as, staff, market):
    login_as(staff)
    _confirm(client, market)
    url = f"/staff/markets/{market.id}/booths"
    client.post(f"{url}/unassign", data={"number": 2})
    assert 2 not in _booths(market)
    waiting = db.session.scalars(
        select(Application)
        .where(Application.status == ApplicationStatus.WAITLISTED)
        .order_by(Application.waitlist_position)
    ).first()
    client.post(f"{url}/add", data={"application_id": waiting.id, "number": 2})
    assert _booths(market)[2] == waiting.id
    before = _booths(market)
    response = client.post(f"{url}/swap", data={"number": 1, "other": 3})
    assert response.status_code == 302
    after = _booths(market)
    assert (after[1], after[3]) == (before[3], before[1])
    client.post(f"{url}/pin", data={"application_id": after[1], "number": 1})
    assert db.session.scalar(select(Booth.pinned).where(Booth.number == 1)) is True
    page = client.get(url).get_data(as_text=True)
    assert "지정 해제" in page and "배정 취소…" in page
    refused = client.post(f"{url}/move", data={"number": 1, "to_number": 4})
    assert "맞바꾸세요" in client.get(refused.headers["Location"]).get_data(as_text=True)


def test_under_minimum_is_warned_on_the_page_and_flagged_on_the_dashboard(client, login_as, staff):
    small = open_market(booths=4, venue=make_venue("용인시청", 6))
    applicants(small, 3)
    login_as(staff)
    page = client.get(f"/staff/markets/{small.id}/booths").get_data(as_text=True)
    assert "부스를 배정받은 기업이 3곳뿐입니다" in page
    dashboard = client.get("/staff/").get_data(as_text=True)
    assert "최소 4개 기업에 못 미치는 장터" in dashboard and "지금까지 신청 3곳" in dashboard
    services.confirm(small.id, staff)
    db.session.commit()
    dashboard = client.get("/staff/").get_data(as_text=True)
    assert "부스 배정 3곳" in dashboard


def test_attendance_page_on_market_day(client, login_as, staff, market):
    login_as(staff)
    _confirm(client, market)
    url = f"/staff/markets/{market.id}/attendance"
    assert "장터 당일부터" in client.get(url).get_data(as_text=True)
    market.market_date = today()
    db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert page.count('value="present"') == 4 and 'aria-pressed="false"' in page
    client.post(url, data={"number": 2, "value": "no_show"})
    client.post(url, data={"number": 3, "value": "present"})
    page = client.get(url).get_data(as_text=True)
    assert "불참 1" in page and "출석 1" in page and "미확인 2" in page
    stored = dict(db.session.execute(select(Booth.number, Booth.attendance)).all())
    assert stored[2] is Attendance.NO_SHOW and stored[3] is Attendance.PRESENT


# -- who may see what ----------------------------------------------------------------


@pytest.mark.parametrize("path", ["booths", "attendance"])
def test_vendors_get_403_and_anonymous_visitors_the_login(
    client, login_as, make_user, market, path
):
    url = f"/staff/markets/{market.id}/{path}"
    response = client.get(url)
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    login_as(make_user(Role.VENDOR))
    assert client.get(url).status_code == 403


def test_a_vendor_sees_its_own_booth_and_reason_and_no_one_elses(client, login_as, staff, market):
    services.confirm(market.id, staff)
    db.session.commit()
    rows = db.session.execute(
        select(Application, Vendor).join(Vendor, Vendor.id == Application.vendor_id)
    ).all()
    assigned = next(a for a, _v in rows if a.status is ApplicationStatus.ASSIGNED)
    waiting = next(a for a, _v in rows if a.status is ApplicationStatus.WAITLISTED)
    number = next(n for n, a in _booths(market).items() if a == assigned.id)
    login_as(make_vendor_login(db.session.get(Vendor, assigned.vendor_id)))
    page = client.get("/vendor/").get_data(as_text=True)
    assert f"내 부스: {number}번" in page
    assert f"사유: {assigned.status_reason}" in page
    assert waiting.status_reason not in page
    client.post("/account/logout")
    login_as(make_vendor_login(db.session.get(Vendor, waiting.vendor_id)))
    page = client.get("/vendor/").get_data(as_text=True)
    assert "대기 1순위" in page and assigned.status_reason not in page


def test_public_map_shows_names_and_categories_and_nothing_private(client, staff, market):
    before = client.get(f"/markets/{market.id}").get_data(as_text=True)
    assert "<svg" not in before  # no map until booths are assigned
    applications = db.session.scalars(select(Application)).all()
    applications[0].pinned_booth = 1
    db.session.commit()
    services.confirm(market.id, staff)
    db.session.commit()
    page = client.get(f"/markets/{market.id}").get_data(as_text=True)
    assert "부스 배치" in page and 'role="img"' in page
    vendors = db.session.scalars(select(Vendor)).all()
    assigned = {a.vendor_id for a in db.session.scalars(select(Booth))}
    for vendor in vendors:
        assert vendor.email not in page and vendor.contact_name not in page
        assert vendor.business_number not in page
        assert (vendor.name in page) == (vendor.id in assigned)
    assert "식품" in page and "농산물" in page
    assert "우선순위" not in page and "대기" not in page and "고정" not in page


# -- CLI and demo --------------------------------------------------------------------


def test_cli_dry_run_prints_booths_and_waitlist_and_stores_nothing(runner, market):
    result = runner.invoke(args=["booths", "assign", str(market.id), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "preview, nothing stored" in result.output
    assert "   1  기업000 · 식품 · 최근 8주간 참가 이력이 없어 우선순위 1위로 1번 부스 배정" in (
        result.output
    )
    assert "Waitlist (1)" in result.output and "대기 1순위" in result.output
    assert db.session.scalar(select(func.count(Booth.id))) == 0


def test_cli_assign_confirms_and_a_second_run_is_refused(runner, market):
    late = applicant(
        market,
        "늦은기업",
        Category.CRAFTS,
        applied=market.application_deadline + timedelta(hours=2),
    )
    result = runner.invoke(args=["booths", "assign", str(market.id)])
    assert result.exit_code == 0, result.output
    assert "Not accepted (1)" in result.output and "신청 마감 후 신청" in result.output
    assert db.session.get(Market, market.id).status is MarketStatus.ASSIGNED
    assert db.session.get(Application, late.id).status is ApplicationStatus.DECLINED
    second = runner.invoke(args=["booths", "assign", str(market.id)])
    assert second.exit_code == 1 and "이미 확정" in second.output and "--replace" in second.output
    assert runner.invoke(args=["booths", "assign", "999"]).exit_code == 1


def test_demo_assigns_booths_with_attendance_history_once(runner):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    booths = db.session.scalar(select(func.count(Booth.id)))
    no_shows = db.session.scalar(
        select(func.count(Booth.id)).where(Booth.attendance == Attendance.NO_SHOW)
    )
    assert booths > 40 and no_shows > 0
    assigned = db.session.scalar(select(Market).where(Market.status == MarketStatus.ASSIGNED))
    assert assigned is not None and assigned.market_date >= today()
    declined = db.session.scalar(
        select(Application).where(
            Application.market_id == assigned.id, Application.status == ApplicationStatus.DECLINED
        )
    )
    assert declined.status_reason.startswith("인증이 만료되어")
    second = runner.invoke(args=["seed-demo"])
    assert "nothing created" in second.output
    assert db.session.scalar(select(func.count(Booth.id))) == booths
