"""A page of audit entries as people read them: labels for keys, names for
ids (linked to the record's staff page), won, Korea time, "before → after".

Names are found per kind of record, one lookup for all the ids of that kind
on the page (market.audit.labels), so a page costs the same number of
queries however many rows it has."""

import ast
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _

from market.audit import labels
from market.audit.labels import Field, Ref, field_for
from market.audit.models import AuditEntry
from market.audit.services import SYSTEM_LABEL, action_label, object_label
from market.timeutil import format_korean_date, format_seoul, format_won

NOTHING = "—"


@dataclass(frozen=True)
class Piece:
    """One run of text on the page, linked where url is set."""

    text: str
    url: str | None = None


@dataclass(frozen=True)
class Change:
    label: str
    before: list[Piece] | None  # None: the entry has no "before" (something new)
    after: list[Piece] | None  # None: the entry has no "after" (something gone)


@dataclass(frozen=True)
class Row:
    entry: AuditEntry
    action: str
    kind: str
    record: Piece | None
    actor: Piece
    actor_email: str | None
    changes: list[Change]


Linker = Callable[[Ref], str | None]


def rows(entries: list[AuditEntry], link: Linker) -> list[Row]:
    names = _names(entries)
    return [_row(entry, names, link) for entry in entries]


def record_piece(object_type: str, object_id: str | None, link: Linker) -> Piece | None:
    """One record's name and link (the history page's heading)."""
    if not object_id:
        return None
    return _record(object_type, object_id, _lookup({object_type: {object_id}}), link)


# -- names, found once per kind of record ----------------------------------------


def _names(entries: list[AuditEntry]) -> dict[str, dict[str, Ref]]:
    wanted: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        if entry.object_id:
            wanted[entry.object_type].add(entry.object_id)
        if entry.actor_id is not None:
            wanted["users"].add(str(entry.actor_id))
        for key, value in _items(entry):
            found = field_for(entry.object_type, key)
            if found and found[0].kind in (labels.REF, labels.REFS) and found[0].refers_to:
                wanted[found[0].refers_to].update(_ids(value))
    return _lookup(wanted)


def _lookup(wanted: dict[str, set[str]]) -> dict[str, dict[str, Ref]]:
    names: dict[str, dict[str, Ref]] = {}
    for object_type, ids in wanted.items():
        kind = labels.RECORDS.get(object_type)
        if kind is not None and kind.names is not None and ids:
            names[object_type] = kind.names(sorted(ids))
    return names


def _items(entry: AuditEntry):
    for values in (entry.before, entry.after):
        if isinstance(values, dict):
            yield from values.items()


def _ids(value) -> list[str]:
    if value is None or isinstance(value, bool):
        return []
    if isinstance(value, list):
        return [str(item) for item in value if isinstance(item, int | str)]
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(value)]


# -- one row -----------------------------------------------------------------------


def _row(entry: AuditEntry, names, link: Linker) -> Row:
    if entry.actor_id is not None and (user := names.get("users", {}).get(str(entry.actor_id))):
        actor = Piece(user.name, link(user))
    elif entry.actor_label == SYSTEM_LABEL:
        actor = Piece(_("System"))
    else:
        actor = Piece(entry.actor_label)
    return Row(
        entry=entry,
        action=action_label(entry.action),
        kind=object_label(entry.object_type) if entry.object_type != "-" else "",
        record=_record(entry.object_type, entry.object_id, names, link),
        actor=actor,
        actor_email=None if entry.actor_label == SYSTEM_LABEL else entry.actor_label,
        changes=_changes(entry, names, link),
    )


def _record(object_type: str, object_id: str | None, names, link: Linker) -> Piece | None:
    if not object_id:
        return None
    ref = names.get(object_type, {}).get(object_id)
    if ref is not None:
        return Piece(ref.name, link(ref))
    return Piece(_gone(object_type, object_id))


def _gone(object_type: str, object_id: str) -> str:
    """A record that is no longer there (or of a kind nobody names)."""
    return _("%(kind)s no. %(id)s (no longer exists)", kind=object_label(object_type), id=object_id)


def _changes(entry: AuditEntry, names, link: Linker) -> list[Change]:
    before = entry.before if isinstance(entry.before, dict) else {}
    after = entry.after if isinstance(entry.after, dict) else {}
    changes = []
    for key in [*before, *(key for key in after if key not in before)]:
        if key in before and key in after and before[key] == after[key]:
            continue  # a full snapshot on both sides: only what changed is news
        found = field_for(entry.object_type, key)
        described, label = (found[0], _field_label(found)) if found else (Field(key), key)
        changes.append(
            Change(
                label=label,
                before=_value(before[key], described, entry.object_type, names, link)
                if key in before
                else None,
                after=_value(after[key], described, entry.object_type, names, link)
                if key in after
                else None,
            )
        )
    return changes


def _field_label(found: tuple[Field, dict]) -> str:
    described, groups = found
    return str(described.label) % groups if groups else str(described.label)


# -- one value ---------------------------------------------------------------------


def _value(value, described: Field, object_type: str, names, link: Linker) -> list[Piece]:
    value = _unrepr(value)
    if value is None or value == "" or value == []:
        return [Piece(NOTHING)]
    kind = described.kind
    if kind in (labels.REF, labels.REFS) and described.refers_to:
        known = names.get(described.refers_to, {})
        pieces = []
        for object_id in _ids(value):
            ref = known.get(object_id)
            pieces.append(
                Piece(ref.name, link(ref)) if ref else Piece(_gone(described.refers_to, object_id))
            )
        return _joined(pieces)
    if kind == labels.FIELDS and isinstance(value, list):
        return [Piece(", ".join(_key_label(object_type, str(key)) for key in value))]
    if kind == labels.CHOICE and described.choices is not None:
        try:
            return [Piece(described.choices(value))]
        except (KeyError, ValueError):
            pass
    if kind == labels.MONEY and isinstance(value, int) and not isinstance(value, bool):
        return [Piece(format_won(value))]
    return [Piece(text(value))]


def _unrepr(value):
    """Entries written before lists were kept as lists hold Python's text of
    the list ("['name', 'category']"): read back as the list it was."""
    if (
        isinstance(value, str)
        and value
        and value[0] in "[{"
        and value[-1:] in "]}"
        and len(value) < 5000
    ):
        try:
            found = ast.literal_eval(value)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return value
        if isinstance(found, list | dict | tuple):
            return list(found) if isinstance(found, tuple) else found
    return value


def _joined(pieces: list[Piece]) -> list[Piece]:
    out: list[Piece] = []
    for piece in pieces:
        if out:
            out.append(Piece(", "))
        out.append(piece)
    return out


def _key_label(object_type: str, key: str) -> str:
    found = field_for(object_type, key)
    return _field_label(found) if found else key


def text(value) -> str:
    """Any stored value as words: yes/no, grouped numbers, dates in Korean,
    times in Korea time, lists and mappings as plain text (never JSON)."""
    if value is None or value == "":
        return NOTHING
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, int | float):
        return f"{value:,}"
    value = _unrepr(value)
    if isinstance(value, list):
        return ", ".join(text(item) for item in value) or NOTHING
    if isinstance(value, dict):
        return "; ".join(f"{_key_label('-', str(k))}: {text(v)}" for k, v in value.items())
    value = str(value)
    return _moment(value) or value


def _moment(value: str) -> str | None:
    """An ISO date as a Korean date, an ISO time with a zone in Korea time,
    a time of day without its seconds."""
    if len(value) == 8 and value[2] == ":" and value[5] == ":" and value.endswith(":00"):
        return value[:5]
    if len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return format_korean_date(date.fromisoformat(value))
        except ValueError:
            return None
    if 16 <= len(value) <= 40 and value[4] == "-" and value[10] in "T ":
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
        if moment.tzinfo is not None:
            return format_seoul(moment)
        return moment.strftime("%Y-%m-%d %H:%M")
    return None
