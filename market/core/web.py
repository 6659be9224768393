"""Request-wide behaviour: security headers, error pages, template filters."""

from flask import Flask, render_template
from flask_babel import get_locale
from flask_wtf.csrf import CSRFError

from market import timeutil

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


def register_web_hooks(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    def error_page(status: int):
        def handler(error):
            return render_template(f"errors/{status}.html", error=error), status

        return handler

    for status in (403, 404, 429, 500):
        app.register_error_handler(status, error_page(status))

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_template("errors/csrf.html", error=error), 400

    app.add_template_filter(timeutil.format_seoul, "seoul")
    app.add_template_filter(timeutil.format_korean_date, "korean_date")
    app.add_template_filter(timeutil.format_won, "won")

    app.add_template_global(field_attrs)

    @app.context_processor
    def layout_globals():
        return {"current_locale": str(get_locale()), "center_name": app.config["CENTER_NAME"]}


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
