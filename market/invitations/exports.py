"""The invitations of one market as a table to download (market.core.exports):
who was invited, whether the mail went out or came back, the answer and
where it came from (the answer page or a calendar app)."""

from flask_babel import gettext as _

from market.core.exports import Table
from market.extensions import db
from market.invitations.queries import invitations_query
from market.markets.models import Market


def invitations_table(market: Market, answer_labels, source_labels, mail_labels) -> Table:
    """Every invitation of the market, newest first, in one query; the
    labels are the page's (market.invitations.views)."""
    rows = db.session.execute(invitations_query(market)).all()
    return Table(
        "invitations",
        _("Invitations"),
        [
            _("Name"),
            _("Email"),
            _("Invited at"),
            _("Email status"),
            _("Returned at"),
            _("Answer"),
            _("Answered at"),
            _("Answered through"),
            _("Unsubscribed at"),
        ],
        [
            [
                row.name,
                row.email,
                row.created_at,
                str(mail_labels[row.mail_status]),
                row.bounced_at,
                str(answer_labels[row.status]),
                row.answered_at,
                str(source_labels[row.answer_source]) if row.answer_source else "",
                row.unsubscribed_at,
            ]
            for row in rows
        ],
    )
