"""An enterprise's online shop link as the order import sees it.

The marketplace's order export names its seller by name or by shop link,
and market.customers.importer matches that link to the enterprise whose
shop_url has the same key. So one shop belongs to one enterprise: a link
whose key another enterprise already has is refused when it is typed and
again when staff approve it (market.vendors.changes). There is no unique
column behind this, since "https://www.Shop.kr/a/" and "shop.kr/a" are the
same shop; two approvals of the same shop at the same instant could both
pass, which staff see on the review page."""

import re

from flask_babel import gettext as _
from sqlalchemy import func, select

from market.extensions import db
from market.vendors.models import Vendor


def link_key(url: str) -> str:
    """The link without scheme, "www.", case or trailing slashes."""
    return re.sub(r"^https?://(www\.)?", "", url.strip().lower()).rstrip("/")


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
