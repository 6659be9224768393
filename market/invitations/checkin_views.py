"""Check-in at the market (staff, on the market's day): the visitor pass's
QR code opens `visitor`; the scanner page reads the code or takes it typed.

Scanning on the scanner page checks the visitor in at once (the page POSTs
the scanned address: one tap less at a busy gate), as does a typed code.
Opening a pass's address any other way (a phone's own camera app) shows the
visitor and a confirm button: GET never changes anything. Finding by name
POSTs, so names never sit in addresses, logs or the browser's history."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from market.accounts.decorators import staff_required
from market.core.forms import show_errors
from market.core.transaction import saving
from market.extensions import db
from market.invitations import checkin, passes
from market.invitations.checkin_forms import CodeForm, FindForm
from market.invitations.models import PASS_ALPHABET, PASS_LENGTH
from market.invitations.views import ANSWER_LABELS, SOURCE_LABELS
from market.markets.models import Market
from market.timeutil import today_seoul, utcnow

bp = Blueprint("checkin", __name__)

NOT_THIS_MARKET = _l("This is not a pass for this market.")


def _page(market: Market, code_form=None, find_form=None, matches=None, status: int = 200):
    return (
        render_template(
            "invitations/checkin.html",
            market=market,
            code_form=code_form or CodeForm(formdata=None),
            find_form=find_form or FindForm(formdata=None),
            matches=matches,
            tally=checkin.tally(market, today_seoul()),
            refusal=checkin.refusal(market, today_seoul()),
            answer_labels=ANSWER_LABELS,
            source_labels=SOURCE_LABELS,
            # for the scanner (static/js/checkin.js)
            pass_prefixes=passes.check_in_prefixes(market.id),
            pass_alphabet=PASS_ALPHABET,
            pass_length=PASS_LENGTH,
        ),
        status,
    )


@bp.route("/staff/markets/<int:market_id>/check-in")
@staff_required
def index(market_id: int):
    """The scanner: the camera, the short code, name and phone."""
    market = db.get_or_404(Market, market_id)
    return _page(market)


def _check_in(market: Market, visitor: checkin.Visitor) -> None:
    """Marks the visit and says what happened (done, already, or refused)."""
    with saving(category="warning") as saved:
        done = checkin.check_in(market, visitor.invitation.id, current_user, utcnow())
    if not saved:
        return
    if done.fresh:
        flash(_("Checked in: %(name)s", name=visitor.customer.name), "success")
    else:
        flash(checkin.already_message(done.visited_at, done.checked_in_by), "warning")


def _to_visitor(market: Market, visitor: checkin.Visitor):
    return redirect(
        url_for("checkin.visitor", market_id=market.id, code=visitor.invitation.pass_code),
        code=303,
    )


@bp.route("/staff/markets/<int:market_id>/check-in/code", methods=["POST"])
@staff_required
def by_code(market_id: int):
    """A typed short code: checks the visitor in at once. ("code" has an O,
    so no pass code can take this address.)"""
    market = db.get_or_404(Market, market_id)
    form = CodeForm()
    if not form.validate():
        return _page(market, code_form=form)
    try:
        code = checkin.normalise_code(form.code.data)
    except checkin.CheckInError as error:
        show_errors(form, error.errors)
        return _page(market, code_form=form)
    visitor = checkin.find_by_code(market, code)
    if visitor is None:
        show_errors(form, {"code": str(NOT_THIS_MARKET)})
        return _page(market, code_form=form)
    _check_in(market, visitor)
    return _to_visitor(market, visitor)


@bp.route("/staff/markets/<int:market_id>/check-in/find", methods=["POST"])
@staff_required
def find(market_id: int):
    """Name and the phone's last four digits: one match opens the visitor,
    several are listed to choose from."""
    market = db.get_or_404(Market, market_id)
    form = FindForm()
    if not form.validate():
        return _page(market, find_form=form)
    try:
        last4 = checkin.phone_digits(form.phone.data)
        matches = checkin.find_by_name_and_phone(market, form.name.data or "", last4)
    except checkin.CheckInError as error:
        show_errors(form, error.errors)
        return _page(market, find_form=form)
    if len(matches) == 1:
        return _to_visitor(market, matches[0])
    if not matches:
        show_errors(form, {"form": _("No one invited to this market has that name and number.")})
    return _page(market, find_form=form, matches=matches)


@bp.route("/staff/markets/<int:market_id>/check-in/<code>", methods=["GET", "POST"])
@staff_required
def visitor(market_id: int, code: str):
    """The address every visitor pass's QR code carries
    (market.invitations.passes.check_in_url). GET shows who it is; POST
    (its confirm button, or the scanner) checks them in."""
    market = db.get_or_404(Market, market_id)
    try:
        found = checkin.find_by_code(market, checkin.normalise_code(code))
    except checkin.CheckInError:
        found = None
    if found is None:
        return render_template("invitations/checkin_unknown.html", market=market), 404
    if request.method == "POST":
        _check_in(market, found)
        return _to_visitor(market, found)
    return render_template(
        "invitations/checkin_visitor.html",
        market=market,
        visitor=found,
        tally=checkin.tally(market, today_seoul()),
        refusal=checkin.refusal(market, today_seoul()),
        answer_labels=ANSWER_LABELS,
        source_labels=SOURCE_LABELS,
    )
