"""Staff pages for enterprises: the approval queue, decisions, edits,
certifications about to expire, and the applications of each market day."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from market.accounts.decorators import staff_required
from market.accounts.models import User
from market.core.forms import show_errors
from market.core.pagination import paginate
from market.extensions import db
from market.markets.models import Market
from market.outbox.services import unbuilt_count
from market.timeutil import today_seoul
from market.vendors import applications, services
from market.vendors.forms import ReasonForm, VendorProfileForm
from market.vendors.labels import APPLICATION_STATUSES, VENDOR_STATUSES
from market.vendors.models import Application, ApplicationStatus, Vendor, VendorStatus

bp = Blueprint("vendors_staff", __name__, url_prefix="/staff/vendors")
applications_bp = Blueprint("applications_staff", __name__, url_prefix="/staff")


def _get_vendor(vendor_id: int) -> Vendor:
    return db.session.get(Vendor, vendor_id) or abort(404)


def _today():
    return today_seoul()


def _status_arg(enum, name: str = "status", default=None):
    value = request.args.get(name, default)
    try:
        return enum(value) if value else None
    except ValueError:
        return None


@bp.route("/")
@staff_required
def index():
    status = _status_arg(VendorStatus, default=VendorStatus.PENDING.value)
    search = request.args.get("q", "").strip()
    page = paginate(services.vendors_query(status, search))
    return render_template(
        "vendors/staff_index.html",
        page=page,
        status=status,
        search=search,
        counts=services.status_counts(),
        statuses=VENDOR_STATUSES,
        expiring=services.expiring_count(_today()),
    )


@bp.route("/expiring")
@staff_required
def expiring():
    today = _today()
    page = paginate(services.expiring_query(today))
    return render_template(
        "vendors/expiring.html", page=page, today=today, days=services.EXPIRY_WARNING_DAYS
    )


@bp.route("/<int:vendor_id>")
@staff_required
def show(vendor_id: int):
    vendor = _get_vendor(vendor_id)
    logins = db.session.scalars(select(User).where(User.vendor_id == vendor.id)).all()
    choices = [s for s, allowed in services.DECISIONS.items() if vendor.status in allowed]
    return render_template(
        "vendors/staff_show.html",
        vendor=vendor,
        logins=logins,
        decisions=choices,
        needs_reason=services.NEEDS_REASON,
        form=ReasonForm(),
        recent=applications.vendor_applications(vendor),
        today=_today(),
    )


@bp.route("/<int:vendor_id>/decide", methods=["POST"])
@staff_required
def decide(vendor_id: int):
    vendor = _get_vendor(vendor_id)
    form = ReasonForm()
    from_queue = vendor.status is VendorStatus.PENDING
    if form.validate_on_submit():
        try:
            status = VendorStatus(request.form.get("decision", ""))
            unbuilt = unbuilt_count()
            services.decide(
                vendor,
                status,
                actor=current_user,
                reason=form.reason.data,
                link=url_for("home.vendor", _external=True),
            )
        except ValueError as error:  # VendorRuleError or an unknown decision
            db.session.rollback()
            messages = getattr(error, "errors", {"status": _("Choose a decision.")})
            for message in messages.values():
                flash(message, "error")
        else:
            db.session.commit()
            if unbuilt_count() == unbuilt:  # else: a failed outbox row with the reason
                flash(
                    _(
                        "%(name)s is now %(status)s; the enterprise was emailed.",
                        name=vendor.name,
                        status=VENDOR_STATUSES[vendor.status],
                    ),
                    "success",
                )
            else:
                flash(
                    _(
                        "%(name)s is now %(status)s. But the notification mail could not be "
                        "built, so the enterprise was not emailed: see the reason in the outbox.",
                        name=vendor.name,
                        status=VENDOR_STATUSES[vendor.status],
                    ),
                    "warning",
                )
            if from_queue:  # on to the next one waiting
                return redirect(url_for("vendors_staff.index"))
    return redirect(url_for("vendors_staff.show", vendor_id=vendor.id))


@bp.route("/<int:vendor_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(vendor_id: int):
    vendor = _get_vendor(vendor_id)
    form = VendorProfileForm(obj=vendor)
    if form.validate_on_submit():
        try:
            services.update_vendor(vendor, form.details(), actor=current_user)
        except services.VendorRuleError as error:
            db.session.rollback()
            show_errors(form, error.errors)
        else:
            db.session.commit()
            flash(_("%(name)s was saved.", name=vendor.name), "success")
            return redirect(url_for("vendors_staff.show", vendor_id=vendor.id))
    return render_template("vendors/staff_edit.html", form=form, vendor=vendor)


# -- applications per market ----------------------------------------------------


@applications_bp.route("/markets/<int:market_id>/applications")
@staff_required
def market_applications(market_id: int):
    market = db.session.get(Market, market_id) or abort(404)
    status = _status_arg(ApplicationStatus)
    page = paginate(applications.market_applications_query(market, status))
    return render_template(
        "vendors/market_applications.html",
        market=market,
        page=page,
        status=status,
        statuses=APPLICATION_STATUSES,
        counts=applications.market_status_counts(market),
        staff_statuses=applications.STAFF_STATUSES,
        form=ReasonForm(),
    )


@applications_bp.route("/applications/<int:application_id>/status", methods=["POST"])
@staff_required
def application_status(application_id: int):
    application = db.session.get(Application, application_id) or abort(404)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            applications.staff_set_status(
                application,
                ApplicationStatus(request.form.get("status", "")),
                actor=current_user,
                reason=form.reason.data,
            )
        except ValueError as error:  # VendorRuleError or an unknown status
            db.session.rollback()
            for message in getattr(error, "errors", {"status": _("Choose a status.")}).values():
                flash(message, "error")
        else:
            db.session.commit()
            flash(_("The application was changed."), "success")
    return redirect(
        request.form.get("next")
        if (request.form.get("next") or "").startswith("/staff/")
        else url_for("applications_staff.market_applications", market_id=application.market_id)
    )
