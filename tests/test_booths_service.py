"""Booth assignment against the database: history, preview, confirm, mails,
bounded queries. The pure rules are tested in test_assignment.py."""

from datetime import timedelta
from email import policy
from email.parser import BytesParser

import pytest
from sqlalchemy import func, select

from market.audit.models import AuditEntry
from market.booths import services
from market.booths.loading import history
from market.booths.models import Attendance, Booth
from market.extensions import db
from market.markets.models import MarketStatus
from market.outbox.models import OutboxMessage
from market.vendors.models import Application, ApplicationStatus, Category, Vendor, VendorStatus
from tests.booths_factories import applicant, applicants, open_market, past_booth, past_market
from tests.markets_factories import make_venue
from tests.vendors_factories import today


@pytest.fixture
def venue(app):
    return make_venue("경기도청", 10)


def _mail_subjects() -> dict[str, str]:
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    return {row.to_address: row.subject for row in rows}


def _email(application: Application) -> str:
    return db.session.get(Vendor, application.vendor_id).email


def _body(row: OutboxMessage) -> str:
    message = BytesParser(policy=policy.default).parsebytes(row.mime)
    return message.get_body(("plain",)).get_content()


# -- history ------------------------------------------------------------------------


def test_history_counts_attendance_in_the_last_eight_market_weeks(venue):
    market = open_market(weeks=2, venue=venue)
    regular = applicant(market, "단골기업").vendor_id
    earlier = [past_market(venue, weeks_ago=w) for w in range(1, 11)]  # 10 earlier markets
    for number, past in enumerate(earlier[:9], 1):  # weeks 1..9 ago
        past_booth(regular, past, number % 8 + 1)
    counts = history(market)
    assert counts[regular] == (8, 0), "only the 8 latest market weeks count"


def test_history_counts_no_shows_separately_and_ignores_markets_to_come(venue):
    market = open_market(weeks=3, venue=venue)
    flaky = applicant(market, "불참기업").vendor_id
    unrecorded = applicant(market, "기록없음").vendor_id
    upcoming = applicant(market, "다음주기업").vendor_id
    first, second = past_market(venue, 1), past_market(venue, 2)
    past_booth(flaky, first, 1, Attendance.NO_SHOW)
    past_booth(flaky, second, 1, Attendance.PRESENT)
    past_booth(unrecorded, first, 2, attendance=None)  # held, not recorded: attended
    cancelled = past_market(venue, 3, status=MarketStatus.CANCELLED)
    past_booth(unrecorded, cancelled, 2)
    soon = open_market(weeks=1, venue=venue)  # earlier than `market`, still to come
    soon.status = MarketStatus.ASSIGNED
    past_booth(upcoming, soon, 1, attendance=None)
    counts = history(market)
    assert counts[flaky] == (1, 1)
    assert counts[unrecorded] == (1, 0)
    assert upcoming not in counts


def test_a_past_market_left_as_assigned_counts_as_held(venue):
    market = open_market(weeks=2, venue=venue)
    vendor = applicant(market, "지난주기업").vendor_id
    last_week = past_market(venue, 1, status=MarketStatus.ASSIGNED)  # nobody moved it on
    past_booth(vendor, last_week, 1, attendance=None)
    assert history(market)[vendor] == (1, 0)
    assert history(market, today=last_week.market_date) == {}  # on its day, not yet


def test_no_shows_older_than_six_months_are_forgotten(venue):
    market = open_market(weeks=1, venue=venue)
    vendor = applicant(market, "옛불참").vendor_id
    old = past_market(venue, 30)  # about seven months ago
    past_booth(vendor, old, 1, Attendance.NO_SHOW)
    assert history(market).get(vendor, (0, 0)) == (0, 0)


# -- preview and confirm -------------------------------------------------------------


def test_preview_writes_nothing(venue, count_queries):
    market = open_market(venue=venue)
    applicants(market, 8)
    with count_queries() as counter:
        plan = services.preview(market)
    assert all(s.lstrip().upper().startswith("SELECT") for s in counter.statements)
    assert plan.assigned_count == 6 and len(plan.waitlist) == 2
    assert db.session.scalar(select(func.count(Booth.id))) == 0


def test_confirm_writes_booths_statuses_reasons_and_korean_mails(venue, staff):
    market = open_market(venue=venue, booths=4)
    rested = applicant(market, "쉰기업", Category.FARM)
    busy = applicant(market, "바쁜기업", Category.CRAFTS)
    for week in (1, 2):
        past_booth(busy.vendor_id, past_market(venue, week), 1)
    others = applicants(market, 3, start=10)
    late = applicant(market, "늦은기업", applied=market.application_deadline + timedelta(hours=1))
    expired = applicant(market, "만료기업", cert_expires_on=market.market_date - timedelta(days=1))
    plan = services.confirm(market.id, staff)
    db.session.commit()

    assert market.status is MarketStatus.ASSIGNED
    booths = dict(db.session.execute(select(Booth.number, Booth.vendor_id)).all())
    assert len(booths) == 4 and busy.vendor_id not in booths.values()
    assert rested.vendor_id in booths.values()
    db.session.refresh(busy)
    assert busy.status is ApplicationStatus.WAITLISTED and busy.waitlist_position == 1
    assert busy.status_reason == "최근 8주간 2회 참가하여 우선순위 5위, 부스가 모두 차서 대기 1순위"
    for application in (late, expired):
        db.session.refresh(application)
        assert application.status is ApplicationStatus.DECLINED
    assert late.status_reason == "신청 마감 후 신청"
    assert expired.status_reason.startswith("인증이 만료되어")
    assert len(plan.declined) == 2 and len(others) == 3

    subjects = _mail_subjects()
    assert len(subjects) == 7
    day = f"{market.market_date.year}년 {market.market_date.month}월 {market.market_date.day}일"
    rested_booth = next(n for n, v in booths.items() if v == rested.vendor_id)
    assert subjects[_email(rested)] == f"[굿모닝장터] {day} (목) 장터 {rested_booth}번 부스 배정"
    assert subjects[_email(busy)] == f"[굿모닝장터] {day} (목) 장터 대기 1순위 안내"
    assert subjects[_email(late)].endswith("참가 신청이 받아들여지지 않았습니다")
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == _email(late)))
    assert "사유: 신청 마감 후 신청" in _body(mail)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "booths.confirm"))
    assert entry.actor_id == staff.id and entry.after["waitlist"] == str(busy.vendor_id)


def _outcomes() -> dict[int, tuple]:
    booths = dict(db.session.execute(select(Booth.application_id, Booth.number)).all())
    rows = db.session.scalars(select(Application)).all()
    return {a.id: (a.status, booths.get(a.id), a.waitlist_position) for a in rows}


def test_confirming_twice_is_refused_and_a_replacement_mails_only_the_changed(venue, staff):
    market = open_market(venue=venue, booths=4)
    people = applicants(market, 6)
    services.confirm(market.id, staff)
    db.session.commit()
    with pytest.raises(services.BoothRuleError, match="이미 확정"):
        services.confirm(market.id, staff)
    db.session.rollback()
    first = _outcomes()
    mails = db.session.scalar(select(func.count(OutboxMessage.id)))
    # Staff pin the second waiting vendor to booth 4 and deliberately assign again.
    waiting = db.session.scalar(select(Application).where(Application.waitlist_position == 2))
    waiting.pinned_booth = 4
    db.session.commit()
    services.confirm(market.id, staff, replace=True)
    db.session.commit()
    booth = db.session.scalar(select(Booth).where(Booth.number == 4))
    assert booth.vendor_id == waiting.vendor_id and booth.pinned
    second = _outcomes()
    changed = [a for a in first if first[a] != second[a]]
    assert 0 < len(changed) < len(people)
    assert db.session.scalar(select(func.count(OutboxMessage.id))) - mails == len(changed)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "booths.replace"))
    assert entry.after["booth 4"] == waiting.vendor_id


def test_confirm_refuses_a_stale_preview(venue, staff):
    market = open_market(venue=venue, booths=4)
    applicants(market, 3)
    seen = services.preview(market).fingerprint
    applicant(market, "새기업", Category.HOUSEHOLD)
    with pytest.raises(services.BoothRuleError, match="미리보기"):
        services.confirm(market.id, staff, expected=seen)
    db.session.rollback()
    assert db.session.scalar(select(func.count(Booth.id))) == 0


def test_confirm_refuses_markets_that_are_not_open_or_assigned(venue, staff):
    market = open_market(venue=venue)
    market.status = MarketStatus.PLANNED
    db.session.commit()
    with pytest.raises(services.BoothRuleError):
        services.confirm(market.id, staff)


def test_pins_go_first_and_a_pin_that_cannot_hold_is_reported(venue, staff):
    market = open_market(venue=venue, booths=4)
    people = applicants(market, 4)
    people[3].pinned_booth = 1
    suspended = applicant(market, "정지기업", status=VendorStatus.SUSPENDED)
    suspended.pinned_booth = 2
    db.session.commit()
    plan = services.preview(market)
    assert plan.rows[0].application.id == people[3].id and plan.rows[0].pinned
    assert [p.message for p in plan.pin_problems] == ["2번 부스 지정 불가: 승인되지 않은 기업"]


def test_an_application_declined_by_staff_stays_declined(venue, staff):
    market = open_market(venue=venue, booths=4)
    applicants(market, 2)
    refused = applicant(market, "거절기업")
    refused.status, refused.status_reason = ApplicationStatus.DECLINED, "품질 기준 미달"
    refused.pinned_booth = 3
    db.session.commit()
    plan = services.preview(market)
    assert plan.kept_declined == [refused]
    assert plan.pin_problems[0].message == "3번 부스 지정 불가: 운영자가 참가를 거절한 기업"
    services.confirm(market.id, staff)
    db.session.commit()
    db.session.refresh(refused)
    assert (refused.status, refused.status_reason) == (ApplicationStatus.DECLINED, "품질 기준 미달")


def test_confirm_runs_the_same_number_of_queries_for_20_and_500_applicants(
    venue, staff, count_queries
):
    counts = {}
    for weeks, size in ((2, 20), (3, 500)):
        market = open_market(weeks=weeks, venue=venue, booths=10)
        _bulk_applicants(market, size, prefix=f"{size}-")
        db.session.expire_all()
        with count_queries() as counter:
            services.confirm(market.id, staff)
            db.session.flush()
        db.session.commit()
        counts[size] = counter.count
    assert counts[20] == counts[500] <= 20, (counts, counter.statements[:60])
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 520


def _bulk_applicants(market, size: int, prefix: str = "") -> None:
    """Many vendors quickly: rows added in bulk rather than one commit each."""
    from market.vendors.models import EnterpriseType, Vendor
    from tests.vendors_factories import valid_business_number

    first = market.application_deadline - timedelta(days=6)
    categories = list(Category)
    vendors = [
        Vendor(
            name=f"대량기업{prefix}{i:03d}",
            business_number=valid_business_number(),
            enterprise_type=EnterpriseType.SOCIAL,
            cert_issuer="고용노동부",
            cert_number=f"B-{i}",
            cert_issued_on=today() - timedelta(days=400),
            category=categories[i % len(categories)],
            description="대량",
            contact_name="담당",
            phone="+821012345678",
            email=f"bulk{prefix}{i}@vendor.example.kr",
            status=VendorStatus.APPROVED,
        )
        for i in range(size)
    ]
    db.session.add_all(vendors)
    db.session.flush()
    db.session.add_all(
        Application(
            vendor_id=v.id,
            market_id=market.id,
            applied_at=first + timedelta(minutes=i),
            status_changed_at=first,
        )
        for i, v in enumerate(vendors)
    )
    db.session.commit()
