"""The staff pages for logins (/staff/users): the list, inviting a staff
member, and one login's page with its actions. The rules (who may touch
whom, the last admin) are in accounts.admin; destructive actions ask first
(the form posts again with confirmed=1)."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from market.accounts import admin, sessions
from market.accounts.decorators import staff_required
from market.accounts.forms import InviteForm
from market.accounts.models import Role, User
from market.core.pagination import paginate
from market.core.transaction import saving
from market.core.web import enum_arg
from market.extensions import db

bp = Blueprint("users", __name__, url_prefix="/staff/users")

ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.STAFF: _l("Staff"),
    Role.VENDOR: _l("Enterprise"),
}


@bp.app_template_filter("role_label")
def role_label(role) -> str:
    try:
        return str(ROLE_LABELS[Role(role)])
    except ValueError:
        return str(role)


@bp.route("/")
@staff_required
def index():
    search = request.args.get("q", "").replace("\x00", "")[:100]
    role = enum_arg(Role, "role")
    page = paginate(admin.users_query(search, role))
    return render_template(
        "accounts/staff/index.html", page=page, search=search, role=role, roles=list(Role)
    )


@bp.route("/invite", methods=["GET", "POST"])
@staff_required
def invite():
    form = InviteForm()
    form.role.choices = [(r.value, role_label(r)) for r in admin.roles_given_by(current_user)]
    if request.method == "GET":
        form.role.data = Role.STAFF.value
    if form.validate_on_submit():
        with saving(form) as saved:
            user = admin.invite(current_user, form.email.data, form.name.data, Role(form.role.data))
        if saved:
            flash(
                _("%(name)s is invited; the mail to set a password is on its way.", name=user.name),
                "success",
            )
            return redirect(url_for("users.show", user_id=user.id))
    return render_template("accounts/staff/invite.html", form=form)


def _target(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


@bp.route("/<int:user_id>")
@staff_required
def show(user_id: int):
    user = _target(user_id)
    return render_template(
        "accounts/staff/show.html",
        user=user,
        may_manage=admin.may_manage(current_user, user),
        roles=admin.roles_given_by(current_user),
        session_count=len(sessions.sessions_of(user)),
    )


# action name -> (what the confirmation asks, the button, destructive?)
ACTIONS = {
    "disable": (
        _l("Disable this login? They are logged out at once and cannot log in."),
        _l("Disable"),
        True,
    ),
    "enable": (None, _l("Enable"), False),
    "sign_out": (_l("Log this person out on every device?"), _l("Log out everywhere"), True),
    "role": (
        _l("Change this person's role? Their sessions end; they log in again."),
        _l("Change role"),
        True,
    ),
    "resend": (None, _l("Send the set-a-password mail"), False),
}


@bp.route("/<int:user_id>/<action>", methods=["POST"])
@staff_required
def act(user_id: int, action: str):
    if action not in ACTIONS:
        abort(404)
    user = _target(user_id)
    if user.id != current_user.id and not admin.may_manage(current_user, user):
        abort(403)  # staff and an admin's login (acting on oneself is refused below, in words)
    question, button, destructive = ACTIONS[action]
    role = request.form.get("role", "")
    if action == "role" and role not in {r.value for r in Role}:
        flash(_("Choose a role."), "error")
        return redirect(url_for("users.show", user_id=user.id))
    if destructive and request.form.get("confirmed") != "1":
        return render_template(
            "accounts/staff/confirm.html",
            user=user,
            action=action,
            question=question,
            button=button,
            role=role,
        )
    with saving() as saved:
        changed = _perform(action, user, role)
    if saved:
        flash(_done_message(action, user, changed), "success" if changed else "info")
    return redirect(url_for("users.show", user_id=user.id))


def _perform(action: str, user: User, role: str) -> bool:
    if action == "disable":
        return admin.disable(current_user, user)
    if action == "enable":
        return admin.enable(current_user, user)
    if action == "sign_out":
        admin.sign_out_everywhere(current_user, user)
        return True
    if action == "role":
        return admin.change_role(current_user, user, Role(role))
    admin.resend_invitation(current_user, user)
    return True


def _done_message(action: str, user: User, changed: bool) -> str:
    if not changed:
        return _("Nothing changed.")
    return {
        "disable": _("%(name)s can no longer log in.", name=user.name),
        "enable": _("%(name)s can log in again.", name=user.name),
        "sign_out": _("%(name)s is logged out on every device.", name=user.name),
        "role": _("%(name)s is now: %(role)s.", name=user.name, role=role_label(user.role)),
        "resend": _("The mail to set a password is on its way to %(email)s.", email=user.email),
    }[action]
