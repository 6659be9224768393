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
  draw were not chosen at random and would compare unlike with unlike
  (they are only counted, `invited_without_control`, so the page can say
  why there is no figure);
- control: the customers held back for the market.
A ranking that leaves out customers invited in the last weeks
(ranking.RankingOptions.skip_invited_weeks) leaves out the customers held
back in those weeks too: otherwise one market's control customers would be
invited to the next market inside its "after" window more often than its
invited ones, and that market's comparison would be bent.

The comparison is made within each send (a stratum: one market, one random
draw at one control share): the difference between the invited's and the
control's mean change (after − before) of online spend per customer. The
strata are then combined in a weighted mean with weight
n_invited·n_control/(n_invited+n_control), the inverse of the sampling
variance of a difference of two means when the spread is alike: each send
counts as much as it can tell, and a send held back at 50 % does not drown
one held back at 10 %. Pooling every invited and every control customer
instead would compare a control pool made mostly of the markets held back
at high shares with an invited pool made mostly of the others, and any
difference in how sales moved between those markets would look like an
effect (tests/test_effect.py: two markets with different shares and a rise
at one of them). The orders per customer are compared the same way.

The uncertainty is a percentile bootstrap interval: each resample draws
customers with replacement within each group of each send (seeded: the
same data give the same interval on every view) and combines the strata
with the same weights. Orders are the imported marketplace orders; a market
counts only once orders up to the end of its "after" window have been
imported (the newest order is on or after D+29).

Three statements whatever the number of customers: the markets' dates, the
newest order, and the per-customer sums (one grouped query, CASE for before
and after). The bootstrap is plain Python over the per-customer changes."""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from math import ceil

from flask_babel import gettext as _
from sqlalchemy import and_, case, func, literal, select, union_all

from market.customers.models import Order
from market.extensions import db
from market.invitations.models import ControlCustomer, Invitation, InvitationSend
from market.markets.models import Market
from market.takings.charts import nice_step, short_won
from market.timeutil import SEOUL, UTCDateTime, format_won

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
# Each send's two groups cost two choices() calls per resample, about as
# much as 40 draws (measured: 100 sends of 15 customers, 2,000 resamples,
# 0.8 s), so a season of many small sends gets fewer resamples too.
STRATUM_COST = 40
# The most a report's bootstrap may do (bootstrap_work): DRAW_BUDGET, or, when
# the 300-resample floor applies, a season of up to 10,000 customers in 200
# sends (300 × (10,000 + 40 × 200) = 5.4 M, measured 0.5 s on a shared
# 2-core machine). Tests check the work, never the clock.
WORK_BUDGET = 6_000_000
SEED = 18  # the bootstrap's seed: the same figures give the same interval

VERDICTS = (
    "no_control",  # no send of these markets held anyone back
    "too_few",
    "waiting_for_orders",
    "no_clear_difference",
    "more",
    "less",
)


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

    @property
    def orders_change_per_customer(self) -> float:
        """Orders per customer: after minus before, on average."""
        if not self.customers:
            return 0.0
        return (self.orders_after - self.orders_before) / self.customers


@dataclass(frozen=True)
class Effect:
    invited: GroupFigures
    control: GroupFigures
    # Won per customer: invited's mean change minus control's, within each
    # send and combined (module docstring); None unless there is a verdict
    # on it (enough customers, orders imported).
    difference: float | None
    interval: tuple[int, int] | None  # 95 % bootstrap interval of `difference`
    verdict: str  # one of VERDICTS
    data_until: date | None  # the newest imported order (Korea date)
    window_days: int = WINDOW_DAYS
    markets: int = 0  # markets counted (their "after" window imported)
    markets_waiting: int = 0  # markets given whose "after" window is not yet imported
    resamples: int = 0
    min_group: int = MIN_GROUP
    # Orders per customer, compared the same way (same resamples).
    orders_difference: float | None = None
    orders_interval: tuple[float, float] | None = None
    invited_without_control: int = 0  # customers invited by sends that held no one back
    strata: int = 0  # sends compared (each with invited and control customers)

    @property
    def short_groups(self) -> tuple[bool, bool]:
        """(invited too few, control too few) for the "too_few" verdict."""
        return self.invited.customers < self.min_group, self.control.customers < self.min_group

    @property
    def chart(self) -> "EffectChart":
        return effect_chart(self)

    @property
    def words(self) -> str:
        """The verdict as the page and the downloads say it."""
        return verdict_words(self)

    @property
    def orders_words(self) -> str:
        """The difference in orders per customer, or "" without a verdict."""
        if self.orders_difference is None or self.orders_interval is None:
            return ""
        low, high = self.orders_interval
        return _(
            "Orders per customer changed by %(amount)s against the control group "
            "(95%% confidence interval %(low)s to %(high)s).",
            amount=signed_number(self.orders_difference),
            low=signed_number(low),
            high=signed_number(high),
        )


def signed_won(amount: float) -> str:
    """₩12,000 or −₩3,500 (a true minus sign, as the page shows it)."""
    whole = round(amount)
    return f"−{format_won(-whole)}" if whole < 0 else format_won(whole)


def signed_number(value: float) -> str:
    """+0.12 or −0.05: a change in orders per customer."""
    return f"−{-value:.2f}" if value < 0 else f"+{value:.2f}"


def verdict_words(effect: Effect) -> str:
    """One sentence for each verdict, naming what is short when nothing
    can be said, and what the figure is relative to when it can."""
    numbers = {
        "invited": effect.invited.customers,
        "control": effect.control.customers,
        "needed": effect.min_group,
    }
    if effect.verdict == "no_control":
        if effect.invited_without_control:
            return _(
                "These invitations were sent without a control group, so their effect "
                "cannot be measured (%(count)d customers invited without one). Hold back a "
                "share of the customers when sending, and the next report can show it.",
                count=effect.invited_without_control,
            )
        return _(
            "No invitations were sent with a control group for these markets, so there "
            "is no effect to measure."
        )
    if effect.verdict == "too_few":
        invited_short, control_short = effect.short_groups
        if invited_short and control_short:
            return _(
                "Both groups are too small to tell (invited %(invited)d, control "
                "%(control)d; at least %(needed)d each are needed).",
                **numbers,
            )
        if invited_short:
            return _(
                "Too few customers were invited to tell (invited %(invited)d, control "
                "%(control)d; at least %(needed)d each are needed).",
                **numbers,
            )
        return _(
            "There are too few customers in the control group to tell (invited %(invited)d, "
            "control %(control)d; at least %(needed)d each are needed).",
            **numbers,
        )
    if effect.verdict == "waiting_for_orders" or effect.difference is None:
        if effect.data_until is None:
            return _("No online orders have been imported yet.")
        return _(
            "The orders of the %(days)d days after the market have not been imported yet "
            "(last order %(date)s).",
            days=effect.window_days,
            date=effect.data_until.isoformat(),
        )
    low, high = effect.interval or (0, 0)
    figures = {
        "days": effect.window_days,
        "low": signed_won(low),
        "high": signed_won(high),
    }
    if effect.verdict == "more":
        return _(
            "Invited customers' online spending per customer rose %(amount)s more than the "
            "control group's (against the %(days)d days before the market; 95%% confidence "
            "interval %(low)s to %(high)s).",
            amount=signed_won(effect.difference),
            **figures,
        )
    if effect.verdict == "less":
        return _(
            "Invited customers' online spending per customer changed %(amount)s less than the "
            "control group's (against the %(days)d days before the market; 95%% confidence "
            "interval %(low)s to %(high)s).",
            amount=signed_won(-effect.difference),
            **figures,
        )
    return _(
        "No clear difference: against the %(days)d days before the market, invited "
        "customers' spending per customer changed by %(amount)s compared with the control "
        "group, but the 95%% confidence interval (%(low)s to %(high)s) includes zero, so it "
        "may be chance.",
        amount=signed_won(effect.difference),
        **figures,
    )


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
    """One customer in one send's group, with their orders. `send_id` None:
    invited by a send that held no one back (not compared)."""

    market_id: int
    send_id: int | None
    invited: bool
    orders_before: int
    orders_after: int
    spend_before: int
    spend_after: int

    @property
    def change(self) -> int:
        return self.spend_after - self.spend_before

    @property
    def orders_change(self) -> int:
        return self.orders_after - self.orders_before


def online_effect(market_ids: list[int], today: date) -> Effect:
    """Invited against control for these markets (one market, or a
    season's). `today` (Korea): markets not yet 30 days past wait for their
    orders even if some were imported early."""
    market_ids = sorted(set(market_ids))
    if not market_ids:
        return Effect(GroupFigures(), GroupFigures(), None, None, "no_control", None)
    windows = {
        market_id: window(market_date)
        for market_id, market_date in db.session.execute(
            select(Market.id, Market.market_date).where(Market.id.in_(market_ids))
        )
    }
    newest = db.session.scalar(select(func.max(Order.ordered_at)))
    data_until = newest.astimezone(SEOUL).date() if newest else None
    every_unit = _units(windows)
    undrawn = sum(1 for unit in every_unit if unit.send_id is None)
    units = _comparable(every_unit)

    def empty(verdict, invited, control, **more) -> Effect:
        return Effect(
            invited, control, None, None, verdict, data_until,
            invited_without_control=undrawn, **more,
        )  # fmt: skip

    everyone = _figures(units)
    if not any(not unit.invited for unit in every_unit):
        return empty("no_control", *everyone, markets_waiting=len(windows))
    if everyone[0].customers < MIN_GROUP or everyone[1].customers < MIN_GROUP:
        return empty("too_few", *everyone, markets_waiting=len(windows))
    complete = {
        market_id
        for market_id, found in windows.items()
        if data_until is not None and found.last_day <= data_until and found.last_day < today
    }
    if not complete:
        return empty("waiting_for_orders", *everyone, markets_waiting=len(windows))
    counted = [unit for unit in units if unit.market_id in complete]
    invited, control = _figures(counted)
    waiting = len(windows) - len(complete)
    if invited.customers < MIN_GROUP or control.customers < MIN_GROUP:
        return empty("too_few", invited, control, markets=len(complete), markets_waiting=waiting)
    strata = _strata(counted)
    resamples = resamples_for(len(counted), len(strata))
    spend, orders = stratified_bootstrap(strata, resamples)
    (difference, interval), (orders_difference, orders_interval) = spend, orders
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
        (round(interval[0]), round(interval[1])),
        verdict,
        data_until,
        markets=len(complete),
        markets_waiting=waiting,
        resamples=resamples,
        orders_difference=orders_difference,
        orders_interval=(round(orders_interval[0], 2), round(orders_interval[1], 2)),
        invited_without_control=undrawn,
        strata=len(strata),
    )


def _comparable(units: list[Unit]) -> list[Unit]:
    """The customers of the sends that have both invited and control
    customers: a send with only one of them has nothing to compare within."""
    groups: dict[int, set[bool]] = {}
    for unit in units:
        if unit.send_id is not None:
            groups.setdefault(unit.send_id, set()).add(unit.invited)
    both = {send_id for send_id, kinds in groups.items() if len(kinds) == 2}
    return [unit for unit in units if unit.send_id in both]


@dataclass(frozen=True)
class Stratum:
    """One send's customers: (spend change, order change) per customer."""

    invited: list[tuple[int, int]]
    control: list[tuple[int, int]]

    @property
    def weight(self) -> float:
        n_i, n_c = len(self.invited), len(self.control)
        return n_i * n_c / (n_i + n_c)


def _strata(units: list[Unit]) -> list[Stratum]:
    """Per send, in send order (the units come in a fixed order)."""
    by_send: dict[int, Stratum] = {}
    for unit in units:
        stratum = by_send.setdefault(unit.send_id, Stratum([], []))  # type: ignore[arg-type]
        group = stratum.invited if unit.invited else stratum.control
        group.append((unit.change, unit.orders_change))
    return [by_send[send_id] for send_id in sorted(by_send)]


def _units(windows: dict[int, Window]) -> list[Unit]:
    """Every invited and control customer of these markets with their send
    (None for invitations sent without a control draw) and their orders
    before and after, in one grouped statement, in a fixed order (market,
    send, customer) so the bootstrap sees them the same way each time."""
    if not windows:
        return []
    market_ids = list(windows)
    invited = (
        select(
            Invitation.market_id.label("market_id"),
            case((InvitationSend.held_back > 0, InvitationSend.id)).label("send_id"),
            Invitation.customer_id.label("customer_id"),
            literal(1).label("invited"),
        )
        .outerjoin(InvitationSend, InvitationSend.id == Invitation.send_id)
        .where(Invitation.market_id.in_(market_ids))
    )
    control = select(
        ControlCustomer.market_id,
        ControlCustomer.send_id,
        ControlCustomer.customer_id,
        literal(0).label("invited"),
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
            people.c.send_id,
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
        .group_by(people.c.market_id, people.c.send_id, people.c.customer_id, people.c.invited)
        .order_by(people.c.market_id, people.c.send_id, people.c.customer_id)
    )
    return [
        Unit(market_id, send_id, bool(flag), int(nb), int(na), int(sb), int(sa))
        for market_id, send_id, _customer, flag, nb, na, sb, sa in rows
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


def resamples_for(customers: int, strata: int = 0) -> int:
    """2,000 resamples up to 1,500 customers, fewer (never under 300) for
    more customers or many sends, so the page stays quick."""
    cost = max(customers + STRATUM_COST * strata, 1)
    return max(MIN_RESAMPLES, min(RESAMPLES, DRAW_BUDGET // cost))


def bootstrap_work(customers: int, strata: int, resamples: int) -> int:
    """The work a bootstrap of this size does, in DRAW_BUDGET's unit: each
    resample draws every customer once and pays STRATUM_COST per send."""
    return resamples * (customers + STRATUM_COST * strata)


def bootstrap_interval(
    invited: list[int], control: list[int], resamples: int = RESAMPLES, seed: int = SEED
) -> tuple[int, int]:
    """The 95 % percentile interval of (mean invited − mean control) for one
    group of customers (one send), resampling customers with replacement
    within each group."""
    stratum = Stratum([(value, 0) for value in invited], [(value, 0) for value in control])
    (_difference, (low, high)), _orders = stratified_bootstrap([stratum], resamples, seed)
    return round(low), round(high)


Estimate = tuple[float, tuple[float, float]]  # (difference, (low, high))


def stratified_bootstrap(
    strata: list[Stratum], resamples: int = RESAMPLES, seed: int = SEED
) -> tuple[Estimate, Estimate]:
    """The weighted difference (module docstring) of spend and of orders per
    customer, each with its 95 % percentile interval. Each resample draws,
    within each group of each send, as many customers as it has, with
    replacement; spend and orders come from the same drawn customers.

    The pair is packed into one integer (spend · 2^32 + orders) so one
    choices() and one sum() per group serve both: unpacking the sum is
    exact as long as the orders' sum stays within ±2^31."""
    packed = [
        ([spend * PACK + orders for spend, orders in stratum.invited],
         [spend * PACK + orders for spend, orders in stratum.control], stratum.weight)
        for stratum in strata
    ]  # fmt: skip
    total_weight = sum(weight for _i, _c, weight in packed)

    def combined(draw) -> tuple[float, float]:
        spend = orders = 0.0
        for invited, control, weight in packed:
            n_i, n_c = len(invited), len(control)
            s_i, o_i = _unpack(sum(draw(invited, n_i)))
            s_c, o_c = _unpack(sum(draw(control, n_c)))
            spend += weight * (s_i / n_i - s_c / n_c)
            orders += weight * (o_i / n_i - o_c / n_c)
        return spend / total_weight, orders / total_weight

    estimate = combined(lambda values, _n: values)
    rng = random.Random(seed)
    choices = rng.choices
    draws = [combined(lambda values, n: choices(values, k=n)) for _ in range(resamples)]
    tail, top = int(resamples * 0.025), ceil(resamples * 0.975) - 1
    spend_draws = sorted(spend for spend, _orders in draws)
    order_draws = sorted(orders for _spend, orders in draws)
    return (
        (estimate[0], (spend_draws[tail], spend_draws[top])),
        (estimate[1], (order_draws[tail], order_draws[top])),
    )


PACK = 1 << 32
HALF = 1 << 31


def _unpack(value: int) -> tuple[int, int]:
    orders = (value + HALF) % PACK - HALF
    return (value - orders) // PACK, orders


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
