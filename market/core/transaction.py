"""One change per request, committed or refused as a whole.

Views read "parse, call, render":

    with saving(form) as saved:
        market = services.create_market(details, actor=current_user)
    if saved:
        return redirect(...)
    return render_template(...)

The block commits when it ends; a RuleError rolls everything back and shows
its reasons (next to the form's fields, or flashed); any other exception
rolls back and goes on to the error page. `committing()` is the same for a
flask command, where a refusal stops the command with its reasons."""

from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import flash

from market.core.forms import show_errors
from market.core.rules import RuleError
from market.extensions import db


class Saved:
    """What became of the change: true once committed; `error` holds a refusal."""

    def __init__(self) -> None:
        self.done = False
        self.error: RuleError | None = None

    def __bool__(self) -> bool:
        return self.done


@contextmanager
def saving(form=None, category: str = "error") -> Iterator[Saved]:
    saved = Saved()
    try:
        yield saved
    except RuleError as error:
        db.session.rollback()
        saved.error = error
        if form is not None:
            show_errors(form, error.errors)
        else:
            for message in error.errors.values():
                flash(message, category)
    except BaseException:
        db.session.rollback()
        raise
    else:
        db.session.commit()
        saved.done = True


@contextmanager
def committing() -> Iterator[None]:
    """saving() for flask commands: commits when the block ends; a RuleError
    rolls back and stops the command with its reasons (exit status 1)."""
    try:
        yield
    except RuleError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    except BaseException:
        db.session.rollback()
        raise
    else:
        db.session.commit()
