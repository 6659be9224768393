"""Staff pages for venues."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from market.accounts.decorators import staff_required
from market.extensions import db
from market.markets import services
from market.markets.forms import VenueForm
from market.markets.models import Market, Venue
from market.timeutil import today_seoul, utcnow

bp = Blueprint("venues", __name__, url_prefix="/staff/venues")


def _get_venue(venue_id: int) -> Venue:
    return db.session.get(Venue, venue_id) or abort(404)


@bp.route("/")
@staff_required
def index():
    rows = db.session.execute(
        select(Venue, func.count(Market.id))
        .outerjoin(Market, Market.venue_id == Venue.id)
        .group_by(Venue.id)
        .order_by(Venue.name)
    ).all()
    return render_template("markets/venues.html", rows=rows)


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:venue_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(venue_id: int | None = None):
    venue = _get_venue(venue_id) if venue_id else None
    form = VenueForm(obj=venue)
    upcoming = services.upcoming_markets_at(venue, today_seoul()) if venue else []
    # The customers a new name or address would mail, by the update mails' own rule.
    recipients = services.place_change_audience_count(upcoming, utcnow())
    confirm = False
    if form.validate_on_submit():
        values = {
            "name": form.name.data,
            "address": form.address.data,
            "booth_spots": form.booth_spots.data,
            "map_url": form.map_url.data,
        }
        # A new venue has no recipients; a change that mails people is saved
        # only once staff have ticked that they know (a second step).
        mails = bool(recipients) and services.changes_place(
            venue, values["name"], values["address"]
        )
        confirm = mails and request.form.get("confirm_mail") != "yes"
        if not confirm and _save(form, venue, values):
            return redirect(url_for("venues.index"))
    return render_template(
        "markets/venue_form.html",
        form=form,
        venue=venue,
        upcoming=len(upcoming),
        recipients=recipients,
        confirm=confirm,
    )


def _save(form: VenueForm, venue: Venue | None, values: dict) -> bool:
    """Creates or updates the venue and commits; False (with the form's
    errors set) when a rule refuses it."""
    moved = []
    try:
        if venue is None:
            venue = services.create_venue(**values, actor=current_user)
        else:
            moved = services.update_venue(venue, **values, actor=current_user)
    except services.MarketRuleError as error:
        db.session.rollback()
        for name, message in error.errors.items():
            getattr(form, name).errors = [message]
        return False
    db.session.commit()
    flash(_("The venue %(name)s was saved.", name=venue.name), "success")
    if moved:
        flash(
            _(
                "%(count)d upcoming markets here have a new place in every calendar; "
                "invited customers get an update by mail.",
                count=len(moved),
            ),
            "info",
        )
    return True


@bp.route("/<int:venue_id>/delete", methods=["GET", "POST"])
@staff_required
def delete(venue_id: int):
    venue = _get_venue(venue_id)
    used = services.market_count_at(venue)
    if request.method == "POST":
        try:
            services.delete_venue(venue, actor=current_user)
        except services.MarketRuleError as error:
            db.session.rollback()
            flash(error.errors["venue"], "error")
            return redirect(url_for("venues.index"))
        db.session.commit()
        flash(_("The venue was deleted."), "success")
        return redirect(url_for("venues.index"))
    return render_template("markets/venue_delete.html", venue=venue, used=used)
