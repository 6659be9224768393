"""Staff pages for venues."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from market.accounts.decorators import staff_required
from market.core.transaction import saving
from market.extensions import db
from market.markets import services
from market.markets.forms import VenueForm
from market.markets.models import Venue
from market.timeutil import today_seoul, utcnow

bp = Blueprint("venues", __name__, url_prefix="/staff/venues")


@bp.route("/")
@staff_required
def index():
    return render_template("markets/venues.html", rows=services.venues_with_market_counts())


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:venue_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(venue_id: int | None = None):
    venue = db.get_or_404(Venue, venue_id) if venue_id else None
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
    with saving(form) as saved:
        if venue is None:
            venue = services.create_venue(**values, actor=current_user)
        else:
            moved = services.update_venue(venue, **values, actor=current_user)
    if not saved:
        return False
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
    venue = db.get_or_404(Venue, venue_id)
    used = services.market_count_at(venue)
    if request.method == "POST":
        with saving() as saved:
            services.delete_venue(venue, actor=current_user)
        if saved:
            flash(_("The venue was deleted."), "success")
        return redirect(url_for("venues.index"))
    return render_template("markets/venue_delete.html", venue=venue, used=used)
