"""The one way to write the audit log.

Called inside the same transaction as the change it describes, so a change
and its record are committed (or rolled back) together."""

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, select

from market.audit.models import AuditEntry
from market.extensions import db

SYSTEM_LABEL = "system"

# Readable names for the audit page; each area adds its own with `describe_actions`.
ACTION_LABELS: dict[str, Any] = {
    "user.create": _l("User created"),
    "user.password_change": _l("Password changed"),
    "user.password_set": _l("Password set by an administrator"),
    "user.disable": _l("Login disabled"),
    "user.enable": _l("Login enabled again"),
    "user.sessions_end": _l("Signed out on every device"),
    "outbox.retry": _l("Email sent again"),
}
OBJECT_LABELS: dict[str, Any] = {"users": _l("User"), "outbox_messages": _l("Email")}


def describe_actions(actions: dict, objects: dict | None = None) -> None:
    ACTION_LABELS.update(actions)
    OBJECT_LABELS.update(objects or {})


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def object_label(object_type: str) -> str:
    return str(OBJECT_LABELS.get(object_type, object_type))


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
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "value"):  # enums
        return value.value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def entries_query(
    action: str | None = None,
    object_type: str | None = None,
    actor: str | None = None,
    object_id: str | None = None,
):
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if action:
        query = query.where(AuditEntry.action == action)
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id:
        query = query.where(AuditEntry.object_id == object_id)
    if actor:
        query = query.where(AuditEntry.actor_label.contains(actor.strip().lower()))
    return query


def known_actions() -> list[str]:
    return list(
        db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action))
    )


def known_object_types() -> list[str]:
    query = select(AuditEntry.object_type).distinct().order_by(AuditEntry.object_type)
    return list(db.session.scalars(query))
