"""Delivery reports: which address could not be reached, and what follows."""

from email.message import EmailMessage

from market.inbox.outcome import Handled, MessageKind, Outcome


def is_bounce(message: EmailMessage) -> bool:
    return (
        message.get_content_type() == "multipart/report"
        and str(message.get_param("report-type", "")).lower() == "delivery-status"
    )


def handle_bounce(message: EmailMessage) -> Handled:
    return Handled(MessageKind.BOUNCE, Outcome.IGNORED)
