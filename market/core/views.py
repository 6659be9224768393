from flask import (
    Blueprint,
    current_app,
    jsonify,
    redirect,
    request,
    session,
)
from sqlalchemy import text

from market.core.web import same_site_path
from market.extensions import csrf, db, limiter

bp = Blueprint("core", __name__)


@bp.route("/language", methods=["POST"])
@csrf.exempt
def set_language():
    """Without a CSRF token on purpose: the worst a forged request can do is
    switch someone's screen language, and without the token the public pages
    no longer start a session (and set a cookie) for every visitor."""
    lang = request.form.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return redirect(same_site_path(request.form.get("next"), "/"))


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
