"""Placing the chosen vendors along the row of booths (pure, no I/O).

Who gets a booth is decided first (see `assignment`); this module only decides
*where*. Booths are numbered along one row, so booth n and n+1 are neighbours.
Two neighbours selling the same category compete head to head and make the
market look repetitive, so the arrangement minimises the number of
same-category neighbour pairs. Pinned booths are fixed points; an empty booth
separates its neighbours (it never conflicts).

Among the arrangements with the fewest conflicts we take the one whose booth
sequence, read from booth 1 upwards, lists the best-ranked vendors first, with
empty booths ranked after every vendor. So with no category clash the result is
simply "rank order, packed from booth 1", which is what staff and vendors
expect, and a vendor moves only when that removes a clash.

With at most 10 booths the search is exact: a memoised count of the fewest
conflicts still reachable, keyed on (booth, categories left, previous category),
then a greedy walk that at every booth takes the best-ranked vendor that still
allows that optimum. Vendors of one category are interchangeable for the count,
so only the best-ranked remaining vendor of each category is ever tried.
"""

import itertools
from collections import deque
from collections.abc import Callable, Sequence
from functools import cache
from typing import TypeVar

T = TypeVar("T")


def conflicts(categories: Sequence[str | None]) -> int:
    """Number of neighbouring booth pairs (n, n+1) holding the same category."""
    return sum(
        1 for left, right in itertools.pairwise(categories) if left is not None and left == right
    )


def arrange(
    fixed: Sequence[str | None], chosen: Sequence[T], category: Callable[[T], str]
) -> list[T | None]:
    """Place `chosen` (best rank first) on the booths where `fixed` is None.

    `fixed[i]` is the category pinned on booth i+1, or None when that booth is
    free. Returns one entry per booth: the placed item, or None for a pinned or
    empty booth. Deterministic for a given `chosen` order.
    """
    free = sum(1 for cat in fixed if cat is None)
    if len(chosen) > free:
        raise ValueError("more vendors chosen than free booths")
    cats = sorted({category(item) for item in chosen})
    # Queues of indices into `chosen`, best rank first, one per category.
    queues = [deque(i for i, item in enumerate(chosen) if category(item) == cat) for cat in cats]
    empty = len(cats)  # index of the "empty booth" pseudo-category
    labels: list[str | None] = [*cats, None]

    @cache
    def best(pos: int, left: tuple[int, ...], prev: str | None) -> int:
        if pos == len(fixed):
            return 0
        pinned = fixed[pos]
        if pinned is not None:
            return int(prev == pinned) + best(pos + 1, left, pinned)
        return min(
            int(prev is not None and prev == labels[i]) + best(pos + 1, _take(left, i), labels[i])
            for i, count in enumerate(left)
            if count
        )

    left = (*(len(q) for q in queues), free - len(chosen))
    prev: str | None = None
    placed: list[T | None] = []
    for pos, pinned in enumerate(fixed):
        if pinned is not None:
            placed.append(None)
            prev = pinned
            continue
        target = best(pos, left, prev)
        options = [i for i, count in enumerate(left) if count]
        options.sort(key=lambda i: queues[i][0] if i != empty else len(chosen))
        for i in options:
            cost = int(prev is not None and prev == labels[i])
            if cost + best(pos + 1, _take(left, i), labels[i]) == target:
                break
        else:  # pragma: no cover - `best` guarantees one option reaches the target
            raise AssertionError("no option reaches the optimum")
        placed.append(chosen[queues[i].popleft()] if i != empty else None)
        left = _take(left, i)
        prev = labels[i]
    return placed


def _take(left: tuple[int, ...], index: int) -> tuple[int, ...]:
    return (*left[:index], left[index] - 1, *left[index + 1 :])
