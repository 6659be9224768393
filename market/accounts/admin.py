"""Managing other people's logins from the staff pages (/staff/users): who
may do what, inviting staff, roles, disabling and signing out.

Admins manage everyone; staff manage vendor and staff logins but never an
admin's, and make no one admin. Nobody acts on their own login here (their
own password and devices have their own page), and the center always keeps
one active admin: the check locks the admin rows (PostgreSQL: SELECT ... FOR
UPDATE), so two admins demoting each other at the same moment cannot both
succeed; SQLite lets one writer at a time anyway."""

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from market.accounts import tokens
from market.accounts.models import Role, User
from market.accounts.services import (
    AccountError,
    account_mail,
    end_all_sessions,
    find_user_by_email,
    set_active,
)
from market.audit.services import record
from market.extensions import db
from market.timeutil import utcnow
from market.validators import checked_email, normalise_email

MAX_NAME_LENGTH = 100


def roles_given_by(actor: User) -> list[Role]:
    """The center roles `actor` may give: admins both, staff staff only. A
    vendor login keeps its role (it acts for its enterprise)."""
    if actor.role is Role.ADMIN:
        return [Role.ADMIN, Role.STAFF]
    return [Role.STAFF]


def may_manage(actor: User, target: User) -> bool:
    if actor.id == target.id:
        return False
    if actor.role is Role.ADMIN:
        return True
    return actor.role is Role.STAFF and target.role is not Role.ADMIN


def _check_may_manage(actor: User, target: User) -> None:
    if actor.id == target.id:
        raise AccountError({"user": _("You cannot change your own login here; use 'My account'.")})
    if not may_manage(actor, target):
        raise AccountError({"user": _("Only an administrator can change an administrator.")})


def _keep_an_admin(target: User) -> None:
    """Refuses when `target` is the last active admin. Locks the active
    admins' rows first, so a concurrent change waits and then counts anew."""
    admins = db.session.scalars(
        select(User.id).where(User.role == Role.ADMIN, User.active.is_(True)).with_for_update()
    ).all()
    if target.id in admins and len(admins) <= 1:
        raise AccountError({"user": _("The center must keep at least one active administrator.")})


def change_role(actor: User, target: User, role: Role) -> bool:
    _check_may_manage(actor, target)
    role = Role(role)
    if target.role is Role.VENDOR or role is Role.VENDOR:
        raise AccountError({"role": _("An enterprise's login keeps its role.")})
    if role not in roles_given_by(actor):
        raise AccountError({"role": _("Only an administrator can make someone an administrator.")})
    if target.role is role:
        return False
    if target.role is Role.ADMIN:
        _keep_an_admin(target)
    before = target.role
    target.role = role
    # A new role changes what every open session may do: they end.
    end_all_sessions(target)
    record(actor, "user.role_change", target, before={"role": before}, after={"role": role})
    return True


def disable(actor: User, target: User) -> bool:
    _check_may_manage(actor, target)
    if target.role is Role.ADMIN:
        _keep_an_admin(target)
    return set_active(target, False, actor)


def enable(actor: User, target: User) -> bool:
    _check_may_manage(actor, target)
    return set_active(target, True, actor)


def sign_out_everywhere(actor: User, target: User) -> None:
    _check_may_manage(actor, target)
    end_all_sessions(target, actor)


def invite(actor: User, email: str, name: str, role: Role = Role.STAFF) -> User:
    """A new center login with a password nobody knows, and a mail with a
    link (valid 72 hours, single use) to choose one."""
    role = Role(role)
    if role not in roles_given_by(actor):
        raise AccountError({"role": _("Only an administrator can make someone an administrator.")})
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = _("Enter the person's name.")
    elif len(name) > MAX_NAME_LENGTH:
        errors["name"] = _("Use at most %(num)d characters.", num=MAX_NAME_LENGTH)
    address, problem = checked_email(email or "")
    if problem:
        errors["email"] = _("Enter a valid email address.")
    elif find_user_by_email(address) is not None:
        errors["email"] = _("A login with this email already exists.")
    if errors:
        raise AccountError(errors)
    user = User(email=normalise_email(address), name=name, role=role)
    user.set_password(tokens.unusable_password())
    user.email_confirmed_at = utcnow()
    db.session.add(user)
    db.session.flush()
    record(actor, "user.invite", user, after={"email": user.email, "role": role})
    account_mail.send(
        user, kind=tokens.INVITE, token=tokens.make(user, tokens.INVITE), inviter=actor
    )
    return user


def resend_invitation(actor: User, target: User) -> None:
    """A new set-a-password link (the person lost or let the first expire);
    the earlier links keep working until one of them is used."""
    _check_may_manage(actor, target)
    account_mail.send(
        target, kind=tokens.INVITE, token=tokens.make(target, tokens.INVITE), inviter=actor
    )
    record(actor, "user.invite_again", target)


# -- the list -------------------------------------------------------------------


def users_query(search: str = "", role: Role | None = None):
    query = select(User).order_by(User.role, func.lower(User.name), User.id)
    search = (search or "").strip()[:100]
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(User.email.ilike(pattern, escape="\\"), User.name.ilike(pattern, escape="\\"))
        )
    if role is not None:
        query = query.where(User.role == role)
    return query
