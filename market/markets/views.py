"""Staff pages for market days and the season generator."""

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from market.accounts.decorators import staff_required
from market.core.bulk import (
    MAX_CHOSEN,
    BulkForm,
    bulk_choice_problem,
    chosen_ids,
    flash_outcome,
    unreadable,
)
from market.core.pagination import paginate
from market.core.transaction import saving
from market.extensions import db
from market.markets import bulk, schedule, services
from market.markets.forms import MarketForm, SeasonForm, StatusForm
from market.markets.models import Market, MarketStatus
from market.timeutil import SEOUL, format_seoul, today_seoul, utcnow

bp = Blueprint("markets", __name__, url_prefix="/staff/markets")


def _venue_choices() -> list[SelectChoice]:
    return [SelectChoice(v.id, f"{v.name} ({v.booth_spots})") for v in services.venues_by_name()]


@bp.route("/")
@staff_required
def index():
    today = today_seoul()
    which = request.args.get("show", "upcoming")
    query = services.past_markets(today) if which == "past" else services.upcoming_markets(today)
    return render_template("markets/index.html", page=paginate(query), which=which)


def _details(form: MarketForm, market: Market | None = None) -> services.MarketDetails:
    deadline = form.deadline_seoul() or services.default_deadline(form.market_date.data)
    return services.MarketDetails(
        market_date=form.market_date.data,
        start_time=form.start_time.data,
        end_time=form.end_time.data,
        venue_id=form.venue_id.data,
        booth_count=form.booth_count.data,
        application_deadline=deadline,
        takings_ceiling=form.takings_ceiling.won,
        date_exception_reason=form.date_exception_reason.data,
        note=form.note.data,
    )


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def new():
    form = MarketForm()
    form.venue_id.choices = _venue_choices()
    if request.method == "GET":
        form.start_time.data, form.end_time.data = services.default_times()
        form.booth_count.data = current_app.config["DEFAULT_BOOTH_COUNT"]
        form.takings_ceiling.process_data(services.default_ceiling())
    if form.validate_on_submit():
        with saving(form) as saved:
            market = services.create_market(_details(form), actor=current_user)
        if saved:
            flash(_("The market on %(date)s was created.", date=market.market_date), "success")
            return redirect(url_for("markets.show", market_id=market.id))
    return render_template("markets/form.html", form=form, market=None)


@bp.route("/<int:market_id>")
@staff_required
def show(market_id: int):
    market = db.get_or_404(Market, market_id)
    next_statuses = sorted(services.STATUS_FLOW[market.status], key=list(MarketStatus).index)
    return render_template(
        "markets/show.html",
        market=market,
        status_form=StatusForm(),
        next_statuses=next_statuses,
        today=today_seoul(),  # on the market day the page offers check-in
    )


@bp.route("/<int:market_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(market_id: int):
    market = db.get_or_404(Market, market_id)
    form = MarketForm(obj=market)
    form.venue_id.choices = _venue_choices()
    if request.method == "GET":
        form.application_deadline.data = market.application_deadline.astimezone(SEOUL).replace(
            tzinfo=None
        )
        form.takings_ceiling.process_data(market.takings_ceiling)
    if form.validate_on_submit():
        with saving(form) as saved:
            services.update_market(
                market,
                _details(form, market),
                actor=current_user,
                ceiling_reason=form.ceiling_reason.data,
            )
        if saved:
            flash(_("The market was saved."), "success")
            return redirect(url_for("markets.show", market_id=market.id))
    return render_template("markets/form.html", form=form, market=market)


@bp.route("/<int:market_id>/status", methods=["POST"])
@staff_required
def change_status(market_id: int):
    market = db.get_or_404(Market, market_id)
    form = StatusForm()
    if form.validate_on_submit():
        with saving() as saved:
            services.change_status(
                market, MarketStatus(form.status.data), actor=current_user, reason=form.reason.data
            )
        if saved:
            flash(
                _("The market is now %(status)s.", status=services.status_label(market.status)),
                "success",
            )
    return redirect(url_for("markets.show", market_id=market.id))


@bp.route("/open-many", methods=["GET", "POST"])
@staff_required
def open_many():
    """Tick several planned markets, check, press 확인 once (market/markets/bulk.py)."""
    form = BulkForm()
    back = url_for("markets.open_many")
    if request.method == "POST" and form.validate_on_submit():
        chosen = chosen_ids(request.form.getlist("market_id"))
        if not chosen.ids or chosen.too_many:
            flash(bulk_choice_problem(chosen), "error")
            return redirect(back)
        if not form.confirmed.data:
            _going, outcome = bulk.opening_plan(chosen.ids, utcnow())
            outcome.refused += unreadable(chosen)
            return render_template("markets/open_many.html", outcome=outcome)
        with saving() as saved:
            outcome = bulk.open_many(chosen.ids, current_user, utcnow())
        if saved:
            message = _("%(count)d markets are now open for applications.", count=len(outcome.done))
            flash_outcome(outcome, message, unreadable(chosen))
        return redirect(url_for("markets.index"))
    if request.method == "POST":
        flash(_("The form expired. Tick the markets again."), "error")
    rows = [
        (
            market.id,
            bulk.label(market),
            _(
                "Applications until %(deadline)s",
                deadline=format_seoul(market.application_deadline),
            ),
            url_for("markets.show", market_id=market.id),
        )
        for market in bulk.planned_markets(today_seoul(), MAX_CHOSEN)
    ]
    return render_template("markets/open_many.html", rows=rows, form=form)


@bp.route("/season", methods=["GET", "POST"])
@staff_required
def season():
    form = SeasonForm()
    venues = services.venues_by_name()
    form.venue_ids.choices = [SelectChoice(v.id, v.name) for v in venues]
    if request.method == "GET":
        form.start_time.data, form.end_time.data = services.default_times()
        form.booth_count.data = current_app.config["DEFAULT_BOOTH_COUNT"]
    plan = None
    if form.validate_on_submit():
        settings = schedule.SeasonSettings(
            start=form.start.data,
            end=form.end.data,
            venue_ids=tuple(form.venue_ids.data),
            start_time=form.start_time.data,
            end_time=form.end_time.data,
            booth_count=form.booth_count.data,
            blackout_dates=form.parsed_blackouts,
            fit_to_venue=form.fit_to_venue.data,
        )
        confirming = request.form.get("action") == "confirm"
        with saving(form) as saved:  # a preview stores nothing: it commits an empty change
            if confirming:
                created, left_out = schedule.create_season(
                    settings, actor=current_user, expected=form.plan.data or None
                )
            else:
                plan = schedule.plan_season(settings)
        if saved and confirming:
            flash(schedule.season_message(created, left_out, settings.booth_count), "success")
            return redirect(url_for("markets.index"))
        if isinstance(saved.error, schedule.PlanChanged):  # show the plan as it is now
            flash(saved.error.errors["plan"], "warning")
            plan = schedule.plan_season(settings)
    if plan is not None:
        form.plan.data = schedule.plan_fingerprint(plan)
    return render_template("markets/season.html", form=form, venues=venues, plan=plan)


def register_template_helpers(app: Flask) -> None:
    """Market status labels (every area's pages show them) and the season
    preview's helpers, in every template; the app factory calls it."""
    app.add_template_global(services.status_label, "status_label")
    for helper in (schedule.left_out_groups, schedule.fittable_venues, schedule.fittable_text):
        app.add_template_global(helper)
