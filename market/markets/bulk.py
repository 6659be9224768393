"""Opening several market days for applications at once (신청 받기 일괄).

Each market goes through `services.change_status`, as one opened by itself
(its SEQUENCE, audit entry and calendar signal). One transaction for the
lot: after 확인 the chosen markets are all open or, on an error, none is. A
market that is no longer "planned" (someone opened or cancelled it
meanwhile) is left as it is and named; a market whose date or application
deadline has passed is named too, since nobody could apply for it."""

from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import select

from market.core.bulk import Outcome
from market.extensions import db
from market.markets import services
from market.markets.audit_labels import market_name
from market.markets.models import Market, MarketStatus
from market.timeutil import format_seoul


def planned_markets(today: date, limit: int) -> list[Market]:
    return list(
        db.session.scalars(
            select(Market)
            .where(Market.status == MarketStatus.PLANNED, Market.market_date >= today)
            .order_by(Market.market_date, Market.id)
            .limit(limit)
        )
    )


def label(market: Market) -> str:
    """A market named by its day and where, as everywhere a list names one."""
    return market_name(market.market_date, market.venue.name)


def opening_plan(
    ids: tuple[int, ...], now: datetime, lock: bool = False
) -> tuple[list[Market], Outcome]:
    query = select(Market).where(Market.id.in_(ids)).order_by(Market.id)
    if lock:
        query = query.with_for_update(of=Market).execution_options(populate_existing=True)
    found = {m.id: m for m in db.session.scalars(query)} if ids else {}
    going, outcome = [], Outcome()
    for number in ids:
        market = found.get(number)
        if market is None:
            outcome.refused.append((_("No. %(id)d", id=number), _("There is no such market.")))
        elif market.status is not MarketStatus.PLANNED:
            reason = _(
                "It is already %(status)s; left as it is.",
                status=services.status_label(market.status),
            )
            outcome.refused.append((label(market), reason))
        elif market.application_deadline <= now:
            reason = _(
                "Its application deadline (%(deadline)s) has passed.",
                deadline=format_seoul(market.application_deadline),
            )
            outcome.refused.append((label(market), reason))
        else:
            going.append(market)
            outcome.done.append(label(market))
            outcome.ids.append(market.id)
    return going, outcome


def open_many(ids: tuple[int, ...], actor, now: datetime) -> Outcome:
    """Opens each chosen planned market; the caller commits once."""
    going, outcome = opening_plan(ids, now, lock=True)
    for market in going:
        services.change_status(market, MarketStatus.OPEN, actor=actor)
    return outcome
