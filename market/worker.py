"""`flask --app market worker`: the one background process.

Web requests only record work; this process does it, each kind in its own
loop, thread and app context (so each has its own database session):

- mail: the outbox's delivery pass (market.outbox.cli.one_pass);
- imports: claims a waiting order-file job and checks or writes it
  (market.customers.services.run_next), taking over a job whose worker died;
- inbox: reads the center's mailbox (market.inbox.cli.one_pass), only where
  IMAP_HOST is set;
- sales: once no order import is waiting or running, counts the orders half
  of 판로지원 실적's default periods where the orders changed since
  (market.sales.cache.warm), so staff rarely wait for a first look.

Several workers may run at once, on one host or many: each loop claims its
work from the database. SIGTERM or Ctrl-C lets every loop finish its
current pass (an import stops at its next progress report and gives the
job back, for the next worker to go on with) and then exits; a second
signal exits at once (an import then waits IMPORT_STALE_SECONDS for a
takeover). This module sits above every area and only calls them."""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from market.customers import services as imports
from market.extensions import db
from market.inbox import cli as inbox
from market.outbox import cli as outbox
from market.outbox.cli import StopRequest, keep_running
from market.sales import cache as sales
from market.timeutil import today_seoul


@dataclass(frozen=True)
class Loop:
    """One kind of background work. `one_pass(stop)` does one round and
    answers whether it was busy (then the next round starts at once);
    otherwise the loop waits `every` seconds (a config key)."""

    name: str
    one_pass: Callable[[StopRequest], object]
    every: str
    wanted: Callable[[dict], bool] = lambda config: True


def _import_pass(stop: StopRequest) -> bool:
    """One job, surviving a database hiccup so the loop keeps going."""
    try:
        return imports.run_next(stop)
    except SQLAlchemyError as error:
        db.session.rollback()
        current_app.logger.error("imports: pass failed: %s", error)
        return False
    finally:
        db.session.remove()


def _sales_pass(stop: StopRequest) -> bool:
    """Counts the report's default periods after the orders changed; not
    while an import is under way (each part it commits changes them again).
    Never busy: the loop then waits its interval."""
    if not current_app.config.get("SALES_REPORT_CACHE", True):
        return False
    try:
        sales.warm(today_seoul())
    except SQLAlchemyError as error:
        db.session.rollback()
        current_app.logger.error("sales: pass failed: %s", error)
    finally:
        db.session.remove()
    return False


LOOPS = [
    Loop("mail", lambda stop: outbox.one_pass(), "OUTBOX_POLL_SECONDS"),
    Loop("imports", _import_pass, "IMPORT_POLL_SECONDS"),
    Loop("sales", _sales_pass, "IMPORT_POLL_SECONDS"),
    # The center's mailbox (calendar replies, bounces), where one is configured.
    Loop(
        "inbox",
        lambda stop: inbox.one_pass(),
        "INBOX_POLL_SECONDS",
        wanted=lambda config: bool(config.get("IMAP_HOST")),
    ),
]


@click.command("worker")
@with_appcontext
def worker_command() -> None:
    """Run the background work: mail delivery, order imports, the mailbox,
    the sales report's default periods."""
    app = current_app._get_current_object()
    loops = [loop for loop in LOOPS if loop.wanted(app.config)]
    outbox.configure_logging()
    click.echo(f"Worker running: {', '.join(loop.name for loop in loops)}; Ctrl-C stops.")
    stop = StopRequest()
    with stop.installed():
        threads = [
            threading.Thread(
                target=_run_loop, args=(app, loop, stop), name=f"worker-{loop.name}", daemon=True
            )
            for loop in loops
        ]
        for thread in threads:
            thread.start()
        try:
            while any(thread.is_alive() for thread in threads):
                time.sleep(0.2)  # not stop.sleep: the first signal only asks to stop
        except KeyboardInterrupt:  # the second signal
            click.echo("Stopped at once.")
            return
    click.echo("Stopped.")


def _run_loop(app: Flask, loop: Loop, stop: StopRequest) -> None:
    with app.app_context():
        every = float(app.config[loop.every])
        keep_running(lambda: _guarded(loop, stop), every, stop)


def _guarded(loop: Loop, stop: StopRequest) -> bool:
    """A pass that raised something unexpected is logged and tried again
    next round; the loop never dies of it."""
    try:
        return bool(loop.one_pass(stop))
    except Exception:
        current_app.logger.exception("worker: the %s pass failed", loop.name)
        db.session.rollback()
        return False
