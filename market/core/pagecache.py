"""Whole pages kept for visitors who are not logged in: the public schedule,
a market's page, an invitation's answer page. They are the same for everyone
until the data changes, and a mail campaign sends thousands of people to them.

A page is kept under a key made of what it depends on: its full address
(host, path and query: links and the language switch print them), the
language, the data versions it reads (market.core.versions: moved in the
same transaction as every change, read with one primary-key SELECT) and
whatever else the view adds (today's date for the schedule). A change of
the data therefore gives a new key at once, in every worker; old entries
simply age out. Never kept or served: anything but GET/HEAD, a logged-in
visitor (or one with a remember-me cookie: the page would show their menu),
a page with flashed messages, a response other than 200.

Flask-Caching holds the pages: SimpleCache in each process by default,
Redis when CACHE_REDIS_URL is set (every worker and host shares the pages
then). A Redis that does not answer only means pages are built afresh.

Public pages go out with `Cache-Control: public, no-cache`, an ETag (the
key's digest) and `Vary: Cookie`: browsers ask again each time and get a
304 while nothing changed, and a changed language (a cookie) is another
variant. Pages with a form keep their own CSRF token: the kept page holds a
placeholder, filled per request with the visitor's token."""

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps

import click
from flask import Flask, Response, current_app, g, request, session
from flask.cli import with_appcontext
from flask_babel import get_locale
from flask_caching import Cache
from flask_login.config import COOKIE_NAME
from flask_wtf.csrf import generate_csrf

from market.core import versions
from market.extensions import limiter
from market.timeutil import utcnow

cache = Cache()

PUBLIC_CACHE_CONTROL = "public, no-cache"
# Stands for the visitor's CSRF token in a kept page (no page prints it).
CSRF_PLACEHOLDER = b"\x1e{csrf_token}\x1e"
# Headers of the first response kept with the page (the rest is per request).
KEPT_HEADERS = ("Cache-Control", "X-Robots-Tag", "Referrer-Policy", "Content-Disposition")


@dataclass(frozen=True)
class Page:
    body: bytes
    mimetype: str
    headers: tuple[tuple[str, str], ...]
    until: float | None  # the app's clock (epoch seconds) from which the page is out of date
    csrf: bool  # the body holds CSRF_PLACEHOLDER


# Pages a worker keeps in its own memory in front of a shared store (Redis).
# A key names its content once and for all (the data version is in it), so
# a copy is never out of date; it saves the Redis round trip and unpickling
# ~10 KB on every request (in-process: 0.6-0.75 ms a page through Redis,
# 0.35 ms from memory).
LOCAL_PAGES = 256


class Recent:
    """A bounded map that forgets the entry used longest ago: at most `size`
    pages and, when given, `max_bytes` of page bodies."""

    def __init__(self, size: int, max_bytes: int | None = None):
        self.size = size
        self.max_bytes = max_bytes
        self.bytes = 0
        self.items: OrderedDict[str, Page] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> Page | None:
        with self.lock:
            page = self.items.get(key)
            if page is not None:
                self.items.move_to_end(key)
            return page

    def put(self, key: str, page: Page) -> None:
        with self.lock:
            if (old := self.items.pop(key, None)) is not None:
                self.bytes -= len(old.body)
            self.items[key] = page
            self.bytes += len(page.body)
            while len(self.items) > self.size or (
                self.max_bytes is not None and self.bytes > self.max_bytes and len(self.items) > 1
            ):
                self.bytes -= len(self.items.popitem(last=False)[1].body)


def init_app(app: Flask) -> None:
    cache.init_app(app)
    limiter.request_filter(_unlimited)
    if app.config["CACHE_TYPE"] != "SimpleCache":  # SimpleCache is in memory already
        app.extensions["market_recent_pages"] = Recent(LOCAL_PAGES)


def unlimited(view):
    """Marks a public view no rate limit applies to (the cached pages, the
    feed), so the limiter skips it at once: working out that no limit
    applies took a sixth of a cached page's time (Flask-Limiter resolves
    the view's, blueprint's and default limits on every request)."""
    view.unlimited = True
    return view


def _unlimited() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "unlimited", False)


def valid_until(moment: datetime | None) -> None:
    """Called by a view whose page changes at a time of day rather than with
    the data (the answer buttons disappear when the market is over): the
    kept page is used until `moment` only."""
    if moment is not None:
        stamp = moment.timestamp()
        g.page_valid_until = min(stamp, g.get("page_valid_until") or stamp)


def _anonymous() -> bool:
    if request.method not in ("GET", "HEAD"):
        return False
    if "_user_id" in session or "_flashes" in session:
        return False
    return current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME) not in request.cookies


def whole_page(
    scope: str, vary: Callable[[], tuple] | None = None, public: bool = True
) -> Callable:
    """Keeps the view's page for anonymous visitors, keyed by the data
    version of `scope` and `vary()`. `public`: browsers and proxies may
    keep it too, asking again each time (ETag); otherwise the view's own
    Cache-Control stands (a customer's page: private, no-store)."""

    def decorate(view):
        @wraps(view)
        def cached_view(**kwargs):
            if not _anonymous():
                return view(**kwargs)
            key = _key(scope, vary() if vary else ())
            if public and request.if_none_match.contains(key):
                return _headers(Response(status=304), key, public)
            page = _get(key)
            if page is None:
                response = current_app.make_response(view(**kwargs))
                if response.status_code == 200 and "_flashes" not in session:
                    _set(key, page_of(response))
                return _headers(response, key, public)
            return _headers(response_of(page), key, public)

        return unlimited(cached_view)

    return decorate


def _key(scope: str, extra: tuple) -> str:
    # The release too: a page the old templates made is not the new code's page.
    release = current_app.config["RELEASE_ID"]
    parts = (request.url, str(get_locale()), versions.current(scope), extra, release)
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def _headers(response: Response, key: str, public: bool) -> Response:
    if public:
        response.headers["Cache-Control"] = PUBLIC_CACHE_CONTROL
        response.set_etag(key)
        response.vary.add("Cookie")
    return response


def page_of(response: Response) -> Page:
    body = response.get_data()
    token = g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    csrf = bool(token) and token.encode() in body
    if csrf:
        body = body.replace(token.encode(), CSRF_PLACEHOLDER)
    kept = response.headers
    headers = tuple((name, kept[name]) for name in KEPT_HEADERS if name in kept)
    return Page(body, response.mimetype, headers, g.pop("page_valid_until", None), csrf)


def response_of(page: Page) -> Response:
    body = page.body
    if page.csrf:
        body = body.replace(CSRF_PLACEHOLDER, generate_csrf().encode())
    return Response(body, mimetype=page.mimetype, headers=list(page.headers))


def _get(key: str) -> Page | None:
    recent = current_app.extensions.get("market_recent_pages")
    page = recent.get(key) if recent else None
    if page is None:
        try:
            page = cache.get(key)
        except Exception as error:  # a Redis that does not answer: build the page
            current_app.logger.warning("page cache unavailable: %s", error)
            return None
        if page is not None and recent:
            recent.put(key, page)
    if page is not None and page.until is not None and utcnow().timestamp() >= page.until:
        return None
    return page


def _set(key: str, page: Page) -> None:
    timeout = current_app.config["CACHE_DEFAULT_TIMEOUT"]
    if page.until is not None:
        timeout = max(1, min(timeout, int(page.until - utcnow().timestamp()) + 1))
    recent = current_app.extensions.get("market_recent_pages")
    if recent:
        recent.put(key, page)
    try:
        cache.set(key, page, timeout=timeout)
    except Exception as error:
        current_app.logger.warning("page cache unavailable: %s", error)


def clear() -> None:
    """Every kept page forgotten, here and, by moving the data versions, in
    every other worker and host."""
    versions.clear_all()
    cache.clear()


@click.group("cache")
def cache_group() -> None:
    """The kept public pages (market.core.pagecache)."""


@cache_group.command("clear")
@with_appcontext
def clear_command() -> None:
    """Forget every kept page: after a change made by hand in the database,
    which moves no data version."""
    clear()
    click.echo("Kept pages cleared.")
