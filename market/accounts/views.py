import hmac

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_login.config import COOKIE_NAME

from market.accounts import services
from market.accounts.forms import ChangePasswordForm, LoginForm
from market.core.transaction import saving
from market.core.web import same_site_path
from market.extensions import db, limiter, login_manager

bp = Blueprint("accounts", __name__, url_prefix="/account")


@login_manager.user_loader
def load_user(user_id: str):
    """The user a session or remember-me cookie names (`User.get_id()`: id
    and session token), or None: for a value of any other shape (a cookie
    from before session tokens), an old token (the user logged out, changed
    the password or was disabled since) and a disabled user."""
    from market.accounts.models import User

    parsed = services.parse_session_id(user_id)
    if parsed is None:
        return None
    user = db.session.get(User, parsed[0])
    if user is None or not user.active:
        return None
    if not hmac.compare_digest(user.session_token.encode(), parsed[1].encode()):
        return None
    return user


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append(
                _("Email or password is wrong, or the account is disabled.")
            )
        else:
            login_user(user, remember=form.remember.data)
            db.session.commit()
            flash(_("Welcome, %(name)s.", name=user.name), "success")
            return redirect(same_site_path(request.args.get("next"), url_for("home.index")))
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        # Every session of this user ends, on this device and on any other,
        # and so does every remember-me cookie made before.
        services.end_all_sessions(current_user)
        db.session.commit()
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            services.change_password(current_user, form.current.data, form.new.data)
        if saved:
            # The change ended every session, this one too: sign this one in
            # again with the new token (and a new remember-me cookie if it had one).
            cookie = current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME)
            remembered = cookie in request.cookies
            login_user(current_user._get_current_object(), remember=remembered)
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("home.index"))
    return render_template("accounts/password.html", form=form)
