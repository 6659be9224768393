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


def staff_required(view):
    return roles_required(*CENTER_ROLES)(view)
