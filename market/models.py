"""Imports every area's models so Alembic and create_all see all tables."""

from market.accounts.models import Role, User
from market.audit.models import AuditEntry
from market.booths.models import Attendance, Booth
from market.customers.models import Customer, CustomerImport, ImportStatus, Order, Suppression
from market.inbox.models import InboxBounce, InboxFolder, InboxMessage
from market.invitations.models import (
    Invitation,
    InvitationStatus,
    RankingSnapshot,
    RankingSnapshotRow,
)
from market.markets.models import Market, MarketStatus, Venue
from market.outbox.models import OutboxMessage, OutboxStatus
from market.sales.models import OnlineSnapshot
from market.takings.models import Takings
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
    "Attendance",
    "AuditEntry",
    "Booth",
    "Category",
    "Customer",
    "CustomerImport",
    "EnterpriseType",
    "ImportStatus",
    "InboxBounce",
    "InboxFolder",
    "InboxMessage",
    "Invitation",
    "InvitationStatus",
    "Market",
    "MarketStatus",
    "OnlineSnapshot",
    "Order",
    "OutboxMessage",
    "OutboxStatus",
    "RankingSnapshot",
    "RankingSnapshotRow",
    "Role",
    "Suppression",
    "Takings",
    "User",
    "Vendor",
    "VendorStatus",
    "Venue",
]
