"""Staff pages for the booths of one market: preview and confirm, manual
changes, and attendance on market day. Thin: each POST validates a small form,
calls one service, commits once, and goes back to the page it came from."""

from collections.abc import Callable

from flask import (
    Blueprint,
    Flask,
    flash,
    get_template_attribute,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from market.accounts.decorators import staff_required
from market.booths import changes, forms, screens, services, sheet
from market.booths.attendance import mark_all_present, mark_attendance
from market.booths.loading import BoothRuleError
from market.booths.models import Attendance
from market.core import pagecache
from market.core.bulk import BulkForm
from market.core.fragments import cached
from market.core.signed_in_pages import signed_in_page
from market.core.transaction import saving
from market.extensions import db
from market.markets.models import Market
from market.outbox.services import unbuilt_count
from market.timeutil import today_seoul, utcnow
from market.vendors import applications

bp = Blueprint("booths", __name__, url_prefix="/staff/markets/<int:market_id>")


def booth_map_svg(booth_map, id: str = "booth-map"):
    """templates/booths/_map.html's drawing of a map, once per map, id and language."""

    def draw():  # only on a miss: loading the macro builds the template's module
        return Markup(get_template_attribute("booths/_map.html", "booth_map")(booth_map, id))

    return cached("booth-map-svg", (booth_map, id), draw)


def register_template_helpers(app: Flask) -> None:
    """The booth map's drawing in every template (the public market page
    shows it too); the app factory calls it."""
    app.add_template_global(booth_map_svg)


@bp.route("/booths")
@staff_required
@signed_in_page()
def index(market_id: int):
    """Kept per data version and day (market.core.signed_in_pages). The
    preview's "deadline not passed yet" notice goes at the deadline with no
    data changing, so the kept page ends there; a new clock rule here must
    end it too (pagecache.valid_until)."""
    market = db.get_or_404(Market, market_id)
    now = utcnow()
    pagecache.valid_until(applications.next_deadline([market], now))
    confirmed = services.booths_confirmed(market)
    current = screens.current(market, names_only=True) if confirmed else None
    plan = None
    if market.status in services.ASSIGNABLE and (not confirmed or request.args.get("preview")):
        try:
            plan = services.preview(market)
        except BoothRuleError as error:
            flash(str(error), "error")
    shown = plan or current
    candidates = current.pinnable if current else (plan.pinnable if plan else [])
    return render_template(
        "booths/index.html",
        market=market,
        plan=plan,
        current=current,
        booth_map=screens.staff_map(market, shown) if shown else None,
        confirm_form=forms.ConfirmForm(
            fingerprint=plan.fingerprint if plan else "", replace="1" if confirmed else ""
        ),
        today=today_seoul(),
        pin_candidates=candidates,
        pinned=[a for a in candidates if a.pinned_booth],
        deadline_passed=applications.deadline_passed(market, now),
    )


@bp.route("/booths/sheet")
@staff_required
def market_sheet(market_id: int):
    """The market-day sheet to print on A4 (static/css/sheet.css)."""
    market = db.get_or_404(Market, market_id)
    if not services.booths_confirmed(market):
        flash(_("The market-day sheet can be printed once the booths are confirmed."), "info")
        return redirect(url_for("booths.index", market_id=market.id))
    return render_template("booths/sheet.html", sheet=sheet.market_sheet(market), market=market)


@bp.route("/booths/confirm", methods=["POST"])
@staff_required
def confirm(market_id: int):
    market = db.get_or_404(Market, market_id)
    form = forms.ConfirmForm()
    if not form.validate_on_submit():
        _form_errors(form)
        return redirect(url_for("booths.index", market_id=market.id, preview=form.replace.data))
    unbuilt = unbuilt_count()
    with saving() as saved:
        plan = services.confirm(
            market.id,
            current_user,
            replace=bool(form.replace.data),
            expected=form.fingerprint.data or None,
        )
    if not saved:
        return redirect(url_for("booths.index", market_id=market.id))
    counts = {
        "assigned": plan.assigned_count,
        "waiting": len(plan.waitlist),
        "declined": len(plan.declined),
    }
    if failed := unbuilt_count() - unbuilt:  # say so, never "each gets an email"
        message = _(
            "The booths are confirmed: %(assigned)d assigned, %(waiting)d waiting, "
            "%(declined)d not accepted. But %(failed)d of the emails could not be built and "
            "were not sent: see the reason in the outbox.",
            failed=failed,
            **counts,
        )
        flash(message, "warning")
    else:
        message = _(
            "The booths are confirmed: %(assigned)d assigned, %(waiting)d waiting, "
            "%(declined)d not accepted. Each enterprise gets an email.",
            **counts,
        )
        flash(message, "success")
    return redirect(url_for("booths.index", market_id=market.id))


def _change(market_id: int, form, action: Callable[[], object], done: str, anchor: str = ""):
    """Validate, act, commit once; a refusal is flashed and nothing is kept."""
    market = db.get_or_404(Market, market_id)
    if not form.validate_on_submit():
        _form_errors(form)
    else:
        unbuilt = unbuilt_count()
        with saving() as saved:
            action()
        if saved and unbuilt_count() > unbuilt:  # `done` would claim a mail that is not going
            flash(
                _(
                    "The change was saved. But the notification mail could not be built, "
                    "so the enterprise was not emailed: see the reason in the outbox."
                ),
                "warning",
            )
        elif saved:
            flash(done, "success")
    return redirect(url_for("booths.index", market_id=market.id, _anchor=anchor or None))


def _form_errors(form) -> None:
    for errors in form.errors.values():
        for message in errors:
            flash(message, "error")


@bp.route("/booths/move", methods=["POST"])
@staff_required
def move(market_id: int):
    form = forms.MoveForm()
    return _change(
        market_id,
        form,
        lambda: changes.move(market_id, form.number.data, form.to_number.data, current_user),
        _("Moved to booth %(number)s; the enterprise gets an email.", number=form.to_number.data),
        "booths",
    )


@bp.route("/booths/swap", methods=["POST"])
@staff_required
def swap(market_id: int):
    form = forms.SwapForm()
    return _change(
        market_id,
        form,
        lambda: changes.swap(market_id, form.number.data, form.other.data, current_user),
        _(
            "Booths %(one)s and %(other)s swapped; both enterprises get an email.",
            one=form.number.data,
            other=form.other.data,
        ),
        "booths",
    )


@bp.route("/booths/pin", methods=["POST"])
@staff_required
def pin(market_id: int):
    form = forms.PinForm()
    return _change(
        market_id,
        form,
        lambda: changes.pin(market_id, form.application_id.data, form.number.data, current_user),
        _(
            "Pinned to booth %(number)s. The pin is kept for every assignment of this market.",
            number=form.number.data,
        ),
        "pins",
    )


@bp.route("/booths/unpin", methods=["POST"])
@staff_required
def unpin(market_id: int):
    form = forms.UnpinForm()
    return _change(
        market_id,
        form,
        lambda: changes.unpin(market_id, form.application_id.data, current_user),
        _("The pin was removed."),
        "pins",
    )


@bp.route("/booths/unassign", methods=["POST"])
@staff_required
def unassign(market_id: int):
    form = forms.UnassignForm()
    return _change(
        market_id,
        form,
        lambda: changes.unassign(market_id, form.number.data, current_user),
        _(
            "Booth %(number)s is empty now; the enterprise went to the end of the waitlist "
            "and gets an email.",
            number=form.number.data,
        ),
        "booths",
    )


@bp.route("/booths/add", methods=["POST"])
@staff_required
def add(market_id: int):
    form = forms.AddForm()
    return _change(
        market_id,
        form,
        lambda: changes.add_from_waitlist(
            market_id, form.application_id.data, form.number.data, current_user
        ),
        _("Booth %(number)s assigned; the enterprise gets an email.", number=form.number.data),
        "booths",
    )


@bp.route("/attendance", methods=["GET", "POST"])
@staff_required
def attendance(market_id: int):
    """Market day on a phone: one card per booth, big present / no-show buttons."""
    market = db.get_or_404(Market, market_id)
    if request.method == "POST":
        form = forms.AttendanceForm()
        number = request.form.get("number", type=int)
        if form.validate_on_submit() and number:
            value = Attendance(form.value.data) if form.value.data else None
            with saving():
                mark_attendance(market.id, number, value, current_user)
        else:
            flash(_("Choose a booth and present or no-show."), "error")
        return redirect(
            url_for("booths.attendance", market_id=market.id, _anchor=f"booth-{number or ''}")
        )
    rows = screens.attendance_rows(market)
    return render_template(
        "booths/attendance.html",
        market=market,
        rows=rows,
        counts={
            value: sum(1 for booth, _vendor in rows if booth.attendance == value)
            for value in (Attendance.PRESENT, Attendance.NO_SHOW, None)
        },
        open_today=market.market_date <= today_seoul(),
        attendance_present=Attendance.PRESENT,
        attendance_no_show=Attendance.NO_SHOW,
        form=forms.AttendanceForm(),
    )


@bp.route("/attendance/all-present", methods=["GET", "POST"])
@staff_required
def all_present(market_id: int):
    """Every booth not marked yet becomes present, after one 확인 (GET shows
    how many; booths already marked stay as they are)."""
    market = db.get_or_404(Market, market_id)
    form = BulkForm()
    if request.method == "POST":
        if form.validate_on_submit():
            with saving() as saved:
                count = mark_all_present(market.id, current_user)
            if saved:
                flash(_("%(count)d booths marked present.", count=count), "success")
        else:
            flash(_("The form expired. Press the button again."), "error")
        return redirect(url_for("booths.attendance", market_id=market.id))
    rows = screens.attendance_rows(market)
    return render_template(
        "booths/all_present.html",
        market=market,
        form=form,
        unmarked=[vendor.name for booth, vendor in rows if booth.attendance is None],
        marked=sum(1 for booth, _vendor in rows if booth.attendance is not None),
        open_today=market.market_date <= today_seoul(),
    )
