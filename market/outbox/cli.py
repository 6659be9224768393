"""`flask --app market outbox deliver`: the mail worker.

Runs outside any request, so it commits its own work (deliver_due commits
each claimed batch, then each message's result as the server answers).
Several workers may run at once."""

import logging
import signal
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager, suppress

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from market.extensions import db
from market.outbox import delivery
from market.outbox.services import DeliveryReport

outbox = click.Group("outbox", help="The mail outbox.")


@outbox.command("deliver")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit (the default).")
@click.option(
    "--poll",
    type=click.FloatRange(min=0.1),
    metavar="SECONDS",
    help="Keep running, looking for due mail every SECONDS.",
)
@click.option("--batch-size", type=click.IntRange(min=1), help="Messages per pass.")
@with_appcontext
def deliver(once: bool, poll: float | None, batch_size: int | None) -> None:
    """Send the queued mail that is due."""
    if once and poll:
        raise click.UsageError("--once and --poll exclude each other.")
    if not poll:
        click.echo(_describe(delivery.deliver_due(batch_size=batch_size)))
        return
    configure_logging()
    click.echo(f"Delivering mail to {_target()} every {poll:g} s; Ctrl-C stops.")
    stop = StopRequest()
    with stop.installed(), suppress(KeyboardInterrupt):
        keep_running(lambda: one_pass(batch_size), poll, stop)
    click.echo("Stopped.")


def keep_running(one_pass: Callable[[], bool], every: float, stop: "StopRequest") -> None:
    """Runs passes until a stop is requested, waiting `every` seconds after
    a pass that found little to do; one that was busy (a full batch: more
    may be due) is followed by the next at once. Also the loops of `flask
    worker` (market.worker), each in its own thread."""
    while not stop.requested:
        busy = one_pass()
        if not busy and not stop.requested:
            stop.sleep(every)


class StopRequest:
    """Ctrl-C or SIGTERM (`make run` ends with `kill 0`) lets the current pass
    finish, so no message is left half-sent until its claim lapses; while
    waiting between passes, or on a second signal, it stops at once.

    Several threads may share one (`flask worker`): the signal arrives in
    the main thread, and the others, which cannot be interrupted, wait in
    short steps that look at `requested`."""

    def __init__(self):
        self.requested = False
        self.sleeping = False

    def __call__(self, signum, frame):
        if self.sleeping or self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def sleep(self, seconds: float) -> None:
        if threading.current_thread() is not threading.main_thread():
            until = time.monotonic() + seconds
            while not self.requested and (left := until - time.monotonic()) > 0:
                time.sleep(min(left, 0.2))
            return
        self.sleeping = True
        try:
            time.sleep(seconds)
        finally:
            self.sleeping = False

    def is_set(self) -> bool:  # threading.Event's word, for the import jobs
        return self.requested

    @contextmanager
    def installed(self):
        if threading.current_thread() is not threading.main_thread():
            yield  # signals can only be handled in the main thread
            return
        previous = {sig: signal.signal(sig, self) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def one_pass(batch_size: int | None = None) -> bool:
    """One pass that survives a database hiccup, so the loop keeps going;
    true when it found a full batch (more may be due)."""
    try:
        report = delivery.deliver_due(batch_size=batch_size)
    except SQLAlchemyError as error:
        db.session.rollback()
        current_app.logger.error("outbox: delivery pass failed: %s", error)
        return False
    finally:
        db.session.remove()
    if report.total:
        click.echo(_describe(report))
    return report.total >= (batch_size or current_app.config["OUTBOX_BATCH_SIZE"])


def _describe(report: DeliveryReport) -> str:
    text = f"sent {report.sent}, retried {report.retried}, failed {report.failed}"
    if report.deferred:
        text += f", {report.deferred} advertising held until the send window opens"
    return text


def _target() -> str:
    config = current_app.config
    if config.get("MAIL_SERVER"):
        return f"{config['MAIL_SERVER']}:{config['MAIL_PORT']}"
    return str(delivery.mail_dir())


def configure_logging() -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
