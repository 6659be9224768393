"""Demo invitations: the best customers invited to the next open market, so
`make run` shows real iMIP mail in instance/mail/ (idempotent)."""

from sqlalchemy import select

from market.extensions import db
from market.invitations import sending
from market.invitations.models import Invitation
from market.invitations.ranking import RankingOptions, rank_customers
from market.markets.models import Market, MarketStatus
from market.timeutil import today_seoul, utcnow

DEMO_INVITATIONS = 15


def seed_invitations() -> list[str]:
    now = utcnow()
    market = db.session.scalar(
        select(Market)
        .where(Market.status == MarketStatus.OPEN, Market.market_date >= today_seoul())
        .order_by(Market.market_date)
    )
    if market is None or db.session.scalar(
        select(Invitation.id).where(Invitation.market_id == market.id)
    ):
        return []
    ranked = rank_customers(market, RankingOptions(top_n=DEMO_INVITATIONS), now)
    result = sending.invite(market, [r.customer_id for r in ranked], actor=None, now=now)
    return [f"{result.invited} invitations to the market on {market.market_date}"]
