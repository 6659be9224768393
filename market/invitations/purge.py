"""What the invitations area deletes when inactive customers are purged
(market.customers.services.purge_inactive asks through its signal)."""

from sqlalchemy import delete, func, select

from market.customers.models import Customer
from market.extensions import db
from market.invitations.messages import MailKind
from market.invitations.models import ControlCustomer, Invitation, RankingSnapshotRow
from market.outbox.models import OutboxMessage


def forget_customers(customer_ids) -> dict[str, int]:
    """Deletes these customers' invitations (with their visits: the
    check-in is kept on the invitation), their places in stored rankings
    and in control groups, and every invitation, update and cancellation
    mail to them (the invitation row links only the latest, and each holds
    the address in its MIME bytes; one not yet sent is not sent). `customer_ids` is a select;
    the customers still exist. Returns what was deleted, for the report."""
    mails = select(OutboxMessage.id).where(
        OutboxMessage.category.in_([kind.category for kind in MailKind]),
        OutboxMessage.to_address.in_(select(Customer.email).where(Customer.id.in_(customer_ids))),
    )
    deleted = {
        "invitations": db.session.scalar(
            select(func.count()).where(Invitation.customer_id.in_(customer_ids))
        ),
        "mails": db.session.scalar(select(func.count()).where(OutboxMessage.id.in_(mails))),
        "control_group": db.session.scalar(
            select(func.count()).where(ControlCustomer.customer_id.in_(customer_ids))
        ),
    }
    db.session.execute(delete(Invitation).where(Invitation.customer_id.in_(customer_ids)))
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(mails)))
    db.session.execute(
        delete(RankingSnapshotRow).where(RankingSnapshotRow.customer_id.in_(customer_ids))
    )
    db.session.execute(delete(ControlCustomer).where(ControlCustomer.customer_id.in_(customer_ids)))
    return deleted
