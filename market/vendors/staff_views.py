"""Staff pages for enterprises: the approval queue, decisions, edits,
certifications about to expire, and the applications of each market day."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from market.accounts.decorators import staff_required
from market.core.bulk import (
    MAX_CHOSEN,
    BulkForm,
    bulk_choice_problem,
    chosen_ids,
    flash_outcome,
    unreadable,
)
from market.core.pagination import paginate
from market.core.transaction import saving
from market.core.web import enum_arg, same_site_path
from market.extensions import db
from market.markets.models import Market
from market.outbox.services import unbuilt_count
from market.timeutil import format_seoul, today_seoul
from market.vendors import applications, bulk, changes, services
from market.vendors.forms import ReasonForm, VendorProfileForm
from market.vendors.labels import APPLICATION_STATUSES, VENDOR_STATUSES, category_label
from market.vendors.models import Application, ApplicationStatus, Vendor, VendorStatus

bp = Blueprint("vendors_staff", __name__, url_prefix="/staff/vendors")
applications_bp = Blueprint("applications_staff", __name__, url_prefix="/staff")


@bp.route("/")
@staff_required
def index():
    status = enum_arg(VendorStatus, "status", default=VendorStatus.PENDING.value)
    search = request.args.get("q", "").strip()
    page = paginate(services.vendors_query(status, search))
    return render_template(
        "vendors/staff_index.html",
        page=page,
        status=status,
        search=search,
        counts=services.status_counts(),
        statuses=VENDOR_STATUSES,
        statuses_pending=VendorStatus.PENDING,
        expiring=services.expiring_count(today_seoul()),
        changes_waiting=changes.changes_count(),
    )


@bp.route("/approve-many", methods=["GET", "POST"])
@staff_required
def approve_many():
    """Tick several waiting enterprises, check the list, press 확인 once
    (market/vendors/bulk.py: one transaction, each mailed and audited)."""
    form = BulkForm()
    back = url_for("vendors_staff.approve_many")
    if request.method == "POST" and form.validate_on_submit():
        chosen = chosen_ids(request.form.getlist("vendor_id"))
        if not chosen.ids or chosen.too_many:
            flash(bulk_choice_problem(chosen), "error")
            return redirect(back)
        if not form.confirmed.data:
            _going, outcome = bulk.approval_plan(chosen.ids)
            outcome.refused += unreadable(chosen)
            return render_template("vendors/approve_many.html", outcome=outcome, chosen=chosen)
        unbuilt = unbuilt_count()
        with saving() as saved:
            outcome = bulk.approve_many(
                chosen.ids, current_user, link=url_for("home.vendor", _external=True)
            )
        if saved:
            flash_outcome(
                outcome,
                _("%(count)d enterprises approved; each was emailed.", count=len(outcome.done))
                if unbuilt_count() == unbuilt
                else _(
                    "%(count)d enterprises approved. But some notification mails could not "
                    "be built and were not sent: see the reason in the outbox.",
                    count=len(outcome.done),
                ),
                unreadable(chosen),
            )
        return redirect(url_for("vendors_staff.index"))
    if request.method == "POST":
        flash(_("The form expired. Tick the enterprises again."), "error")
    rows = [
        (
            vendor.id,
            vendor.name,
            f"{category_label(vendor.category)} · {vendor.contact_name} · "
            f"{format_seoul(vendor.status_changed_at)}",
            url_for("vendors_staff.show", vendor_id=vendor.id),
        )
        for vendor in bulk.pending_vendors(MAX_CHOSEN)
    ]
    return render_template("vendors/approve_many.html", rows=rows, form=form)


@bp.route("/expiring")
@staff_required
def expiring():
    today = today_seoul()
    page = paginate(services.expiring_query(today))
    return render_template(
        "vendors/expiring.html", page=page, today=today, days=services.EXPIRY_WARNING_DAYS
    )


@bp.route("/<int:vendor_id>")
@staff_required
def show(vendor_id: int):
    vendor = db.get_or_404(Vendor, vendor_id)
    return render_template(
        "vendors/staff_show.html",
        vendor=vendor,
        logins=services.vendor_logins(vendor),
        decisions=services.decisions_for(vendor),
        needs_reason=services.NEEDS_REASON,
        form=ReasonForm(),
        recent=applications.vendor_applications(vendor),
        today=today_seoul(),
        change=changes.pending_change(vendor),
    )


@bp.route("/<int:vendor_id>/decide", methods=["POST"])
@staff_required
def decide(vendor_id: int):
    vendor = db.get_or_404(Vendor, vendor_id)
    form = ReasonForm()
    from_queue = vendor.status is VendorStatus.PENDING
    if form.validate_on_submit():
        unbuilt = unbuilt_count()
        with saving() as saved:
            services.decide(
                vendor,
                request.form.get("decision", ""),
                actor=current_user,
                reason=form.reason.data,
                link=url_for("home.vendor", _external=True),
            )
        if saved:
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
    vendor = db.get_or_404(Vendor, vendor_id)
    form = VendorProfileForm(obj=vendor)
    if form.validate_on_submit():
        with saving(form) as saved:
            services.update_vendor(vendor, form.details(), actor=current_user)
        if saved:
            flash(_("%(name)s was saved.", name=vendor.name), "success")
            return redirect(url_for("vendors_staff.show", vendor_id=vendor.id))
    return render_template("vendors/staff_edit.html", form=form, vendor=vendor)


# -- changes of name, business number, category or shop link ---------------------


@bp.route("/changes")
@staff_required
def changes_index():
    page = paginate(changes.changes_query())
    return render_template(
        "vendors/staff_changes.html",
        page=page,
        rows=[
            (change, change.vendor, changes.compared(change.vendor, change))
            for change in page.items
        ],
    )


@bp.route("/<int:vendor_id>/change", methods=["GET", "POST"])
@staff_required
def change(vendor_id: int):
    vendor = db.get_or_404(Vendor, vendor_id)
    form = ReasonForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            approve = changes.decide_change(
                vendor,
                request.form.get("decision", ""),
                actor=current_user,
                reason=form.reason.data,
                link=url_for("home.vendor", _external=True),
            )
        if saved:
            if approve:
                message = _(
                    "The change was approved: %(name)s. The enterprise was emailed.",
                    name=vendor.name,
                )
            else:
                message = _(
                    "The change was rejected: %(name)s. The enterprise was emailed.",
                    name=vendor.name,
                )
            flash(message, "success")
            return redirect(url_for("vendors_staff.changes_index"))
    pending = changes.pending_change(vendor)
    if pending is None:
        if request.method == "GET":
            flash(_("No change of this enterprise's details waits for review."), "info")
        return redirect(url_for("vendors_staff.show", vendor_id=vendor.id))
    return render_template(
        "vendors/staff_change.html",
        vendor=vendor,
        change=pending,
        compared=changes.compared(vendor, pending) if pending else [],
        form=form,
    )


# -- applications per market ----------------------------------------------------


@applications_bp.route("/markets/<int:market_id>/applications")
@staff_required
def market_applications(market_id: int):
    market = db.get_or_404(Market, market_id)
    status = enum_arg(ApplicationStatus, "status")
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
    application = db.get_or_404(Application, application_id)
    form = ReasonForm()
    if form.validate_on_submit():
        with saving() as saved:
            applications.staff_set_status(
                application,
                request.form.get("status", ""),
                actor=current_user,
                reason=form.reason.data,
            )
        if saved:
            flash(_("The application was changed."), "success")
    back = url_for("applications_staff.market_applications", market_id=application.market_id)
    target = same_site_path(request.form.get("next"), back)
    return redirect(target if target.startswith("/staff/") else back)  # back to a staff list
