"""Invitations by the thousand (issue 20): `invite` writes each customer's
mail from what the batch shares (messages.InvitationBatch, outbox.mime.
Layout) and queues the mail and the invitations in a fixed number of
statements. The mail is the one invitation_message builds for a single
customer, byte for byte but for what is random in it (Message-ID, Content-ID,
boundaries) and the Date of the second it was made."""

import re
from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, insert, select

from market.customers.models import Customer, email_hash
from market.extensions import db
from market.invitations import messages, sending
from market.invitations.messages import AttendingVendor, InvitationBatch, MailKind
from market.invitations.models import Invitation
from market.markets import services as market_services
from market.outbox import mime
from market.outbox.models import OutboxMessage, OutboxStatus
from market.timeutil import SEOUL
from tests.helpers import NumberedMessageIds
from tests.markets_factories import make_market, make_venue, next_thursday
from tests.test_invitations import CONSENT_AT, market_details

PUBLIC = "https://market.example.kr"


@pytest.fixture
def market(app):
    app.config["PUBLIC_BASE_URL"] = PUBLIC
    venue = make_venue("경기도청, 본관; 1층", 10)
    return make_market(venue, next_thursday(datetime.now(SEOUL).date(), weeks=2))


def _customers(count: int, start: int = 0) -> list[int]:
    db.session.execute(
        insert(Customer),
        [
            {
                "email": f"buyer{n}@example.com",
                "email_hash": email_hash(f"buyer{n}@example.com"),
                "name": f"구매자{n}",
                "consent": True,
                "consent_at": CONSENT_AT,
                "consent_source": "orders.csv",
                "consent_wording": "v1",
                "details_as_of": CONSENT_AT,
            }
            for n in range(start, start + count)
        ],
    )
    db.session.commit()
    return list(
        db.session.scalars(
            select(Customer.id).where(Customer.email.like("buyer%")).order_by(Customer.id)
        )
    )[start:]


def test_inviting_5_or_500_customers_takes_the_same_statements(app, market, count_queries):
    """One INSERT for the outbox rows and one for the invitations, whatever
    their number (it was two per customer: 1,000 statements for 500)."""
    ids = _customers(505)
    now = datetime.combine(market.market_date - timedelta(days=7), datetime.min.time(), SEOUL)
    now = now.replace(hour=11)
    counts = []
    for chunk in (ids[:5], ids[5:]):
        db.session.refresh(market)  # loaded again after a commit: not the send's
        with count_queries() as counter:
            result = sending.invite(market, chunk, None, now)
            db.session.commit()
        assert result.invited == len(chunk)
        counts.append(len(counter.statements))
    assert counts[0] == counts[1], counts
    invitations = db.session.scalars(select(Invitation)).all()
    assert len(invitations) == 505
    rows = {row.id: row for row in db.session.scalars(select(OutboxMessage))}
    assert len(rows) == 505
    for invitation in invitations:  # each names its own mail, to its own customer
        row = rows[invitation.outbox_message_id]
        assert row.status is OutboxStatus.QUEUED and row.category == "invitation"
        assert row.to_address == f"buyer{ids.index(invitation.customer_id)}@example.com"
        assert invitation.token.encode() in row.mime


def _normalised(raw: bytes) -> bytes:
    seen: dict[bytes, bytes] = {}
    raw = re.sub(rb"={15}\d{19}==", lambda m: seen.setdefault(m[0], b"B%d" % len(seen)), raw)
    return re.sub(rb"Date: [^\r]+", b"Date: -", raw)


# Names and addresses the To header and the calendar must write as the
# email package and icalendar do: Korean, a comma and quotes, none, one
# that folds, a plus address, a line break stored before the forms refused
# it, Korean words with spaces, a Korean name whose line folds.
PEOPLE = [
    ("김하나", "hana@example.com"),
    ('Kim, J. "Q"', "kim.j@example.com"),
    ("", "noname@example.com"),
    ("아주 긴 이름을 가진 고객님 " * 3, "long.name.person@a-very-long-domain-name.example.com"),
    ("이 둘", "dul+market@example.co.kr"),
    ("박\n셋", "set@example.com"),
    ("Plain Name", "plain@example.com"),
    ("남궁 민수 님", "namgung@example.com"),
    ("가나다라마바사아자차카타파하가", "someone.with.a.long.address@example.com"),
    # Particle markers typed in a name: written as typed by both builds (the
    # one by one build fitted them, "김이(가)" greeted as "김이").
    ("김이(가)", "kim.i@example.com"),
    ("김민(가)", "kim.min@example.com"),
    ("이(가)나", "ina@example.com"),
    ("은(는)", "eun@example.com"),
    ("홍길동은(는) 사과와(과)", "hong@example.com"),
    ("Anna을(를)", "anna@example.com"),
]


@pytest.mark.parametrize("kind", list(MailKind))
def test_a_batch_writes_the_bytes_invitation_message_writes(app, market, kind, monkeypatch):
    numbered = NumberedMessageIds(monkeypatch, messages, mime)
    ids = numbered.ids
    vendors = [AttendingVendor(f"기업 {n} & <협동조합>", "식품") for n in range(12)]
    vendors.append(AttendingVendor("사과이(가) 협동조합", "농산물"))
    stamp = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    changed = ("시간",) if kind is MailKind.UPDATE else ()
    batch = InvitationBatch(market, vendors, kind, stamp, changed=changed)
    pass_code = None if kind is MailKind.CANCEL else "HK4P7Q"
    for sequence in (1, 2):
        for name, email in PEOPLE:
            customer = SimpleNamespace(name=name, email=email, consent_at=CONSENT_AT)
            token = f"token-{sequence}_{len(ids)}"
            fast = batch.message(customer, token, sequence, pass_code)
            assert isinstance(fast, mime.Prepared), (name, email)
            # The same Content-ID and Message-ID for the single build.
            first = ids[-1 if kind is MailKind.CANCEL else -2]
            numbered.restart_at(int(first.split(".")[0][1:]))
            single = messages.invitation_message(
                customer=customer,
                market=market,
                token=token,
                vendors=vendors,
                kind=kind,
                sequence=sequence,
                stamp=stamp,
                changed=changed,
                pass_code=pass_code,
            )
            assert _normalised(fast.mime) == _normalised(bytes(single)), (name, email)
            assert fast.to_address == mime.recipients(single)[0]
            assert fast.subject == str(single["Subject"])


def test_a_customer_the_batch_cannot_write_gets_the_single_result(app, market):
    """An address the email package refuses is the same failed row as before
    (an Unbuildable), and the others of the batch are written."""
    batch = InvitationBatch(market, [], MailKind.INVITE, datetime.now(UTC))
    refused = SimpleNamespace(name="홍길동", email="홍@example.com", consent_at=CONSENT_AT)
    fine = SimpleNamespace(name="홍길동", email="hong@example.com", consent_at=CONSENT_AT)
    assert isinstance(batch.message(refused, "token", 1, "HK4P7Q"), mime.Unbuildable)
    assert isinstance(batch.message(fine, "token", 1, "HK4P7Q"), mime.Prepared)


def test_a_clash_withdraws_the_mail_with_the_invitations(app, market, monkeypatch):
    """Someone else invited the same customer at the same moment: the clear
    refusal, and none of this send's mail stays queued."""
    ids = _customers(3)
    now = datetime.combine(market.market_date - timedelta(days=7), datetime.min.time(), SEOUL)
    now = now.replace(hour=11)
    sending.invite(market, ids[:1], None, now)
    db.session.commit()
    # As if the other send had not been seen when this one checked.
    monkeypatch.setattr(
        sending,
        "classify",
        lambda market, wanted: ([db.session.get(Customer, cid) for cid in wanted], {}),
    )
    with pytest.raises(sending.InvitationError):
        sending.invite(market, ids, None, now)
    db.session.commit()  # what the send did before the clash is kept, its mail is not
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 1


def test_an_update_to_5_or_60_invited_takes_the_same_statements(app, count_queries):
    """A new time re-sends every invitation: one INSERT per kind of mail,
    not one per customer (it was one INSERT each)."""
    app.config["PUBLIC_BASE_URL"] = PUBLIC
    ids = _customers(65)
    venue = make_venue("경기도청", 10)
    day = next_thursday(datetime.now(SEOUL).date(), weeks=2)
    counts = []
    for chunk, weeks in ((ids[:5], 2), (ids[5:], 3)):
        market = make_market(venue, day + timedelta(weeks=weeks - 2))
        now = datetime.combine(market.market_date - timedelta(days=7), time(11), SEOUL)
        sending.invite(market, chunk, None, now)
        db.session.commit()
        for row in db.session.scalars(select(OutboxMessage)):  # as if sent
            row.status = OutboxStatus.SENT
        db.session.commit()
        db.session.refresh(market)
        with count_queries() as counter:
            market_services.update_market(market, market_details(market, start_time=time(11)))
            db.session.commit()
        counts.append(len(counter.statements))
        queued = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.QUEUED)
        ).all()
        assert len(queued) == len(chunk)
        assert {row.category for row in queued} == {"invitation-update"}
        for invitation in db.session.scalars(
            select(Invitation).where(Invitation.market_id == market.id)
        ):
            row = db.session.get(OutboxMessage, invitation.outbox_message_id)
            assert row.status is OutboxStatus.QUEUED and invitation.token.encode() in row.mime
            assert b"SEQUENCE:1" in base64_calendar(row.mime)
    assert counts[0] == counts[1], counts


def base64_calendar(raw: bytes) -> bytes:
    [part] = [p for p in mime.parse(raw).walk() if p.get_content_type() == "text/calendar"]
    return part.get_payload(decode=True)


def test_names_that_look_like_the_batch_gaps_are_written_as_typed(app, market):
    """Enterprises and customers name themselves; a name shaped like a gap of
    the batch's layout once raised KeyError and stopped every invitation of
    its market."""
    from email import message_from_bytes
    from email import policy as email_policy

    typed = ["@@mime-x@@", "@@mime-to@@", "@@mime-unsubscribe_url@@", f"{mime.gap('y')[:9]}"]
    vendors = [AttendingVendor(name, "식품") for name in typed]
    batch = InvitationBatch(market, vendors, MailKind.INVITE, datetime.now(UTC))
    customer = SimpleNamespace(
        name="@@mime-name@@", email="hana@example.com", consent_at=CONSENT_AT
    )
    written = batch.message(customer, "token", 1, "HK4P7Q")
    raw = written.mime if isinstance(written, mime.Prepared) else bytes(written)
    text = message_from_bytes(raw, policy=email_policy.default).get_body(("plain",)).get_content()
    for name in typed:
        assert name in text


def _bodies(raw: bytes) -> tuple[str, str]:
    parsed = mime.parse(raw)
    return parsed.get_body(("plain",)).get_content(), parsed.get_body(("html",)).get_content()


def test_particle_markers_in_names_go_out_as_typed_in_both_builds(app, market):
    """A customer's, an enterprise's and a venue's name are data: a marker
    such as 이(가) typed in one is not ours to fit (the one by one build
    greeted "김이(가)" as "김이", the batch wrote it as typed, so the same
    customer got different mail depending on how it was built)."""
    market.venue.name = "장터마당은(는) 본관"
    vendors = [AttendingVendor("사과이(가) 협동조합", "농산물")]
    batch = InvitationBatch(market, vendors, MailKind.INVITE, datetime.now(UTC))
    first = SimpleNamespace(name="김하나", email="hana@example.com", consent_at=CONSENT_AT)
    assert isinstance(batch.message(first, "token-1", 1, "HK4P7Q"), mime.Prepared)
    for name in ("김이(가)", "홍길동은(는)", "이(가)나", "Anna을(를)"):
        customer = SimpleNamespace(name=name, email="kim@example.com", consent_at=CONSENT_AT)
        fast = batch.message(customer, "token-2", 1, "HK4P7Q")
        single = messages.invitation_message(
            customer=customer,
            market=market,
            token="token-2",
            vendors=vendors,
            kind=MailKind.INVITE,
            sequence=1,
            stamp=batch.stamp,
            pass_code="HK4P7Q",
        )
        for raw in (fast.mime, bytes(single)):
            for body in _bodies(raw):
                assert f"{name}님, 안녕하세요." in body
                assert "사과이(가) 협동조합" in body
                assert "장터마당은(는) 본관" in body


def test_a_layout_that_cannot_be_built_is_tried_once_per_batch(app, market, monkeypatch):
    """An enterprise's name no mail can hold (a lone surrogate: no UTF-8
    writes it) fails the shared layout: the batch remembers that and builds
    each customer one by one (each an Unbuildable here, recorded as failed),
    instead of rendering the words, the calendar and the layout again for
    every customer first."""
    attempts = []
    make_frame = InvitationBatch._make_frame

    def counted(batch, sequence, with_pass):  # the real build, counted
        attempts.append((sequence, with_pass))
        return make_frame(batch, sequence, with_pass)

    monkeypatch.setattr(InvitationBatch, "_make_frame", counted)
    vendors = [AttendingVendor("사과\ud800농원", "농산물")]
    batch = InvitationBatch(market, vendors, MailKind.INVITE, datetime.now(UTC))
    for n in range(5):
        customer = SimpleNamespace(
            name=f"고객{n}", email=f"c{n}@example.com", consent_at=CONSENT_AT
        )
        assert isinstance(batch.message(customer, f"token-{n}", 1, "HK4P7Q"), mime.Unbuildable)
        assert isinstance(batch.message(customer, f"token-{n}", 1, None), mime.Unbuildable)
    assert attempts == [(1, True), (1, False)]
