"""The enterprise's own takings: entry on a phone at the stall, and its history.

Every page works on the signed-in user's own enterprise. A market it does not
take part in (and has no takings for) is a 404, so another enterprise's
takings can be neither read nor written through these URLs."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from market.accounts.decorators import signed_in_vendor, vendor_required
from market.core.pagination import paginate
from market.core.transaction import saving
from market.extensions import db
from market.markets.models import Market
from market.takings import history, services
from market.takings.forms import SPLIT_LABELS, TakingsForm
from market.takings.report_charts import vendor_history_chart
from market.timeutil import format_won, today_seoul

bp = Blueprint("takings_own", __name__, url_prefix="/vendor/takings")


@bp.route("/")
@vendor_required
def index():
    vendor = signed_in_vendor()
    today = today_seoul()
    page = paginate(history.vendor_history_query(vendor, today))
    chart = vendor_history_chart(history.recent_points(vendor, today), str(get_locale()))
    return render_template(
        "takings/history.html",
        vendor=vendor,
        page=page,
        rows=history.takings_for(vendor, page.items),
        summary=history.vendor_summary(vendor, today),
        open_entries=history.open_entries(vendor, today),
        chart=chart,
        today=today,
        window_of=services.entry_window,
        window_is_open=services.window_is_open,
    )


@bp.route("/<int:market_id>", methods=["GET", "POST"])
@vendor_required
def entry(market_id: int):
    vendor = signed_in_vendor()
    market = db.get_or_404(Market, market_id)
    takings = services.find_takings(vendor.id, market.id)
    if takings is None and not services.is_participant(vendor.id, market.id):
        abort(404)
    today = today_seoul()
    form = TakingsForm()
    if request.method == "GET":
        form.fill(takings)
    if form.validate_on_submit():
        with saving(form) as saved:
            services.save_by_vendor(vendor, market, form.values(), current_user, today)
        if saved:
            flash(
                _("Your takings were saved: %(amount)s.", amount=format_won(form.amount.won)),
                "success",
            )
            return redirect(url_for("takings_own.index"))
    opens, closes = services.entry_window(market)
    return render_template(
        "takings/entry.html",
        market=market,
        form=form,
        takings=takings,
        refusal=services.vendor_refusal(vendor, market, today),
        opens=opens,
        closes=closes,
        split_labels=SPLIT_LABELS,
    )
