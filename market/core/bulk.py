"""Bulk actions (일괄 처리): staff or a vendor tick several rows, see on one
page what will happen to each, and press 확인 once.

The ticked ids arrive as form values anyone can forge: `chosen_ids` reads
them before any query, drops what is no id at all (text, zero, a number past
the 32-bit id columns, which PostgreSQL would refuse with an error) and
repeats, and caps the list, so a crafted request costs one bounded query.
Each area then names every id it will not act on, with the reason."""

from dataclasses import dataclass, field

from flask import flash
from flask_babel import gettext as _
from wtforms import HiddenField

from market.core.converters import MAX_ID
from market.core.forms import AppForm

MAX_CHOSEN = 200  # more than a season of markets or a month of sign-ups


@dataclass(frozen=True)
class Chosen:
    ids: tuple[int, ...]  # unique, in the order given
    unreadable: int = 0  # values that were no id
    too_many: bool = False


def chosen_ids(values: list[str], limit: int = MAX_CHOSEN) -> Chosen:
    ids: dict[int, None] = {}
    unreadable = 0
    for value in values:
        text = (value or "").strip()
        number = int(text) if text.isascii() and text.isdigit() and len(text) <= 10 else 0
        if 1 <= number <= MAX_ID:
            ids.setdefault(number)
        else:
            unreadable += 1
    return Chosen(tuple(ids)[:limit], unreadable, len(ids) > limit)


@dataclass
class Outcome:
    """What a bulk action did, or would do: names that go through, and the
    ones left out, each with its reason."""

    done: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)  # of `done`, for the confirm step


class BulkForm(AppForm):
    """The CSRF token, and whether this is the second step (확인)."""

    confirmed = HiddenField()


def bulk_choice_problem(chosen: Chosen) -> str:
    """Why a ticked list cannot be read (nothing chosen, or too many)."""
    if chosen.too_many:
        return _("Choose at most %(count)d at a time.", count=MAX_CHOSEN)
    return _("Tick at least one first.")


def flash_outcome(outcome: Outcome, done: str, more: list[tuple[str, str]] = ()) -> None:
    """`done` when anything went through; each one left out, with its reason."""
    if outcome.done:
        flash(done, "success")
    for name, reason in [*outcome.refused, *more]:
        flash(_("Left out: %(name)s. %(reason)s", name=name, reason=reason), "warning")


def unreadable(chosen: Chosen) -> list[tuple[str, str]]:
    """A line for the values that were no id at all (forged or damaged)."""
    if not chosen.unreadable:
        return []
    what = _("%(count)d ticked values", count=chosen.unreadable)
    return [(what, _("They name nothing on this list and were left out."))]
