"""Staff pages to delete a market nothing hangs on, and to copy a market to
another date (rules in markets.planning)."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from market.accounts.decorators import staff_required
from market.core.transaction import saving
from market.extensions import db
from market.markets import planning
from market.markets.forms import CopyForm
from market.markets.models import Market
from market.timeutil import format_korean_date, format_seoul

bp = Blueprint("market_planning", __name__, url_prefix="/staff/markets")


@bp.route("/<int:market_id>/delete", methods=["GET", "POST"])
@staff_required
def delete(market_id: int):
    """GET asks for confirmation, or says why the market can only be cancelled."""
    market = db.get_or_404(Market, market_id)
    if request.method == "POST":
        when = format_korean_date(market.market_date)
        with saving() as saved:
            planning.delete_market(market.id, actor=current_user)
        if saved:
            flash(_("The market on %(date)s was deleted.", date=when), "success")
            return redirect(url_for("markets.index"))
        return redirect(url_for("market_planning.delete", market_id=market_id))
    found = planning.attachments(market.id)
    return render_template(
        "markets/delete.html",
        market=market,
        found=found,
        reasons=planning.attachment_text(found) if found else None,
    )


@bp.route("/<int:market_id>/copy", methods=["GET", "POST"])
@staff_required
def copy(market_id: int):
    market = db.get_or_404(Market, market_id)
    form = CopyForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            copied = planning.copy_market(
                market,
                form.market_date.data,
                actor=current_user,
                date_exception_reason=form.date_exception_reason.data,
            )
        if saved:
            flash(
                _(
                    "The market was copied to %(date)s. Its application deadline is %(deadline)s.",
                    date=format_korean_date(copied.market_date),
                    deadline=format_seoul(copied.application_deadline),
                ),
                "success",
            )
            return redirect(url_for("markets.show", market_id=copied.id))
    return render_template("markets/copy.html", market=market, form=form)
