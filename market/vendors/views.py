"""Pages anyone can open: the directory of enterprises, registration, and an
enterprise's private calendar feed (its token is the only key)."""

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from market import calendar
from market.core.pagination import paginate
from market.core.transaction import saving
from market.core.web import enum_arg
from market.extensions import limiter
from market.timeutil import today_seoul, utcnow
from market.vendors import applications, services
from market.vendors.forms import RegistrationForm
from market.vendors.labels import CATEGORIES
from market.vendors.models import Category

bp = Blueprint("vendors_public", __name__, url_prefix="/vendors")

DIRECTORY_PAGE_SIZE = 20


@bp.route("/")
def directory():
    chosen = enum_arg(Category, "category")
    page = paginate(services.directory_query(chosen), per_page=DIRECTORY_PAGE_SIZE)
    return render_template(
        "vendors/directory.html", page=page, categories=CATEGORIES, chosen=chosen
    )


def _registration_limit() -> str:
    return current_app.config["REGISTRATION_RATE_LIMIT"]


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_registration_limit, methods=["POST"])
def register():
    if current_user.is_authenticated and current_user.vendor_id:
        return redirect(url_for("home.vendor"))
    form = RegistrationForm()
    if form.validate_on_submit():
        staff = current_user.is_authenticated and current_user.is_staff
        details = form.details()
        with saving(form) as saved:
            # Staff may learn that an email has a login; the public may not.
            registered = services.register_vendor(
                details, form.password.data, keep_accounts_private=not staff
            )
        if saved:
            if staff:
                vendor = registered[0]
                flash(_("%(name)s is registered.", name=vendor.name), "success")
                return redirect(url_for("vendors_staff.show", vendor_id=vendor.id))
            # The same words and the same next page whether a login was made
            # or the email already had one (its owner is mailed instead): no
            # signing in here, or the next page would tell the two apart.
            flash(
                _(
                    "We have received the registration of %(name)s. Open the link in the "
                    "mail we sent to confirm your email, then log in with your email and "
                    "password. The center will review it and tell you by email.",
                    name=details.name.strip(),
                ),
                "success",
            )
            return redirect(url_for("accounts.login"))
    return render_template("vendors/register.html", form=form)


def feed_urls(vendor) -> tuple[str, str]:
    """The enterprise's private calendar feed, as https and as webcal."""
    url = url_for("vendors_public.feed", token=vendor.feed_token, _external=True)
    return url, "webcal://" + url.split("://", 1)[1]


@bp.route("/feed/<token>.ics")
def feed(token: str):
    vendor = services.vendor_by_feed_token(token) or abort(404)
    markets = applications.assigned_markets(vendor, today_seoul())
    booths = applications.booth_numbers_for_feed(vendor.id, [m.id for m in markets])
    feed = calendar.market_feed(
        markets,
        name=f"{current_app.config['CALENDAR_NAME']} · {vendor.name}",
        stamp=utcnow(),
        url_for=lambda market: url_for("public.market", market_id=market.id, _external=True),
        booth_for=lambda market: booths.get(market.id),
    )
    response = Response(feed.to_ical(), mimetype="text/calendar")
    response.cache_control.private = True
    response.cache_control.max_age = 300
    response.headers["X-Robots-Tag"] = "noindex"
    return response
