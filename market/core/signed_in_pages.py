"""Logged-in pages kept per data version: the staff dashboard, the booth
screen, the ranking page, the reports and a vendor's home read thousands
of rows to print one page, and print the same page until something is
written. A kept page is served for the cost of the login's own query and
one version read.

A page is kept under its full address, the language, the "staff" data
version (market.core.versions: it moves in the same transaction as every
write to any table but the few named in NOT_SHOWN_ON_STAFF_PAGES), the
signed-in user (their id, role, name and enterprise: the menu prints them,
and a vendor's page is its own), today's date in Seoul (every "today" rule)
and what the view adds (`vary`). A view whose page changes at a time of
day rather than with the data (a deadline passing, a countdown) calls
`pagecache.valid_until` with that moment. Never kept or served: anything
but GET/HEAD, a request with flashed messages waiting or a view that
flashed one, a response other than 200, a configuration without
STAFF_PAGE_CACHE.

Why a page kept under version V is never out of date: V is read first, on
its own autocommit connection, and the view's data after it; PostgreSQL
at READ COMMITTED and SQLite outside an explicit transaction give each
statement the newest committed data, so the page shows data at least as new
as V. Any commit that writes moves V in the same transaction, so the next
request asks for another key. A request whose connection already holds a
transaction snapshot (SQLite inside BEGIN, PostgreSQL at REPEATABLE READ or
SERIALIZABLE) is neither kept nor served.

The pages stay in each worker's memory (bounded by count and bytes), never
in Redis: they hold customers' names and addresses (the ranking page), and
a worker fills its own after one request per page. Configuration is not in
the key (the sending hours, the page size): changing it means a restart,
which empties the store. A change made by hand in the database moves no
version: `flask cache clear`, or it shows after STAFF_PAGE_MAX_AGE."""

import hashlib
from collections.abc import Callable
from dataclasses import replace
from functools import wraps

from flask import Flask, current_app, g, message_flashed, request, session
from flask_babel import get_locale
from flask_login import current_user

from market.core import versions
from market.core.pagecache import Page, Recent, page_of, response_of
from market.extensions import db
from market.timeutil import today_seoul, utcnow

STORE = "market_signed_in_pages"
SNAPSHOT_LEVELS = ("REPEATABLE READ", "SERIALIZABLE")


def init_app(app: Flask) -> None:
    options = app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}
    if str(options.get("isolation_level", "")).upper() in SNAPSHOT_LEVELS:
        app.logger.warning("STAFF_PAGE_CACHE is off: the database reads through snapshots")
        app.config["STAFF_PAGE_CACHE"] = False
    app.extensions[STORE] = Recent(
        app.config["STAFF_PAGE_CACHE_PAGES"], max_bytes=app.config["STAFF_PAGE_CACHE_BYTES"]
    )
    message_flashed.connect(_flashed, app)


def _flashed(_app, **_extra) -> None:
    g.page_flashed = True


def signed_in_page(
    scopes: tuple[str, ...] = (versions.STAFF,),
    vary: Callable[[], tuple] | None = None,
    enabled: Callable[[], bool] | None = None,
) -> Callable:
    """Keeps the view's page per data version and user. Put it below the
    role check (`@staff_required`, `@vendor_required`): only a request that
    may see the page reaches the store. `enabled()`: the view's own switch."""

    def decorate(view):
        @wraps(view)
        def kept_view(**kwargs):
            if not _may_keep(enabled):
                return view(**kwargs)
            read_with_login = _read_with_login(scopes)
            version = read_with_login or versions.current_many(scopes)
            if version is None:  # never moved (a fresh database): no key is safe
                return view(**kwargs)
            key = _key(version, vary() if vary else ())
            store = current_app.extensions[STORE]
            page = store.get(key)
            if page is not None and not _expired(page):
                return response_of(page)
            if not read_with_login:  # the enterprise was read before the version
                _read_again_after_the_version()
            response = current_app.make_response(view(**kwargs))
            if response.status_code == 200 and not g.get("page_flashed"):
                store.put(key, _aged(page_of(response)))
            return response

        return kept_view

    return decorate


def _may_keep(enabled: Callable[[], bool] | None) -> bool:
    if request.method not in ("GET", "HEAD") or "_flashes" in session:
        return False
    if not current_app.config["STAFF_PAGE_CACHE"] or not current_user.is_authenticated:
        return False
    if enabled is not None and not enabled():
        return False
    return _reads_newest()


def _read_with_login(scopes: tuple[str, ...]) -> tuple[int, ...] | None:
    """The staff version the login loader read in its own statement, with
    the user and their enterprise (one snapshot, before any of the page's
    data); None when it did not (then it is read on its own)."""
    if scopes == (versions.STAFF,) and g.get(versions.READ_WITH_LOGIN) is not None:
        return (g.get(versions.READ_WITH_LOGIN),)
    return None


def _reads_newest() -> bool:
    """False when this request's connection reads through a snapshot taken
    before the version is read (module docstring)."""
    session_ = db.session()
    if not session_.in_transaction():
        return True
    connection = session_.connection()
    if connection.dialect.name == "sqlite":
        return not connection.connection.driver_connection.in_transaction
    return True  # PostgreSQL at READ COMMITTED (init_app turns the cache off otherwise)


def _key(version: tuple[int, ...], extra: tuple) -> str:
    user = current_user
    parts = (
        request.url,
        str(get_locale()),
        version,
        (user.id, user.role.value, user.name, user.vendor_id),
        today_seoul().isoformat(),
        extra,
    )
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def _read_again_after_the_version() -> None:
    """When the version was read on its own, the login loader had read the
    user's enterprise before it (a before-request hook): a vendor's page
    built from it could show it older than the version it is kept under.
    Its next use reads it again."""
    user = current_user._get_current_object()
    vendor = user.__dict__.get("vendor")  # only if loaded: no query here
    if vendor is not None:
        db.session.expire(vendor)


def _aged(page: Page) -> Page:
    """A kept page ends after STAFF_PAGE_MAX_AGE at the latest: a change
    no version saw (made by hand in the database) shows within it."""
    latest = utcnow().timestamp() + current_app.config["STAFF_PAGE_MAX_AGE"]
    return replace(page, until=min(page.until or latest, latest))


def _expired(page: Page) -> bool:
    return page.until is not None and utcnow().timestamp() >= page.until
