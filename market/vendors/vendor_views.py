"""The enterprise's own pages: its profile, applications and calendar.

Every page works on the signed-in user's own enterprise; ids in a URL are
looked up within that enterprise, so another enterprise's ids give 404."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from market.accounts.decorators import signed_in_vendor, vendor_required
from market.core.bulk import BulkForm, bulk_choice_problem, chosen_ids, flash_outcome, unreadable
from market.core.pagination import paginate
from market.core.transaction import saving
from market.extensions import db
from market.markets.bulk import label as market_label
from market.markets.models import Market
from market.timeutil import format_seoul, today_seoul, utcnow
from market.vendors import applications, bulk, changes, services
from market.vendors.forms import ApplyForm, ConfirmForm, VendorProfileForm
from market.vendors.models import Application, ApplicationStatus

bp = Blueprint("vendors_own", __name__, url_prefix="/vendor")


@bp.route("/history")
@vendor_required
def history():
    vendor = signed_in_vendor()
    today = today_seoul()
    page = paginate(applications.past_applications_query(vendor, today))
    return render_template("vendors/history.html", vendor=vendor, page=page)


@bp.route("/profile", methods=["GET", "POST"])
@vendor_required
def profile():
    vendor = signed_in_vendor()
    change = changes.pending_change(vendor)
    form = VendorProfileForm(obj=vendor)
    if change is not None and not form.is_submitted():
        # The waiting request fills the form, so saving another field keeps it.
        for name, value in changes.requested_values(vendor, change).items():
            form[name].process_data(value)
    if form.validate_on_submit():
        with saving(form) as saved:
            sent_back = changes.save_own_profile(vendor, form.details(), actor=current_user)
        if saved:
            if changes.pending_change(vendor) is not None:
                flash(
                    _(
                        "Saved. The new name, business number, category or online shop link "
                        "is used once the center approves it; until then your enterprise "
                        "appears as before."
                    ),
                    "info",
                )
            elif sent_back:
                flash(
                    _(
                        "Saved. Because the business number or certification changed, "
                        "the center will review your enterprise again."
                    ),
                    "warning",
                )
            else:
                flash(_("Your enterprise's details were saved."), "success")
            return redirect(url_for("home.vendor"))
    return render_template(
        "vendors/profile.html",
        form=form,
        vendor=vendor,
        change=change,
        compared=changes.compared(vendor, change) if change else [],
        withdraw_form=ConfirmForm(prefix="withdraw"),
    )


@bp.route("/profile/change/withdraw", methods=["POST"])
@vendor_required
def withdraw_change():
    vendor = signed_in_vendor()
    if ConfirmForm(prefix="withdraw").validate_on_submit():
        with saving() as saved:
            changes.withdraw_change(vendor, actor=current_user)
        if saved:
            flash(_("Your change request was withdrawn; your details stay as before."), "success")
    return redirect(url_for("vendors_own.profile"))


@bp.route("/markets/<int:market_id>/apply", methods=["GET", "POST"])
@vendor_required
def apply(market_id: int):
    vendor = signed_in_vendor()
    market = db.get_or_404(Market, market_id)
    mine = applications.find_application(vendor, market)
    if mine is not None and mine.status is not ApplicationStatus.WITHDRAWN:
        flash(applications.already_applied_message(), "info")
        return redirect(url_for("home.vendor"))
    form = ApplyForm()
    if form.validate_on_submit():
        with saving() as saved:  # a refusal is flashed on the home page
            applications.apply(vendor, market, form.note.data, actor=current_user)
        if saved:
            flash(_("You applied for the market on %(date)s.", date=market.market_date), "success")
        return redirect(url_for("home.vendor"))
    refusal = applications.apply_refusal(vendor, market, utcnow())
    return render_template("vendors/apply.html", market=market, form=form, refusal=refusal)


@bp.route("/markets/apply-many", methods=["GET", "POST"])
@vendor_required
def apply_many():
    """Tick several market days, check, press 확인 once (market/vendors/bulk.py:
    a refused date is named with its reason, the others are applied for)."""
    vendor = signed_in_vendor()
    form = BulkForm()
    now = utcnow()
    if request.method == "POST" and form.validate_on_submit():
        chosen = chosen_ids(request.form.getlist("market_id"))
        if not chosen.ids or chosen.too_many:
            flash(bulk_choice_problem(chosen), "error")
            return redirect(url_for("vendors_own.apply_many"))
        if not form.confirmed.data:
            outcome = bulk.application_plan(vendor, chosen.ids, now)
            outcome.refused += unreadable(chosen)
            return render_template("vendors/apply_many.html", outcome=outcome)
        with saving() as saved:
            outcome = bulk.apply_many(vendor, chosen.ids, current_user, now)
        if saved:
            message = _("You applied for %(count)d market days.", count=len(outcome.done))
            flash_outcome(outcome, message, unreadable(chosen))
        return redirect(url_for("home.vendor"))
    if request.method == "POST":
        flash(_("The form expired. Tick the market days again."), "error")
    rows, closed = [], []
    for market, mine in applications.open_markets_with_mine(vendor, now):
        label = market_label(market)
        if mine is not None and mine.status is not ApplicationStatus.WITHDRAWN:
            closed.append((label, applications.already_applied_message()))
        elif refusal := applications.apply_refusal(vendor, market, now):
            closed.append((label, refusal))
        else:
            deadline = _(
                "Apply by %(deadline)s", deadline=format_seoul(market.application_deadline)
            )
            rows.append((market.id, label, deadline, None))
    return render_template("vendors/apply_many.html", rows=rows, closed=closed, form=form)


def _my_application(application_id: int) -> Application:
    vendor = signed_in_vendor()
    application = db.get_or_404(Application, application_id)
    if application.vendor_id != vendor.id:  # another enterprise's: as if it did not exist
        abort(404)
    return application


@bp.route("/applications/<int:application_id>/withdraw", methods=["GET", "POST"])
@vendor_required
def withdraw(application_id: int):
    application = _my_application(application_id)
    market = db.session.get(Market, application.market_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        with saving() as saved:
            applications.withdraw(application, market, actor=current_user)
        if saved:
            flash(_("Your application was withdrawn."), "success")
        return redirect(url_for("home.vendor"))
    return render_template(
        "vendors/withdraw.html", application=application, market=market, form=form
    )


@bp.route("/feed-token", methods=["GET", "POST"])
@vendor_required
def feed_token():
    vendor = signed_in_vendor()
    form = ConfirmForm()
    if form.validate_on_submit():
        with saving():
            services.renew_feed_token(vendor, actor=current_user)
        flash(
            _("Your calendar has a new address; subscribe to it again in your calendar app."),
            "success",
        )
        return redirect(url_for("home.vendor", _anchor="calendar"))
    return render_template("vendors/feed_token.html", form=form)
