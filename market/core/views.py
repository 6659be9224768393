from urllib.parse import urlsplit

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
@csrf.exempt
def set_language():
    """Without a CSRF token on purpose: the worst a forged request can do is
    switch someone's screen language, and without the token the public pages
    no longer start a session (and set a cookie) for every visitor."""
    lang = request.form.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return redirect(_same_site_path(request.form.get("next") or ""))


def _same_site_path(target: str) -> str:
    """`target` if it is a path on this site, else "/". Browsers read a
    backslash as a slash, so "/\\evil.example" would leave the site."""
    parts = urlsplit(target)
    if not target.startswith("/") or parts.scheme or parts.netloc or "\\" in target:
        return "/"
    return target


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
