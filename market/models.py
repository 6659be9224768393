"""Imports every area's models so Alembic and create_all see all tables."""

from market.accounts.models import Role, User
from market.audit.models import AuditEntry
from market.markets.models import Market, MarketStatus, Venue
from market.outbox.models import OutboxMessage, OutboxStatus

__all__ = [
    "AuditEntry",
    "Market",
    "MarketStatus",
    "OutboxMessage",
    "OutboxStatus",
    "Role",
    "User",
    "Venue",
]
