"""Where an invitation's mail stands, one rule for the funnel
(market.invitations.funnel, the reports and the dashboard) and the
invitations page's counts (market.invitations.queries): delivered once the
mail server accepted an invitation or update mail of it
(Invitation.delivered_at) and no bounce came back for its newest mail; the
others by their newest mail: bounced, failed, waiting (an invitation or
update that will still go out) or withdrawn (none will: no mail left, or
only a cancellation for an invitation that had not arrived)."""

from sqlalchemy import ColumnElement, case

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
    """`state` as SQL, over the same joined columns, for counting in the
    database without a GROUP BY over them (a GROUP BY sorts every
    invitation: a campaign of 10,000 made that the dashboard's cost). The
    same order of rules as `state`; a NULL (no mail row) matches no WHEN,
    as None matches no comparison there."""
    return case(
        (OutboxMessage.bounced_at.is_not(None), "bounced"),
        (Invitation.delivered_at.is_not(None), "delivered"),
        (OutboxMessage.category == CANCEL_CATEGORY, "withdrawn"),
        (OutboxMessage.status == OutboxStatus.SENT, "delivered"),
        (OutboxMessage.status == OutboxStatus.FAILED, "failed"),
        (OutboxMessage.status.in_((OutboxStatus.QUEUED, OutboxStatus.SENDING)), "waiting"),
        else_="withdrawn",
    )
