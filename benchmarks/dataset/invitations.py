"""Bench data for the invitations: a campaign to the next market (the first
on or after the anchor day), 10,000 invitations at scale 1, written after
the customers and the market days.

It is what staff sending a ranking's top customers in batches of
market.invitations.sending.MAX_BATCH would leave: one send record per batch
with the page's default control group (10 % held back, ControlCustomer
rows), an invitation per customer with its visitor pass, and its mail in
the outbox, sent the day before the anchor. Most mails arrived, a few
bounced or failed; about a quarter of the invited answered (yes, maybe, no;
on the page or from a calendar app); nobody has visited yet (the market is
ahead). The dashboard's funnel, the invitations page's counts and the RSVP
page (/i/<token>) read these rows.

No mail is built here (that is what the invitation benchmark times): each
outbox row holds a short placeholder message, and none is left queued, so
no worker would ever send one. Ids are given explicitly, tokens and pass
codes come from the seed's random stream: the same seed, scale and anchor
give the same rows. Written with Core inserts in batches, like the rest."""

import base64
from datetime import timedelta
from email.header import Header

from sqlalchemy import delete, insert, select

from benchmarks.dataset.generate import Plan
from market.customers.consent import may_receive_advertising
from market.customers.models import Customer
from market.extensions import db
from market.invitations.messages import CATEGORIES, MailKind, subject_for
from market.invitations.models import (
    PASS_ALPHABET,
    PASS_LENGTH,
    AnswerSource,
    ControlCustomer,
    Invitation,
    InvitationSend,
    InvitationStatus,
)
from market.invitations.ranking import RankingOptions
from market.invitations.sending import DEFAULT_CONTROL_PERCENT, MAX_BATCH, draw_control
from market.markets.models import Market
from market.outbox.models import OutboxMessage, OutboxStatus

FULL_INVITATIONS = 10_000
LEAST_INVITATIONS = 20
BATCH = 10_000
# The customers' answers, in percent of the invited (the rest did not answer).
ANSWERS = {
    InvitationStatus.ACCEPTED: 13,
    InvitationStatus.TENTATIVE: 5,
    InvitationStatus.DECLINED: 7,
    InvitationStatus.INVITED: 75,
}
CALENDAR_SHARE = 0.25  # answers from a calendar app (iMIP REPLY); the rest on the page
# What became of the mail, in percent.
MAIL = {"delivered": 96, "bounced": 2, "failed": 2}
FAILED_ERROR = "550 5.1.1 mailbox unavailable (bench data)"


def invitation_count(plan: Plan) -> int:
    return max(LEAST_INVITATIONS, round(FULL_INVITATIONS * plan.scale))


def next_market_id(anchor) -> int | None:
    """The bench's next market: the first on or after the anchor day (the
    pages benchmarks.pages measures use the same)."""
    return db.session.scalar(
        select(Market.id).where(Market.market_date >= anchor).order_by(Market.market_date)
    )


def _token(rng) -> str:
    # the shape of market.invitations.models.new_token: 32 random bytes, URL-safe
    return base64.urlsafe_b64encode(rng.getrandbits(256).to_bytes(32, "big")).rstrip(b"=").decode()


def _pass_codes(rng, count: int) -> list[str]:
    codes: dict[str, None] = {}
    while len(codes) < count:
        codes["".join(rng.choice(PASS_ALPHABET) for _ in range(PASS_LENGTH))] = None
    return list(codes)


def _batches(customer_ids: list[int], wanted: int) -> list[list[int]]:
    """Customers chosen per send: MAX_BATCH each, held back DEFAULT_CONTROL_PERCENT,
    and the last one just big enough to reach `wanted` invitations."""
    chunks, start, left = [], 0, wanted
    while left > 0 and start < len(customer_ids):
        size = min(MAX_BATCH, len(customer_ids) - start)
        held = size * DEFAULT_CONTROL_PERCENT // 100
        if size - held > left:
            size = left
            while size - size * DEFAULT_CONTROL_PERCENT // 100 < left:
                size += 1
        chunk = customer_ids[start : start + size]
        chunks.append(chunk)
        left -= len(chunk) - len(chunk) * DEFAULT_CONTROL_PERCENT // 100
        start += size
    return chunks


def _placeholder_mime(to_address: str, subject: str, message_id: int) -> bytes:
    """`subject` already encoded for the header (RFC 2047)."""
    return (
        "From: bench@bench.market.kr\r\n"
        f"To: {to_address}\r\n"
        f"Subject: {subject}\r\n"
        f"Message-ID: <bench-{message_id}@bench.market.kr>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "(bench data: this invitation's mail was not built)\r\n"
    ).encode()


def seed_campaign(plan: Plan, staff_id: int | None) -> str:
    """The campaign's sends, control groups, invitations and their mail."""
    rng = plan.rng("invitations")
    market = db.session.get(Market, next_market_id(plan.today))
    wanted = invitation_count(plan)
    need = wanted + wanted * DEFAULT_CONTROL_PERCENT // 90 + MAX_BATCH  # with the control groups
    # Low ids buy the most in the bench data (benchmarks.dataset.generate.order_rows),
    # so the consenting customers in id order are close to the ranking's top.
    customers = db.session.execute(
        select(Customer.id, Customer.email)
        .where(may_receive_advertising())
        .order_by(Customer.id)
        .limit(need)
    ).all()
    email = dict(customers)
    sent_at = plan.moment(plan.today - timedelta(days=1), hour=10)
    subject = subject_for(market, MailKind.INVITE)
    header = Header(subject, "utf-8").encode(linesep="\r\n")
    options = RankingOptions()
    sends, controls, invitations, mails = [], [], [], []
    chunks = _batches([customer_id for customer_id, _ in customers], wanted)
    codes = iter(_pass_codes(rng, sum(len(chunk) for chunk in chunks)))
    for number, chunk in enumerate(chunks, start=1):
        seed = rng.getrandbits(32)
        held = draw_control(chunk, DEFAULT_CONTROL_PERCENT, seed)
        at = sent_at + timedelta(minutes=number)
        sends.append(
            {
                "id": number,
                "market_id": market.id,
                "sent_at": at,
                "sent_by_id": staff_id,
                "top_n": len(chunk),
                "window_days": options.window_days,
                "assigned_vendors_only": options.assigned_vendors_only,
                "min_orders": options.min_orders,
                "skip_invited_weeks": options.skip_invited_weeks,
                "control_percent": DEFAULT_CONTROL_PERCENT,
                "control_seed": seed,
                "chosen": len(chunk),
                "invited": len(chunk) - len(held),
                "held_back": len(held),
            }
        )
        controls += [
            {"id": len(controls) + n, "send_id": number, "market_id": market.id, "customer_id": c}
            for n, c in enumerate(held, start=1)
        ]
        left_out = set(held)
        for customer_id in chunk:
            if customer_id in left_out:
                continue
            row_id = len(invitations) + 1
            mail, invitation = _mail_and_invitation(
                rng, row_id, at, market, customer_id, number, next(codes)
            )
            mail.update(
                to_address=email[customer_id],
                subject=subject,
                mime=_placeholder_mime(email[customer_id], header, row_id),
            )
            mails.append(mail)
            invitations.append(invitation)
    for table, rows in (
        (InvitationSend.__table__, sends),
        (ControlCustomer.__table__, controls),
        (OutboxMessage.__table__, mails),
        (Invitation.__table__, invitations),
    ):
        for start in range(0, len(rows), BATCH):
            db.session.execute(insert(table), rows[start : start + BATCH])
    db.session.commit()
    answered = sum(1 for row in invitations if row["answered_at"] is not None)
    return (
        f"invitations: {len(invitations):,} to the market of {market.market_date} in "
        f"{len(sends)} sends ({len(controls):,} held back), {answered:,} answered"
    )


def _mail_and_invitation(rng, row_id, at, market, customer_id, send_id, code):
    fate = rng.choices(list(MAIL), weights=list(MAIL.values()))[0]
    arrived = at + timedelta(minutes=rng.randrange(1, 30))
    mail = {
        "id": row_id,
        "created_at": at,
        "category": CATEGORIES[0],
        "status": OutboxStatus.FAILED if fate == "failed" else OutboxStatus.SENT,
        "attempts": 1,
        "next_attempt_at": at,
        "claimed_until": None,
        "claimed_by": None,
        "last_error": FAILED_ERROR if fate == "failed" else None,
        "sent_at": None if fate == "failed" else arrived,
        "bounced_at": arrived + timedelta(minutes=5) if fate == "bounced" else None,
    }
    status = InvitationStatus.INVITED
    if fate == "delivered":  # only who got the mail can answer
        status = rng.choices(list(ANSWERS), weights=list(ANSWERS.values()))[0]
    answered_at = None
    if status is not InvitationStatus.INVITED:
        answered_at = arrived + timedelta(minutes=rng.randrange(5, 20 * 60))
    calendar = answered_at is not None and rng.random() < CALENDAR_SHARE
    source = AnswerSource.CALENDAR if calendar else AnswerSource.PAGE
    invitation = {
        "id": row_id,
        "customer_id": customer_id,
        "market_id": market.id,
        "token": _token(rng),
        "status": status,
        "sequence_sent": market.sequence,
        "outbox_message_id": row_id,
        "created_at": at,
        "delivered_at": None if fate == "failed" else arrived,
        "answered_at": answered_at,
        "answer_source": source if answered_at else None,
        "answer_stamp": answered_at,
        "answer_sequence": market.sequence if answered_at else None,
        "answer_outdated": False,
        "pass_code": code,
        "visited_at": None,
        "visited_by_id": None,
        "send_id": send_id,
    }
    return mail, invitation


def pending_token(anchor) -> str | None:
    """An invitation of the next market that arrived and nobody answered:
    the RSVP page as most of a campaign's customers first see it."""
    return db.session.scalar(
        select(Invitation.token)
        .where(
            Invitation.market_id == next_market_id(anchor),
            Invitation.status == InvitationStatus.INVITED,
            Invitation.delivered_at.is_not(None),
            Invitation.answered_at.is_(None),
        )
        .order_by(Invitation.id)
        .limit(1)
    )


def remove_campaign() -> int:
    """Takes the campaign out of a copy of a bench database: every
    invitation, control group, send and outbox message (the seed writes no
    other mail). The invitation benchmark's scratch copy starts from this,
    as it did before the campaign was seeded: its customers not invited yet
    and only its own mail in the outbox."""
    removed = db.session.execute(delete(Invitation)).rowcount
    db.session.execute(delete(ControlCustomer))
    db.session.execute(delete(InvitationSend))
    db.session.execute(delete(OutboxMessage))
    db.session.commit()
    return removed
