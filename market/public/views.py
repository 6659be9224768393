"""Pages anyone can open: the schedule, one market, past markets, calendars."""

from datetime import UTC, datetime

from flask import Blueprint, Flask, Response, current_app, render_template, request, url_for

from market import calendar
from market.booths import screens as booth_screens
from market.booths.models import Booth
from market.core import versions
from market.core.fragments import render_cached
from market.core.pagecache import unlimited, whole_page
from market.core.pagination import paginate
from market.extensions import db
from market.markets import services
from market.markets.models import Market, MarketStatus, Venue
from market.timeutil import today_seoul, utcnow
from market.vendors.models import Application, Vendor

bp = Blueprint("public", __name__)

# What the public pages show: markets with their venues, booths and the
# enterprises in them (names, categories); the invitation answer page shows
# the enterprises with an assigned application. A change to any of these
# tables moves the "public" version, and the kept pages with it.
PUBLIC = "public"
versions.watch(
    PUBLIC,
    Market.__table__,
    Venue.__table__,
    Booth.__table__,
    Vendor.__table__,
    Application.__table__,
)

ICS_MIMETYPE = "text/calendar"  # Flask adds "; charset=utf-8"


def _market_url(market: Market) -> str:
    return url_for("public.market", market_id=market.id, _external=True)


def market_card(market: Market):
    """A market's card in the public lists, rendered once for the values it shows."""
    venue = market.venue
    key = (
        market.id,
        market.market_date,
        market.start_time,
        market.end_time,
        market.status,
        market.cancel_reason,
        venue.name,
        venue.address,
        venue.map_url,
    )
    return render_cached("public/_market_row.html", key, market=market)


def register_template_helpers(app: Flask) -> None:
    """The public lists' market card in every template; the app factory calls it."""
    app.add_template_global(market_card)


# ?cancelled=hide leaves cancelled markets out of the public lists.
HIDE = "hide"


def _hiding_cancelled() -> bool:
    """Links keep the filter (pagination's link_args, the lists' own links).
    The cards are cached per market and never per list, so the filter is in
    no cache key, and none needs it."""
    return request.args.get("cancelled") == HIDE


def _listed(query):
    return query.where(Market.status != MarketStatus.CANCELLED) if _hiding_cancelled() else query


def _today() -> tuple:
    """The lists start or end at today (Korea's date)."""
    return (today_seoul(),)


@bp.route("/")
@whole_page(PUBLIC, vary=_today)
def schedule():
    page = paginate(_listed(services.upcoming_markets(today_seoul())), per_page=20)
    feed_url = url_for("public.calendar_feed", _external=True)
    return render_template(
        "public/schedule.html",
        page=page,
        webcal_url="webcal://" + feed_url.split("://", 1)[1],
        feed_url=feed_url,
        hide_cancelled=_hiding_cancelled(),
    )


@bp.route("/markets/past")
@whole_page(PUBLIC, vary=_today)
def past():
    return render_template(
        "public/past.html",
        page=paginate(_listed(services.past_markets(today_seoul()))),
        hide_cancelled=_hiding_cancelled(),
    )


@bp.route("/markets/<int:market_id>")
@whole_page(PUBLIC)
def market(market_id: int):
    market = db.get_or_404(Market, market_id)
    return render_template(
        "booths/public_market.html",
        market=market,
        google_link=calendar.google_calendar_link(market),
        booth_map=None if market.is_cancelled else booth_screens.public_map(market),
    )


@bp.route("/markets/<int:market_id>.ics")
def market_ics(market_id: int):
    market = db.get_or_404(Market, market_id)
    body = calendar.market_download(market, stamp=utcnow(), url=_market_url(market)).to_ical()
    response = Response(body, mimetype=ICS_MIMETYPE)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="goodmorning-market-{market.market_date.isoformat()}.ics"'
    )
    return response


@bp.route("/calendar.ics")
@unlimited
def calendar_feed():
    """The public feed. Clients poll it; an unchanged feed answers 304 after
    one primary-key SELECT (the public data version, market.core.versions)."""
    today = today_seoul()
    version = versions.current(PUBLIC)
    etag = f"{today.isoformat()}-{version or 0:x}"
    response = Response(mimetype=ICS_MIMETYPE)
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = 300
    cache = current_app.extensions.setdefault("market_feed_cache", {})
    key = (etag, request.host_url)
    if request.if_none_match.contains(etag):
        if key in cache:
            response.last_modified = cache[key][0]
        response.status_code = 304
        return response
    changed, body = cache.get(key) or _feed(cache, key, today)
    response.last_modified = changed
    since = request.if_modified_since
    if not request.if_none_match and since and since >= changed.replace(microsecond=0):
        response.status_code = 304
        return response
    response.set_data(body)
    return response


def _feed(cache: dict, key: tuple, today) -> tuple[datetime, bytes]:
    """The feed is a function of what its ETag stands for (and the host in
    its links), so each process keeps the last one built and serves it again
    to clients that poll without If-None-Match; building it took most of a
    feed request (benchmarks/results.md). Its Last-Modified is the newest
    change of the feed's markets and venues, read once per version."""
    _count, changed = services.feed_version(today)
    changed = changed or datetime(2000, 1, 1, tzinfo=UTC)
    feed = calendar.market_feed(
        services.feed_markets(today),
        name=current_app.config["CALENDAR_NAME"],
        stamp=changed,
        url_for=_market_url,
    )
    cache.clear()  # only the newest version is ever asked for
    cache[key] = (changed, feed.to_ical())
    return cache[key]
