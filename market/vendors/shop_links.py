"""An enterprise's online shop link and name as the order import sees them.

The marketplace's order export names its seller by name or by shop link,
and market.customers.importer matches that link to the enterprise whose
shop_url has the same key. So one shop belongs to one enterprise: a link
whose key another enterprise already has is refused when it is typed and
again when staff approve it (market.vendors.changes). There is no unique
column behind this, since "https://www.Shop.kr/a/" and "shop.kr/a" are the
same shop; two approvals of the same shop at the same instant could both
pass, which staff see on the review page.

The same holds for the enterprise's name, the other way the export names a
seller (`seller_key`): a name whose key another enterprise has is refused
where names are set. Both keys are here, in one place, so the importer and
the forms cannot drift apart."""

import re

from flask_babel import gettext as _
from sqlalchemy import func, select

from market.extensions import db
from market.vendors.models import LIVE, Vendor


def link_key(url: str) -> str:
    """The link without scheme, "www." (with or without a scheme), case or
    trailing slashes."""
    return re.sub(r"^(https?://)?(www\.)?", "", url.strip().lower()).rstrip("/")


def seller_key(name: str) -> str:
    """The name without (주), 주식회사, ㈜ and the like, spaces or case."""
    name = re.sub(r"\((주|사|유|재)\)|주식회사|㈜", "", name)
    return re.sub(r"\s+", "", name).lower()


def link_owner(url: str | None, other_than: int | None = None) -> int | None:
    """The enterprise (other than `other_than`) whose shop link has the key
    of `url`. The database narrows to links containing the key; the key
    itself decides, so the rule is the importer's, written once."""
    key = link_key(url or "")
    if not key:
        return None
    query = select(Vendor.id, Vendor.shop_url).where(
        func.lower(Vendor.shop_url).contains(key, autoescape=True)
    )
    if other_than is not None:
        query = query.where(Vendor.id != other_than)
    for vendor_id, shop_url in db.session.execute(query.order_by(Vendor.id)):
        if link_key(shop_url) == key:
            return vendor_id
    return None


def new_link_taken(url: str | None, vendor: Vendor | None) -> bool:
    """`url` is another shop than the enterprise's own (None: a new
    enterprise) and another enterprise has it. A shop shared before this
    rule existed does not stop either enterprise saving its phone number."""
    if not url or (vendor is not None and link_key(url) == link_key(vendor.shop_url or "")):
        return False
    return link_owner(url, other_than=getattr(vendor, "id", None)) is not None


def link_taken_message() -> str:
    return _(
        "Another enterprise already uses this online shop link. "
        "Check the link; if the shop is yours, call the center."
    )


def name_owner(name: str | None, other_than: int | None = None) -> int | None:
    """The enterprise (other than `other_than`) whose name has the seller
    key of `name`. The key (spaces and (주) removed) cannot be narrowed in
    SQL, and there are a few thousand enterprises: their names are read."""
    key = seller_key(name or "")
    if not key:
        return None
    query = select(Vendor.id, Vendor.name).order_by(Vendor.id)
    if other_than is not None:
        query = query.where(Vendor.id != other_than)
    return next((id_ for id_, other in db.session.execute(query) if seller_key(other) == key), None)


def new_name_taken(name: str | None, vendor: Vendor | None) -> bool:
    """`name` is another seller than the enterprise's own name (None: a new
    enterprise) and another enterprise has its key; as for links, a name
    shared before this rule existed does not stop either saving."""
    if not (name or "").strip():
        return False
    if vendor is not None and seller_key(name) == seller_key(vendor.name or ""):
        return False
    return name_owner(name, other_than=getattr(vendor, "id", None)) is not None


def name_taken_message() -> str:
    return _(
        "Another enterprise is already registered under this name (spaces and (주) aside), "
        "so online orders could not tell the two apart. Use your full registered name; "
        "if the name is yours, call the center."
    )


def live_sellers() -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """The live enterprises (approved or suspended) by seller key and by
    link key, each key with every enterprise that has it: a pending or
    rejected sign-up is no one's seller yet, and a key two live enterprises
    share is ambiguous (market.customers.importer matches it to nobody)."""
    by_name: dict[str, list[int]] = {}
    by_link: dict[str, list[int]] = {}
    query = select(Vendor.id, Vendor.name, Vendor.shop_url).where(Vendor.status.in_(LIVE))
    for vendor_id, name, url in db.session.execute(query.order_by(Vendor.id)):
        if key := seller_key(name or ""):
            by_name.setdefault(key, []).append(vendor_id)
        if url and (key := link_key(url)):
            by_link.setdefault(key, []).append(vendor_id)
    return by_name, by_link
