"""판로지원 실적 (staff): connecting an unmatched seller's orders to an
enterprise, from the report's list of unmatched sellers. Choose, confirm,
then one audited UPDATE (market.customers.sellers)."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from market.accounts.decorators import staff_required
from market.core.transaction import saving
from market.customers import sellers

bp = Blueprint("sales_sellers", __name__, url_prefix="/staff/sales")


@bp.route("/sellers/attach", methods=["GET", "POST"])
@staff_required
def attach():
    values = request.form if request.method == "POST" else request.args
    seller_name, vendor_id = values.get("seller", ""), values.get("vendor_id", "")
    if request.method == "POST":
        with saving() as saved:
            vendor, count = sellers.attach_seller(seller_name, vendor_id, current_user)
        if saved:
            flash(
                _(
                    "%(count)s orders of the seller “%(seller)s” are now %(name)s's: "
                    "the report counts them from now on.",
                    count=f"{count:,}",
                    seller=seller_name,
                    name=vendor.name,
                ),
                "success",
            )
            return redirect(url_for("sales.report"))
    found = sellers.unmatched_orders(seller_name)
    if found is None:
        if request.method == "GET":
            flash(
                _(
                    "This seller has no orders without an enterprise (they may have been "
                    "connected already); nothing was changed."
                ),
                "info",
            )
        return redirect(url_for("sales.report"))
    chosen = None
    if request.method == "GET" and vendor_id:
        try:
            chosen = sellers.chosen_enterprise(vendor_id)
        except sellers.SellerRuleError as error:
            for message in error.errors.values():
                flash(message, "error")
    status = 400 if request.method == "POST" else 200
    return render_template(
        "sales/attach_seller.html",
        found=found,
        chosen=chosen,
        enterprises=sellers.live_enterprises(),
    ), status
