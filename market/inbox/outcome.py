"""What handling one message from the center's mailbox came to.

The poller (market.inbox.polling) reads a message, hands it to
market.inbox.handling, and keeps the `Handled` it gets back with the
message's place in the folder, so staff can see what was applied and what
was not, and why."""

import enum
from dataclasses import dataclass, field


class MessageKind(enum.StrEnum):
    CALENDAR_REPLY = "calendar_reply"  # iMIP METHOD:REPLY (also COUNTER, REFRESH, …)
    BOUNCE = "bounce"  # a delivery status notification
    AUTO_REPLY = "auto_reply"  # out of office, vacation
    OTHER = "other"  # a person's mail, newsletters, anything else
    UNPARSEABLE = "unparseable"


class Outcome(enum.StrEnum):
    APPLIED = "applied"  # it changed an invitation, a suppression or a count
    NOT_APPLIED = "not_applied"  # understood but refused; `reason` says why; listed for staff
    IGNORED = "ignored"  # nothing to do (auto-replies, other mail): flagged seen, counted
    FAILED = "failed"  # could not be read; flagged and listed, never retried


@dataclass(frozen=True)
class Handled:
    kind: MessageKind
    outcome: Outcome
    # Why it was not applied, in words staff understand (Korean via gettext).
    reason: str | None = None
    # What staff may need to see: e.g. {"invitation_id": 3, "partstat": "ACCEPTED"}.
    details: dict = field(default_factory=dict)
