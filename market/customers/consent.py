"""Who may receive advertising (정보통신망법 제50조): the one rule the ranking,
the invitations, their updates and the stored rankings all ask.

A customer may get advertising only with recorded consent, not unsubscribed,
and with the address not on the suppression list, which counts on its own
whatever the customer row says (a re-import of an address that once
unsubscribed brings back a row without unsubscribed_at). Consent always has
its date: the customers table's check constraint consent_has_date.

The rule is written once, as the reasons a customer is refused, each an SQL
condition: `may_receive_advertising()` filters on none of them holding, and
`refusal()` names the first that holds. Both are SQL, so nothing in Python
can judge a customer differently from the queries."""

from flask import current_app
from sqlalchemy import and_, case, exists

from market.customers.models import Customer, Suppression


def suppressed():
    """SQL condition: the customer's address is on the suppression list."""
    return exists().where(Suppression.email_hash == Customer.email_hash)


def _refusals():
    """Why a customer may not get advertising, each as an SQL condition, the
    most lasting reason first: that is the one staff are told."""
    return (
        ("suppressed", suppressed()),
        ("unsubscribed", Customer.unsubscribed_at.is_not(None)),
        ("no_consent", Customer.consent.is_not(True)),
    )


def may_receive_advertising():
    """SQL condition: no reason to refuse holds. Checked again at every send;
    never trust the caller. The cheap column checks come before the
    suppression probe."""
    return and_(*(~condition for _reason, condition in reversed(_refusals())))


def refusal():
    """SQL expression: the reason this customer may not get advertising
    ("suppressed", "unsubscribed", "no_consent"), or NULL when they may."""
    return case(*((condition, reason) for reason, condition in _refusals()), else_=None)


def consent_source_text() -> str:
    """Where a customer gave consent, in words the customer understands: every
    customer comes from the marketplace's order export, so it is always the
    marketplace's purchase. The mail and the customer page say this whatever
    an older import stored in consent_source (the uploaded file's name)."""
    return f"{current_app.config['MARKETPLACE_NAME']} 구매 시 마케팅 수신 동의"
