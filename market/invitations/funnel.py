"""What the invitations achieved: the funnel ranked → invited → delivered →
answered (yes, maybe, no; on the answer page or in a calendar app) → visited,
per market or over a season, and split by the ranking options the customers
were chosen with.

What the steps count:

- **ranked**: the customers staff chose from the ranking in each "send
  invitations" (InvitationSend.chosen): those invited plus those held back
  as the control group. Not the ranking snapshot's rows: a snapshot is
  replaced each time the ranking is calculated again (one per market and
  options), so what was on screen when staff sent is only known from the
  send. Invitations sent before sends were recorded ("기타/이전 발송") have
  no such record: each of them counts as ranked once, itself.
- **invited**: the invitations of the market(s), counted in the invitations
  table (a send's own `invited` figure is not reread: purged customers take
  their invitations with them).
- **delivered**: the mail server accepted an invitation or update mail of
  the invitation (Invitation.delivered_at, set once by the outbox's sent
  mark) and no bounce has been recorded for its newest mail since
  (market.inbox.bounces sets bounced_at). Not the newest mail's status
  alone: outbox_message_id moves on to an update, and an update still
  queued or failed does not undo an invitation that arrived. The others are
  counted apart by their newest mail: bounced, failed, waiting (an
  invitation or update queued or being sent: it will still go out) and
  withdrawn (it never will: no mail left, e.g. an invitation taken back
  before 08:00 when the market was cancelled, or only a cancellation left
  for an invitation that had not arrived).
- **answered**: the invitation's newest answer (yes, maybe or no), with where
  it came from; an answer without a recorded source came from the page
  (market.invitations.queries does the same).
- **visited**: staff checked the pass in at the market (visited_at).

Every figure comes from two grouped statements, one over the invitations
and one over the sends, whatever the number of invitations."""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, bindparam, func, select

from market.core.indexhints import sqlite_index
from market.extensions import db
from market.invitations import mail_state
from market.invitations.models import AnswerSource, Invitation, InvitationSend, InvitationStatus
from market.invitations.queries import (
    ANSWERED,
    MAIL_STATE_INDEX,
    AnswerTally,
    answered_on,
    count_if,
)
from market.markets.models import Market
from market.outbox.models import OutboxMessage

STEPS = ("ranked", "invited", "delivered", "answered", "visited")


@dataclass(frozen=True)
class Options:
    """The ranking options of a send (all None: chosen without a ranking)."""

    top_n: int | None
    window_days: int | None
    assigned_vendors_only: bool | None
    min_orders: int | None
    skip_invited_weeks: int | None

    @property
    def from_ranking(self) -> bool:
        return self.top_n is not None


@dataclass(frozen=True)
class Step:
    key: str
    count: int
    of_previous: float | None  # percent of the step before; None before the first or of 0
    of_invited: float | None


def percent(part: int, whole: int) -> float | None:
    return None if not whole else round(100 * part / whole, 1)


@dataclass
class Funnel:
    """One group's figures: `options` None is the invitations without a send."""

    options: Options | None = None
    sends: int = 0
    chosen: int = 0  # InvitationSend.chosen summed
    held_back: int = 0  # the control group drawn in those sends
    invited: int = 0
    delivered: int = 0
    bounced: int = 0
    failed: int = 0
    waiting: int = 0  # queued or being sent
    withdrawn: int = 0  # no mail went out (unsubscribed, cancelled)
    accepted: int = 0
    tentative: int = 0
    declined: int = 0
    visited: int = 0
    visited_accepted: int = 0  # of those who said yes
    by_source: dict[str, AnswerTally] = field(
        default_factory=lambda: {source.value: AnswerTally() for source in AnswerSource}
    )

    @property
    def ranked(self) -> int:
        # Invitations without a send were at least chosen themselves.
        return self.chosen if self.options is not None else self.invited

    @property
    def answered(self) -> int:
        return self.accepted + self.tentative + self.declined

    def steps(self) -> list[Step]:
        counts = [getattr(self, key) for key in STEPS]
        return [
            Step(
                key,
                count,
                percent(count, counts[index - 1]) if index else None,
                percent(count, self.invited) if key != "ranked" else None,
            )
            for index, (key, count) in enumerate(zip(STEPS, counts, strict=True))
        ]

    def add(self, other: "Funnel") -> None:
        for name in (
            "sends",
            "chosen",
            "held_back",
            "invited",
            "delivered",
            "bounced",
            "failed",
            "waiting",
            "withdrawn",
            "accepted",
            "tentative",
            "declined",
            "visited",
            "visited_accepted",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        # `ranked` of a group without a send is its invited: carried as chosen.
        if other.options is None:
            self.chosen += other.invited
        for source, tally in other.by_source.items():
            mine = self.by_source[source]
            for name in ANSWERED.values():
                setattr(mine, name, getattr(mine, name) + getattr(tally, name))


@dataclass
class FunnelReport:
    total: Funnel  # options "all": ranked is the groups' sum
    groups: list[Funnel]  # by options, the invitations without a send last
    markets: int  # market days in the scope


OPTION_COLUMNS = (
    InvitationSend.top_n,
    InvitationSend.window_days,
    InvitationSend.assigned_vendors_only,
    InvitationSend.min_orders,
    InvitationSend.skip_invited_weeks,
)


def _mail_state(
    funnel: Funnel, status, category, bounced: bool, arrived: bool, number: int
) -> None:
    name = mail_state.state(status, category, bounced, arrived)
    setattr(funnel, name, getattr(funnel, name) + number)


def _invitation_rows(in_scope: ColumnElement[bool]) -> list:
    # No bound parameters in the grouped expressions: PostgreSQL must see the
    # same expression in GROUP BY as in the select list.
    without_send = Invitation.send_id.is_(None)
    visited = Invitation.visited_at.is_not(None)
    grouped = (
        without_send,
        *OPTION_COLUMNS,
        Invitation.status,
        Invitation.answer_source,
        *mail_state.columns(),  # status, category, bounced, arrived
        visited,
    )
    return db.session.execute(
        select(*grouped, func.count(Invitation.id))
        .outerjoin(InvitationSend, InvitationSend.id == Invitation.send_id)
        .outerjoin(OutboxMessage, OutboxMessage.id == Invitation.outbox_message_id)
        .where(in_scope)
        .group_by(*grouped)
    ).all()


def _send_rows(in_scope: ColumnElement[bool]) -> list:
    return db.session.execute(
        select(
            *OPTION_COLUMNS,
            func.count(InvitationSend.id),
            func.sum(InvitationSend.chosen),
            func.sum(InvitationSend.held_back),
        )
        .where(in_scope)
        .group_by(*OPTION_COLUMNS)
    ).all()


def _groups(invitation_scope, send_scope, with_sends: bool = True) -> dict:
    groups: dict[Options | None, Funnel] = {}

    def group(key: Options | None) -> Funnel:
        return groups.setdefault(key, Funnel(options=key))

    for row in _invitation_rows(invitation_scope):
        (
            without_send,
            *options,
            status,
            source,
            mail_status,
            category,
            bounced,
            arrived,
            visited,
            number,
        ) = row
        funnel = group(None if without_send else Options(*options))
        funnel.invited += number
        if status in ANSWERED:
            name = ANSWERED[status]
            setattr(funnel, name, getattr(funnel, name) + number)
            tally = funnel.by_source[(source or AnswerSource.PAGE).value]
            setattr(tally, name, getattr(tally, name) + number)
        _mail_state(funnel, mail_status, category, bounced, arrived, number)
        if visited:
            funnel.visited += number
            if status == InvitationStatus.ACCEPTED:
                funnel.visited_accepted += number
    if with_sends:
        for *options, sends, chosen, held_back in _send_rows(send_scope):
            funnel = group(Options(*options))
            funnel.sends += sends
            funnel.chosen += chosen or 0
            funnel.held_back += held_back or 0
    return groups


def _report(invitation_scope, send_scope, markets: int) -> FunnelReport:
    groups = _groups(invitation_scope, send_scope)
    ordered = sorted(
        (funnel for key, funnel in groups.items() if key is not None),
        key=lambda funnel: (-funnel.invited, -funnel.chosen),
    )
    if None in groups:
        ordered.append(groups[None])
    total = Funnel(options=Options(None, None, None, None, None))
    for funnel in ordered:
        total.add(funnel)
    return FunnelReport(total=total, groups=ordered, markets=markets)


def market_funnel(market_id: int) -> FunnelReport:
    """One market's funnel: two statements."""
    return _report(
        Invitation.market_id == market_id, InvitationSend.market_id == market_id, markets=1
    )


def season_market_ids(start: date, end: date) -> list[int]:
    """The market days between start and end (inclusive), oldest first."""
    return list(
        db.session.scalars(
            select(Market.id)
            .where(Market.market_date.between(start, end))
            .order_by(Market.market_date, Market.id)
        )
    )


def season_funnel(start: date, end: date, market_ids: list[int] | None = None) -> FunnelReport:
    """Every market between start and end together: two statements (three
    without `market_ids`, the scope's markets from season_market_ids)."""
    if market_ids is None:
        market_ids = season_market_ids(start, end)
    in_season = select(Market.id).where(Market.market_date.between(start, end))
    return _report(
        Invitation.market_id.in_(in_season),
        InvitationSend.market_id.in_(in_season),
        markets=len(market_ids),
    )


def _glance_statement():
    """Built once: every figure a conditional count in one row, so the
    database reads the market's invitations once and sorts nothing (a GROUP
    BY over the mail states sorted all of them: 10,000 in a campaign)."""
    state = mail_state.expression()
    visited = Invitation.visited_at.is_not(None)
    figures = {
        "invited": func.count(Invitation.id),
        # `ranked` of invitations without a send is their own number (Funnel.add)
        "chosen": count_if(Invitation.send_id.is_(None)),
        **{name: count_if(state == name) for name in mail_state.STATES},
        **{name: count_if(Invitation.status == status) for status, name in ANSWERED.items()},
        "visited": count_if(visited),
        "visited_accepted": count_if(visited & (Invitation.status == InvitationStatus.ACCEPTED)),
        **{
            f"{source.value}:{name}": count_if(answered_on(source) & (Invitation.status == status))
            for source in AnswerSource
            for status, name in ANSWERED.items()
        },
    }
    statement = (
        select(*figures.values())
        .select_from(Invitation)
        .outerjoin(OutboxMessage, OutboxMessage.id == Invitation.outbox_message_id)
        .where(Invitation.market_id == bindparam("market_id"))
    )
    return tuple(figures), sqlite_index(statement, OutboxMessage, MAIL_STATE_INDEX)


_GLANCE = _glance_statement()


def glance(market_id: int) -> Funnel:
    """The dashboard's line for one market: the invitations only, one
    statement of one row (the same figures as the market's funnel)."""
    names, statement = _GLANCE
    row = db.session.execute(statement, {"market_id": market_id}).one()
    total = Funnel()
    for name, number in zip(names, row, strict=True):
        source, _, answer = name.partition(":")
        if answer:
            setattr(total.by_source[source], answer, number)
        else:
            setattr(total, name, number)
    return total
