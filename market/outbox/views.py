"""Staff pages: what the outbox holds, one message as its recipient sees it,
and a retry for the ones that failed."""

from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from market.accounts.decorators import staff_required
from market.core.pagination import paginate
from market.core.transaction import saving
from market.core.web import same_site_path
from market.extensions import db
from market.outbox import mime, services
from market.outbox.models import OutboxMessage, OutboxStatus

bp = Blueprint("outbox", __name__, url_prefix="/staff/outbox")

STATUS_LABELS = {
    OutboxStatus.QUEUED: _l("Queued"),
    OutboxStatus.SENDING: _l("Sending"),
    OutboxStatus.SENT: _l("Sent"),
    OutboxStatus.FAILED: _l("Failed"),
}

# The HTML part is served on its own, framed only by our own page, with no
# scripts, no forms, no remote loads: a mail body is untrusted markup.
HTML_PART_POLICY = "; ".join(
    [
        "default-src 'none'",
        "style-src 'unsafe-inline'",
        "img-src data:",
        "frame-ancestors 'self'",
        "sandbox",
    ]
)


@bp.app_context_processor
def outbox_labels():
    return {"outbox_status_labels": STATUS_LABELS}


def _message_or_404(message_id: int) -> OutboxMessage:
    return db.get_or_404(OutboxMessage, message_id)


@bp.route("/")
@staff_required
def index():
    filters = {
        key: request.args.get(key, "").strip() or None for key in ("status", "category", "q")
    }
    page = paginate(services.messages_query(filters["status"], filters["category"], filters["q"]))
    return render_template(
        "outbox/index.html",
        page=page,
        filters=filters,
        counts=services.status_counts(),
        categories=services.categories(),
    )


@bp.route("/<int:message_id>")
@staff_required
def show(message_id: int):
    message = _message_or_404(message_id)
    # A message that could not be built has no MIME to open: the page shows
    # its row (recipient, subject, reason) instead of empty cards.
    opened = mime.open_message(message) if message.mime else None
    return render_template("outbox/show.html", message=message, opened=opened)


@bp.route("/<int:message_id>/body.html")
@staff_required
def html_part(message_id: int):
    opened = mime.open_message(_message_or_404(message_id))
    if opened.html is None:
        abort(404)
    response = Response(opened.html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = HTML_PART_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.route("/<int:message_id>.eml")
@staff_required
def raw(message_id: int):
    message = _message_or_404(message_id)
    if not message.mime:  # never built: there is no message to download
        abort(404)
    response = Response(message.mime, mimetype="message/rfc822")
    # An ASCII name for old clients, the subject-bearing UTF-8 one for the rest.
    response.headers.set(
        "Content-Disposition",
        "attachment",
        filename=f"message-{message.id}.eml",
        **{"filename*": "UTF-8''" + quote(mime.eml_filename(message))},
    )
    return response


@bp.route("/<int:message_id>/retry", methods=["POST"])
@staff_required
def retry(message_id: int):
    message = _message_or_404(message_id)
    with saving(category="warning") as saved:  # a refusal is flashed as a warning
        services.retry(message, actor=current_user)
    if saved:
        flash(_("The message is queued and will be sent shortly."), "success")
    return redirect(
        same_site_path(request.form.get("next"), url_for("outbox.show", message_id=message_id))
    )


# What each area's mail is, in the staff's words; unknown kinds show as stored.
CATEGORY_LABELS = {
    "general": _l("General"),
    "vendor-status": _l("Enterprise approval"),
    "sign-up-account-exists": _l("Sign-up with an email that has a login"),
    "booth": _l("Booth assignment"),
    "invitation": _l("Invitation (advertising)"),
    "invitation-update": _l("Invitation update"),
    "invitation-cancel": _l("Invitation cancelled"),
}


@bp.app_template_filter("outbox_category")
def outbox_category(category: str) -> str:
    return str(CATEGORY_LABELS.get(category, category))
