"""`flask --app market inbox poll`: reads the center's mailbox.

Runs beside the outbox worker in production (`inbox poll --poll 60`), or
from cron (`inbox poll --once`). Several pollers may run at once: each
message is claimed in the database (market.inbox.polling)."""

import logging
import signal
import threading
import time

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from market.extensions import db
from market.inbox import polling
from market.inbox.mailbox import MailboxError

inbox = click.Group("inbox", help="The center's mailbox: calendar replies and bounces.")


@inbox.command("poll")
@click.option("--once", is_flag=True, help="Read new mail once, then exit.")
@click.option(
    "--poll",
    type=click.FloatRange(min=1),
    metavar="SECONDS",
    help="Keep running, reading new mail every SECONDS (default INBOX_POLL_SECONDS).",
)
@with_appcontext
def poll(once: bool, poll: float | None) -> None:
    """Read new mail in the center's mailbox and apply what it says."""
    if once and poll:
        raise click.UsageError("--once and --poll exclude each other.")
    config = current_app.config
    if not polling.configured():
        click.echo("The mailbox is not configured (IMAP_HOST is not set); nothing to read.")
        return
    target = f"{config['IMAP_USER']}@{config['IMAP_HOST']}:{config['IMAP_PORT']}"
    if once:
        try:
            handled = polling.poll_once()
        except MailboxError as error:
            raise click.ClickException(f"The mailbox cannot be read: {error}") from error
        click.echo(f"{target}/{config['IMAP_FOLDER']}: {handled} new message(s) handled.")
        return
    seconds = poll or float(config["INBOX_POLL_SECONDS"])
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    click.echo(f"Reading {target}/{config['IMAP_FOLDER']} every {seconds:g} s; Ctrl-C stops.")
    stop = threading.Event()
    _stop_on_signals(stop)
    while not stop.is_set():
        started = time.monotonic()
        handled = one_pass()
        if handled:
            click.echo(f"{handled} new message(s) handled.")
        stop.wait(max(0.0, seconds - (time.monotonic() - started)))
    click.echo("Stopped.")


def one_pass() -> int:
    """One pass that survives a mailbox or database hiccup, so a loop
    (this command's or `flask worker`'s) keeps going."""
    try:
        return polling.poll_once()
    except (MailboxError, OSError) as error:
        current_app.logger.error("inbox: the mailbox cannot be read: %s", error)
    except SQLAlchemyError as error:
        db.session.rollback()
        current_app.logger.error("inbox: poll failed: %s", error)
    except Exception as error:  # an IMAP command refused: try again next pass
        current_app.logger.exception("inbox: poll failed: %s", error)
    finally:
        db.session.remove()
    return 0


def _stop_on_signals(stop: threading.Event) -> None:
    """Ctrl-C or SIGTERM lets the current pass finish: each message is
    committed with its record before it is moved, so stopping mid-pass
    loses nothing either way."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: stop.set())
