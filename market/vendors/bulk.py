"""Several at once: staff approve several waiting enterprises, an enterprise
applies for several market days. Both run the single action's own service
for each one (`services.decide`, `applications.apply`), so every rule, mail
and audit entry is the same as one at a time.

Approvals run in one transaction (the view commits once): each approval and
its mail are queued together, so after 확인 either every listed enterprise
is approved and mailed or, on an error, none is and the page says so; a
half-done list would leave staff to find out which ones went. An enterprise
that another staff member decided meanwhile is not an error: it is left as
it is and named, the others go through. The rows are locked (FOR UPDATE on
PostgreSQL) so two people approving the same list do not mail twice.

Applications go through one by one (a savepoint each): a date that is
refused (its deadline passed, already applied, certification expiring
before it) is named with the reason its single application would give,
and the other dates are applied for. Each date is its own decision for the
enterprise; making it redo the whole form for one late date would cost it
the others."""

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from market.core.bulk import Outcome
from market.core.rules import RuleError
from market.extensions import db
from market.markets.bulk import label as market_label
from market.markets.models import Market
from market.vendors import applications, services
from market.vendors.labels import vendor_status_label
from market.vendors.models import Application, Vendor, VendorStatus


def pending_vendors(limit: int) -> list[Vendor]:
    """The approval queue, oldest first, as the single queue shows it."""
    return list(
        db.session.scalars(
            select(Vendor)
            .where(Vendor.status == VendorStatus.PENDING)
            .order_by(Vendor.status_changed_at, Vendor.id)
            .limit(limit)
        )
    )


def _chosen_vendors(ids: tuple[int, ...], lock: bool) -> tuple[list[Vendor], list[int]]:
    query = select(Vendor).where(Vendor.id.in_(ids)).order_by(Vendor.id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    found = {vendor.id: vendor for vendor in db.session.scalars(query)} if ids else {}
    return [found[i] for i in ids if i in found], [i for i in ids if i not in found]


def approval_plan(ids: tuple[int, ...], lock: bool = False) -> tuple[list[Vendor], Outcome]:
    """Which of the chosen enterprises can be approved; the rest with reasons."""
    vendors, missing = _chosen_vendors(ids, lock)
    outcome = Outcome()
    going = []
    for vendor in vendors:
        if vendor.status is VendorStatus.PENDING:
            going.append(vendor)
            outcome.done.append(vendor.name)
            outcome.ids.append(vendor.id)
        else:
            reason = _(
                "It is already %(status)s; left as it is.",
                status=vendor_status_label(vendor.status),
            )
            outcome.refused.append((vendor.name, reason))
    for number in missing:
        outcome.refused.append((_("No. %(id)d", id=number), _("There is no such enterprise.")))
    return going, outcome


def approve_many(ids: tuple[int, ...], actor, link: str | None) -> Outcome:
    """Approves each chosen enterprise still waiting, with the single
    approval (its mail and its audit entry); the caller commits once."""
    going, outcome = approval_plan(ids, lock=True)
    for vendor in going:
        services.decide(vendor, VendorStatus.APPROVED, actor=actor, link=link)
    return outcome


# -- an enterprise applying for several market days ---------------------------------


def application_plan(vendor: Vendor, ids: tuple[int, ...], now: datetime) -> Outcome:
    """What applying for the chosen markets would do, date by date."""
    outcome = Outcome()
    markets, mine = _markets(ids), _mine(vendor, ids)
    for number in ids:
        market = markets.get(number)
        if market is None:
            outcome.refused.append((_("No. %(id)d", id=number), _("There is no such market.")))
        elif reason := applications.application_refusal(vendor, market, mine.get(number), now):
            outcome.refused.append((market_label(market), reason))
        else:
            outcome.done.append(market_label(market))
            outcome.ids.append(market.id)
    return outcome


def apply_many(vendor: Vendor, ids: tuple[int, ...], actor, now: datetime) -> Outcome:
    """Applies for each chosen market through `applications.apply`, each in
    a savepoint: a refused date is named with its reason, the rest are kept.
    The caller commits."""
    outcome = Outcome()
    markets = _markets(ids)
    for number in ids:
        market = markets.get(number)
        if market is None:
            outcome.refused.append((_("No. %(id)d", id=number), _("There is no such market.")))
            continue
        try:
            with db.session.begin_nested():
                applications.apply(vendor, market, None, actor=actor, now=now)
        except RuleError as error:
            outcome.refused.append((market_label(market), " ".join(error.errors.values())))
        else:
            outcome.done.append(market_label(market))
            outcome.ids.append(market.id)
    return outcome


def _markets(ids: tuple[int, ...]) -> dict[int, Market]:
    if not ids:
        return {}
    return {m.id: m for m in db.session.scalars(select(Market).where(Market.id.in_(ids)))}


def _mine(vendor: Vendor, ids: tuple[int, ...]) -> dict[int, Application]:
    if not ids:
        return {}
    query = select(Application).where(
        Application.vendor_id == vendor.id, Application.market_id.in_(ids)
    )
    return {a.market_id: a for a in db.session.scalars(query)}
