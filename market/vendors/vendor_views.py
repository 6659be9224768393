"""The enterprise's own pages: its profile, applications and calendar.

Every page works on the signed-in user's own enterprise; ids in a URL are
looked up within that enterprise, so another enterprise's ids give 404."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from market.accounts.decorators import roles_required
from market.accounts.models import Role
from market.core.forms import show_errors
from market.core.pagination import paginate
from market.extensions import db
from market.markets.models import Market
from market.timeutil import today_seoul, utcnow
from market.vendors import applications, services
from market.vendors.forms import ApplyForm, ConfirmForm, VendorProfileForm
from market.vendors.models import Application, ApplicationStatus

bp = Blueprint("vendors_own", __name__, url_prefix="/vendor")

vendor_required = roles_required(Role.VENDOR)


def _my_vendor():
    """The signed-in user's enterprise; a vendor login without one has no pages
    but its home, which says so."""
    return current_user.vendor or abort(404)


@bp.route("/history")
@vendor_required
def history():
    vendor = _my_vendor()
    today = today_seoul()
    page = paginate(applications.past_applications_query(vendor, today))
    return render_template("vendors/history.html", vendor=vendor, page=page)


@bp.route("/profile", methods=["GET", "POST"])
@vendor_required
def profile():
    vendor = _my_vendor()
    form = VendorProfileForm(obj=vendor)
    if form.validate_on_submit():
        try:
            sent_back = services.update_vendor(vendor, form.details(), actor=current_user)
        except services.VendorRuleError as error:
            db.session.rollback()
            show_errors(form, error.errors)
        else:
            db.session.commit()
            if sent_back:
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
    return render_template("vendors/profile.html", form=form, vendor=vendor)


@bp.route("/markets/<int:market_id>/apply", methods=["GET", "POST"])
@vendor_required
def apply(market_id: int):
    vendor = _my_vendor()
    market = db.session.get(Market, market_id) or abort(404)
    mine = applications.find_application(vendor, market)
    if mine is not None and mine.status is not ApplicationStatus.WITHDRAWN:
        flash(applications.already_applied_message(), "info")
        return redirect(url_for("home.vendor"))
    form = ApplyForm()
    if form.validate_on_submit():
        try:
            applications.apply(vendor, market, form.note.data, actor=current_user)
        except services.VendorRuleError as error:
            db.session.rollback()
            for message in error.errors.values():
                flash(message, "error")
            return redirect(url_for("home.vendor"))
        else:
            db.session.commit()
            flash(_("You applied for the market on %(date)s.", date=market.market_date), "success")
            return redirect(url_for("home.vendor"))
    refusal = applications.apply_refusal(vendor, market, utcnow())
    return render_template("vendors/apply.html", market=market, form=form, refusal=refusal)


def _my_application(application_id: int) -> Application:
    vendor = _my_vendor()
    application = db.session.get(Application, application_id)
    if application is None or application.vendor_id != vendor.id:
        abort(404)
    return application


@bp.route("/applications/<int:application_id>/withdraw", methods=["GET", "POST"])
@vendor_required
def withdraw(application_id: int):
    application = _my_application(application_id)
    market = db.session.get(Market, application.market_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            applications.withdraw(application, market, actor=current_user)
        except services.VendorRuleError as error:
            db.session.rollback()
            for message in error.errors.values():
                flash(message, "error")
        else:
            db.session.commit()
            flash(_("Your application was withdrawn."), "success")
        return redirect(url_for("home.vendor"))
    return render_template(
        "vendors/withdraw.html", application=application, market=market, form=form
    )


@bp.route("/feed-token", methods=["GET", "POST"])
@vendor_required
def feed_token():
    vendor = _my_vendor()
    form = ConfirmForm()
    if form.validate_on_submit():
        services.renew_feed_token(vendor, actor=current_user)
        db.session.commit()
        flash(
            _("Your calendar has a new address; subscribe to it again in your calendar app."),
            "success",
        )
        return redirect(url_for("home.vendor", _anchor="calendar"))
    return render_template("vendors/feed_token.html", form=form)
