"""The one way to write the audit log.

Called inside the same transaction as the change it describes, so a change
and its record are committed (or rolled back) together."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, select

from market.accounts.models import Role, User
from market.audit.labels import (
    ACTIONS,
    BOOL,
    CHOICE,
    RECORDS,
    Field,
    Ref,
    describe_actions,
    describe_fields,
    describe_record,
    int_ids,
)
from market.audit.models import AuditEntry
from market.extensions import db
from market.timeutil import SEOUL

SYSTEM_LABEL = "system"

# The accounts area sits below this one (audit imports its User), so the
# users' actions and records are described here; every other area describes
# its own (market.audit.labels).
describe_actions(
    {
        "user.create": _l("User created"),
        "user.password_change": _l("Password changed"),
        "user.password_set": _l("Password set by an administrator"),
        "user.disable": _l("Login disabled"),
        "user.enable": _l("Login enabled again"),
        "user.sessions_end": _l("Signed out on every device"),
        "user.password_reset_request": _l("Password reset link asked for"),
        "user.password_reset": _l("Password reset from the emailed link"),
        "user.email_confirm": _l("Email address confirmed"),
        "user.role_change": _l("Role changed"),
        "user.invite": _l("Staff member invited"),
        "user.invite_again": _l("Invitation to log in sent again"),
    }
)

ROLES = {Role.ADMIN: _l("Administrator"), Role.STAFF: _l("Center staff"), Role.VENDOR: _l("Vendor")}


def user_refs(ids: list[str]) -> dict[str, Ref]:
    query = select(User.id, User.name, User.email).where(User.id.in_(int_ids(ids)))
    return {
        str(id_): Ref(name or email, USER_ENDPOINT, {"user_id": id_})
        for id_, name, email in db.session.execute(query)
    }


# The administrators' page of one login, where the app has it (the audit
# page links only to endpoints that exist).
USER_ENDPOINT = "users.show"

describe_record("users", _l("User"), user_refs)
describe_fields(
    {
        "email": _l("Email"),
        "role": Field(_l("Role"), CHOICE, choices=lambda value: str(ROLES[Role(value)])),
        "active": Field(_l("Can log in"), BOOL),
    },
    "users",
)


def action_label(action: str) -> str:
    return str(ACTIONS.get(action, action))


def object_label(object_type: str) -> str:
    kind = RECORDS.get(object_type)
    return str(kind.label) if kind else object_type


def actor_label(label: str) -> str:
    return str(_l("System")) if label == SYSTEM_LABEL else label


def record(
    actor,
    action: str,
    obj: Any,
    before: dict | None = None,
    after: dict | None = None,
    reason: str | None = None,
) -> AuditEntry:
    object_type, object_id = describe(obj)
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        actor_label=getattr(actor, "email", None) or SYSTEM_LABEL,
        action=action,
        object_type=object_type,
        object_id=object_id,
        before=_jsonable(before),
        after=_jsonable(after),
        reason=reason,
    )
    db.session.add(entry)
    return entry


def describe(obj: Any) -> tuple[str, str | None]:
    if obj is None:
        return "-", None
    if isinstance(obj, tuple):
        return str(obj[0]), None if obj[1] is None else str(obj[1])
    state = inspect(obj, raiseerr=False)
    table = getattr(obj, "__tablename__", type(obj).__name__)
    if state is not None and state.identity:
        return table, ",".join(str(part) for part in state.identity)
    return table, None


def _jsonable(values: dict | None) -> dict | None:
    if values is None:
        return None
    return {key: _plain(value) for key, value in values.items()}


def _plain(value: Any) -> Any:
    """A value JSON keeps as it is: lists and mappings stay lists and
    mappings (the audit page shows them as text), anything else its value,
    ISO form or string."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [_plain(item) for item in items]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if hasattr(value, "value"):  # enums
        return value.value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


# Record numbers are 32-bit keys; a larger one is a mistyped or hostile address.
MAX_RECORD_ID = 2**31 - 1
MAX_FILTER_LENGTH = 254
EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)


@dataclass
class Filters:
    """What the audit page was asked to show; dates are Korea dates, both ends
    included."""

    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    actor: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def link_args(self) -> dict:
        """The filters as the page's address has them (for the page links)."""
        return {
            key: value.isoformat() if isinstance(value, date) else value
            for key, value in self.__dict__.items()
            if value is not None
        }


def parse_filters(args) -> tuple[Filters, dict[str, str]]:
    """The filters in `args` (a mapping of strings, as a query string gives
    them), and a message per filter that cannot be used."""
    filters, errors = Filters(), {}
    for key in ("action", "object_type", "actor"):
        value = (args.get(key) or "").strip()
        setattr(filters, key, value[:MAX_FILTER_LENGTH] or None)
    object_id = (args.get("object_id") or "").strip()
    if object_id:
        if object_id.isdecimal() and object_id.isascii() and int(object_id) <= MAX_RECORD_ID:
            filters.object_id = str(int(object_id))
        else:
            errors["object_id"] = _("A record number is a whole number, such as 12.")
    for key in ("date_from", "date_to"):
        value = (args.get(key) or "").strip()
        if not value:
            continue
        try:
            day = date.fromisoformat(value) if len(value) == 10 else None
        except ValueError:
            day = None
        if day is None or not EARLIEST <= day <= LATEST:
            errors[key] = _("Enter a date such as 2026-11-26.")
        else:
            setattr(filters, key, day)
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        errors["date_to"] = _("The end date comes before the start date.")
    return filters, errors


def entries_query(filters: Filters):
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    if filters.object_type:
        query = query.where(AuditEntry.object_type == filters.object_type)
    if filters.object_id:
        query = query.where(AuditEntry.object_id == filters.object_id)
    if filters.actor:
        needle = filters.actor.lower()
        query = query.where(AuditEntry.actor_label.contains(needle, autoescape=True))
    if filters.date_from:
        query = query.where(AuditEntry.at >= _korea_midnight(filters.date_from))
    if filters.date_to:
        query = query.where(AuditEntry.at < _korea_midnight(filters.date_to + timedelta(days=1)))
    return query


def _korea_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=SEOUL).astimezone(UTC)


def known_actions() -> list[str]:
    return list(
        db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action))
    )


def known_object_types() -> list[str]:
    query = select(AuditEntry.object_type).distinct().order_by(AuditEntry.object_type)
    return list(db.session.scalars(query))
