"""Filling a booth freed by a withdrawal from the waitlist (pure, no I/O).

Once booths are confirmed every vendor has been told its number, so a
withdrawal moves nobody else: the freed booth is filled, the waitlist closes
up, and everyone whose situation changed gets a new decision with a reason.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from market.booths import reasons
from market.booths.assignment import Basis, Booth, Decision, MarketState, Outcome, Waiting


@dataclass(frozen=True)
class Promotion:
    state: MarketState
    freed_booth: int | None
    promoted: int | None  # vendor id moved from the waitlist into freed_booth
    decisions: tuple[Decision, ...]  # only the vendors whose situation changed


def promote(state: MarketState, vendor_id: int) -> Promotion:
    """Withdraw `vendor_id` and, if that frees a booth, fill it from the waitlist.

    The freed booth goes to the waiting vendor with the smallest (how far past
    the category cap they would take their category, how many same-category
    neighbours they would get, waitlist position). So the first on the list
    gets it unless that breaks the cap or puts like next to like while someone
    further down would not. Withdrawing a waiting vendor just closes the gap; a
    vendor neither assigned nor waiting changes nothing.
    """
    freed = state.booth_of(vendor_id)
    withdrawn = Decision(vendor_id, Outcome.WITHDRAWN, Basis.WITHDRAWN, reasons.withdrawn(freed))
    if freed is None:
        ids = [w.vendor_id for w in state.waitlist]
        if vendor_id not in ids:
            return Promotion(state, None, None, (withdrawn,))
        gone = ids.index(vendor_id)
        waitlist = tuple(w for w in state.waitlist if w.vendor_id != vendor_id)
        moved = _moved_up(waitlist, gone, reasons.moved_up_after_withdrawal)
        return Promotion(
            MarketState(state.market, state.booths, waitlist), None, None, (withdrawn, *moved)
        )

    booths = list(state.booths)
    booths[freed - 1] = Booth(freed)
    if not state.waitlist:
        return Promotion(MarketState(state.market, tuple(booths)), freed, None, (withdrawn,))
    counts = Counter(b.category for b in booths if b.category is not None)
    neighbours = [b.category for b in booths if abs(b.number - freed) == 1]
    keys = [
        (max(0, counts[w.category] + 1 - state.market.cap), neighbours.count(w.category), position)
        for position, w in enumerate(state.waitlist)
    ]
    best = min(keys)
    gone = best[2]
    chosen = state.waitlist[gone]
    booths[freed - 1] = Booth(freed, chosen.vendor_id, chosen.category)
    waitlist = state.waitlist[:gone] + state.waitlist[gone + 1 :]

    decisions = [withdrawn]
    text = reasons.promoted(freed, gone + 1)
    decisions.append(
        Decision(chosen.vendor_id, Outcome.ASSIGNED, Basis.PROMOTED, text, booth=freed)
    )
    for position, (w, key) in enumerate(zip(waitlist[:gone], keys, strict=False), 1):
        if key[0] > best[0]:  # passed over: say why
            basis, text = Basis.WAITLIST_CAP, reasons.waitlisted_by_cap(position)
        else:
            basis = Basis.WAITLIST_NEIGHBOUR
            text = reasons.passed_over_for_neighbours(freed, position)
        decisions.append(
            Decision(w.vendor_id, Outcome.WAITLISTED, basis, text, waitlist_position=position)
        )
    decisions.extend(_moved_up(waitlist, gone, reasons.moved_up_after_promotion))
    state = MarketState(state.market, tuple(booths), waitlist)
    return Promotion(state, freed, chosen.vendor_id, tuple(decisions))


def _moved_up(
    waitlist: tuple[Waiting, ...], start: int, text: Callable[[int], str]
) -> list[Decision]:
    """Decisions for the waiting vendors from index `start` on: each moved one place up."""
    return [
        Decision(
            w.vendor_id,
            Outcome.WAITLISTED,
            Basis.WAITLIST_RANK,
            text(position),
            waitlist_position=position,
        )
        for position, w in enumerate(waitlist[start:], start + 1)
    ]
