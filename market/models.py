"""Imports every area's models so Alembic and create_all see all tables."""

from market.accounts.models import Role, User
from market.audit.models import AuditEntry
from market.markets.models import Market, MarketStatus, Venue
from market.outbox.models import OutboxMessage, OutboxStatus
from market.vendors.models import (
    Application,
    ApplicationStatus,
    Category,
    EnterpriseType,
    Vendor,
    VendorStatus,
)

__all__ = [
    "Application",
    "ApplicationStatus",
    "AuditEntry",
    "Category",
    "EnterpriseType",
    "Market",
    "MarketStatus",
    "OutboxMessage",
    "OutboxStatus",
    "Role",
    "User",
    "Vendor",
    "VendorStatus",
    "Venue",
]
