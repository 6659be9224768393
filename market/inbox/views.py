"""The staff page "받은 메일": what the center's mailbox brought, and what
could not be applied and why; the addresses mail can no longer reach."""

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l

from market.accounts.decorators import staff_required
from market.core.pagination import paginate, paginate_rows
from market.inbox import polling, queries
from market.inbox.outcome import MessageKind, Outcome

bp = Blueprint("inbox", __name__, url_prefix="/staff/inbox")

KIND_LABELS = {
    MessageKind.CALENDAR_REPLY: _l("Calendar answers"),
    MessageKind.BOUNCE: _l("Returned mail"),
    MessageKind.AUTO_REPLY: _l("Automatic replies"),
    MessageKind.OTHER: _l("Other mail"),
    MessageKind.UNPARSEABLE: _l("Unreadable mail"),
}
OUTCOME_LABELS = {
    Outcome.APPLIED: _l("Taken into account"),
    Outcome.NOT_APPLIED: _l("Not applied"),
    Outcome.IGNORED: _l("Nothing to do"),
    Outcome.FAILED: _l("Could not be read"),
}
UNDELIVERABLE_PAGE_SIZE = 20


@bp.route("/")
@staff_required
def index():
    try:
        kind = MessageKind(request.args.get("kind", ""))
    except ValueError:
        kind = None
    show_all = request.args.get("show") == "all"
    page = paginate(queries.messages_query(kind, problems_only=not show_all))
    undeliverable = paginate_rows(
        queries.undeliverable_query(),
        queries.undeliverable_count(),
        UNDELIVERABLE_PAGE_SIZE,
        param="addresses",
    )
    return render_template(
        "inbox/index.html",
        page=page,
        kind=kind,
        show_all=show_all,
        counts=queries.kind_counts(),
        needs_a_look=queries.needs_a_look_count(),
        undeliverable=undeliverable,
        kind_labels=KIND_LABELS,
        outcome_labels=OUTCOME_LABELS,
        configured=polling.configured(),
        last_checked=queries.last_checked(),
    )
