"""Changes after the booths are confirmed: withdrawals and promotion, staff
moves, swaps, pins, take-backs and additions, and attendance."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from market.audit.models import AuditEntry
from market.booths import attendance, changes, services
from market.booths.loading import history
from market.booths.models import Attendance, Booth
from market.extensions import db
from market.markets.models import MarketStatus
from market.outbox.models import OutboxMessage
from market.vendors import applications as vendor_applications
from market.vendors.models import Application, ApplicationStatus, Category, Vendor
from tests.booths_factories import applicant, open_market
from tests.markets_factories import make_venue
from tests.vendors_factories import today


@pytest.fixture
def confirmed(app, staff):
    """Four booths of different categories taken, two vendors waiting."""
    market = open_market(booths=4, venue=make_venue("수원시청", 8))
    first = market.application_deadline - timedelta(days=6)
    kinds = [Category.FOOD, Category.FARM, Category.CRAFTS, Category.HOUSEHOLD]
    kinds += [Category.CLOTHING, Category.ELECTRONICS]
    people = [
        applicant(market, f"기업{i}", kind, applied=first + timedelta(hours=i))
        for i, kind in enumerate(kinds)
    ]
    services.confirm(market.id, staff)
    db.session.commit()
    return market, people


def _booths() -> dict[int, int]:
    return dict(db.session.execute(select(Booth.number, Booth.application_id)).all())


def _mails_to(application: Application) -> list[str]:
    email = db.session.get(Vendor, application.vendor_id).email
    return list(
        db.session.scalars(select(OutboxMessage.subject).where(OutboxMessage.to_address == email))
    )


def _fresh(application: Application) -> Application:
    db.session.refresh(application)
    return application


def test_the_confirmed_fixture_fills_by_rank(confirmed):
    _market, people = confirmed
    assert set(_booths().values()) == {p.id for p in people[:4]}
    assert [_fresh(p).waitlist_position for p in people[4:]] == [1, 2]


# -- withdrawals ---------------------------------------------------------------------


def test_a_vendor_withdrawing_before_the_deadline_frees_its_booth_for_the_first_waiting(
    confirmed, make_user
):
    market, people = confirmed
    leaving, first_waiting, second_waiting = people[1], people[4], people[5]
    number = next(n for n, a in _booths().items() if a == leaving.id)
    vendor_applications.withdraw(leaving, market, actor=None)
    db.session.commit()
    assert _booths()[number] == first_waiting.id
    assert _fresh(first_waiting).status is ApplicationStatus.ASSIGNED
    assert first_waiting.status_reason == (
        f"{number}번 부스 참가 취소로 대기 1순위에서 승격하여 {number}번 부스 배정"
    )
    assert first_waiting.waitlist_position is None
    assert _fresh(second_waiting).waitlist_position == 1
    assert second_waiting.status_reason == "앞 순위 기업의 승격으로 대기 1순위"
    assert _fresh(leaving).status is ApplicationStatus.WITHDRAWN
    assert leaving.status_reason == f"참가 신청 철회 ({number}번 부스 반납)"
    assert any(f"{number}번 부스 배정" in s for s in _mails_to(first_waiting))
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "booths.promote"))
    assert entry.after["promoted"] == first_waiting.vendor_id


def test_after_the_deadline_only_staff_withdraw_and_that_promotes_too(confirmed, staff):
    market, people = confirmed
    late = market.application_deadline + timedelta(hours=1)
    with pytest.raises(vendor_applications.VendorRuleError):
        vendor_applications.withdraw(people[0], market, actor=None, now=late)
    db.session.rollback()
    vendor_applications.staff_set_status(
        people[0], ApplicationStatus.WITHDRAWN, staff, reason="전화로 불참 통보"
    )
    db.session.commit()
    assert _fresh(people[4]).status is ApplicationStatus.ASSIGNED
    assert _fresh(people[0]).status_reason == "전화로 불참 통보"


def test_a_waiting_vendor_withdrawing_closes_the_gap(confirmed):
    market, people = confirmed
    vendor_applications.withdraw(people[4], market, actor=None)
    db.session.commit()
    assert _fresh(people[5]).waitlist_position == 1
    assert people[5].status_reason == "앞 순위 기업의 철회로 대기 1순위"
    assert _fresh(people[4]).waitlist_position is None
    assert len(_booths()) == 4


# -- staff changes -------------------------------------------------------------------


def test_move_to_an_empty_booth_and_refusals(confirmed, staff):
    market, people = confirmed
    numbers = {a: n for n, a in _booths().items()}
    number = numbers[people[0].id]
    changes.unassign(market.id, numbers[people[3].id], staff)  # makes room
    empty = numbers[people[3].id]
    changes.move(market.id, number, empty, staff)
    db.session.commit()
    assert _booths()[empty] == people[0].id and number not in _booths()
    assert _fresh(people[0]).status_reason == f"운영자가 {number}번에서 {empty}번 부스로 옮겨 배정"
    assert any("바뀌었습니다" in s for s in _mails_to(people[0]))
    with pytest.raises(services.BoothRuleError, match="맞바꾸"):
        changes.move(market.id, empty, numbers[people[1].id], staff)
    with pytest.raises(services.BoothRuleError, match="비어"):
        changes.move(market.id, number, empty, staff)
    with pytest.raises(services.BoothRuleError, match="1번부터 4번"):
        changes.move(market.id, empty, 9, staff)


def test_swap_keeps_the_unique_constraints_and_moves_pins_along(confirmed, staff):
    market, people = confirmed
    numbers = {a: n for n, a in _booths().items()}
    a, b = numbers[people[0].id], numbers[people[2].id]
    changes.pin(market.id, people[0].id, a, staff)
    changes.swap(market.id, a, b, staff)
    db.session.commit()
    assert _booths()[a] == people[2].id and _booths()[b] == people[0].id
    assert _fresh(people[0]).pinned_booth == b
    pinned = db.session.scalar(select(Booth).where(Booth.number == b))
    assert pinned.pinned
    assert db.session.scalar(select(Booth.pinned).where(Booth.number == a)) is False
    assert db.session.scalar(select(func.count(Booth.id))) == 4
    assert (
        _fresh(people[2]).status_reason
        == f"운영자가 {b}번 부스와 {a}번 부스를 맞바꿔 {a}번 부스 배정"
    )
    assert db.session.scalar(
        select(AuditEntry.after).where(AuditEntry.action == "booths.swap")
    ) == {
        str(a): people[2].vendor_id,
        str(b): people[0].vendor_id,
    }


def test_pins_are_stored_on_the_application_and_refuse_a_second_pin(confirmed, staff):
    market, people = confirmed
    holds_now = changes.pin(market.id, people[5].id, 2, staff)
    assert holds_now is False  # waiting: takes effect at the next assignment
    db.session.commit()
    with pytest.raises(services.BoothRuleError, match="이미 기업5에 지정"):
        changes.pin(market.id, people[1].id, 2, staff)
    db.session.rollback()
    changes.unpin(market.id, people[5].id, staff)
    db.session.commit()
    assert _fresh(people[5]).pinned_booth is None
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.action.like("booths.%"))
    )
    assert {"booths.pin", "booths.unpin"} <= set(actions)


def test_unassign_sends_to_the_end_of_the_waitlist_and_add_fills_the_booth(confirmed, staff):
    market, people = confirmed
    number = next(n for n, a in _booths().items() if a == people[2].id)
    changes.unassign(market.id, number, staff)
    db.session.commit()
    assert number not in _booths()
    assert _fresh(people[2]).status is ApplicationStatus.WAITLISTED
    assert people[2].waitlist_position == 3
    assert people[2].status_reason == f"운영자가 {number}번 부스 배정을 취소하여 대기 3순위"
    assert any("대기 3순위" in s for s in _mails_to(people[2]))
    changes.add_from_waitlist(market.id, people[5].id, number, staff)  # the second waiting
    db.session.commit()
    assert _booths()[number] == people[5].id
    assert _fresh(people[5]).status_reason == f"운영자가 대기 2순위에서 {number}번 부스에 배정"
    assert [_fresh(people[4]).waitlist_position, _fresh(people[2]).waitlist_position] == [1, 2]
    changes.unassign(market.id, number, staff)
    with pytest.raises(services.BoothRuleError, match="대기 중인 기업만"):
        changes.add_from_waitlist(market.id, people[0].id, number, staff)


def test_manual_changes_need_a_confirmed_market(app, staff):
    market = open_market(booths=4, venue=make_venue("용인시청", 6))
    with pytest.raises(services.BoothRuleError, match="확정한 뒤"):
        changes.move(market.id, 1, 2, staff)


def test_the_database_refuses_a_change_that_slips_past_the_checks(confirmed, staff):
    """Two staff adding different vendors to one booth at once: if both passed
    the 'is it empty' check, the unique constraint refuses the second."""
    market, people = confirmed
    number = next(n for n, a in _booths().items() if a == people[0].id)
    changes.unassign(market.id, number, staff)
    db.session.commit()
    db.session.add(
        Booth(
            market_id=market.id,
            number=number,
            vendor_id=people[4].vendor_id,
            application_id=people[4].id,
        )
    )
    db.session.commit()  # the other staff member's addition, committed first
    with pytest.raises(services.BoothRuleError, match="이미 기업"):
        changes.add_from_waitlist(market.id, people[5].id, number, staff)


# -- attendance ----------------------------------------------------------------------


def test_attendance_is_taken_from_the_market_day_and_counts_in_the_next_ranking(confirmed, staff):
    market, people = confirmed
    with pytest.raises(services.BoothRuleError, match="당일부터"):
        attendance.mark_attendance(market.id, 1, Attendance.PRESENT, staff)
    db.session.rollback()
    market.market_date = today() - timedelta(days=1)  # the market was yesterday
    db.session.commit()
    numbers = {a: n for n, a in _booths().items()}
    attendance.mark_attendance(market.id, numbers[people[0].id], Attendance.PRESENT, staff)
    attendance.mark_attendance(market.id, numbers[people[1].id], Attendance.NO_SHOW, staff)
    attendance.mark_attendance(market.id, numbers[people[2].id], Attendance.NO_SHOW, staff)
    attendance.mark_attendance(market.id, numbers[people[2].id], None, staff)  # a slip corrected
    db.session.commit()
    booth = db.session.scalar(select(Booth).where(Booth.application_id == people[2].id))
    assert (booth.attendance, booth.attendance_at) == (None, None)

    following = open_market(weeks=3, booths=4, venue=market.venue)
    for person in people[:2]:
        db.session.add(
            Application(
                vendor_id=person.vendor_id,
                market_id=following.id,
                applied_at=following.application_deadline - timedelta(days=3),
            )
        )
    db.session.commit()
    counts = history(following)
    assert counts[people[0].vendor_id] == (1, 0)
    assert counts[people[1].vendor_id] == (0, 1)
    plan = services.preview(following)
    reasons = {a.vendor_id: d.reason for d, a in plan.waitlist} | {
        row.application.vendor_id: row.decision.reason for row in plan.rows if row.decision
    }
    assert reasons[people[1].vendor_id].startswith(
        "최근 8주간 참가 이력이 없고 최근 6개월간 1회 불참하여"
    )
    assert reasons[people[0].vendor_id].startswith("최근 8주간 1회 참가하여")
    assert market.status is MarketStatus.ASSIGNED
