"""What the invitations did to online sales: invited customers against the
control group held back at random when they were sent (sending.invite).

The windows, in Korea days around each market's date D:
- before: the 30 days D-30 … D-1;
- after: the market day and the 29 days after it, D … D+29.
The market day counts as "after": the invitation is meant to work from the
market on, and a visitor who met a seller there may order online that
evening. Both windows are 30 days and do not overlap. The invitation mail
itself goes out before the market, so "before" may already hold a little of
its effect; that can only make the difference look smaller.

Who counts (each customer once per market, so in a season a customer held
back for one market and invited to another counts in both groups, once
each):
- invited: customers invited by a send that held back a control group
  (invited at random against it, mail delivered or not: what inviting
  achieves, not what reading the mail does); invitations sent without a
  draw were not chosen at random and would compare unlike with unlike;
- control: the customers held back for the market.

The figure is the difference in the mean change (after − before) of online
spend per customer between the two groups, with a percentile bootstrap
interval (resampling customers within each group, seeded: the same data
give the same interval on every view). Orders are the imported marketplace
orders; a market counts only once orders up to the end of its "after"
window have been imported (the newest order is on or after D+29).

Three statements whatever the number of customers: the markets' dates, the
newest order, and the per-customer sums (one grouped query, CASE for before
and after). The bootstrap is plain Python over the per-customer changes."""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from math import ceil

from sqlalchemy import and_, case, func, literal, select, union_all

from market.customers.models import Order
from market.extensions import db
from market.invitations.models import ControlCustomer, Invitation, InvitationSend
from market.markets.models import Market
from market.takings.charts import nice_step, short_won
from market.timeutil import SEOUL, UTCDateTime

WINDOW_DAYS = 30
MIN_GROUP = 30  # customers in each group before anything is said
RESAMPLES = 2000
MIN_RESAMPLES = 300
# Resamples draw one customer at a time (~0.1 µs each): at most this many
# draws, so 10,000 customers take 300 resamples (measured: 0.3 s on an idle
# core, 0.45-0.57 s on a shared 2-core machine at load 5.6), not 2,000.
# The percentile interval from 300 is a little rougher in its last digits,
# not in what it says.
DRAW_BUDGET = 3_000_000
SEED = 18  # the bootstrap's seed: the same figures give the same interval

VERDICTS = ("too_few", "waiting_for_orders", "no_clear_difference", "more", "less")


@dataclass(frozen=True)
class GroupFigures:
    """One group's online orders in the two windows, summed over its
    customers (a customer counted once per market)."""

    customers: int = 0
    orders_before: int = 0
    orders_after: int = 0
    spend_before: int = 0  # won
    spend_after: int = 0

    @property
    def mean_before(self) -> float:
        return self.spend_before / self.customers if self.customers else 0.0

    @property
    def mean_after(self) -> float:
        return self.spend_after / self.customers if self.customers else 0.0

    @property
    def mean_change_per_customer(self) -> float:
        """Won per customer: spend after minus spend before, on average."""
        return self.mean_after - self.mean_before


@dataclass(frozen=True)
class Effect:
    invited: GroupFigures
    control: GroupFigures
    # Won per customer: invited's mean change minus control's; None unless
    # there is a verdict on it (enough customers, orders imported).
    difference: float | None
    interval: tuple[int, int] | None  # 95 % bootstrap interval of `difference`
    verdict: str  # one of VERDICTS
    data_until: date | None  # the newest imported order (Korea date)
    window_days: int = WINDOW_DAYS
    markets: int = 0  # markets counted (their "after" window imported)
    markets_waiting: int = 0  # markets given whose "after" window is not yet imported
    resamples: int = 0
    min_group: int = MIN_GROUP

    @property
    def chart(self) -> "EffectChart":
        return effect_chart(self)


@dataclass(frozen=True)
class Window:
    starts: datetime  # UTC: D-30 00:00 KST
    market_day: datetime  # D 00:00 KST
    ends: datetime  # D+30 00:00 KST (exclusive)
    last_day: date  # D+29, the last day orders must be imported for


def window(market_date: date) -> Window:
    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=SEOUL)

    return Window(
        starts=midnight(market_date - timedelta(days=WINDOW_DAYS)),
        market_day=midnight(market_date),
        ends=midnight(market_date + timedelta(days=WINDOW_DAYS)),
        last_day=market_date + timedelta(days=WINDOW_DAYS - 1),
    )


@dataclass(frozen=True)
class Unit:
    """One customer in one market's group, with their orders."""

    market_id: int
    invited: bool
    orders_before: int
    orders_after: int
    spend_before: int
    spend_after: int

    @property
    def change(self) -> int:
        return self.spend_after - self.spend_before


def online_effect(market_ids: list[int], today: date) -> Effect:
    """Invited against control for these markets (one market, or a
    season's). `today` (Korea): markets not yet 30 days past wait for their
    orders even if some were imported early."""
    market_ids = sorted(set(market_ids))
    if not market_ids:
        return Effect(GroupFigures(), GroupFigures(), None, None, "too_few", None)
    windows = {
        market_id: window(market_date)
        for market_id, market_date in db.session.execute(
            select(Market.id, Market.market_date).where(Market.id.in_(market_ids))
        )
    }
    newest = db.session.scalar(select(func.max(Order.ordered_at)))
    data_until = newest.astimezone(SEOUL).date() if newest else None
    units = _units(windows)

    everyone = _figures(units)
    if everyone[0].customers < MIN_GROUP or everyone[1].customers < MIN_GROUP:
        return Effect(*everyone, None, None, "too_few", data_until, markets_waiting=len(windows))
    complete = {
        market_id
        for market_id, found in windows.items()
        if data_until is not None and found.last_day <= data_until and found.last_day < today
    }
    if not complete:
        return Effect(
            *everyone, None, None, "waiting_for_orders", data_until, markets_waiting=len(windows)
        )
    counted = [unit for unit in units if unit.market_id in complete]
    invited, control = _figures(counted)
    waiting = len(windows) - len(complete)
    if invited.customers < MIN_GROUP or control.customers < MIN_GROUP:
        return Effect(invited, control, None, None, "too_few", data_until, len(complete), waiting)
    difference = invited.mean_change_per_customer - control.mean_change_per_customer
    resamples = resamples_for(len(counted))
    interval = bootstrap_interval(
        [unit.change for unit in counted if unit.invited],
        [unit.change for unit in counted if not unit.invited],
        resamples,
    )
    if interval[0] > 0:
        verdict = "more"
    elif interval[1] < 0:
        verdict = "less"
    else:
        verdict = "no_clear_difference"
    return Effect(
        invited,
        control,
        difference,
        interval,
        verdict,
        data_until,
        markets=len(complete),
        markets_waiting=waiting,
        resamples=resamples,
    )


def _units(windows: dict[int, Window]) -> list[Unit]:
    """Every invited and control customer of these markets with their
    orders before and after, in one grouped statement, in a fixed order
    (market, customer) so the bootstrap sees them the same way each time."""
    if not windows:
        return []
    market_ids = list(windows)
    invited = (
        select(
            Invitation.market_id.label("market_id"),
            Invitation.customer_id.label("customer_id"),
            literal(1).label("invited"),
        )
        .join(InvitationSend, InvitationSend.id == Invitation.send_id)
        .where(Invitation.market_id.in_(market_ids), InvitationSend.held_back > 0)
    )
    control = select(
        ControlCustomer.market_id, ControlCustomer.customer_id, literal(0).label("invited")
    ).where(ControlCustomer.market_id.in_(market_ids))
    people = union_all(invited, control).subquery("people")

    def per_market(attribute: str):
        return case(
            {
                market_id: literal(getattr(found, attribute), UTCDateTime())
                for market_id, found in windows.items()
            },
            value=people.c.market_id,
        )

    market_day = per_market("market_day")
    before = Order.ordered_at < market_day
    after = Order.ordered_at >= market_day
    rows = db.session.execute(
        select(
            people.c.market_id,
            people.c.customer_id,
            people.c.invited,
            func.count(case((before, Order.id))),
            func.count(case((after, Order.id))),
            func.coalesce(func.sum(case((before, Order.amount), else_=0)), 0),
            func.coalesce(func.sum(case((after, Order.amount), else_=0)), 0),
        )
        .select_from(people)
        .outerjoin(
            Order,
            and_(
                Order.customer_id == people.c.customer_id,
                Order.ordered_at >= per_market("starts"),
                Order.ordered_at < per_market("ends"),
            ),
        )
        .group_by(people.c.market_id, people.c.customer_id, people.c.invited)
        .order_by(people.c.market_id, people.c.customer_id)
    )
    return [
        Unit(market_id, bool(flag), int(nb), int(na), int(sb), int(sa))
        for market_id, _customer, flag, nb, na, sb, sa in rows
    ]


def _figures(units: list[Unit]) -> tuple[GroupFigures, GroupFigures]:
    sums = {True: [0, 0, 0, 0, 0], False: [0, 0, 0, 0, 0]}
    for unit in units:
        total = sums[unit.invited]
        total[0] += 1
        total[1] += unit.orders_before
        total[2] += unit.orders_after
        total[3] += unit.spend_before
        total[4] += unit.spend_after
    return GroupFigures(*sums[True]), GroupFigures(*sums[False])


# -- the uncertainty ----------------------------------------------------------------


def resamples_for(customers: int) -> int:
    """2,000 resamples up to 1,500 customers, fewer (never under 300) for
    more, so the page stays quick."""
    return max(MIN_RESAMPLES, min(RESAMPLES, DRAW_BUDGET // max(customers, 1)))


def bootstrap_interval(
    invited: list[int], control: list[int], resamples: int = RESAMPLES, seed: int = SEED
) -> tuple[int, int]:
    """The 95 % percentile interval of (mean invited − mean control),
    resampling customers with replacement within each group."""
    rng = random.Random(seed)
    choices = rng.choices
    n_invited, n_control = len(invited), len(control)
    differences = sorted(
        sum(choices(invited, k=n_invited)) / n_invited
        - sum(choices(control, k=n_control)) / n_control
        for _ in range(resamples)
    )
    tail = int(resamples * 0.025)
    return round(differences[tail]), round(differences[ceil(resamples * 0.975) - 1])


# -- the chart -----------------------------------------------------------------------

WIDTH = 360
LEFT, RIGHT, TOP, BOTTOM = 56, 8, 22, 30
PLOT_HEIGHT = 160


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    when: str  # "before" or "after"
    group: str  # "invited" or "control"
    value: float  # won per customer
    value_label: str


@dataclass(frozen=True)
class EffectChart:
    """Spend per customer before and after the market, for both groups:
    the template (_effect.html) draws it in a 360-unit viewBox."""

    bars: list[Bar] = field(default_factory=list)
    ticks: list[tuple[float, str]] = field(default_factory=list)  # (y, label)
    groups: list[tuple[float, str]] = field(default_factory=list)  # (x of the label, group)
    width: int = WIDTH
    height: int = TOP + PLOT_HEIGHT + BOTTOM
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    baseline: float = TOP + PLOT_HEIGHT


def effect_chart(effect: Effect) -> EffectChart:
    values = {
        ("invited", "before"): effect.invited.mean_before,
        ("invited", "after"): effect.invited.mean_after,
        ("control", "before"): effect.control.mean_before,
        ("control", "after"): effect.control.mean_after,
    }
    largest = max(round(value) for value in values.values())
    step = nice_step(largest)
    top = step * max(1, -(-largest // step))

    def y(value: float) -> float:
        return TOP + PLOT_HEIGHT - (value / top) * PLOT_HEIGHT

    ticks = [(y(tick), short_won(tick)) for tick in range(0, top + 1, step)]
    slot = (WIDTH - RIGHT - LEFT) / 2
    bar_width = slot * 0.3
    bars, groups = [], []
    for index, group in enumerate(("invited", "control")):
        start = LEFT + index * slot + slot * 0.17
        groups.append((LEFT + index * slot + slot / 2, group))
        for offset, when in enumerate(("before", "after")):
            value = values[(group, when)]
            bars.append(
                Bar(
                    x=start + offset * (bar_width + slot * 0.06),
                    y=y(value),
                    width=bar_width,
                    height=TOP + PLOT_HEIGHT - y(value),
                    when=when,
                    group=group,
                    value=value,
                    value_label=short_won(round(value)),
                )
            )
    return EffectChart(bars=bars, ticks=ticks, groups=groups)
