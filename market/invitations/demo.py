"""Demo invitations, so `make run` shows the features working:

- the next market on the staff dashboard gets invitations sent from a
  ranking through the real service (`sending.invite`) with the default
  10 % control group, and some answers from the page and from calendar
  apps: its funnel and its send are not all zeros;
- a past market has a send with a control group large enough for the
  effect report to give a verdict (at least effect.MIN_GROUP customers in
  each group), answers and visits, and some extra online orders after the
  market from the invited customers (a planted uplift, like the one
  tests/test_effect.py plants), so "what the invitations achieved" shows a
  result. A past market takes no invitations any more, so that send is
  written directly as demo history, with the service's own control draw.

Idempotent: a market that has a send already is left alone. The draws use
fixed seeds, so the counts are the same on every run."""

import random
from datetime import datetime, time, timedelta

from sqlalchemy import select

from market.accounts.services import find_user_by_email
from market.customers.models import Order
from market.extensions import db
from market.invitations import answers, passes, sending
from market.invitations.effect import MIN_GROUP, WINDOW_DAYS
from market.invitations.models import (
    AnswerSource,
    ControlCustomer,
    Invitation,
    InvitationSend,
    InvitationStatus,
)
from market.invitations.ranking import RankingOptions, rank_customers
from market.markets.models import Market, MarketStatus
from market.timeutil import SEOUL, today_seoul, utcnow

DEMO_STAFF = "staff@demo.market.kr"
# The past market's send: 40 % of 80 held back gives 32 control and 48
# invited customers, both at least effect.MIN_GROUP.
PAST_CHOSEN = 80
PAST_PERCENT = 40
PAST_SEED = 2026
# Answers to the next market: (page answers, calendar answers).
NEXT_ANSWERS = (
    (InvitationStatus.ACCEPTED, InvitationStatus.ACCEPTED, InvitationStatus.TENTATIVE,
     InvitationStatus.DECLINED, InvitationStatus.ACCEPTED, InvitationStatus.TENTATIVE),
    (InvitationStatus.ACCEPTED, InvitationStatus.DECLINED, InvitationStatus.ACCEPTED,
     InvitationStatus.TENTATIVE),
)  # fmt: skip


def seed_invitations() -> list[str]:
    now = utcnow()
    staff = find_user_by_email(DEMO_STAFF)
    return _next_market(now, staff) + _past_market(now, staff)


def _has_send(market: Market) -> bool:
    return bool(
        db.session.scalar(select(Invitation.id).where(Invitation.market_id == market.id).limit(1))
        or db.session.scalar(
            select(InvitationSend.id).where(InvitationSend.market_id == market.id).limit(1)
        )
    )


def _next_market(now: datetime, staff) -> list[str]:
    """The dashboard's next market (the first not cancelled from today on)
    if it still takes invitations, else the next one that does."""
    upcoming = db.session.scalars(
        select(Market)
        .where(Market.market_date >= today_seoul(), Market.status != MarketStatus.CANCELLED)
        .order_by(Market.market_date, Market.id)
        .limit(3)
    )
    market = next((m for m in upcoming if sending.takes_invitations(m, now)), None)
    if market is None or _has_send(market):
        return []
    options = RankingOptions()  # the page's defaults: the top 50
    ranked = rank_customers(market, options, now)
    result = sending.invite(
        market,
        [row.customer_id for row in ranked],
        staff,
        now,
        control_percent=sending.DEFAULT_CONTROL_PERCENT,
        options=options,
    )
    page, calendar = NEXT_ANSWERS
    for invitation, choice in zip(result.invitations, page, strict=False):
        answers.answer(invitation.token, choice, now)
    for invitation, choice in zip(result.invitations[len(page) :], calendar, strict=False):
        given = answers.GivenAnswer(choice, AnswerSource.CALENDAR, now, invitation.sequence_sent)
        answers.record_answer(invitation, given, now)
    return [
        f"{result.invited} invitations to the market on {market.market_date} "
        f"({len(result.held_back)} held back as the control group)"
    ]


def _past_market(now: datetime, staff) -> list[str]:
    """The newest closed market whose 30 days after are over (the effect
    report waits for those orders)."""
    last = today_seoul() - timedelta(days=WINDOW_DAYS + 1)
    market = db.session.scalar(
        select(Market)
        .where(Market.market_date <= last, Market.status == MarketStatus.CLOSED)
        .order_by(Market.market_date.desc(), Market.id.desc())
        .limit(1)
    )
    if market is None or _has_send(market):
        return []
    sent_at = datetime.combine(market.market_date - timedelta(days=7), time(10), SEOUL)
    options = RankingOptions(top_n=PAST_CHOSEN)
    ranked = [row.customer_id for row in rank_customers(market, options, sent_at)]
    held = sending.draw_control(ranked, PAST_PERCENT, PAST_SEED)
    if len(held) < MIN_GROUP or len(ranked) - len(held) < MIN_GROUP:
        return []  # too few demo customers with consent: nothing to show
    send = InvitationSend(
        market_id=market.id,
        sent_at=sent_at,
        sent_by_id=getattr(staff, "id", None),
        top_n=options.top_n,
        window_days=options.window_days,
        assigned_vendors_only=options.assigned_vendors_only,
        min_orders=options.min_orders,
        skip_invited_weeks=options.skip_invited_weeks,
        control_percent=PAST_PERCENT,
        control_seed=PAST_SEED,
        chosen=len(ranked),
        invited=len(ranked) - len(held),
        held_back=len(held),
    )
    db.session.add(send)
    db.session.flush()
    db.session.add_all(
        ControlCustomer(send_id=send.id, market_id=market.id, customer_id=customer_id)
        for customer_id in held
    )
    left = set(held)
    invited = [customer_id for customer_id in ranked if customer_id not in left]
    rng = random.Random(PAST_SEED)
    market_day = datetime.combine(market.market_date, time(11), SEOUL)
    codes = iter(passes.new_codes(market, len(invited)))
    for customer_id in invited:
        choice = rng.choices(
            (InvitationStatus.ACCEPTED, InvitationStatus.TENTATIVE, InvitationStatus.DECLINED,
             InvitationStatus.INVITED),
            weights=(4, 2, 2, 4),
        )[0]  # fmt: skip
        answered_at = (
            sent_at + timedelta(hours=rng.randrange(2, 96))
            if choice is not InvitationStatus.INVITED
            else None
        )
        answered = answered_at is not None
        visited = choice is InvitationStatus.ACCEPTED and rng.random() < 0.7
        db.session.add(
            Invitation(
                customer_id=customer_id,
                market_id=market.id,
                status=choice,
                sequence_sent=market.sequence,
                created_at=sent_at,
                pass_code=next(codes),
                send_id=send.id,
                delivered_at=sent_at + timedelta(minutes=5),  # mail of old, accepted
                answered_at=answered_at,
                answer_source=rng.choice(tuple(AnswerSource)) if answered else None,
                answer_stamp=answered_at,
                answer_sequence=market.sequence if answered else None,
                visited_at=market_day + timedelta(minutes=rng.randrange(240)) if visited else None,
                visited_by_id=getattr(staff, "id", None) if visited else None,
            )
        )
    orders = _uplift(market, invited, rng)
    return [
        f"a send to the market on {market.market_date}: {len(invited)} invited, "
        f"{len(held)} held back, {orders} orders after it"
    ]


def _uplift(market: Market, invited: list[int], rng: random.Random) -> int:
    """Extra online orders from most invited customers in the 30 days from
    the market on: what the effect report is there to find."""
    day = datetime.combine(market.market_date, time(12), SEOUL)
    orders = [
        Order(
            order_no=f"DEMO-INV-{market.id}-{customer_id}",
            ordered_at=day + timedelta(days=rng.randrange(WINDOW_DAYS - 1), hours=rng.randrange(9)),
            customer_id=customer_id,
            seller_name="굿모닝장터 온라인",
            product="장터에서 만난 상품",
            amount=rng.randrange(100, 300) * 1000,
        )
        for customer_id in invited
        if rng.random() < 0.9
    ]
    db.session.add_all(orders)
    return len(orders)
