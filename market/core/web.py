"""Request-wide behaviour: security headers, error pages, template filters."""

import enum
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import unquote, urlsplit

from flask import Flask, Request, abort, current_app, render_template, request, session, url_for
from flask_babel import get_locale
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from market import timeutil
from market.config import is_production
from market.core.converters import MAX_ID
from market.core.i18n import install_template_gettext
from market.josa import josa
from market.validators import CONTROL_CHARACTERS

E = TypeVar("E", bound=enum.Enum)

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "form-action 'self'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
    ]
)
# A year, subdomains included: once a browser has seen the site over https it
# never again sends a login cookie or a form over plain http.
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"
NO_STORE = "private, no-store"


# A body refused as too large is still read, up to this much, before the
# 413 page goes out: a server that answers and closes while the browser is
# still sending makes the browser show "connection reset", not the page.
# Beyond it the proxy's own limit must answer (README, Production).
DRAIN_REFUSED_BYTES = 64 * 1024 * 1024


def large_upload(config_key: str, allowed=None):
    """Marks a view that takes a body larger than MAX_CONTENT_LENGTH (every
    other form's limit): up to the bytes in config[config_key], for whom
    `allowed()` says (say, staff only; anyone else keeps the small limit,
    since the CSRF check reads the body before the view checks the login).
    Put it right under the route decorator."""

    def mark(view):
        view.large_upload = (config_key, allowed)
        return view

    return mark


class AppRequest(Request):
    """Flask's request, whose body limit is the matched view's own where the
    view is marked with @large_upload. Decided when the body is first read
    (the CSRF check, before any view runs): by then the route is matched."""

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is None and self.endpoint and current_app:
            view = current_app.view_functions.get(self.endpoint)
            config_key, allowed = getattr(view, "large_upload", (None, None))
            if config_key and (allowed is None or allowed()):
                return current_app.config[config_key]
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


def _drain_refused_body() -> None:
    """Reads and drops what is left of a refused body, up to
    DRAIN_REFUSED_BYTES (see there); a larger one is left unread."""
    if (request.content_length or 0) > DRAIN_REFUSED_BYTES:
        return
    request.max_content_length = DRAIN_REFUSED_BYTES  # the stream of what is left
    left = DRAIN_REFUSED_BYTES
    try:
        stream = request.stream
        while left > 0 and (chunk := stream.read(min(left, 1 << 16))):
            left -= len(chunk)
    except (OSError, ValueError, HTTPException):  # the client went away: nothing to drain
        pass


def register_web_hooks(app: Flask) -> None:
    # Not in development: the browser would pin http://127.0.0.1 to https for
    # a year and the developer's `make run` would stop opening.
    production = is_production(app.config)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if production:
            response.headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY
        if _personal(response):
            response.headers["Cache-Control"] = NO_STORE
        return response

    def error_page(status: int):
        def handler(error):
            return render_template(f"errors/{status}.html", error=error), status

        return handler

    for status in (400, 403, 404, 429, 500):
        app.register_error_handler(status, error_page(status))

    @app.errorhandler(413)
    def too_large(error):
        _drain_refused_body()
        return render_template("errors/413.html", error=error), 413

    app.request_class = AppRequest

    @app.before_request
    def refuse_nul_characters():
        """No one types a NUL character, and PostgreSQL cannot even compare a
        text column with one (an error, so a 500, in any query that meets
        it). Refused here for every route, before any view or query: 404
        for a token or other part of the address (no page has it), 400 for
        a query argument. Not in a form body: every form field refuses it
        (market.core.forms.AppForm), next to the field, and keeps the rest
        of what was typed; the few views that read request.form themselves
        only compare or parse what they read."""
        if any(_has_nul(value) for value in (request.view_args or {}).values()):
            abort(404)
        if _has_nul_in(request.args):
            abort(400)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_template("errors/csrf.html", error=error), 400


def register_template_helpers(app: Flask) -> None:
    """The filters and globals every page's templates use."""
    app.add_template_filter(timeutil.format_seoul, "seoul")
    app.add_template_filter(timeutil.format_korean_date, "korean_date")
    app.add_template_filter(timeutil.format_won, "won")

    app.add_template_global(field_attrs)
    app.add_template_global(link_args)
    app.add_template_global(row_links)
    app.add_template_global(this_page)
    app.add_template_filter(josa)
    install_template_gettext(app)

    @app.context_processor
    def layout_globals():
        return {"current_locale": str(get_locale()), "center_name": app.config["CENTER_NAME"]}


def _personal(response) -> bool:
    """A page shown to a logged-in user or a download (every staff export):
    neither a shared cache nor the browser's may keep it, where the next
    person at the center's PC could open it from history after logout.
    Static files stay cacheable, and so do anonymous public pages. The user id
    in the session is what Flask-Login set at login (or from the remember
    cookie, when the page looked at the user); reading it costs no query."""
    if request.endpoint == "static":
        return False
    if response.headers.get("Content-Disposition", "").startswith("attachment"):
        return True
    return "_user_id" in session


def _has_nul(value) -> bool:
    return isinstance(value, str) and "\x00" in value


def _has_nul_in(values) -> bool:
    return any(_has_nul(key) or any(_has_nul(v) for v in items) for key, items in values.lists())


def enum_arg(enum: type[E], name: str, default: str | None = None) -> E | None:
    """A query argument naming a member of `enum` (by value), or None when it
    is absent or names none: a filter link from an old page shows everything
    rather than an error."""
    value = request.args.get(name, default)
    try:
        return enum(value) if value else None
    except ValueError:
        return None


def same_site_path(target: str | None, fallback: str) -> str:
    """`target` if it is a path on this site, else `fallback`: the one check
    behind every "next" address, so no page is an open redirect. Browsers
    read a backslash as a slash, so "/\\evil.example" would leave the site."""
    if not target or not target.startswith("/") or "\\" in target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target


def this_page() -> str:
    """The path and query of this page, for a form that comes back to it
    (the language switch's `next`); just the path when the query holds a
    control character, raw or %-encoded (the 400 page of `?q=%00` must not
    echo the NUL into its own form), "/" when the path does."""
    if not CONTROL_CHARACTERS.search(unquote(request.full_path)):
        return request.full_path.rstrip("?")
    return request.path if not CONTROL_CHARACTERS.search(request.path) else "/"


def row_links(endpoint: str, argument: str, **values) -> Callable[[int], str]:
    """`url_for(endpoint, **values, **{argument: id})` for the id of each row
    of a table: the address is built once and each row's id put in its place
    (Werkzeug's URL building cost 10-20 µs a link, a long report links every
    row). `argument` must be an `<int:...>` part of the route; where the
    address cannot be cut at it, every link is built by url_for."""
    address = url_for(endpoint, **values, **{argument: MAX_ID})
    parts = address.split(str(MAX_ID))
    if len(parts) != 2:
        return lambda row_id: url_for(endpoint, **values, **{argument: row_id})
    before, after = parts
    return lambda row_id: f"{before}{int(row_id)}{after}"


def link_args(**changes) -> dict:
    """The arguments of the page being shown, to build a link to it again with
    some changed (`url_for(endpoint, **link_args(page=2))`). Query arguments
    that url_for would take as its own options (`_anchor`, `_method`,
    `_external`, `endpoint`) are dropped, and the route's own arguments win
    over a query argument of the same name; fed to url_for as they were,
    `?_anchor=x` or `?_method=PUT` broke every paged list with a 500."""
    args = {
        key: value
        for key, value in request.args.items()
        if not key.startswith("_") and key != "endpoint"
    }
    args.update(request.view_args or {})
    args.update(changes)
    return args


def field_attrs(field, hint: str | None, extra: dict) -> dict:
    """Input attributes linking a field to its hint and errors for screen readers."""
    described_by = [f"{field.id}-hint"] if hint else []
    described_by += [f"{field.id}-error-{n}" for n in range(1, len(field.errors) + 1)]
    attrs = dict(extra)
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    if field.errors:
        attrs["aria-invalid"] = "true"
    return attrs
