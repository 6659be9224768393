"""The pure booth-assignment core: examples for every rule and reason, then properties.

No app or database is needed: these tests build plain dataclasses. The
properties check the rules with independent, simpler code (eligibility, rank
order, which pins are valid, a brute-force best arrangement) rather than by
calling the module's own helpers.
"""

import itertools
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market.booths.arrangement import arrange, conflicts
from market.booths.assignment import (
    Applicant,
    AssignmentResult,
    Basis,
    Booth,
    Ineligibility,
    MarketInfo,
    MarketState,
    Outcome,
    Pin,
    PinProblemKind,
    Waiting,
    assign,
)
from market.booths.promotion import promote

KST = timezone(timedelta(hours=9))
MARKET_DAY = date(2026, 5, 14)  # a Thursday
DEADLINE = datetime(2026, 5, 7, 18, 0, tzinfo=KST)
EARLY = DEADLINE - timedelta(days=3)
CATEGORIES = ("food", "farm", "household", "clothing", "electronics", "crafts", "other")


def market(booths: int = 6, cap: int | None = None) -> MarketInfo:
    return MarketInfo(booths, MARKET_DAY, DEADLINE, category_cap=cap)


def vendor(
    vendor_id: int,
    category: str = "food",
    *,
    markets: int = 0,
    no_shows: int = 0,
    applied: datetime = EARLY,
    approved: bool = True,
    expiry: date | None = None,
    withdrawn: bool = False,
) -> Applicant:
    return Applicant(
        vendor_id=vendor_id,
        name=f"기업{vendor_id}",
        category=category,
        approved=approved,
        certification_expiry=expiry,
        applied_at=applied,
        withdrawn=withdrawn,
        recent_markets=markets,
        recent_no_shows=no_shows,
    )


def mixed(count: int, start: int = 1, **kwargs) -> list[Applicant]:
    """`count` vendors of different categories, so neither cap nor neighbours interfere."""
    return [vendor(start + i, CATEGORIES[i % 7], **kwargs) for i in range(count)]


def ranked_ids(result: AssignmentResult) -> list[int]:
    """Vendors with a rank, best first (assigned and waiting alike)."""
    ranked = [d for d in result.decisions if d.rank is not None]
    return [d.vendor_id for d in sorted(ranked, key=lambda d: d.rank)]


# --- ranking ----------------------------------------------------------------------------------


def test_fewest_recent_markets_first():
    people = [
        vendor(1, "food", markets=3),
        vendor(2, "farm", markets=0),
        vendor(3, "crafts", markets=1),
    ]
    result = assign(market(4), people)
    assert ranked_ids(result) == [2, 3, 1]
    assert result.booth_map == {1: 2, 2: 3, 3: 1, 4: None}


def test_fewer_no_shows_break_a_tie_in_markets():
    people = [vendor(1, "food", markets=1, no_shows=2), vendor(2, "farm", markets=1, no_shows=0)]
    assert ranked_ids(assign(market(4), people)) == [2, 1]


def test_no_shows_do_not_outweigh_rotation():
    people = [vendor(1, "food", markets=0, no_shows=3), vendor(2, "farm", markets=1, no_shows=0)]
    assert ranked_ids(assign(market(4), people)) == [1, 2]


def test_earlier_application_breaks_a_tie():
    people = [
        vendor(1, "food", applied=EARLY + timedelta(hours=2)),
        vendor(2, "farm", applied=EARLY),
        # The same instant in another time zone is not earlier.
        vendor(3, "crafts", applied=(EARLY + timedelta(hours=1)).astimezone(UTC)),
    ]
    assert ranked_ids(assign(market(4), people)) == [2, 3, 1]


def test_vendor_id_is_the_final_tie_break():
    people = [vendor(9, "food"), vendor(4, "farm"), vendor(7, "crafts")]
    assert ranked_ids(assign(market(4), people)) == [4, 7, 9]


def test_same_input_in_any_order_gives_the_same_result():
    people = [
        *mixed(12),
        vendor(20, "food", markets=1),
        vendor(21, "food", expiry=date(2026, 1, 1)),
    ]
    pins = [Pin(3, 4), Pin(20, 1), Pin(99, 2)]
    first = assign(market(8), people, pins)
    for seed in range(5):
        shuffled, shuffled_pins = people[:], pins[:]
        random.Random(seed).shuffle(shuffled)
        random.Random(seed).shuffle(shuffled_pins)
        assert assign(market(8), shuffled, shuffled_pins) == first


# --- reasons ----------------------------------------------------------------------------------


def test_reason_for_an_assignment_by_rank():
    people = [*mixed(4), vendor(5, "crafts", markets=2)]
    people[0] = vendor(1, "food", markets=1, no_shows=2)
    result = assign(market(6), people)
    assert result.decision_for(5).reason == "최근 8주간 2회 참가하여 우선순위 5위로 5번 부스 배정"
    assert result.decision_for(5).basis is Basis.RANK
    assert (
        result.decision_for(2).reason == "최근 8주간 참가 이력이 없어 우선순위 1위로 1번 부스 배정"
    )
    assert result.decision_for(1).reason == (
        "최근 8주간 1회 참가하고 최근 6개월간 2회 불참하여 우선순위 4위로 4번 부스 배정"
    )
    no_history = vendor(9, "other", no_shows=1)
    assert assign(market(4), [no_history]).decision_for(9).reason == (
        "최근 8주간 참가 이력이 없고 최근 6개월간 1회 불참하여 우선순위 1위로 1번 부스 배정"
    )


def test_reasons_for_the_waitlist_by_rank_and_by_cap():
    people = [vendor(1, "food"), vendor(2, "food"), vendor(3, "food")]  # cap is 2 for 4 booths
    people += [vendor(4, "farm", markets=1), vendor(5, "crafts", markets=1)]
    people += [vendor(10, "farm", markets=5), vendor(11, "food", markets=6)]
    result = assign(market(4), people)
    assert set(result.state.assigned) == {1, 2, 4, 5}
    assert result.waitlist == (3, 10, 11)
    by_cap = result.decision_for(3)
    assert (by_cap.outcome, by_cap.basis) == (Outcome.WAITLISTED, Basis.WAITLIST_CAP)
    assert by_cap.reason == "같은 품목 부스 상한 초과로 대기 1순위"
    assert (by_cap.waitlist_position, by_cap.rank) == (1, 3)
    by_rank = result.decision_for(10)
    assert by_rank.basis is Basis.WAITLIST_RANK
    assert by_rank.reason == "최근 8주간 5회 참가하여 우선순위 6위, 부스가 모두 차서 대기 2순위"


def test_reasons_for_the_ineligible():
    people = [
        vendor(1, approved=False),
        vendor(2, expiry=date(2026, 5, 13)),
        vendor(3, expiry=MARKET_DAY),  # valid on the market day itself
        vendor(4, applied=DEADLINE + timedelta(seconds=1)),
        vendor(5, applied=DEADLINE),  # on the deadline is in time
        vendor(6, approved=False, applied=DEADLINE + timedelta(days=1)),
    ]
    result = assign(market(4, cap=4), people)
    reasons = {d.vendor_id: d.reason for d in result.decisions if d.outcome is Outcome.DECLINED}
    assert reasons == {
        1: "승인되지 않은 기업",
        2: "인증이 만료되어 참가할 수 없습니다 (만료일 2026-05-13)",
        4: "신청 마감 후 신청",
        6: "승인되지 않은 기업, 신청 마감 후 신청",
    }
    assert result.declined == (1, 2, 4, 6)
    assert result.decision_for(6).ineligibility == (Ineligibility.NOT_APPROVED, Ineligibility.LATE)
    assert set(result.state.assigned) == {3, 5}


def test_withdrawn_applicants_are_withdrawn_not_declined():
    result = assign(market(4), [vendor(1, withdrawn=True, approved=False), vendor(2, "farm")])
    decision = result.decision_for(1)
    assert (decision.outcome, decision.basis, decision.reason) == (
        Outcome.WITHDRAWN,
        Basis.WITHDRAWN,
        "참가 신청 철회",
    )
    assert result.withdrawn == (1,)
    assert result.declined == ()


def test_reason_for_a_pinned_vendor():
    result = assign(market(4), mixed(3), [Pin(3, 2)])
    decision = result.decision_for(3)
    assert decision.reason == "운영자 지정 부스 2번"
    assert (decision.basis, decision.booth, decision.rank) == (Basis.PINNED, 2, None)
    assert result.booths[1] == Booth(2, 3, "household", pinned=True)


def test_every_applicant_gets_exactly_one_decision():
    people = [*mixed(9), vendor(20, approved=False), vendor(21, withdrawn=True)]
    result = assign(market(6), people, [Pin(21, 1)])
    assert [d.vendor_id for d in result.decisions] == sorted(a.vendor_id for a in people)
    assert all(d.reason for d in result.decisions)
    with pytest.raises(KeyError):
        result.decision_for(404)


# --- pins -------------------------------------------------------------------------------------


def test_pins_are_placed_first_and_kept():
    people = [*mixed(8), vendor(30, "crafts", markets=7)]
    result = assign(market(6), people, [Pin(30, 6), Pin(8, 1)])
    assert result.booth_map[6] == 30
    assert result.booth_map[1] == 8
    assert result.pin_problems == ()
    # Two pins took two booths: the four best ranked fill the rest.
    assert set(result.state.assigned) == {30, 8, 1, 2, 3, 4}


def test_pins_that_cannot_hold_are_reported_never_moved():
    people = [
        *mixed(6),
        vendor(10, withdrawn=True),
        vendor(11, "farm", expiry=date(2025, 12, 31)),
        vendor(12, "crafts", markets=5),
        vendor(13, "other", markets=5),
        vendor(14, "farm", markets=5),
        vendor(15, "household", markets=5),
    ]
    pins = [
        Pin(10, 1),  # withdrew
        Pin(11, 2),  # certification expired
        Pin(99, 3),  # never applied
        Pin(1, 7),  # no booth 7 in a 6-booth market
        Pin(12, 4),  # booth 4 twice
        Pin(13, 4),
        Pin(14, 5),  # vendor 14 on two booths
        Pin(14, 6),
        Pin(15, 1),  # shares booth 1 with the withdrawn vendor's pin: still holds
    ]
    result = assign(market(6), people, pins)
    kinds = {(p.vendor_id, p.booth): p.kind for p in result.pin_problems}
    assert kinds == {
        (10, 1): PinProblemKind.WITHDRAWN,
        (11, 2): PinProblemKind.INELIGIBLE,
        (99, 3): PinProblemKind.UNKNOWN_VENDOR,
        (1, 7): PinProblemKind.BOOTH_OUT_OF_RANGE,
        (12, 4): PinProblemKind.BOOTH_PINNED_TWICE,
        (13, 4): PinProblemKind.BOOTH_PINNED_TWICE,
        (14, 5): PinProblemKind.VENDOR_PINNED_TWICE,
        (14, 6): PinProblemKind.VENDOR_PINNED_TWICE,
    }
    messages = {(p.vendor_id, p.booth): p.message for p in result.pin_problems}
    assert messages[(10, 1)] == "1번 부스 지정 불가: 참가 신청을 철회한 기업"
    assert messages[(11, 2)] == (
        "2번 부스 지정 불가: 인증이 만료되어 참가할 수 없습니다 (만료일 2025-12-31)"
    )
    assert messages[(99, 3)] == "3번 부스 지정 불가: 이 장터에 신청하지 않은 기업"
    assert messages[(1, 7)] == "7번 부스 지정 불가: 부스 번호는 1~6번"
    assert messages[(12, 4)] == "4번 부스 지정 불가: 같은 부스에 여러 기업이 지정됨"
    assert messages[(14, 6)] == "6번 부스 지정 불가: 같은 기업이 여러 부스에 지정됨"
    assert [p.booth for p in result.pin_problems] == sorted(p.booth for p in result.pin_problems)

    assert result.booths[0] == Booth(1, 15, "household", pinned=True)
    assert [b.number for b in result.booths if b.pinned] == [1]
    # Refused pins fall back to the normal rules: eligible vendors are ranked
    # (1 gets a booth by rank, 12..14 wait), ineligible ones are declined.
    assert result.decision_for(1).basis is Basis.RANK
    assert {12, 13, 14} <= set(result.waitlist)
    assert result.decision_for(11).outcome is Outcome.DECLINED
    assert result.decision_for(10).outcome is Outcome.WITHDRAWN


def test_a_repeated_identical_pin_is_one_pin():
    result = assign(market(4), mixed(4), [Pin(2, 3), Pin(2, 3)])
    assert result.pin_problems == ()
    assert result.booth_map[3] == 2


# --- category cap -----------------------------------------------------------------------------


def test_cap_is_a_third_of_the_booths_rounded_up_by_default():
    assert [market(n).cap for n in range(4, 11)] == [2, 2, 2, 3, 3, 3, 4]
    assert market(10, cap=1).cap == 1


def test_cap_holds_while_other_categories_wait():
    foods = [vendor(i, "food") for i in range(1, 6)]  # the five best ranked
    others = [vendor(10 + i, c, markets=3) for i, c in enumerate(CATEGORIES[1:])]
    result = assign(market(6), foods + others)
    counts = Counter(b.category for b in result.booths)
    assert counts["food"] == 2
    assert set(result.state.assigned) == {1, 2, 10, 11, 12, 13}
    assert [result.decision_for(i).basis for i in (3, 4, 5)] == [Basis.WAITLIST_CAP] * 3


def test_configured_cap():
    people = [
        vendor(1, "food"),
        vendor(2, "food"),
        vendor(3, "farm", markets=1),
        vendor(4, "crafts", markets=1),
    ]
    people += [vendor(5, "other", markets=1)]
    result = assign(market(4, cap=1), people)
    assert set(result.state.assigned) == {1, 3, 4, 5}
    assert result.decision_for(2).reason == "같은 품목 부스 상한 초과로 대기 1순위"


def test_cap_is_passed_only_to_fill_booths_nobody_else_wants():
    people = [vendor(i, "food") for i in range(1, 5)] + [
        vendor(5, "crafts", markets=1),
        vendor(6, "crafts", markets=1),
        vendor(7, "farm", markets=2),
    ]
    result = assign(market(6), people)  # cap 2: food 1, 2, crafts 5, 6, farm 7, then food 3
    assert set(result.state.assigned) == {1, 2, 3, 5, 6, 7}
    over = result.decision_for(3)
    assert over.basis is Basis.CAP_RELAXED
    assert over.reason.endswith("(다른 품목 대기 기업이 없어 같은 품목 상한을 넘겨 배정)")
    assert result.waitlist == (4,)
    assert result.decision_for(4).basis is Basis.WAITLIST_CAP


def test_cap_is_passed_evenly_when_it_must_be():
    # 6 booths, cap 1, two categories: 3 of each rather than 5 food and 1 crafts.
    people = [vendor(i, "food") for i in range(1, 6)] + [
        vendor(i, "crafts", markets=1) for i in range(6, 11)
    ]
    result = assign(market(6, cap=1), people)
    assert Counter(b.category for b in result.booths) == {"food": 3, "crafts": 3}


def test_pinned_vendors_count_toward_the_cap():
    people = [vendor(1, "food", markets=4), vendor(2, "food", markets=4), vendor(3, "food")]
    people += mixed(5, start=10, markets=1)
    result = assign(market(6), people, [Pin(1, 1), Pin(2, 6)])
    assert result.decision_for(3).outcome is Outcome.WAITLISTED  # best ranked, but food is full
    assert Counter(b.category for b in result.booths)["food"] == 2


# --- neighbours -------------------------------------------------------------------------------


def test_neighbours_differ_in_category_when_possible():
    people = [
        vendor(1, "food"),
        vendor(2, "food"),
        vendor(3, "crafts", markets=1),
        vendor(4, "crafts", markets=1),
    ]
    result = assign(market(4), people)
    assert result.booth_map == {1: 1, 2: 3, 3: 2, 4: 4}


def test_neighbours_around_a_pin():
    people = [
        vendor(1, "food"),
        vendor(2, "farm"),
        vendor(3, "farm"),
        vendor(4, "crafts", markets=2),
    ]
    result = assign(market(4), people, [Pin(1, 2)])
    categories = [b.category for b in result.booths]
    assert categories[1] == "food"
    assert conflicts(categories) == 0
    assert result.booth_map == {1: 2, 2: 1, 3: 3, 4: 4}


def test_fewest_clashes_when_none_free_is_impossible():
    people = [
        vendor(1, "food"),
        vendor(2, "food"),
        vendor(3, "food"),
        vendor(4, "crafts", markets=1),
    ]
    result = assign(market(4, cap=3), people)
    assert conflicts([b.category for b in result.booths]) == 1
    # Among the best arrangements, better rank sits on the lower booth numbers.
    assert result.booth_map == {1: 1, 2: 2, 3: 4, 4: 3}


def test_an_empty_booth_separates_like_neighbours():
    result = assign(market(4), [vendor(1, "food"), vendor(2, "food")])
    assert result.booth_map == {1: 1, 2: None, 3: 2, 4: None}


def test_arrange_packs_in_rank_order_when_nothing_clashes():
    assert arrange([None, "x", None, None], ["a", "b"], lambda s: s) == ["a", None, "b", None]
    with pytest.raises(ValueError):
        arrange(["x"], ["a"], lambda s: s)


# --- minimum ----------------------------------------------------------------------------------


def test_fewer_than_four_assigned_flags_the_market():
    assert assign(market(6), mixed(3)).under_minimum
    assert not assign(market(6), mixed(4)).under_minimum
    assert assign(market(4), []).under_minimum


# --- promotion --------------------------------------------------------------------------------


def test_withdrawal_promotes_the_first_waiting_vendor():
    people = [*mixed(4), vendor(5, "other", markets=1), vendor(6, "crafts", markets=2)]
    result = assign(market(4), people)
    assert result.waitlist == (5, 6)
    change = promote(result.state, 3)
    assert (change.freed_booth, change.promoted) == (3, 5)
    assert change.state.booth_map == {1: 1, 2: 2, 3: 5, 4: 4}
    assert [w.vendor_id for w in change.state.waitlist] == [6]
    reasons = {d.vendor_id: (d.outcome, d.reason) for d in change.decisions}
    assert reasons == {
        3: (Outcome.WITHDRAWN, "참가 신청 철회 (3번 부스 반납)"),
        5: (Outcome.ASSIGNED, "3번 부스 참가 취소로 대기 1순위에서 승격하여 3번 부스 배정"),
        6: (Outcome.WAITLISTED, "앞 순위 기업의 승격으로 대기 1순위"),
    }


def test_promotion_skips_a_vendor_over_the_cap():
    state = MarketState(
        market(4),
        (Booth(1, 1, "food"), Booth(2, 2, "farm"), Booth(3, 3, "farm"), Booth(4, 4, "food")),
        (Waiting(5, "food"), Waiting(6, "farm"), Waiting(7, "crafts")),
    )
    change = promote(state, 2)  # booth 2 sits between food and farm; food is at its cap of 2
    assert change.promoted == 7
    decisions = {d.vendor_id: d for d in change.decisions}
    assert decisions[5].reason == "같은 품목 부스 상한 초과로 대기 1순위"
    assert decisions[6].basis is Basis.WAITLIST_NEIGHBOUR  # farm: within the cap, next to farm
    assert decisions[6].reason == "빈 2번 부스의 이웃 부스와 품목이 같아 대기 2순위"


def test_promotion_avoids_like_neighbours_when_someone_else_fits():
    state = MarketState(
        market(6),
        tuple(
            Booth(n, n, c)
            for n, c in zip(
                range(1, 7), ["food", "farm", "crafts", "other", "food", "farm"], strict=True
            )
        ),
        (Waiting(10, "crafts"), Waiting(11, "household")),
    )
    change = promote(state, 4)  # booth 4 sits between crafts and food
    assert change.promoted == 11
    assert change.state.waitlist == (Waiting(10, "crafts"),)


def test_promotion_takes_the_first_when_nobody_fits_better():
    state = MarketState(
        market(4),
        (Booth(1, 1, "food"), Booth(2, 2, "farm"), Booth(3, 3, "food"), Booth(4)),
        (Waiting(5, "food"), Waiting(6, "food")),
    )
    change = promote(state, 2)
    assert change.promoted == 5  # over the cap and next to food, but nobody else waits


def test_withdrawal_without_a_waitlist_leaves_the_booth_empty():
    result = assign(market(4), mixed(4))
    change = promote(result.state, 2)
    assert change.promoted is None
    assert change.state.booth_map[2] is None
    assert change.state.under_minimum


def test_withdrawal_from_the_waitlist_closes_the_gap():
    result = assign(market(4), mixed(7))
    change = promote(result.state, 5)
    assert change.state.booths == result.booths
    assert [w.vendor_id for w in change.state.waitlist] == [6, 7]
    assert {d.vendor_id: d.reason for d in change.decisions} == {
        5: "참가 신청 철회",
        6: "앞 순위 기업의 철회로 대기 1순위",
        7: "앞 순위 기업의 철회로 대기 2순위",
    }


def test_withdrawal_of_someone_without_a_booth_or_place_changes_nothing():
    result = assign(market(4), [*mixed(4), vendor(9, approved=False)])
    change = promote(result.state, 9)
    assert change.state == result.state
    assert change.promoted is None


# --- input checks -----------------------------------------------------------------------------


def test_inputs_are_checked():
    with pytest.raises(ValueError, match="timezone-aware"):
        MarketInfo(6, MARKET_DAY, datetime(2026, 5, 7, 18))
    with pytest.raises(ValueError, match="timezone-aware"):
        vendor(1, applied=datetime(2026, 5, 1))
    with pytest.raises(ValueError, match="booth_count"):
        market(11)
    with pytest.raises(ValueError, match="category_cap"):
        market(6, cap=0)
    with pytest.raises(ValueError, match="one application"):
        assign(market(6), [vendor(1), vendor(1, "farm")])
    with pytest.raises(ValueError, match="twice"):
        MarketState(market(4), tuple(Booth(n) for n in range(1, 5)), (Waiting(1, "a"),) * 2)


# --- properties -------------------------------------------------------------------------------


def is_eligible(a: Applicant, m: MarketInfo) -> bool:
    """The rule as the issue states it, written independently of the module."""
    cert_ok = a.certification_expiry is None or a.certification_expiry >= m.market_date
    return a.approved and cert_ok and a.applied_at <= m.deadline and not a.withdrawn


def order_key(a: Applicant):
    return (a.recent_markets, a.recent_no_shows, a.applied_at.timestamp(), a.vendor_id)


def valid_pins(m: MarketInfo, people: list[Applicant], pins: list[Pin]) -> set[Pin]:
    by_id = {a.vendor_id: a for a in people}
    sound = {
        p
        for p in set(pins)
        if p.vendor_id in by_id
        and 1 <= p.booth <= m.booth_count
        and is_eligible(by_id[p.vendor_id], m)
    }
    return {
        p
        for p in sound
        if not any(q != p and (q.vendor_id == p.vendor_id or q.booth == p.booth) for q in sound)
    }


@st.composite
def scenarios(draw, max_booths: int = 10, max_applicants: int = 40):
    m = MarketInfo(
        draw(st.integers(4, max_booths)),
        MARKET_DAY,
        DEADLINE,
        category_cap=draw(st.none() | st.integers(1, 4)),
    )
    # Few categories make the cap and the neighbour rule bite; all seven make them easy.
    categories = draw(st.sampled_from([CATEGORIES[:2], CATEGORIES[:3], CATEGORIES]))
    ids = draw(st.lists(st.integers(1, 300), unique=True, max_size=max_applicants))
    people = [
        Applicant(
            vendor_id=vid,
            name=f"기업{vid}",
            category=draw(st.sampled_from(categories)),
            approved=draw(st.sampled_from([True] * 5 + [False])),
            certification_expiry=draw(
                st.none() | st.dates(MARKET_DAY - timedelta(days=2), MARKET_DAY + timedelta(days=2))
            ),
            applied_at=DEADLINE + timedelta(hours=draw(st.integers(-48, 2))),
            withdrawn=draw(st.sampled_from([False] * 7 + [True])),
            recent_markets=draw(st.integers(0, 3)),
            recent_no_shows=draw(st.integers(0, 2)),
        )
        for vid in ids
    ]
    vendor_ids = st.sampled_from([*ids, 999]) if ids else st.just(999)
    pins = draw(st.lists(st.builds(Pin, vendor_ids, st.integers(0, m.booth_count + 1)), max_size=5))
    return m, people, pins


def check_rules(m: MarketInfo, people: list[Applicant], pins: list[Pin], result: AssignmentResult):
    booths = result.booths
    assert [b.number for b in booths] == list(range(1, m.booth_count + 1))
    assigned = [b.vendor_id for b in booths if b.vendor_id is not None]
    assert len(assigned) == len(set(assigned)), "a vendor holds two booths"
    assert len(assigned) <= m.booth_count
    by_id = {a.vendor_id: a for a in people}
    assert all(is_eligible(by_id[v], m) for v in assigned), "an ineligible vendor got a booth"
    assert all(b.category == by_id[b.vendor_id].category for b in booths if b.vendor_id)

    # Everyone is accounted for exactly once.
    eligible = {a.vendor_id for a in people if is_eligible(a, m)}
    waitlist = list(result.waitlist)
    assert set(assigned) | set(waitlist) == eligible
    assert not set(assigned) & set(waitlist)
    assert set(result.declined) == {
        a.vendor_id for a in people if not a.withdrawn and not is_eligible(a, m)
    }
    assert set(result.withdrawn) == {a.vendor_id for a in people if a.withdrawn}
    assert sorted(d.vendor_id for d in result.decisions) == sorted(by_id)
    for d in result.decisions:
        assert d.reason
        if d.outcome is Outcome.ASSIGNED:
            assert result.booth_map[d.booth] == d.vendor_id
        elif d.outcome is Outcome.WAITLISTED:
            assert waitlist[d.waitlist_position - 1] == d.vendor_id

    # Nobody waits while a booth is empty, and the waitlist is in rank order.
    if waitlist:
        assert len(assigned) == m.booth_count
    assert waitlist == sorted(waitlist, key=lambda v: order_key(by_id[v]))
    assert result.under_minimum == (len(assigned) < 4)

    # Valid pins hold; every other pin is reported.
    good = valid_pins(m, people, pins)
    for pin in good:
        assert booths[pin.booth - 1] == Booth(
            pin.booth, pin.vendor_id, by_id[pin.vendor_id].category, True
        )
    assert sum(b.pinned for b in booths) == len(good)
    assert {(p.vendor_id, p.booth) for p in result.pin_problems} == {
        (p.vendor_id, p.booth) for p in set(pins) - good
    }

    # The category cap.
    counts = Counter(b.category for b in booths if b.category)
    pinned_counts = Counter(b.category for b in booths if b.pinned)
    unpinned = [b for b in booths if b.vendor_id and not b.pinned]
    for b in unpinned:
        if counts[b.category] > m.cap:  # over the cap only when nobody below it waits
            assert all(counts[by_id[w].category] >= m.cap for w in waitlist)
    # A waiting vendor ranked above someone who got a booth was kept out by the cap.
    for w in waitlist:
        if any(order_key(by_id[w]) < order_key(by_id[b.vendor_id]) for b in unpinned):
            assert counts[by_id[w].category] >= m.cap
            assert result.decision_for(w).basis is Basis.WAITLIST_CAP
    # Precisely: if pins alone respect the cap and enough other categories applied
    # to fill every booth within it, then the cap holds for every category.
    eligible_counts = Counter(by_id[v].category for v in eligible)
    enough = sum(min(m.cap, n) for n in eligible_counts.values()) >= m.booth_count
    if enough and all(n <= m.cap for n in pinned_counts.values()):
        assert all(n <= m.cap for n in counts.values())


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_property_every_rule_holds(scenario):
    m, people, pins = scenario
    check_rules(m, people, pins, assign(m, people, pins))


@settings(max_examples=200, deadline=None)
@given(scenarios(), st.randoms(use_true_random=False))
def test_property_input_order_does_not_matter(scenario, rnd):
    m, people, pins = scenario
    first = assign(m, people, pins)
    shuffled, shuffled_pins = people[:], pins[:]
    rnd.shuffle(shuffled)
    rnd.shuffle(shuffled_pins)
    assert assign(m, shuffled, shuffled_pins) == first


@settings(max_examples=100, deadline=None)
@given(scenarios(max_booths=7, max_applicants=16))
def test_property_arrangement_is_the_best_possible(scenario):
    """Brute force every placement of the non-pinned vendors (and empty booths) over
    the free booths: the result has the fewest same-category neighbours, and
    among those the best ranks on the lowest booth numbers."""
    m, people, pins = scenario
    result = assign(m, people, pins)
    free = [b.number for b in result.booths if not b.pinned]
    movers = [b.vendor_id for b in result.booths if not b.pinned]  # None = empty booth
    category = {a.vendor_id: a.category for a in people}
    rank = {d.vendor_id: d.rank for d in result.decisions if d.rank is not None}

    def layout(order):
        cats = [b.category for b in result.booths]
        for number, v in zip(free, order, strict=True):
            cats[number - 1] = category.get(v)
        return cats

    def rank_sequence(order):
        return [rank[v] if v is not None else len(rank) + 1 for v in order]

    best = min(
        (conflicts(layout(order)), rank_sequence(order))
        for order in set(itertools.permutations(movers))
    )
    assert (conflicts(layout(movers)), rank_sequence(movers)) == best


@settings(max_examples=200, deadline=None)
@given(scenarios(), st.data())
def test_property_promotion_keeps_every_rule(scenario, data):
    m, people, pins = scenario
    result = assign(m, people, pins)
    state = result.state
    category = {a.vendor_id: a.category for a in people}
    for _ in range(data.draw(st.integers(1, 3))):
        present = [*state.assigned, *(w.vendor_id for w in state.waitlist)]
        if not present:
            return
        leaving = data.draw(st.sampled_from(present))
        change = promote(state, leaving)
        new = change.state
        assert leaving not in new.assigned
        assert leaving not in [w.vendor_id for w in new.waitlist]
        assert len(new.assigned) == len(set(new.assigned)) <= m.booth_count
        freed = state.booth_of(leaving)
        for old, now in zip(state.booths, new.booths, strict=True):
            if old.number != freed:
                assert now == old, "promotion moved someone else"
        waiting = [w.vendor_id for w in state.waitlist if w.vendor_id != leaving]
        if freed is None or not waiting:
            assert change.promoted is None
            assert [w.vendor_id for w in new.waitlist] == waiting
        else:
            promoted = change.promoted
            assert new.booth_map[freed] == promoted
            assert [w.vendor_id for w in new.waitlist] == [v for v in waiting if v != promoted]
            counts = Counter(b.category for b in new.booths if b.category)
            if counts[category[promoted]] > m.cap:
                assert all(counts[category[v]] >= m.cap for v in waiting if v != promoted)
            before = Counter(b.category for b in state.booths if b.category and b.number != freed)
            neighbours = [b.category for b in state.booths if abs(b.number - freed) == 1]
            fitting = [
                v for v in waiting if before[category[v]] < m.cap and category[v] not in neighbours
            ]
            if fitting:
                assert promoted == fitting[0]
        for d in change.decisions:
            if d.outcome is Outcome.WAITLISTED:
                assert new.waitlist[d.waitlist_position - 1].vendor_id == d.vendor_id
            if d.outcome is Outcome.ASSIGNED:
                assert new.booth_map[d.booth] == d.vendor_id
        assert new.under_minimum == (len(new.assigned) < 4)
        state = new


def test_five_hundred_applicants():
    rnd = random.Random(500)
    people = [
        vendor(
            i,
            rnd.choice(CATEGORIES[:4]),
            markets=rnd.randint(0, 8),
            no_shows=rnd.randint(0, 3),
            applied=DEADLINE - timedelta(minutes=rnd.randint(-60, 20_000)),
            approved=rnd.random() > 0.1,
            expiry=rnd.choice([None, MARKET_DAY - timedelta(days=1), MARKET_DAY]),
            withdrawn=rnd.random() < 0.05,
        )
        for i in range(1, 501)
    ]
    pins = [Pin(p.vendor_id, n) for n, p in enumerate(rnd.sample(people, 3), 1)]
    m = market(10)
    result = assign(m, people, pins)
    check_rules(m, people, pins, result)
    eligible = [a for a in people if is_eligible(a, m)]
    assert len(result.state.assigned) == 10
    assert len(result.waitlist) == len(eligible) - 10
    assert len(result.decisions) == 500
    assert conflicts([b.category for b in result.booths]) == 0
