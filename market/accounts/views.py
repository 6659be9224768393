import hmac
import time
from functools import cache

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_login.config import COOKIE_NAME
from sqlalchemy import Select, and_, bindparam, select

from market.accounts import services, sessions, tokens
from market.accounts.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    ResetPasswordForm,
)
from market.core import versions
from market.core.transaction import saving
from market.core.web import same_site_path
from market.extensions import db, limiter, login_manager

bp = Blueprint("accounts", __name__, url_prefix="/account")


@login_manager.user_loader
def load_user(user_id: str):
    """The user a session or remember-me cookie names (`User.get_id()`: id,
    session token and login session key), or None: for a value of any other
    shape (a cookie from before session tokens), an old token (the user
    logged out, changed the password or was disabled since), a login session
    ended from another device, and a disabled user. One query: the user with
    this browser's login_sessions row, and with it the signed-in pages'
    data version (market.core.signed_in_pages reads it first; in the same
    statement it costs no round trip of its own)."""
    from market.accounts.models import User

    parsed = services.parse_session_id(user_id)
    if parsed is None:
        return None
    user_key, token, session_key = parsed
    if session_key is None:  # signed in before login sessions were kept
        user, row = db.session.get(User, user_key), None
    else:
        found = db.session.execute(
            _user_with_login_session(), {"user_key": user_key, "session_key": session_key}
        ).first()
        user, row, version = found if found else (None, None, None)
        if row is None:
            return None
        g.setdefault(versions.READ_WITH_LOGIN, version)
    if user is None or not user.active:
        return None
    if not hmac.compare_digest(user.session_token.encode(), token.encode()):
        return None
    user.login_session_key = session_key
    g.login_session = row
    return user


@cache
def _user_with_login_session() -> Select:
    """Built once: every signed-in request runs it, and building the select
    (and walking it for SQLAlchemy's cache key) cost a third of the loader."""
    from market.accounts.models import LoginSession, User

    return (
        select(User, LoginSession, versions.read_with(versions.STAFF))
        .outerjoin(
            LoginSession,
            and_(LoginSession.user_id == User.id, LoginSession.key == bindparam("session_key")),
        )
        .where(User.id == bindparam("user_key"))
    )


@bp.before_app_request
def keep_login_session():
    """A signed-in browser's login_sessions row: made for a session from
    before they were kept, its last-seen time moved every few minutes."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return
    row = g.get("login_session")
    if row is None:
        user = current_user._get_current_object()
        cookie = current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME)
        sessions.start(user, remember=cookie in request.cookies)
        db.session.commit()
    elif sessions.touch(row):
        db.session.commit()


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
            sessions.start(user, remember=form.remember.data)
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


# -- a forgotten password ----------------------------------------------------------


def _reset_limit() -> str:
    return current_app.config["PASSWORD_RESET_RATE_LIMIT"]


def _reset_email_limit() -> str:
    return current_app.config["PASSWORD_RESET_EMAIL_RATE_LIMIT"]


def _reset_email_key() -> str:
    """The address asked for, as the accounts are keyed (lower case): one
    mailbox gets a few links an hour, however many clients ask for it."""
    value = request.form.get("email", "")
    return "reset-email:" + value.strip().lower()[:254]


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
@limiter.limit(_reset_email_limit, methods=["POST"], key_func=_reset_email_key)
def forgot_password():
    """ "비밀번호 찾기": the same answer, after the same time, whether or not
    the address has a login (services.answer_evenly)."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        started = time.monotonic()
        services.request_password_reset(form.email.data)
        db.session.commit()
        services.answer_evenly(started)
        return redirect(url_for("accounts.forgot_password_sent"))
    return render_template("accounts/forgot.html", form=form)


@bp.route("/forgot/sent")
def forgot_password_sent():
    return render_template("accounts/forgot_sent.html")


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """The link from a "비밀번호 찾기" mail. Used once (the new password
    changes the fingerprint it carries), valid for an hour."""
    return _set_password_page(token, tokens.RESET)


@bp.route("/welcome/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    """The link from an invitation: the invited staff member chooses a password."""
    return _set_password_page(token, tokens.INVITE)


def _set_password_page(token: str, purpose: str):
    user = tokens.user_for(token, purpose)
    if user is None or not user.active:
        return render_template("accounts/link_invalid.html", purpose=purpose), 404
    form = ResetPasswordForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            services.reset_password(user, form.new.data)
        if saved:
            logout_user()  # whoever was signed in on this browser
            flash(_("Your password is set. Log in with it."), "success")
            return redirect(url_for("accounts.login"))
    return render_template(
        "accounts/reset.html", form=form, user=user, invited=purpose == tokens.INVITE
    )


@bp.route("/confirm/<token>")
def confirm_email(token: str):
    """The link mailed at sign-up: the enterprise may log in from now on."""
    user = tokens.user_for(token, tokens.CONFIRM)
    if user is None:
        return render_template("accounts/link_invalid.html", purpose=tokens.CONFIRM), 404
    services.confirm_email(user)
    db.session.commit()
    flash(_("Your email is confirmed. Log in with your password."), "success")
    return redirect(url_for("accounts.login"))


# -- where the user is signed in ---------------------------------------------------


@bp.route("/devices")
@login_required
def devices():
    return render_template(
        "accounts/devices.html",
        rows=sessions.sessions_of(current_user),
        current_key=current_user.login_session_key,
    )


@bp.route("/devices/<int:session_id>/end", methods=["POST"])
@login_required
def end_device(session_id: int):
    if sessions.end_one(current_user, session_id):
        db.session.commit()
        if g.get("login_session") is not None and g.login_session.id == session_id:
            logout_user()
            flash(_("You are logged out."), "info")
            return redirect(url_for("accounts.login"))
        flash(_("That device is logged out."), "success")
    return redirect(url_for("accounts.devices"))


@bp.route("/devices/end-others", methods=["POST"])
@login_required
def end_other_devices():
    user = current_user._get_current_object()
    services.end_all_sessions(user, keep_key=user.login_session_key)
    db.session.commit()
    # The new session token: this browser signs in again, keeping its row.
    cookie = current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME)
    login_user(user, remember=cookie in request.cookies)
    flash(_("Every other device is logged out."), "success")
    return redirect(url_for("accounts.devices"))
