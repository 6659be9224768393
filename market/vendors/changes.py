"""A live enterprise's change of name, business number, category or online
shop link waits for staff (정보 변경 요청). No Flask request in here.

Until staff approve, the vendors row keeps the approved values, so every
reader (the public directory, booth maps, calendars and mails, exports and
the order import's SellerMatcher, which matches sellers by name or shop
link) goes on using them without knowing that a request exists. The request
is a vendor_changes row: one per enterprise (a unique column, so two saves
at once cannot make two), replaced by the next edit, and deleted when it
is approved, rejected or withdrawn; the audit log keeps what was asked and
decided.

Only an enterprise whose values are in use waits (approved or suspended):
a pending or rejected one is not public yet, and staff review all of its
details when they approve it. Staff edits apply at once: they are the
reviewers."""

from dataclasses import replace

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import contains_eager

from market.audit.services import describe_actions, record
from market.core.rules import flush_or_refuse
from market.extensions import db
from market.outbox.services import enqueue
from market.timeutil import utcnow
from market.vendors import services
from market.vendors.mails import change_message
from market.vendors.models import LIVE, Vendor, VendorChange
from market.vendors.services import VendorDetails, VendorRuleError
from market.vendors.shop_links import (
    link_taken_message,
    name_taken_message,
    new_link_taken,
    new_name_taken,
)

REVIEWED = ("name", "business_number", "category", "shop_url")
# A request to remove the shop link is stored as "" (NULL means "not changed").
REMOVED_LINK = ""
OUTBOX_CATEGORY = "vendor-change"


# Built once (the vendor home asks on every look): building cost more than running it.
_PENDING = select(VendorChange).where(VendorChange.vendor_id == bindparam("vendor_id"))


def pending_change(vendor: Vendor, lock: bool = False) -> VendorChange | None:
    """The request waiting for this enterprise; `lock` holds its row (on
    PostgreSQL) until the transaction ends, so a decision and a withdrawal,
    or two staff deciding at once, take turns: the second finds it gone."""
    query = _PENDING.with_for_update() if lock else _PENDING
    return db.session.scalar(query, {"vendor_id": vendor.id})


def requested_values(vendor: Vendor, change: VendorChange | None) -> dict:
    """The reviewed values as they will be once the request is approved."""
    values = {name: getattr(vendor, name) for name in REVIEWED}
    if change is not None:
        values.update(
            {name: getattr(change, name) for name in REVIEWED if getattr(change, name) is not None}
        )
    values["shop_url"] = values["shop_url"] or None
    return values


def _stored(name: str, value):
    """A requested value as the vendor_changes column holds it."""
    return REMOVED_LINK if name == "shop_url" and value is None else value


def _busy_message() -> str:
    return _(
        "Your enterprise's change request was changed at the same time elsewhere; "
        "look at it again and save once more."
    )


def _number_taken(vendor: Vendor, number: str | None) -> bool:
    return number is not None and services.business_number_owner(number) not in (None, vendor.id)


# -- the enterprise's side ------------------------------------------------------


def save_own_profile(vendor: Vendor, details: VendorDetails, actor) -> bool:
    """Saves what the enterprise typed on its profile page: every field at
    once, except a live enterprise's name, business number, category and
    shop link, which become (or replace) its waiting request. True when the enterprise
    went back for review (services.update_vendor)."""
    change = pending_change(vendor, lock=True)
    if vendor.status not in LIVE and change is None:
        return services.update_vendor(vendor, details, actor)
    requested = {name: getattr(details, name) for name in REVIEWED}
    requested["name"] = (requested["name"] or "").strip()
    requested["shop_url"] = (requested["shop_url"] or "").strip() or None
    errors = {}
    if not requested["name"]:
        errors["name"] = _("Enter the enterprise's name.")
    elif new_name_taken(requested["name"], vendor):
        errors["name"] = name_taken_message()
    if _number_taken(vendor, requested["business_number"]):
        errors["business_number"] = services.business_number_taken_message()
    if new_link_taken(requested["shop_url"], vendor):
        errors["shop_url"] = link_taken_message()
    if errors:
        raise VendorRuleError(errors)
    kept = replace(details, **{name: getattr(vendor, name) for name in REVIEWED})
    sent_back = services.update_vendor(vendor, kept, actor)
    _request(vendor, change, requested, actor)
    return sent_back


def _request(vendor: Vendor, change: VendorChange | None, requested: dict, actor) -> None:
    asked = {
        name: _stored(name, value)
        for name, value in requested.items()
        if value != getattr(vendor, name)
    }
    if not asked:
        if change is not None:  # typed the approved values back: nothing left to review
            before = requested_values(vendor, change)
            db.session.delete(change)
            db.session.flush()
            record(actor, "vendor.change_withdraw", vendor, before=before)
        return
    if change is not None and all(getattr(change, name) == asked.get(name) for name in REVIEWED):
        return  # the same request saved again with another field: it keeps its place
    if change is None:
        change = VendorChange(vendor_id=vendor.id)
        db.session.add(change)
    for name in REVIEWED:
        setattr(change, name, asked.get(name))
    change.requested_at = utcnow()
    flush_or_refuse(VendorRuleError({"form": _busy_message()}))
    record(
        actor,
        "vendor.change_request",
        vendor,
        before=requested_values(vendor, None),
        after=requested_values(vendor, change),
    )


def withdraw_change(vendor: Vendor, actor) -> None:
    change = pending_change(vendor, lock=True)
    if change is None:
        raise VendorRuleError(
            {"form": _("No change of your enterprise's details waits for review.")}
        )
    before = requested_values(vendor, change)
    db.session.delete(change)
    db.session.flush()
    record(actor, "vendor.change_withdraw", vendor, before=before)


# -- the staff's side -------------------------------------------------------------


def decide_change(
    vendor: Vendor, decision: str, actor, reason: str | None = None, link: str | None = None
) -> bool:
    """Approves ("approve") the waiting request into the vendors row, or
    rejects it ("reject"); the enterprise is emailed (queued in this
    transaction) and the decision is in the audit log with the values before
    and after. True when approved."""
    if decision not in ("approve", "reject"):
        raise VendorRuleError({"form": _("Choose a decision.")})
    approve = decision == "approve"
    change = pending_change(vendor, lock=True)
    if change is None:
        raise VendorRuleError(
            {"form": _("This change was already decided or withdrawn; nothing was changed.")}
        )
    reason = (reason or "").strip() or None
    current, requested = requested_values(vendor, None), requested_values(vendor, change)
    if approve and _number_taken(vendor, change.business_number):
        raise VendorRuleError({"form": number_taken_at_approval()})
    if approve and change.name is not None and new_name_taken(change.name, vendor):
        raise VendorRuleError({"form": name_taken_at_approval()})
    if approve and new_link_taken(change.shop_url, vendor):
        raise VendorRuleError({"form": link_taken_at_approval()})
    db.session.delete(change)
    if approve:
        for name in REVIEWED:
            setattr(vendor, name, requested[name])
    # The unique business number backs the check above when two are approved at once.
    flush_or_refuse(VendorRuleError({"form": number_taken_at_approval()}))
    record(
        actor,
        "vendor.change_approve" if approve else "vendor.change_reject",
        vendor,
        before=current,
        after=requested,
        reason=reason,
    )
    enqueue(
        change_message(vendor, current, requested, approve, reason, link),
        category=OUTBOX_CATEGORY,
    )
    return approve


def link_taken_at_approval() -> str:
    return _(
        "Another enterprise now uses the requested online shop link, so the change "
        "cannot be approved: imported orders from that shop would go to either. "
        "Reject it with the reason, or check the link with both enterprises."
    )


def name_taken_at_approval() -> str:
    return _(
        "Another enterprise is now registered under the requested name (spaces and (주) "
        "aside), so the change cannot be approved: imported orders under that name would "
        "go to either. Reject it with the reason, or check the name with both enterprises."
    )


def number_taken_at_approval() -> str:
    return _(
        "Another enterprise is now registered with the requested business registration "
        "number, so the change cannot be approved. Reject it with the reason, or check "
        "the number with the enterprise."
    )


# -- queries for pages --------------------------------------------------------------


def changes_query():
    """The waiting requests with their enterprises, first come first reviewed."""
    return (
        select(VendorChange)
        .join(VendorChange.vendor)
        .options(contains_eager(VendorChange.vendor))
        .order_by(VendorChange.requested_at, VendorChange.id)
    )


def changes_count() -> int:
    return db.session.scalar(select(func.count(VendorChange.id)))


def compared(vendor: Vendor, change: VendorChange) -> list[tuple[str, str, object, object]]:
    """(field, label, current, requested) for each field the request changes;
    a shop link to be removed is requested as None."""
    labels = {
        "name": _l("Enterprise name"),
        "business_number": _l("Business registration number"),
        "category": _l("Products"),
        "shop_url": _l("Online shop link"),
    }
    requested = requested_values(vendor, change)
    return [
        (name, labels[name], getattr(vendor, name), requested[name])
        for name in REVIEWED
        if getattr(change, name) is not None
    ]


describe_actions(
    {
        "vendor.change_request": _l("Change of enterprise details requested"),
        "vendor.change_withdraw": _l("Change of enterprise details withdrawn"),
        "vendor.change_approve": _l("Change of enterprise details approved"),
        "vendor.change_reject": _l("Change of enterprise details rejected"),
    }
)
