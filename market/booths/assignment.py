"""Booth assignment: who gets a booth, who waits, who is declined, and why.

This is the pure core: frozen dataclasses in, frozen dataclasses out,
no database, Flask or clock, so the staff preview, the confirm step, the CLI and
the tests all run the very same rules and the same input always gives the same
booths. `assign` makes a fresh assignment; `promotion.promote` handles a
withdrawal afterwards without moving anyone who already has a booth.

The rules, in the order they are applied:

1. Staff pins go first. A pin that cannot hold is reported in `pin_problems`
   and never moved elsewhere; its vendor then goes through the normal rules.
   Pins on one booth by several vendors, or several booths for one vendor, are
   all refused (we do not guess which one staff meant). A pin for a vendor who
   withdrew or is ineligible is refused first, so it cannot knock out a good pin.
2. Eligible = approved, certification valid on the market date, applied at or
   before the deadline, not withdrawn. Withdrawn applicants get the outcome
   WITHDRAWN (their own choice, not a refusal); the others are DECLINED with
   every reason that applies, so a vendor learns all it must fix at once.
3. The rest are ranked by (recent markets, recent no-shows, applied_at,
   vendor_id): rotation first, then reliability, then first come.
4. Category cap, in rounds. Round 0 walks the ranking and takes everyone whose
   category is below the cap (pins count). Only if booths are still free after
   that, i.e. nobody of a category below the cap is left waiting, round k takes
   vendors whose category is below cap + k, and so on until the booths are full.
   So the cap is exceeded only to avoid an empty booth, and then evenly.
5. `arrangement.arrange` decides where the chosen sit: fewest same-category
   neighbours, then better rank on lower booth numbers.
6. Everyone eligible and not chosen waits in rank order. The reason says "cap"
   when a lower-ranked vendor got a booth (only the cap can cause that),
   otherwise "rank" (the booths were full).
"""

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from market.booths import reasons
from market.booths.arrangement import arrange

MIN_BOOTHS = 4
MAX_BOOTHS = 10
MINIMUM_VENDORS = 4  # fewer assigned vendors than this flags the market


class Outcome(StrEnum):
    """Same values as `ApplicationStatus`, so the database layer can store them."""

    ASSIGNED = "assigned"
    WAITLISTED = "waitlisted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class Basis(StrEnum):
    """A stable code for why a decision came out so, next to the Korean text."""

    PINNED = "pinned"
    RANK = "rank"
    CAP_RELAXED = "cap_relaxed"  # booth over the cap: nobody of another category waited
    PROMOTED = "promoted"
    WAITLIST_RANK = "waitlist_rank"
    WAITLIST_CAP = "waitlist_cap"
    WAITLIST_NEIGHBOUR = "waitlist_neighbour"  # passed over at promotion for the neighbours
    INELIGIBLE = "ineligible"
    WITHDRAWN = "withdrawn"


class Ineligibility(StrEnum):
    NOT_APPROVED = "not_approved"
    CERTIFICATION_EXPIRED = "certification_expired"
    LATE = "late"


class PinProblemKind(StrEnum):
    UNKNOWN_VENDOR = "unknown_vendor"
    BOOTH_OUT_OF_RANGE = "booth_out_of_range"
    WITHDRAWN = "withdrawn"
    INELIGIBLE = "ineligible"
    VENDOR_PINNED_TWICE = "vendor_pinned_twice"
    BOOTH_PINNED_TWICE = "booth_pinned_twice"


def _require_aware(value: datetime, what: str) -> None:
    # Comparing naive and aware datetimes raises only at run time; fail early.
    if value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")


@dataclass(frozen=True)
class MarketInfo:
    booth_count: int
    market_date: date
    deadline: datetime
    category_cap: int | None = None  # None: ceil(booth_count / 3)

    def __post_init__(self) -> None:
        if not MIN_BOOTHS <= self.booth_count <= MAX_BOOTHS:
            raise ValueError(f"booth_count must be {MIN_BOOTHS}..{MAX_BOOTHS}")
        if self.category_cap is not None and self.category_cap < 1:
            raise ValueError("category_cap must be at least 1")
        _require_aware(self.deadline, "deadline")

    @property
    def cap(self) -> int:
        if self.category_cap is not None:
            return self.category_cap
        return math.ceil(self.booth_count / 3)


@dataclass(frozen=True)
class Applicant:
    vendor_id: int
    name: str
    category: str  # a Category value such as "food"; any non-empty key works
    approved: bool
    certification_expiry: date | None  # None: the certification does not expire
    applied_at: datetime
    withdrawn: bool = False
    recent_markets: int = 0  # markets attended in the last 8 market weeks
    recent_no_shows: int = 0  # no-shows in the last 6 months

    def __post_init__(self) -> None:
        if not self.category:
            raise ValueError("category must not be empty")
        if self.recent_markets < 0 or self.recent_no_shows < 0:
            raise ValueError("history counts cannot be negative")
        _require_aware(self.applied_at, "applied_at")


@dataclass(frozen=True)
class Pin:
    vendor_id: int
    booth: int


@dataclass(frozen=True)
class PinProblem:
    vendor_id: int
    booth: int
    kind: PinProblemKind
    message: str


@dataclass(frozen=True)
class Booth:
    number: int
    vendor_id: int | None = None
    category: str | None = None
    pinned: bool = False


@dataclass(frozen=True)
class Waiting:
    vendor_id: int
    category: str


@dataclass(frozen=True)
class Decision:
    vendor_id: int
    outcome: Outcome
    basis: Basis
    reason: str  # plain Korean, shown to staff and to the vendor
    booth: int | None = None
    waitlist_position: int | None = None
    rank: int | None = None  # position among eligible, unpinned applicants
    ineligibility: tuple[Ineligibility, ...] = ()


@dataclass(frozen=True)
class MarketState:
    """The booths and the waitlist of one market: what `promote` works on.

    The database layer can build one from stored rows after staff moved or
    swapped vendors by hand; the checks below keep such a state honest.
    """

    market: MarketInfo
    booths: tuple[Booth, ...]
    waitlist: tuple[Waiting, ...] = ()

    def __post_init__(self) -> None:
        if [b.number for b in self.booths] != list(range(1, self.market.booth_count + 1)):
            raise ValueError("booths must be numbered 1..booth_count in order")
        if any((b.vendor_id is None) != (b.category is None) for b in self.booths):
            raise ValueError("a booth needs both a vendor and its category, or neither")
        ids = [*self.assigned, *(w.vendor_id for w in self.waitlist)]
        if len(ids) != len(set(ids)):
            raise ValueError("a vendor appears twice among booths and waitlist")

    @property
    def assigned(self) -> tuple[int, ...]:
        return tuple(b.vendor_id for b in self.booths if b.vendor_id is not None)

    @property
    def booth_map(self) -> dict[int, int | None]:
        return {b.number: b.vendor_id for b in self.booths}

    @property
    def under_minimum(self) -> bool:
        return len(self.assigned) < MINIMUM_VENDORS

    def booth_of(self, vendor_id: int) -> int | None:
        return next((b.number for b in self.booths if b.vendor_id == vendor_id), None)


@dataclass(frozen=True)
class AssignmentResult:
    state: MarketState
    declined: tuple[int, ...]  # vendor ids, ascending
    withdrawn: tuple[int, ...]  # vendor ids, ascending
    pin_problems: tuple[PinProblem, ...]
    decisions: tuple[Decision, ...]  # one per applicant, by vendor id

    @property
    def booths(self) -> tuple[Booth, ...]:
        return self.state.booths

    @property
    def booth_map(self) -> dict[int, int | None]:
        return self.state.booth_map

    @property
    def waitlist(self) -> tuple[int, ...]:
        return tuple(w.vendor_id for w in self.state.waitlist)

    @property
    def under_minimum(self) -> bool:
        return self.state.under_minimum

    def decision_for(self, vendor_id: int) -> Decision:
        for decision in self.decisions:
            if decision.vendor_id == vendor_id:
                return decision
        raise KeyError(vendor_id)


def eligibility(applicant: Applicant, market: MarketInfo) -> tuple[Ineligibility, ...]:
    """Everything that keeps an applicant out (empty when eligible); ignores withdrawal."""
    problems = []
    if not applicant.approved:
        problems.append(Ineligibility.NOT_APPROVED)
    expiry = applicant.certification_expiry
    if expiry is not None and expiry < market.market_date:
        problems.append(Ineligibility.CERTIFICATION_EXPIRED)
    if applicant.applied_at > market.deadline:
        problems.append(Ineligibility.LATE)
    return tuple(problems)


def rank_key(applicant: Applicant) -> tuple[int, int, datetime, int]:
    """Rotation first, then reliability, then first come; vendor id makes it total."""
    return (
        applicant.recent_markets,
        applicant.recent_no_shows,
        applicant.applied_at,
        applicant.vendor_id,
    )


def assign(
    market: MarketInfo, applicants: Iterable[Applicant], pins: Iterable[Pin] = ()
) -> AssignmentResult:
    """Assign the booths of one market. The order of `applicants` and `pins` is irrelevant."""
    people = sorted(applicants, key=lambda a: a.vendor_id)
    by_id = {a.vendor_id: a for a in people}
    if len(by_id) != len(people):
        raise ValueError("one application per vendor")
    problems = {a.vendor_id: eligibility(a, market) for a in people}
    pinned, pin_problems = _check_pins(pins, market, by_id, problems)
    pinned_ids = {a.vendor_id for a in pinned.values()}

    pool = [a for a in people if not (a.withdrawn or problems[a.vendor_id])]
    pool = sorted((a for a in pool if a.vendor_id not in pinned_ids), key=rank_key)
    rank = {a.vendor_id: position for position, a in enumerate(pool, 1)}
    pinned_counts = Counter(a.category for a in pinned.values())
    chosen, over_cap = _choose(pool, market.booth_count - len(pinned), market.cap, pinned_counts)

    numbers = range(1, market.booth_count + 1)
    placed = arrange([pinned[n].category if n in pinned else None for n in numbers], chosen, _cat)
    booths = tuple(_booth(n, pinned.get(n), a) for n, a in zip(numbers, placed, strict=True))
    chosen_ids = {a.vendor_id for a in chosen}
    waiting = [a for a in pool if a.vendor_id not in chosen_ids]
    state = MarketState(market, booths, tuple(Waiting(a.vendor_id, a.category) for a in waiting))

    decisions: dict[int, Decision] = {}
    for booth in (b for b in booths if b.vendor_id is not None):
        a = by_id[booth.vendor_id]
        if booth.pinned:
            decision = Decision(
                a.vendor_id, Outcome.ASSIGNED, Basis.PINNED, reasons.pinned(booth.number)
            )
        else:
            r, over = rank[a.vendor_id], a.vendor_id in over_cap
            text = reasons.assigned(_history(a), r, booth.number, over)
            basis = Basis.CAP_RELAXED if over else Basis.RANK
            decision = Decision(a.vendor_id, Outcome.ASSIGNED, basis, text, rank=r)
        decisions[a.vendor_id] = replace(decision, booth=booth.number)
    last_chosen = max((rank[a.vendor_id] for a in chosen), default=0)
    for position, a in enumerate(waiting, 1):
        r = rank[a.vendor_id]
        if r < last_chosen:  # someone ranked lower got a booth: only the cap does that
            basis, text = Basis.WAITLIST_CAP, reasons.waitlisted_by_cap(position)
        else:
            basis, text = Basis.WAITLIST_RANK, reasons.waitlisted_by_rank(_history(a), r, position)
        decisions[a.vendor_id] = Decision(
            a.vendor_id, Outcome.WAITLISTED, basis, text, waitlist_position=position, rank=r
        )
    for a in people:
        if a.withdrawn:
            decisions[a.vendor_id] = Decision(
                a.vendor_id, Outcome.WITHDRAWN, Basis.WITHDRAWN, reasons.withdrawn()
            )
        elif problems[a.vendor_id]:
            text = _ineligible_text(a, problems[a.vendor_id])
            decisions[a.vendor_id] = Decision(
                a.vendor_id,
                Outcome.DECLINED,
                Basis.INELIGIBLE,
                text,
                ineligibility=problems[a.vendor_id],
            )

    return AssignmentResult(
        state=state,
        declined=tuple(a.vendor_id for a in people if problems[a.vendor_id] and not a.withdrawn),
        withdrawn=tuple(a.vendor_id for a in people if a.withdrawn),
        pin_problems=pin_problems,
        decisions=tuple(decisions[a.vendor_id] for a in people),
    )


def _cat(applicant: Applicant) -> str:
    return applicant.category


def _booth(number: int, pinned: Applicant | None, placed: Applicant | None) -> Booth:
    if pinned is not None:
        return Booth(number, pinned.vendor_id, pinned.category, pinned=True)
    if placed is not None:
        return Booth(number, placed.vendor_id, placed.category)
    return Booth(number)


def _check_pins(
    pins: Iterable[Pin],
    market: MarketInfo,
    by_id: dict[int, Applicant],
    problems: dict[int, tuple[Ineligibility, ...]],
) -> tuple[dict[int, Applicant], tuple[PinProblem, ...]]:
    """Split pins into those that hold (booth -> applicant) and reported problems."""
    found: list[PinProblem] = []

    def refuse(pin: Pin, kind: PinProblemKind, why: str) -> None:
        found.append(
            PinProblem(pin.vendor_id, pin.booth, kind, reasons.pin_refused(pin.booth, why))
        )

    survivors = []
    for pin in sorted(set(pins), key=lambda p: (p.booth, p.vendor_id)):  # exact repeats are one
        applicant = by_id.get(pin.vendor_id)
        if applicant is None:
            refuse(pin, PinProblemKind.UNKNOWN_VENDOR, reasons.PIN_UNKNOWN_VENDOR)
        elif not 1 <= pin.booth <= market.booth_count:
            refuse(
                pin, PinProblemKind.BOOTH_OUT_OF_RANGE, reasons.pin_out_of_range(market.booth_count)
            )
        elif applicant.withdrawn:
            refuse(pin, PinProblemKind.WITHDRAWN, reasons.PIN_WITHDRAWN)
        elif problems[pin.vendor_id]:
            refuse(
                pin, PinProblemKind.INELIGIBLE, _ineligible_text(applicant, problems[pin.vendor_id])
            )
        else:
            survivors.append(pin)
    per_vendor = Counter(p.vendor_id for p in survivors)
    per_booth = Counter(p.booth for p in survivors)
    holding: dict[int, Applicant] = {}
    for pin in survivors:
        if per_vendor[pin.vendor_id] > 1:
            refuse(pin, PinProblemKind.VENDOR_PINNED_TWICE, reasons.PIN_VENDOR_TWICE)
        elif per_booth[pin.booth] > 1:
            refuse(pin, PinProblemKind.BOOTH_PINNED_TWICE, reasons.PIN_BOOTH_TWICE)
        else:
            holding[pin.booth] = by_id[pin.vendor_id]
    found.sort(key=lambda p: (p.booth, p.vendor_id))
    return holding, tuple(found)


def _choose(
    pool: Sequence[Applicant], free: int, cap: int, pinned_counts: Counter[str]
) -> tuple[list[Applicant], set[int]]:
    """Pick who fills the free booths (in rank order) and note who went over the cap.

    Round k admits categories below cap + k. A later round runs only while
    booths are still free, which means nobody below the previous limit waits.
    """
    counts = Counter(pinned_counts)
    taken: set[int] = set()
    over_cap: set[int] = set()
    limit = cap
    while len(taken) < min(free, len(pool)):
        for a in pool:
            if len(taken) == free:
                break
            if a.vendor_id not in taken and counts[a.category] < limit:
                if counts[a.category] >= cap:
                    over_cap.add(a.vendor_id)
                taken.add(a.vendor_id)
                counts[a.category] += 1
        limit += 1
    return [a for a in pool if a.vendor_id in taken], over_cap


def _history(a: Applicant) -> str:
    return reasons.history(a.recent_markets, a.recent_no_shows)


def _ineligible_text(a: Applicant, problems: tuple[Ineligibility, ...]) -> str:
    texts = []
    for problem in problems:
        if problem is Ineligibility.NOT_APPROVED:
            texts.append(reasons.not_approved())
        elif problem is Ineligibility.CERTIFICATION_EXPIRED:
            assert a.certification_expiry is not None
            texts.append(reasons.certification_expired(a.certification_expiry))
        else:
            texts.append(reasons.late())
    return ", ".join(texts)
