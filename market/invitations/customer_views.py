"""The staff's customer pages: the search by name, email or phone, one
customer's record (consent, unsubscribed or undeliverable, orders in
figures, invitations with their answers), and the list to download.
Personal data: staff only, never cached (market.core.web).

They live here, not in market.customers, because a customer's record shows
their invitations, and the customers area sits below the invitations (it
may not import them); the customers' own queries are in
market.customers.records."""

from flask import Blueprint, abort, render_template, request

from market.accounts.decorators import staff_required
from market.core.exports import send_table
from market.core.pagination import paginate_rows
from market.customers import records
from market.customers.consent import consent_source_text, refusal
from market.customers.models import Customer
from market.extensions import db
from market.invitations.queries import CUSTOMER_HISTORY_LIMIT, customer_invitations
from market.invitations.views import ANSWER_LABELS, MAIL_LABELS, SOURCE_LABELS
from market.validators import format_phone

bp = Blueprint("customer_pages", __name__, url_prefix="/staff/customers")

PER_PAGE = 50


def _search_text() -> str:
    return request.args.get("q", "")[: records.MAX_SEARCH + 1]


@bp.route("/")
@staff_required
def index():
    text = _search_text()
    problem, page = None, None
    try:
        total = records.customers_count(text)
        page = paginate_rows(records.customers_query(text), total, PER_PAGE)
    except records.SearchError as error:
        problem = str(error)
    return render_template(
        "customers/index.html",
        search=text.strip(),
        page=page,
        problem=problem,
        states=records.CONSENT_STATES,
        format_phone=format_phone,
    )


@bp.route("/<int:customer_id>")
@staff_required
def show(customer_id: int):
    customer = db.get_or_404(Customer, customer_id)
    reason = db.session.scalar(
        db.select(refusal()).select_from(Customer).where(Customer.id == customer.id)
    )
    return render_template(
        "customers/show.html",
        customer=customer,
        reason=reason,
        states=records.CONSENT_STATES,
        consent_source=consent_source_text(),
        suppression=records.suppression_for(customer),
        orders=records.order_summary(customer),
        top_vendors=records.top_vendors(customer),
        invitations=customer_invitations(customer),
        history_limit=CUSTOMER_HISTORY_LIMIT,
        answer_labels=ANSWER_LABELS,
        source_labels=SOURCE_LABELS,
        mail_labels=MAIL_LABELS,
        format_phone=format_phone,
    )


@bp.route("/export.csv", defaults={"file_format": "csv"})
@bp.route("/export.xlsx", defaults={"file_format": "xlsx"})
@staff_required
def export(file_format: str):
    """The customers found by the search (all without one), with their
    consent state."""
    try:
        table = records.customers_table(_search_text())
    except records.SearchError:
        abort(400)
    return send_table(table, file_format, "customers")
