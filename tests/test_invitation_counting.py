"""The dashboard's funnel line and the invitations page's counts count in the
database without a GROUP BY over the invitations (a campaign of 10,000 made
sorting them the dashboard's cost): the mail-state rule as SQL
(mail_state.expression) says what the Python rule (mail_state.state) says
for every combination of mail, and the one-row counts equal the grouped
funnel's figures."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from market.customers.models import Customer
from market.extensions import db
from market.invitations import funnel, mail_state, queries
from market.invitations.models import AnswerSource, Invitation, InvitationStatus
from market.outbox.models import OutboxMessage, OutboxStatus
from market.timeutil import SEOUL
from tests.markets_factories import make_market, make_venue, next_thursday
from tests.test_invitations import make_customer

AT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
CATEGORIES = ("invitation", "invitation-update", mail_state.CANCEL_CATEGORY)
# (status, category, bounced, arrived); status None: no mail row at all
MAILS = [
    *itertools.product(list(OutboxStatus), CATEGORIES, (False, True), (False, True)),
    *((None, None, False, arrived) for arrived in (False, True)),
]
ANSWERS = [
    (InvitationStatus.INVITED, None),
    (InvitationStatus.ACCEPTED, None),  # an answer without a source: the page
    (InvitationStatus.ACCEPTED, AnswerSource.CALENDAR),
    (InvitationStatus.TENTATIVE, AnswerSource.PAGE),
    (InvitationStatus.DECLINED, AnswerSource.CALENDAR),
    (InvitationStatus.DECLINED, AnswerSource.PAGE),
]


@pytest.fixture
def market(app):
    venue = make_venue("경기도청", 10)
    return make_market(venue, next_thursday(datetime.now(SEOUL).date(), weeks=2))


def _invitations(market) -> list[Invitation]:
    """One invitation per mail combination, answers and visits spread over them."""
    made = []
    for n, (status, category, bounced, arrived) in enumerate(MAILS):
        customer = make_customer(
            f"c{n}@example.com", f"고객 {n}", unsubscribed_at=AT if n % 5 == 0 else None
        )
        mail = None
        if status is not None:
            mail = OutboxMessage(
                category=category,
                to_address=customer.email,
                subject="초대",
                mime=b"x",
                status=status,
                bounced_at=AT if bounced else None,
            )
            db.session.add(mail)
            db.session.flush()
        answer, source = ANSWERS[n % len(ANSWERS)]
        invitation = Invitation(
            customer_id=customer.id,
            market_id=market.id,
            status=answer,
            answer_source=source,
            answered_at=AT if source else None,
            outbox_message_id=mail.id if mail else None,
            delivered_at=AT if arrived else None,
            visited_at=AT + timedelta(days=7) if n % 3 == 0 else None,
            answer_outdated=n % 4 == 0,
        )
        db.session.add(invitation)
        made.append(invitation)
    db.session.commit()
    return made


def test_the_sql_rule_says_what_the_python_rule_says(market):
    invitations = _invitations(market)
    rows = db.session.execute(
        select(Invitation.id, mail_state.expression(), *mail_state.columns())
        .outerjoin(OutboxMessage, OutboxMessage.id == Invitation.outbox_message_id)
        .where(Invitation.market_id == market.id)
    ).all()
    assert len(rows) == len(invitations) == len(MAILS)
    for _, in_sql, *columns in rows:
        assert in_sql == mail_state.state(*columns), columns
    assert {row[1] for row in rows} == set(mail_state.STATES)


def test_the_dashboard_line_has_the_funnels_figures(market):
    _invitations(market)
    grouped = funnel.market_funnel(market.id).total
    glance = funnel.glance(market.id)
    names = ("invited", *mail_state.STATES, "accepted", "tentative", "declined", "visited")
    assert [getattr(glance, name) for name in names] == [getattr(grouped, name) for name in names]
    assert glance.visited_accepted == grouped.visited_accepted
    assert glance.by_source == grouped.by_source
    assert glance.invited == len(MAILS) and glance.bounced and glance.withdrawn
    assert glance.by_source["page"].accepted, "an answer without a source counts as the page's"


def test_the_pages_counts_follow_the_rule_per_invitation(market):
    invitations = _invitations(market)
    other = make_market(market.venue, market.market_date + timedelta(weeks=1))
    counts = queries.invitation_counts([market.id, other.id])
    assert counts[other.id] == queries.InvitationCounts()
    mine = counts[market.id]
    expected = queries.InvitationCounts(invited=len(invitations))
    for invitation in invitations:
        mail = db.session.get(OutboxMessage, invitation.outbox_message_id or 0)
        state = mail_state.state(
            mail and mail.status,
            mail and mail.category,
            bool(mail and mail.bounced_at),
            invitation.delivered_at is not None,
        )
        name = "queued" if state == "waiting" else state
        setattr(expected, name, getattr(expected, name) + 1)
        if invitation.status in queries.ANSWERED:
            answer = queries.ANSWERED[invitation.status]
            setattr(expected, answer, getattr(expected, answer) + 1)
            tally = expected.by_source[(invitation.answer_source or AnswerSource.PAGE).value]
            setattr(tally, answer, getattr(tally, answer) + 1)
            expected.outdated += invitation.answer_outdated
    expected.unsubscribed = sum(
        1
        for invitation in invitations
        if db.session.get(Customer, invitation.customer_id).unsubscribed_at is not None
    )
    assert mine == expected


def test_the_dashboard_counts_the_invitations_without_sorting_them(
    market, client, staff, login_as, count_queries
):
    """No GROUP BY over the invitations: the database reads the market's
    invitations once and sorts nothing, however many there are."""
    _invitations(market)
    login_as(staff)
    with count_queries() as counter:
        page = client.get("/staff/").get_data(as_text=True)
    assert f"초대\u00a0{len(MAILS)}" in page
    over_invitations = [s for s in counter.statements if "FROM invitations" in s]
    assert over_invitations and not any("GROUP BY" in s for s in over_invitations)
