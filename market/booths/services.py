"""Booth assignment against the database: preview, confirm, and the figures
other pages show. Manual changes are in `changes`, a vendor leaving in
`withdrawals`, market-day attendance in `attendance`.

`preview` writes nothing. `confirm` stores the same plan: booth rows, each
application's status, reason and waitlist place, the market's status, one
mail per vendor whose outcome changed, one audit entry. The caller commits.

Two staff confirming at once: the market row is locked first
(`markets.services.lock_market`: SELECT … FOR UPDATE on PostgreSQL, the
database's write lock on SQLite, before anything is read), so the second
waits, then sees the market already assigned and is refused with a message.
Should anything slip past the lock,
the unique constraints on booths refuse the second writer, and that too
becomes the same clean refusal (`BoothRuleError`).
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from market.audit.services import describe_actions, record
from market.booths import reasons
from market.booths.assignment import (
    AssignmentResult,
    Basis,
    Decision,
    Outcome,
    PinProblem,
    PinProblemKind,
    assign,
)
from market.booths.loading import BoothRuleError, assignment_input
from market.booths.mails import OUTBOX_CATEGORY, News, message
from market.booths.models import Booth
from market.extensions import db
from market.markets import services as markets
from market.markets.models import Market, MarketStatus
from market.outbox.services import enqueue_many
from market.timeutil import utcnow
from market.vendors.models import Application, ApplicationStatus

__all__ = ["BoothRuleError", "Plan", "confirm", "locked_market", "preview"]

ASSIGNABLE = (MarketStatus.OPEN, MarketStatus.ASSIGNED)
STORED_OUTCOMES = {
    Outcome.ASSIGNED: ApplicationStatus.ASSIGNED,
    Outcome.WAITLISTED: ApplicationStatus.WAITLISTED,
    Outcome.DECLINED: ApplicationStatus.DECLINED,
}
NEWS = {Outcome.ASSIGNED: News.ASSIGNED, Outcome.WAITLISTED: News.WAITLISTED}


def locked_market(market_id: int) -> Market:
    """The market, locked for the rest of the transaction and freshly read
    (`markets.lock_market`, the lock takings use too); refused when there is none."""
    market = markets.lock_market(market_id)
    if market is None:
        raise BoothRuleError(_("There is no such market."))
    return market


@dataclass(frozen=True)
class PlanRow:
    number: int
    application: Application | None
    decision: Decision | None
    pinned: bool = False


@dataclass(frozen=True)
class Plan:
    """An assignment worked out for one market, with the rows behind it."""

    market: Market
    result: AssignmentResult
    applications: dict[int, Application]  # by vendor id
    pin_problems: tuple[PinProblem, ...]

    @property
    def rows(self) -> list[PlanRow]:
        return [
            PlanRow(
                booth.number,
                self.applications.get(booth.vendor_id),
                self.result.decision_for(booth.vendor_id) if booth.vendor_id else None,
                booth.pinned,
            )
            for booth in self.result.booths
        ]

    def _with(self, outcome: Outcome) -> list[tuple[Decision, Application]]:
        return [
            (d, self.applications[d.vendor_id])
            for d in self.result.decisions
            if d.outcome is outcome
        ]

    @property
    def waitlist(self) -> list[tuple[Decision, Application]]:
        return sorted(self._with(Outcome.WAITLISTED), key=lambda pair: pair[0].waitlist_position)

    @property
    def declined(self) -> list[tuple[Decision, Application]]:
        return self._with(Outcome.DECLINED)

    @property
    def kept_declined(self) -> list[Application]:
        """Declined before this assignment (by staff): left out, reason kept."""
        decided = {d.vendor_id for d in self.result.decisions}
        return [
            a
            for vendor_id, a in sorted(self.applications.items())
            if vendor_id not in decided and a.status is ApplicationStatus.DECLINED
        ]

    @property
    def assigned_count(self) -> int:
        return len(self.result.state.assigned)

    @property
    def pinnable(self) -> list[Application]:
        """Applications a pin may be set on, by name."""
        live = (ApplicationStatus.APPLIED, ApplicationStatus.ASSIGNED, ApplicationStatus.WAITLISTED)
        found = [a for a in self.applications.values() if a.status in live]
        return sorted(found, key=lambda a: (a.vendor.name, a.id))

    @property
    def under_minimum(self) -> bool:
        return self.result.under_minimum

    @property
    def fingerprint(self) -> str:
        """Changes whenever the outcome would: the confirm form carries it, so
        staff confirm exactly what they looked at."""
        parts = [
            f"{d.vendor_id}:{d.outcome}:{d.booth}:{d.waitlist_position}:{d.reason}"
            for d in self.result.decisions
        ]
        parts += [f"pin:{p.vendor_id}:{p.booth}:{p.kind}" for p in self.pin_problems]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


def preview(market: Market) -> Plan:
    """The assignment as it would come out now; writes nothing."""
    data = assignment_input(market)
    result = assign(data.info, data.applicants, data.pins)
    declined_pins = tuple(
        PinProblem(
            p.vendor_id,
            p.booth,
            PinProblemKind.INELIGIBLE,
            reasons.pin_refused(p.booth, reasons.PIN_DECLINED),
        )
        for p in data.declined_pins
    )
    problems = tuple(
        sorted(result.pin_problems + declined_pins, key=lambda p: (p.booth, p.vendor_id))
    )
    return Plan(market, result, data.applications, problems)


def booths_confirmed(market: Market) -> bool:
    return bool(db.session.scalar(select(func.count(Booth.id)).where(Booth.market_id == market.id)))


def confirm(
    market_id: int,
    actor,
    *,
    replace: bool = False,
    expected: str | None = None,
    now: datetime | None = None,
) -> Plan:
    """Store the assignment of this market. `replace` deliberately throws away
    a confirmed one; `expected` is the fingerprint of the preview staff saw."""
    now = now or utcnow()
    market = locked_market(market_id)
    if market.status not in ASSIGNABLE:
        raise BoothRuleError(
            _(
                "Booths can be assigned only while a market is open for applications or "
                "already assigned; this one is %(status)s.",
                status=markets.status_label(market.status),
            )
        )
    existing = db.session.execute(
        select(Booth.application_id, Booth.number, Booth.vendor_id, Booth.attendance).where(
            Booth.market_id == market.id
        )
    ).all()
    if existing and not replace:
        raise BoothRuleError(
            _(
                "The booths of this market were already confirmed, perhaps by someone else "
                "a moment ago. To start again, preview a new assignment and confirm it as a "
                "replacement."
            )
        )
    if any(row.attendance is not None for row in existing):
        raise BoothRuleError(
            _("Attendance has been taken at this market; its booths can no longer be reassigned.")
        )
    plan = preview(market)
    if expected and expected != plan.fingerprint:
        raise BoothRuleError(
            _(
                "The applications changed since your preview, so the result would differ "
                "from what you saw. Look at the new preview and confirm again."
            )
        )
    before = {row.application_id: row.number for row in existing}
    if existing:
        db.session.execute(delete(Booth).where(Booth.market_id == market.id))
    try:  # not rules.flush_or_refuse: _store's INSERT runs inside the savepoint too
        with db.session.begin_nested():
            changed = _store(plan, before, now)
            db.session.flush()
    except IntegrityError as error:
        raise concurrent_change() from error
    if market.status is MarketStatus.OPEN:
        markets.change_status(market, MarketStatus.ASSIGNED, actor)
    record(
        actor,
        "booths.replace" if existing else "booths.confirm",
        market,
        before={f"booth {row.number}": row.vendor_id for row in existing} or None,
        after=_summary(plan),
    )
    enqueue_many(
        (message(application, market, news, booth) for application, news, booth in changed),
        category=OUTBOX_CATEGORY,
    )
    return plan


def concurrent_change_message() -> str:
    return _(
        "Someone else changed the booths of this market at the same moment, so your change "
        "was not saved. Reload the page and try again."
    )


def concurrent_change() -> BoothRuleError:
    """The refusal when the database's own rules stop a second writer that
    got past the lock: `rules.flush_or_refuse(concurrent_change())`."""
    return BoothRuleError(concurrent_change_message())


def _store(plan: Plan, before: dict[int, int], now: datetime) -> list[tuple]:
    """Booth rows (one INSERT) and application statuses from the plan; returns
    (application, news, booth) for every vendor whose outcome, booth or place
    changed."""
    changed, booths = [], []
    for decision in plan.result.decisions:
        status = STORED_OUTCOMES.get(decision.outcome)
        if status is None:  # withdrawn: their own choice, left as it is
            continue
        application = plan.applications[decision.vendor_id]
        old = (application.status, before.get(application.id), application.waitlist_position)
        if decision.booth is not None:
            booths.append(
                {
                    "market_id": plan.market.id,
                    "number": decision.booth,
                    "vendor_id": decision.vendor_id,
                    "application_id": application.id,
                    "pinned": decision.basis is Basis.PINNED,
                    "assigned_at": now,
                }
            )
        new = (status, decision.booth, decision.waitlist_position)
        if old != new or application.status_reason != decision.reason:
            application.status, application.status_reason = status, decision.reason[:500]
            application.waitlist_position = decision.waitlist_position
            application.status_changed_at = now
        if old != new:
            changed.append((application, NEWS.get(decision.outcome, News.DECLINED), decision.booth))
    if booths:
        db.session.execute(insert(Booth), booths)
    return changed


def _summary(plan: Plan) -> dict:
    """Flat values, as the audit log stores them: booth -> vendor id, then lists."""
    summary: dict = {f"booth {b.number}": b.vendor_id for b in plan.result.booths}
    summary["waitlist"] = ", ".join(map(str, plan.result.waitlist))
    summary["declined"] = ", ".join(map(str, plan.result.declined))
    summary["pin_problems"] = " / ".join(p.message for p in plan.pin_problems)
    return summary


describe_actions(
    {
        "booths.confirm": _l("Booths assigned"),
        "booths.replace": _l("Booth assignment replaced"),
        "booths.move": _l("Vendor moved to another booth"),
        "booths.swap": _l("Two booths swapped"),
        "booths.pin": _l("Booth pinned"),
        "booths.unpin": _l("Booth pin removed"),
        "booths.unassign": _l("Booth taken back"),
        "booths.add": _l("Vendor added from the waitlist"),
        "booths.promote": _l("Waitlist moved up after a withdrawal"),
        "booths.attendance": _l("Attendance marked"),
    },
    {"booths": _l("Booth")},
)
