"""Account rules: creating users, checking logins, changing passwords."""

from flask_babel import gettext as _
from sqlalchemy import select

from market.accounts.models import Role, User
from market.audit.services import record
from market.core.rules import RuleError
from market.extensions import db
from market.timeutil import utcnow
from market.validators import MAX_PASSWORD_LENGTH, checked_email, normalise_email

MIN_PASSWORD_LENGTH = 8


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"password must have at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"password must have at most {MAX_PASSWORD_LENGTH} characters"
    return None


class AccountError(RuleError):
    """A refused account change (a plain message: the CLI prints it)."""


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(
    email: str, name: str, password: str, role: Role, actor: User | None = None
) -> User:
    if problem := password_problem(password):
        raise AccountError(problem)
    email, problem = checked_email(email)  # the mailer's rule, as every form's
    if problem:
        raise AccountError(problem)
    if find_user_by_email(email) is not None:
        raise AccountError(f"a user with the email {normalise_email(email)} already exists")
    user = User(email=normalise_email(email), name=name.strip(), role=Role(role))
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record(actor, "user.create", user, after={"email": user.email, "role": user.role.value})
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user when the password matches and the account is active.

    A wrong email and a wrong password give the same answer, so the login page
    does not reveal which addresses have accounts."""
    user = find_user_by_email(email)
    if user is None or not user.check_password(password) or not user.active:
        return None
    user.last_login_at = utcnow()
    return user


def change_password(user: User, current: str, new: str) -> None:
    if not user.check_password(current):
        raise AccountError({"current": _("The current password is wrong.")})
    if problem := password_problem(new):  # the form has the same limits, in Korean
        raise AccountError({"new": problem})
    user.set_password(new)
    record(user, "user.password_change", user)
