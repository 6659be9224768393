"""Staff pages for importing the marketplace's order export."""

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from market.accounts.decorators import is_staff, staff_required
from market.core.pagination import paginate
from market.core.transaction import saving
from market.core.web import large_upload
from market.customers import jobs, services
from market.customers.forms import RunImportForm, UploadForm
from market.customers.models import CustomerImport
from market.extensions import db

bp = Blueprint("customers", __name__, url_prefix="/staff/customers")


@bp.route("/imports", methods=["GET", "POST"])
# The order export; every other form, and this one for anyone but staff, stays small.
@large_upload("IMPORT_MAX_UPLOAD_BYTES", allowed=is_staff)
@staff_required
def imports():
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        with saving(form) as saved:
            job = services.store_upload(upload.stream, upload.filename, actor=current_user)
        if saved:  # the job waits for `flask worker`
            _run_inline()
            return redirect(url_for("customers.show_import", import_id=job.id))
    page = paginate(select(CustomerImport).order_by(CustomerImport.id.desc()), per_page=20)
    customers, orders = services.totals()
    return render_template(
        "customers/imports.html", form=form, page=page, customers=customers, orders=orders
    )


@bp.route("/imports/<int:import_id>")
@staff_required
def show_import(import_id: int):
    job = db.get_or_404(CustomerImport, import_id)
    return render_template(
        "customers/import.html",
        job=job,
        form=RunImportForm(),
        running=job.status in jobs.PENDING,
        waiting=jobs.waiting(job),
    )


@bp.route("/imports/<int:import_id>/run", methods=["POST"])
@staff_required
def run_import(import_id: int):
    job = db.get_or_404(CustomerImport, import_id)
    form = RunImportForm()
    back = redirect(url_for("customers.show_import", import_id=job.id))
    if not form.validate():  # not sent from the page (no valid CSRF token)
        flash(_("This file is not ready to import."), "error")
        return back
    with saving() as saved:
        services.prepare_import(job, bool(form.good_rows_only.data), actor=current_user)
    if saved:
        _run_inline()
    return back


def _run_inline() -> None:
    """Tests only (IMPORT_RUN_INLINE): run the queued job now, as the worker would."""
    if current_app.config["IMPORT_RUN_INLINE"]:
        services.run_pending_jobs()
