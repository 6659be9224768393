from flask import Blueprint, Flask, current_app, render_template, request, url_for
from sqlalchemy import false

from market.accounts.decorators import staff_required
from market.audit import display, services
from market.audit.labels import Ref
from market.core.pagination import paginate

bp = Blueprint("audit", __name__, url_prefix="/staff/audit")


@bp.route("/")
@staff_required
def index():
    filters, errors = services.parse_filters(request.args)
    query = services.entries_query(filters)
    if errors:  # a filter that cannot be used shows nothing rather than everything
        query = query.where(false())
    page = paginate(query)
    return render_template(
        "audit/index.html",
        page=page,
        rows=display.rows(page.items, record_url),
        subject=display.record_piece(filters.object_type, filters.object_id, record_url)
        if filters.object_type
        else None,
        filters=filters,
        errors=errors,
        actions=services.known_actions(),
        object_types=services.known_object_types(),
    )


def record_url(ref: Ref) -> str | None:
    """The staff page of a record, where the app has that page."""
    if ref.endpoint is None or ref.endpoint not in current_app.view_functions:
        return None
    return url_for(ref.endpoint, **ref.values)


def register_template_helpers(app: Flask) -> None:
    """The audit log's readable names, for any page that shows an entry."""
    app.add_template_filter(services.action_label, "action_label")
    app.add_template_filter(services.object_label, "object_label")
    app.add_template_filter(services.actor_label, "actor_label")


# Until the factory calls register_template_helpers itself.
