from flask import Blueprint, Flask, render_template, request

from market.accounts.decorators import staff_required
from market.audit import services
from market.core.pagination import paginate

bp = Blueprint("audit", __name__, url_prefix="/staff/audit")


@bp.route("/")
@staff_required
def index():
    filters = {
        key: request.args.get(key, "").strip() or None
        for key in ("action", "object_type", "actor", "object_id")
    }
    page = paginate(services.entries_query(**filters))
    return render_template(
        "audit/index.html",
        page=page,
        filters=filters,
        actions=services.known_actions(),
        object_types=services.known_object_types(),
    )


def register_template_helpers(app: Flask) -> None:
    """The audit log's readable names, for any page that shows an entry."""
    app.add_template_filter(services.action_label, "action_label")
    app.add_template_filter(services.object_label, "object_label")
    app.add_template_filter(services.actor_label, "actor_label")


# Until the factory calls register_template_helpers itself.
