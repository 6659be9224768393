"""Rules for venues and market days. No Flask request in here: views, CLI
commands and tests all call these with plain values."""

from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays
from blinker import Namespace
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, text

from market.audit.services import describe_actions, record
from market.core.i18n import label_text
from market.core.rules import RuleError, flush_or_refuse
from market.extensions import db
from market.markets.models import (
    MAX_BOOTHS,
    MIN_BOOTHS,
    THURSDAY,
    Market,
    MarketStatus,
    Venue,
    new_calendar_uid,
)
from market.timeutil import SEOUL, format_won, today_seoul
from market.validators import one_line

signals = Namespace()
# Sent after a change to a market's date, time, place or status has been
# flushed (not yet committed): listeners such as invitations queue updates in
# the same transaction.
market_calendar_changed = signals.signal("market-calendar-changed")
# Asked before a venue's new name or address is saved: each receiver answers
# how many people that change of place would mail (the invitations area
# counts its invitees), so staff are warned without this area knowing who
# mails whom.
place_change_audience = signals.signal("place-change-audience")
# Asked, with the market row locked, before its takings ceiling is lowered:
# each receiver answers the amount already entered against that market (the
# takings area answers its total), so the ceiling never goes below what was
# taken without this area knowing about takings.
ceiling_floor = signals.signal("ceiling-floor")

# What calendar clients care about: a change here raises the SEQUENCE.
# "location" is the LOCATION line (the venue's name and address), so moving a
# market and correcting its venue's name or address are the same change of place.
CALENDAR_FIELDS = ("market_date", "start_time", "end_time", "venue_id", "location", "status")
# Markets that are over or called off keep the place they were announced with.
SETTLED = (MarketStatus.CANCELLED, MarketStatus.CLOSED)

STATUS_FLOW = {
    MarketStatus.PLANNED: {MarketStatus.OPEN, MarketStatus.CANCELLED},
    MarketStatus.OPEN: {MarketStatus.PLANNED, MarketStatus.ASSIGNED, MarketStatus.CANCELLED},
    MarketStatus.ASSIGNED: {MarketStatus.OPEN, MarketStatus.HELD, MarketStatus.CANCELLED},
    MarketStatus.HELD: {MarketStatus.CLOSED},
    MarketStatus.CLOSED: set(),
    MarketStatus.CANCELLED: {MarketStatus.PLANNED},
}


SATURDAY = 5  # date.weekday()

# ₩10억: far above any market day; catches extra zeros (and a number no
# database column holds), when a market is saved and when staff raise it.
MAX_CEILING = 1_000_000_000


class MarketRuleError(RuleError):
    """A refused change of a venue or market day."""


@dataclass
class MarketDetails:
    market_date: date
    start_time: time
    end_time: time
    venue_id: int
    booth_count: int
    application_deadline: datetime
    takings_ceiling: int
    date_exception_reason: str | None = None
    note: str | None = None


# -- defaults ---------------------------------------------------------------


def default_times() -> tuple[time, time]:
    config = current_app.config
    return time.fromisoformat(config["MARKET_START"]), time.fromisoformat(config["MARKET_END"])


def default_deadline(market_date: date) -> datetime:
    """18:00 Korea time on the Monday of the market's week; when that Monday
    is a public holiday (a substitute holiday, 설날), the working day before,
    since nobody at the center reads applications on a day off."""
    monday = market_date - timedelta(days=market_date.weekday())
    if monday == market_date:  # a Monday market: the Monday before
        monday -= timedelta(days=7)
    hour, minute = map(int, current_app.config["APPLICATION_DEADLINE_TIME"].split(":"))
    return datetime.combine(working_day_on_or_before(monday), time(hour, minute), tzinfo=SEOUL)


@lru_cache(maxsize=16)
def _public_holidays(year: int) -> frozenset[date]:
    """Korean public holidays of a year (holidays package, country KR, with
    substitute holidays), built once per year: a season asks for every week."""
    return frozenset(holidays.country_holidays("KR", years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < SATURDAY and day not in _public_holidays(day.year)


def working_day_on_or_before(day: date) -> date:
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def default_ceiling() -> int:
    return int(current_app.config["TAKINGS_CEILING_DEFAULT"])


def starts_at(market: Market) -> datetime:
    return datetime.combine(market.market_date, market.start_time, tzinfo=SEOUL)


def ends_at(market: Market) -> datetime:
    return datetime.combine(market.market_date, market.end_time, tzinfo=SEOUL)


# -- venues -----------------------------------------------------------------


def create_venue(
    name: str, address: str, booth_spots: int, map_url: str | None = None, actor=None
) -> Venue:
    _check_venue_name(name)
    venue = Venue(
        name=name.strip(), address=address.strip(), booth_spots=booth_spots, map_url=map_url or None
    )
    db.session.add(venue)
    flush_or_refuse(_name_taken())
    record(actor, "venue.create", venue, after=_venue_values(venue))
    return venue


def update_venue(
    venue: Venue, name: str, address: str, booth_spots: int, map_url: str | None, actor=None
) -> list[Market]:
    """Saves the venue; returns the upcoming markets whose place changed.

    A new name or address is a change of place for every upcoming market held
    there, so each goes through _after_change like a moved market: SEQUENCE
    raised, update mails queued. The map link and the number of spots are
    neither time nor place of anyone's calendar entry: they mail no one
    (feeds show the new map link at their next refresh)."""
    before = _venue_values(venue)
    if name.strip() != venue.name:
        _check_venue_name(name)
    upcoming = upcoming_markets_at(venue, today_seoul())
    largest = max((market.booth_count for market in upcoming), default=0)
    if booth_spots < largest:
        raise MarketRuleError(
            {
                "booth_spots": _(
                    "An upcoming market here has %(count)d booths; "
                    "the venue needs at least that many spots.",
                    count=largest,
                )
            }
        )
    markets_before = [(market, market_values(market)) for market in upcoming]
    venue.name, venue.address = name.strip(), address.strip()
    venue.booth_spots, venue.map_url = booth_spots, map_url or None
    flush_or_refuse(_name_taken())
    record(actor, "venue.update", venue, before=before, after=_venue_values(venue))
    for market, market_before in markets_before:
        _after_change(market, market_before, actor, "market.update")
    return [market for market, old in markets_before if market.sequence != old["sequence"]]


def changes_place(venue: Venue, name: str, address: str) -> bool:
    """A new name or address: for update_venue a change of place of every
    upcoming market held there (the map link and the spots are not)."""
    return (name.strip(), address.strip()) != (venue.name, venue.address)


def place_change_audience_count(markets: list[Market], now: datetime) -> int:
    """How many people a change of place of these markets would mail."""
    answers = place_change_audience.send(None, markets=markets, now=now)
    return sum(count for _receiver, count in answers)


def upcoming_markets_at(venue: Venue, today: date) -> list[Market]:
    """Markets at this venue from `today` (Korea's date) on that still take
    place: the calendar entries a change of the venue reaches."""
    return list(
        db.session.scalars(
            select(Market)
            .where(
                Market.venue_id == venue.id,
                Market.market_date >= today,
                Market.status.not_in(SETTLED),
            )
            .order_by(Market.market_date, Market.id)
        )
    )


def delete_venue(venue: Venue, actor=None) -> None:
    used = market_count_at(venue)
    if used:
        raise MarketRuleError(
            {
                "venue": _(
                    "This venue cannot be deleted: %(count)d markets are held there. "
                    "Change or delete those markets first.",
                    count=used,
                )
            }
        )
    record(actor, "venue.delete", venue, before=_venue_values(venue))
    db.session.delete(venue)
    db.session.flush()


def market_count_at(venue: Venue) -> int:
    return db.session.scalar(select(func.count()).where(Market.venue_id == venue.id))


def _check_venue_name(name: str) -> None:
    if db.session.scalar(select(Venue.id).where(Venue.name == name.strip())):
        raise _name_taken()


def _name_taken() -> MarketRuleError:
    """The refusal of a second venue of that name, from the check or the
    unique constraint (two staff saving at once)."""
    return MarketRuleError({"name": _("A venue with this name already exists.")})


def _venue_values(venue: Venue) -> dict:
    return {
        "name": venue.name,
        "address": venue.address,
        "booth_spots": venue.booth_spots,
        "map_url": venue.map_url,
    }


# -- markets ----------------------------------------------------------------


def ceiling_too_high_message() -> str:
    return _("A ceiling above %(max)s is surely a typing error.", max=format_won(MAX_CEILING))


def ceiling_error(ceiling: int) -> str | None:
    """What is wrong with a ceiling on its own, wherever it is set (the
    market form, the takings page's ceiling form), or None."""
    if ceiling <= 0:
        return _("The takings ceiling must be more than 0 won.")
    if ceiling > MAX_CEILING:
        return ceiling_too_high_message()
    return None


def taken_against_ceiling(market_id: int) -> int:
    """The takings already entered for the market (asked of the areas that
    keep them); call it with the market locked, so none arrive meanwhile."""
    answers = ceiling_floor.send(None, market_id=market_id)
    return max((amount for _receiver, amount in answers), default=0)


def below_taken_message(taken: int) -> str:
    return _(
        "Takings of %(taken)s have already been entered for this market; "
        "the ceiling cannot be lower than that.",
        taken=format_won(taken),
    )


def record_ceiling_change(actor, market: Market, before: int, reason: str) -> None:
    """The audit entry of a changed ceiling, the same from every form."""
    record(
        actor,
        "takings.ceiling",
        market,
        before={"takings_ceiling": before},
        after={"takings_ceiling": market.takings_ceiling},
        reason=reason,
    )


def check_market(details: MarketDetails, venue: Venue | None, market: Market | None = None) -> dict:
    """Every rule a market day must keep; an empty dict means it may be saved."""
    errors: dict[str, str] = {}
    if venue is None:
        errors["venue_id"] = _("Choose a venue.")
    if not MIN_BOOTHS <= details.booth_count <= MAX_BOOTHS:
        errors["booth_count"] = _(
            "A market has between %(min)d and %(max)d booths.", min=MIN_BOOTHS, max=MAX_BOOTHS
        )
    elif venue is not None and details.booth_count > venue.booth_spots:
        errors["booth_count"] = _(
            "%(venue)s has room for at most %(spots)d booths.",
            venue=venue.name,
            spots=venue.booth_spots,
        )
    if (
        details.market_date.weekday() != THURSDAY
        and not (details.date_exception_reason or "").strip()
    ):
        errors["date_exception_reason"] = _(
            "The market is held on Thursdays. For another day, write the reason for the exception."
        )
    if details.end_time <= details.start_time:
        errors["end_time"] = _("The market must end after it starts.")
    start = datetime.combine(details.market_date, details.start_time, tzinfo=SEOUL)
    if details.application_deadline > start:
        errors["application_deadline"] = _(
            "The application deadline must be before the market starts."
        )
    if message := ceiling_error(details.takings_ceiling):
        errors["takings_ceiling"] = message
    if venue is not None and "market_date" not in errors and _taken(details, market):
        errors["market_date"] = _(
            "There is already a market at %(venue)s on this date.", venue=venue.name
        )
    return errors


def _taken(details: MarketDetails, market: Market | None) -> bool:
    query = select(Market.id).where(
        Market.market_date == details.market_date, Market.venue_id == details.venue_id
    )
    if market is not None and market.id is not None:
        query = query.where(Market.id != market.id)
    return db.session.scalar(query) is not None


def create_market(details: MarketDetails, actor=None) -> Market:
    venue = db.session.get(Venue, details.venue_id)
    errors = check_market(details, venue)
    if errors:
        raise MarketRuleError(errors)
    market = Market(
        uid=new_calendar_uid(current_app.config["CALENDAR_UID_DOMAIN"]),
        status=MarketStatus.PLANNED,
        sequence=0,
        venue=venue,
    )
    _apply(market, details)
    db.session.add(market)
    taken = _("There is already a market at %(venue)s on this date.", venue=venue.name)
    flush_or_refuse(MarketRuleError({"market_date": taken}))
    record(actor, "market.create", market, after=market_values(market))
    return market


def update_market(
    market: Market, details: MarketDetails, actor=None, ceiling_reason: str | None = None
) -> Market:
    """A changed takings ceiling needs a reason and is audited as the takings
    page's ceiling form does it; it may not go below the takings entered."""
    venue = db.session.get(Venue, details.venue_id)
    errors = check_market(details, venue, market)
    ceiling_reason = (ceiling_reason or "").strip()
    changes_ceiling = details.takings_ceiling != market.takings_ceiling
    if changes_ceiling and not ceiling_reason and "takings_ceiling" not in errors:
        errors["ceiling_reason"] = _("Write why the ceiling is changed.")
    if errors:
        raise MarketRuleError(errors)
    if changes_ceiling:
        # Locked before the takings are summed: a vendor saving meanwhile
        # waits, and then sees the new ceiling (takings.services does the same).
        lock_market(market.id)
        taken = taken_against_ceiling(market.id)
        if details.takings_ceiling < taken:
            raise MarketRuleError({"takings_ceiling": below_taken_message(taken)})
    before = market_values(market)
    _apply(market, details)
    market.venue = venue
    _after_change(market, before, actor, "market.update")
    if before["takings_ceiling"] != market.takings_ceiling:
        record_ceiling_change(actor, market, before["takings_ceiling"], ceiling_reason)
    return market


def change_status(
    market: Market, status: MarketStatus, actor=None, reason: str | None = None
) -> Market:
    status = MarketStatus(status)
    if status not in STATUS_FLOW[market.status]:
        raise MarketRuleError(
            {
                "status": _(
                    "A market that is %(current)s cannot become %(new)s.",
                    current=status_label(market.status),
                    new=status_label(status),
                )
            }
        )
    if status is MarketStatus.CANCELLED and not (reason or "").strip():
        raise MarketRuleError({"reason": _("Write why the market is cancelled; visitors see it.")})
    before = market_values(market)
    market.status = status
    market.cancel_reason = reason.strip() if status is MarketStatus.CANCELLED else None
    _after_change(market, before, actor, "market.status", reason=reason)
    return market


def _apply(market: Market, details: MarketDetails) -> None:
    for field in fields(MarketDetails):
        value = getattr(details, field.name)
        if isinstance(value, str):
            value = value.strip() or None
        setattr(market, field.name, value)


def _after_change(market: Market, before: dict, actor, action: str, reason: str | None = None):
    after = market_values(market)
    changed = [name for name in CALENDAR_FIELDS if before[name] != after[name]]
    if changed:
        market.sequence += 1
        after["sequence"] = market.sequence
    flush_or_refuse(
        MarketRuleError({"market_date": _("There is already a market at this venue on this date.")})
    )
    record(actor, action, market, before=before, after=after, reason=reason)
    if changed:
        market_calendar_changed.send(market, changed=changed)


def market_location(market: Market) -> str:
    """The LOCATION line of the market's calendar entry (one line: a name
    stored with a line break before the forms refused them stays readable)."""
    return f"{one_line(market.venue.name)}, {one_line(market.venue.address)}"


def market_values(market: Market) -> dict:
    values = {
        name: getattr(market, name)
        for name in (
            *(f.name for f in fields(MarketDetails)),
            "status",
            "cancel_reason",
            "sequence",
        )
    }
    values["location"] = market_location(market)
    return {
        key: (
            value.isoformat()
            if hasattr(value, "isoformat")
            else value.value
            if hasattr(value, "value")
            else value
        )
        for key, value in values.items()
    }


STATUS_LABELS = {
    MarketStatus.PLANNED: _l("planned"),
    MarketStatus.OPEN: _l("open for applications"),
    MarketStatus.ASSIGNED: _l("booths assigned"),
    MarketStatus.HELD: _l("held"),
    MarketStatus.CLOSED: _l("closed"),
    MarketStatus.CANCELLED: _l("cancelled"),
}


def lock_market(market_id: int) -> Market | None:
    """The market, freshly read and locked for the rest of the transaction,
    so that two people changing its booths or takings at once take turns.

    PostgreSQL: SELECT … FOR UPDATE; a second writer waits until the first
    commits, and (at READ COMMITTED, the default) its next statement sees the
    first's rows. SQLite has one writer at a time and no row locks: the write
    lock is taken before anything is read, with BEGIN IMMEDIATE when no
    transaction is open (a deferred one could hold a read lock it cannot
    upgrade), otherwise by a no-op write on the market row."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        driver = connection.connection.driver_connection
        if not driver.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            db.session.execute(text("UPDATE markets SET id = id WHERE id = :id"), {"id": market_id})
    return db.session.scalar(
        select(Market)
        .where(Market.id == market_id)
        .with_for_update(of=Market)
        .execution_options(populate_existing=True)
    )


def status_label(status: MarketStatus) -> str:
    """Lists call it for every row: translated once per language (label_text)."""
    return label_text(STATUS_LABELS[MarketStatus(status)])


# -- queries for pages ------------------------------------------------------


def venues_by_name() -> list[Venue]:
    return list(db.session.scalars(select(Venue).order_by(Venue.name)))


def venues_with_market_counts() -> list[tuple[Venue, int]]:
    """Every venue with how many markets it has held or will hold, in one query."""
    query = (
        select(Venue, func.count(Market.id))
        .outerjoin(Market, Market.venue_id == Venue.id)
        .group_by(Venue.id)
        .order_by(Venue.name)
    )
    return [(venue, count) for venue, count in db.session.execute(query)]


def upcoming_markets(today: date, limit: int | None = None):
    query = (
        select(Market)
        .where(Market.market_date >= today)
        .order_by(Market.market_date, Market.start_time, Market.id)
    )
    return query.limit(limit) if limit else query


def past_markets(today: date):
    return (
        select(Market)
        .where(Market.market_date < today)
        .order_by(Market.market_date.desc(), Market.id.desc())
    )


def feed_markets(today: date) -> list[Market]:
    """Recent past and every upcoming market, in one query (venue joined)."""
    since = today - timedelta(days=current_app.config["CALENDAR_FEED_PAST_DAYS"])
    return list(
        db.session.scalars(
            select(Market)
            .where(Market.market_date >= since)
            .order_by(Market.market_date, Market.id)
        )
    )


def feed_version(today: date) -> tuple[int, datetime | None]:
    """Count and newest change of the feed's markets and their venues: a cheap
    ETag source, so a client polling an unchanged feed costs one small query."""
    since = today - timedelta(days=current_app.config["CALENDAR_FEED_PAST_DAYS"])
    count, market_changed, venue_changed = db.session.execute(
        select(func.count(Market.id), func.max(Market.updated_at), func.max(Venue.updated_at))
        .join(Market.venue)
        .where(Market.market_date >= since)
    ).one()
    changes = [value for value in (market_changed, venue_changed) if value is not None]
    return count, max(changes) if changes else None


describe_actions(
    {
        "venue.create": _l("Venue added"),
        "venue.update": _l("Venue changed"),
        "venue.delete": _l("Venue deleted"),
        "market.create": _l("Market created"),
        "market.update": _l("Market changed"),
        "market.status": _l("Market status changed"),
        "takings.ceiling": _l("Takings ceiling changed"),
    },
    {"venues": _l("Venue"), "markets": _l("Market")},
)
