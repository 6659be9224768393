"""How the audit log shows emails (market.audit.labels)."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from market.audit.labels import (
    CHOICE,
    COUNT,
    Field,
    Ref,
    describe_actions,
    describe_fields,
    describe_record,
    int_ids,
)
from market.extensions import db
from market.outbox.models import OutboxMessage, OutboxStatus
from market.outbox.views import STATUS_LABELS


def status_label(value) -> str:
    return str(STATUS_LABELS[OutboxStatus(value)])


def message_refs(ids: list[str]) -> dict[str, Ref]:
    query = select(OutboxMessage.id, OutboxMessage.subject).where(
        OutboxMessage.id.in_(int_ids(ids))
    )
    return {
        str(id_): Ref(subject, "outbox.show", {"message_id": id_})
        for id_, subject in db.session.execute(query)
    }


def describe() -> None:
    describe_actions({"outbox.retry": _l("Email sent again")})
    describe_record("outbox_messages", _l("Email"), message_refs)
    describe_fields(
        {
            "status": Field(_l("Status"), CHOICE, choices=status_label),
            "attempts": Field(_l("Attempts"), COUNT),
        },
        "outbox_messages",
    )
