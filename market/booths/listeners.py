"""Booths react to changes of an application (the vendors area's signal).

The signal comes after the new status is flushed and before it is committed,
so freeing the booth, the promotion and its mail join the same transaction: a
withdrawal that is rolled back moves nobody."""

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from market.booths.mails import News, queue
from market.booths.models import Booth
from market.booths.withdrawals import release
from market.extensions import db
from market.markets.models import Market
from market.vendors.applications import application_status_changed, feed_booth_numbers
from market.vendors.models import Application, ApplicationStatus


def on_application_status_changed(
    application: Application, before=None, actor=None, action=None, **_extra
):
    if before and before.get("status") is not application.status:
        release(application, before["status"], actor)
        if action == "application.status" and application.status is ApplicationStatus.DECLINED:
            _tell_declined(application)


def _tell_declined(application: Application) -> None:
    """Staff declined it by hand: the enterprise hears why, as it does when
    the assignment declines it."""
    application = db.session.scalar(
        select(Application)
        .options(joinedload(Application.vendor))
        .where(Application.id == application.id)
    )
    queue(application, db.session.get(Market, application.market_id), News.DECLINED)


def on_feed_booth_numbers(_sender, vendor_id: int, market_ids: list[int], **_extra):
    """The enterprise's booth at each of these markets (one query)."""
    rows = db.session.execute(
        select(Booth.market_id, Booth.number).where(
            Booth.vendor_id == vendor_id, Booth.market_id.in_(market_ids)
        )
    )
    return dict(rows.all())


def connect_listeners(app: Flask) -> None:
    """Called by the app factory; connecting twice (several apps in tests) is harmless."""
    application_status_changed.connect(on_application_status_changed, weak=False)
    feed_booth_numbers.connect(on_feed_booth_numbers, weak=False)
