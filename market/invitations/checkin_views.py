"""Check-in at the market (staff, on the market's day): the visitor pass's
QR code opens `visitor`; the scanner page reads the code or takes it typed."""

from flask import Blueprint, abort

from market.accounts.decorators import staff_required

bp = Blueprint("checkin", __name__)


@bp.route("/staff/markets/<int:market_id>/check-in/<code>")
@staff_required
def visitor(market_id: int, code: str):
    # The address every visitor pass's QR code carries
    # (market.invitations.passes.check_in_url); the page is being built.
    abort(404)
