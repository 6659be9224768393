"""Staff pages for importing the marketplace's order export."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from market.accounts.decorators import staff_required
from market.core.pagination import paginate
from market.customers import services
from market.customers.forms import RunImportForm, UploadForm
from market.customers.models import Customer, CustomerImport, ImportStatus, Order
from market.extensions import db

bp = Blueprint("customers", __name__, url_prefix="/staff/customers")

RUNNING = (ImportStatus.UPLOADED, ImportStatus.CHECKING, ImportStatus.IMPORTING)


@bp.route("/imports", methods=["GET", "POST"])
@staff_required
def imports():
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            job = services.store_upload(upload.stream, upload.filename, actor=current_user)
        except services.ImportError_ as error:
            db.session.rollback()
            form.file.errors.append(str(error))
        else:
            db.session.commit()
            services.start(current_app._get_current_object(), job, services.run_check)
            return redirect(url_for("customers.show_import", import_id=job.id))
    page = paginate(select(CustomerImport).order_by(CustomerImport.id.desc()), per_page=20)
    totals = db.session.execute(
        select(
            select(func.count(Customer.id)).scalar_subquery(),
            select(func.count(Order.id)).scalar_subquery(),
        )
    ).one()
    return render_template(
        "customers/imports.html", form=form, page=page, customers=totals[0], orders=totals[1]
    )


@bp.route("/imports/<int:import_id>")
@staff_required
def show_import(import_id: int):
    job = db.session.get(CustomerImport, import_id) or abort(404)
    return render_template(
        "customers/import.html", job=job, form=RunImportForm(), running=job.status in RUNNING
    )


@bp.route("/imports/<int:import_id>/run", methods=["POST"])
@staff_required
def run_import(import_id: int):
    job = db.session.get(CustomerImport, import_id) or abort(404)
    form = RunImportForm()
    # A failed write pass may be run again; a check that failed checked nothing.
    checked = job.status is ImportStatus.CHECKED or (
        job.status is ImportStatus.FAILED and job.rows_total is not None
    )
    if not checked or not form.validate():
        flash(_("This file is not ready to import."), "error")
        return redirect(url_for("customers.show_import", import_id=job.id))
    if job.rows_bad and not form.good_rows_only.data:
        flash(
            _(
                "The file has %(count)d bad rows. Fix the file and upload it again, or choose "
                "to import only the good rows.",
                count=job.rows_bad,
            ),
            "error",
        )
        return redirect(url_for("customers.show_import", import_id=job.id))
    job.good_rows_only = bool(form.good_rows_only.data)
    db.session.commit()
    services.start(current_app._get_current_object(), job, services.run_import, current_user.id)
    return redirect(url_for("customers.show_import", import_id=job.id))
