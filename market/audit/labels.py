"""What the audit log's keys mean, in words.

Audit sits low: it imports no area. Each area registers here, next to the
code that records, its actions, its kinds of record (with a way to name a
page of them in one query and the staff page that shows one) and the fields
it puts into `before` and `after` (with how to show their values); the audit
page only renders what is registered. A test reads every `record(` call in
market/ and fails for an action or field key without a label."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Kinds of value a field holds; each is shown its own way on the audit page.
TEXT, MONEY, COUNT, DATE, DATETIME, BOOL, CHOICE, REF, REFS, FIELDS = (
    "text",
    "money",
    "count",
    "date",
    "datetime",
    "bool",
    "choice",
    "ref",
    "refs",
    "fields",
)
ANY = "*"


@dataclass(frozen=True)
class Ref:
    """A record as the audit page names it, and the staff page that shows it
    (an endpoint and its values; no link where endpoint is None)."""

    name: str
    endpoint: str | None = None
    values: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Field:
    """label: a lazy string; kind: one of the kinds above; refers_to: the
    record type a REF or REFS field holds ids of; choices: the readable name
    of a CHOICE value (a function of the stored value)."""

    label: Any
    kind: str = TEXT
    refers_to: str | None = None
    choices: Callable[[Any], str] | None = None


@dataclass(frozen=True)
class RecordKind:
    """label: what such a record is called ("기업"); names: given a list of
    ids (as stored, strings), a Ref for each one that still exists, found in
    a fixed number of queries however many ids are asked for."""

    label: Any
    names: Callable[[list[str]], dict[str, Ref]] | None = None


ACTIONS: dict[str, Any] = {}
RECORDS: dict[str, RecordKind] = {}
# (record type, key) -> Field; record type ANY for a key that means the same everywhere.
FIELDS: dict[tuple[str, str], Field] = {}
# Keys made of data ("booth 3" -> vendor id): (record type, pattern, Field
# whose label is formatted with the pattern's named groups).
PATTERNS: list[tuple[str, re.Pattern, Field]] = []


def describe_actions(actions: dict, objects: dict | None = None) -> None:
    """An area's actions (key -> label) and, as a shortcut, kinds of record
    that need no names (type -> label)."""
    ACTIONS.update(actions)
    for object_type, label in (objects or {}).items():
        if object_type not in RECORDS:
            RECORDS[object_type] = RecordKind(label)


def describe_record(
    object_type: str, label, names: Callable[[list[str]], dict[str, Ref]] | None = None
) -> None:
    RECORDS[object_type] = RecordKind(label, names)


def describe_fields(fields: dict[str, Any], object_type: str = ANY) -> None:
    """Field key -> Field, or just a label for plain text."""
    for key, described in fields.items():
        FIELDS[object_type, key] = described if isinstance(described, Field) else Field(described)


def describe_field_pattern(object_type: str, pattern: str, described: Field) -> None:
    PATTERNS.append((object_type, re.compile(pattern), described))


def field_for(object_type: str, key: str) -> tuple[Field, dict] | None:
    """The Field of `key` in a record of `object_type`, and the values for
    its label (a pattern's groups); None when nobody registered it."""
    found = FIELDS.get((object_type, key)) or FIELDS.get((ANY, key))
    if found is not None:
        return found, {}
    for pattern_type, pattern, described in PATTERNS:
        if pattern_type in (object_type, ANY) and (match := pattern.fullmatch(key)):
            return described, match.groupdict()
    return None


def int_ids(ids: list[str]) -> list[int]:
    """The ids that can be numbers of a 32-bit or 64-bit key column; others
    (composite keys, damaged rows) are left out and show without a name."""
    return [int(value) for value in ids if value.isdigit() and int(value) < 2**63]
