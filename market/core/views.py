from flask import (
    Blueprint,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import text

from market.accounts.decorators import staff_required
from market.accounts.models import Role
from market.core import dashboard
from market.extensions import csrf, db, limiter

bp = Blueprint("core", __name__)


@bp.route("/home")
def home():
    """Where each person starts: staff on the dashboard, vendors on their
    enterprise's home, everyone else on the public schedule."""
    if current_user.is_authenticated and current_user.is_staff:
        return redirect(url_for("core.staff_home"))
    if current_user.is_authenticated and current_user.role is Role.VENDOR:
        return redirect(url_for("vendor.home"))
    return redirect(url_for("public.schedule"))


@bp.route("/staff/")
@staff_required
def staff_home():
    summary = dashboard.staff_summary(lang=str(get_locale()))
    return render_template("core/staff_home.html", summary=summary)


@bp.route("/language", methods=["POST"])
def set_language():
    lang = request.form.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    target = request.form.get("next") or ""
    return redirect(target if target.startswith("/") and not target.startswith("//") else "/")


@bp.route("/healthz")
@limiter.exempt
@csrf.exempt
def healthz():
    """For load balancers: the process answers. Touches no database."""
    return jsonify(status="ok")


@bp.route("/readyz")
@limiter.exempt
def readyz():
    """Ready to serve: the database answers."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:  # any driver error means not ready
        current_app.logger.warning("readiness check failed: %s", error)
        db.session.rollback()
        return jsonify(status="unavailable", database="error"), 503
    return jsonify(status="ok", database="ok")
