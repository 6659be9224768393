"""A market with invited and control customers and their online orders
around it, with a known answer: invited customers spend `uplift` won more
each in the 30 days after the market than they would have (for the effect
report's tests, market.invitations.effect)."""

import random
from datetime import date, datetime, time, timedelta

from sqlalchemy import insert, select

from market.customers.models import Customer, Order, email_hash
from market.extensions import db
from market.invitations.models import (
    PASS_ALPHABET,
    ControlCustomer,
    Invitation,
    InvitationSend,
)
from market.markets.models import Market
from market.timeutil import SEOUL, utcnow
from tests.markets_factories import make_market, make_venue

_batch = iter(range(1, 1_000_000))


def pass_code(number: int) -> str:
    """Distinct codes for distinct numbers (random ones could collide)."""
    letters = []
    for _ in range(6):
        number, digit = divmod(number, len(PASS_ALPHABET))
        letters.append(PASS_ALPHABET[digit])
    return "".join(letters)


def past_market(clock, market_date: date, venue=None) -> Market:
    """A market on `market_date`, made while it was still ahead (the clock
    stops the day before; the caller sets it again afterwards)."""
    clock.seoul(*(market_date - timedelta(days=60)).timetuple()[:3])
    return make_market(venue or make_venue(f"장터{next(_batch)}"), market_date)


def seed_groups(
    market: Market,
    invited: int,
    control: int,
    uplift: int = 0,
    seed: int = 7,
    orders_until: date | None = None,
) -> dict[str, list[int]]:
    """`invited` and `control` customers of one send of this market, each
    with one to three orders in the 30 days before the market and one to
    three in the 30 days after (up to `orders_until`, the newest imported
    order, D+29 by default). Returns the planted figures per group:
    [customers, orders before, orders after, spend before, spend after].
    A customer's spending before and after shares
    their own level (some buy a lot, some little) plus noise; invited
    customers get `uplift` on top after the market."""
    rng = random.Random(seed)
    batch = next(_batch)
    total = invited + control
    db.session.execute(
        insert(Customer),
        [
            {
                "email": f"e{batch}-{n}@example.com",
                "email_hash": email_hash(f"e{batch}-{n}@example.com"),
                "name": f"고객{n}",
                "consent": True,
                "consent_at": utcnow(),
                "details_as_of": utcnow(),
                "created_at": utcnow(),
            }
            for n in range(total + 1)  # the last one is in neither group
        ],
    )
    ids = db.session.scalars(
        select(Customer.id).where(Customer.email.like(f"e{batch}-%")).order_by(Customer.id)
    ).all()
    outsider, ids = ids[-1], list(ids[:-1])
    send = InvitationSend(
        market_id=market.id,
        sent_at=utcnow(),
        # (a real send holds back at most 50 %; the tests also try more)
        control_percent=min(50, max(1, round(100 * control / total))) if control else 0,
        control_seed=seed if control else None,
        chosen=total,
        invited=invited,
        held_back=control,
    )
    db.session.add(send)
    db.session.flush()
    rng.shuffle(ids)
    invited_ids, control_ids = ids[:invited], ids[invited:]
    is_invited = set(invited_ids)
    planted = {"invited": [invited, 0, 0, 0, 0], "control": [control, 0, 0, 0, 0]}
    if invited_ids:
        db.session.execute(
            insert(Invitation),
            [
                {
                    "customer_id": cid,
                    "market_id": market.id,
                    "send_id": send.id,
                    "token": f"t{batch}-{cid}",
                    "pass_code": pass_code(batch * 100_000 + n),
                    "status": "invited",
                    "sequence_sent": 0,
                    "created_at": utcnow(),
                }
                for n, cid in enumerate(invited_ids)
            ],
        )
    if control_ids:
        db.session.execute(
            insert(ControlCustomer),
            [
                {"send_id": send.id, "market_id": market.id, "customer_id": cid}
                for cid in control_ids
            ],
        )
    day = market.market_date
    last = orders_until or day + timedelta(days=29)
    orders = []
    for cid in ids:
        level = rng.randint(10_000, 200_000)
        figures = planted["invited" if cid in is_invited else "control"]
        for after, window_start, window_end in (
            (False, day - timedelta(days=30), day - timedelta(days=1)),
            (True, day, last),
        ):
            extra = uplift if after and cid in is_invited else 0
            spend = max(level + rng.randint(-30_000, 30_000) + extra, 3)
            count = rng.randint(1, 3)
            figures[1 + after] += count
            figures[3 + after] += spend
            for k in range(count):
                span = (window_end - window_start).days
                when = window_start + timedelta(days=rng.randint(0, max(span, 0)))
                orders.append(
                    {
                        "order_no": f"O{batch}-{cid}-{len(orders)}",
                        "ordered_at": datetime.combine(when, time(12), tzinfo=SEOUL),
                        "customer_id": cid,
                        "seller_name": "가게",
                        "product": "상품",
                        "amount": spend // count + (spend % count if k == 0 else 0),
                    }
                )
    # The newest imported order is on `last`, by someone in neither group.
    orders.append(
        {
            "order_no": f"O{batch}-last",
            "ordered_at": datetime.combine(last, time(20), tzinfo=SEOUL),
            "customer_id": outsider,
            "seller_name": "가게",
            "product": "상품",
            "amount": 1000,
        }
    )
    db.session.execute(insert(Order), orders)
    db.session.commit()
    return planted
