"""Booths react to changes of an application (the vendors area's signal).

The signal comes after the new status is flushed and before it is committed,
so freeing the booth, the promotion and its mail join the same transaction: a
withdrawal that is rolled back moves nobody."""

from flask import Flask

from market.booths.withdrawals import release
from market.vendors.applications import application_status_changed
from market.vendors.models import Application


def on_application_status_changed(application: Application, before=None, actor=None, **_extra):
    if before and before.get("status") is not application.status:
        release(application, before["status"], actor)


def connect_listeners(app: Flask) -> None:
    """Called by the app factory; connecting twice (several apps in tests) is harmless."""
    application_status_changed.connect(on_application_status_changed, weak=False)
