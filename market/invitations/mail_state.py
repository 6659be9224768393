"""Where an invitation's mail stands, one rule for the funnel
(market.invitations.funnel, the reports and the dashboard) and the
invitations page's counts (market.invitations.queries): delivered once the
mail server accepted an invitation or update mail of it
(Invitation.delivered_at) and no bounce came back for its newest mail; the
others by their newest mail: bounced, failed, waiting (an invitation or
update that will still go out) or withdrawn (none will: no mail left, or
only a cancellation for an invitation that had not arrived)."""

from sqlalchemy import ColumnElement, case, literal_column

from market.invitations.models import Invitation
from market.outbox.models import OutboxMessage, OutboxStatus

STATES = ("delivered", "bounced", "failed", "waiting", "withdrawn")
# market.invitations.messages.MailKind.CANCEL.category, not imported: the
# messages module pulls in the calendar and mail building.
CANCEL_CATEGORY = "invitation-cancel"


def columns() -> tuple[ColumnElement, ...]:
    """What `state` reads, to select and GROUP BY with the invitations
    outer-joined to their newest mail (OutboxMessage.id ==
    Invitation.outbox_message_id). No bound parameters in them: PostgreSQL
    must see the same expressions in GROUP BY as in the select list."""
    return (
        OutboxMessage.status,
        OutboxMessage.category,
        OutboxMessage.bounced_at.is_not(None),
        Invitation.delivered_at.is_not(None),
    )


def state(status, category, bounced: bool, arrived: bool) -> str:
    """One of STATES, from the values of `columns()`."""
    if bounced:
        return "bounced"
    if arrived:
        return "delivered"
    if category == CANCEL_CATEGORY:
        # The market was cancelled before the invitation arrived (its first
        # mail failed or waited): no invitation will go out any more, only
        # the cancellation. Not "waiting".
        return "withdrawn"
    if status == OutboxStatus.SENT:
        return "delivered"
    if status == OutboxStatus.FAILED:
        return "failed"
    if status in (OutboxStatus.QUEUED, OutboxStatus.SENDING):
        return "waiting"
    return "withdrawn"


def expression() -> ColumnElement[str]:
    """`state` as SQL, over the same joined columns: the counts work it out
    per invitation in the database (the dashboard's line counts each state,
    the invitations page groups by it) instead of grouping by the four
    columns it reads, which sorted every invitation of a campaign (10,000).
    The same order of rules as `state`; a NULL (no mail row) matches no
    WHEN, as None matches no comparison there."""

    # Literal text, no bound parameters: PostgreSQL must see the same
    # expression in a GROUP BY as in the select list.
    def text(value: str):
        return literal_column(f"'{value}'")

    def status(*values: OutboxStatus):
        return OutboxMessage.status.in_([text(value.value) for value in values])

    return case(
        (OutboxMessage.bounced_at.is_not(None), text("bounced")),
        (Invitation.delivered_at.is_not(None), text("delivered")),
        (OutboxMessage.category == text(CANCEL_CATEGORY), text("withdrawn")),
        (status(OutboxStatus.SENT), text("delivered")),
        (status(OutboxStatus.FAILED), text("failed")),
        (status(OutboxStatus.QUEUED, OutboxStatus.SENDING), text("waiting")),
        else_=text("withdrawn"),
    )
