from functools import wraps

from flask import abort
from flask_login import current_user

from market.accounts.models import CENTER_ROLES, Role
from market.extensions import login_manager


def roles_required(*roles: Role):
    """Anonymous users go to the login page (401); a signed-in user without
    one of the roles gets the friendly 403 page."""
    allowed = frozenset(roles)

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def is_staff() -> bool:
    """The signed-in user works for the center."""
    return current_user.is_authenticated and current_user.role in CENTER_ROLES


def staff_required(view):
    return roles_required(*CENTER_ROLES)(view)


def vendor_required(view):
    """For an enterprise's own pages: a vendor login (staff get the 403 page)."""
    return roles_required(Role.VENDOR)(view)


def signed_in_vendor():
    """The enterprise the signed-in vendor login acts for, or 404: a vendor
    login without one has no pages but its home, which says so."""
    return current_user.vendor or abort(404)
