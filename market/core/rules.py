"""What a refused change looks like in every area (the ground floor: core
imports no area, so every service may raise these).

A service that refuses raises a RuleError (or an area's subclass of it) with
the reasons, keyed by the form field each concerns ("form" for the page as a
whole); the view shows them next to the fields and commits nothing."""

from sqlalchemy.exc import IntegrityError

from market.extensions import db


class RuleError(ValueError):
    """A change that a rule refuses; `errors` maps form field names to
    messages, and a plain message becomes {"form": message}."""

    def __init__(self, errors: dict[str, str] | str | None = None):
        if errors is None:
            errors = {}
        elif not isinstance(errors, dict):
            errors = {"form": errors}
        super().__init__("; ".join(map(str, errors.values())))
        self.errors = errors


def flush_or_refuse(refusal: RuleError) -> None:
    """Flushes in a savepoint and turns a constraint the database enforces
    (two people saving the same thing at once) into `refusal`, the same clear
    message the checks give, leaving the session usable."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:
        raise refusal from error
