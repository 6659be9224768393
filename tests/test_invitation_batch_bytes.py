"""The shortcuts that let a campaign of 10,000 invitations be built in a
few seconds (issue 20) write the same bytes as the slow way they replace:
the pass images (passes.PassImages against segno through qr_png), the text
bodies (mime.Layout against the email package's content manager), and a
batch of customers with each their own pass code against invitation_message
one by one."""

import random
import secrets
from datetime import UTC, datetime
from email.contentmanager import _encode_text
from types import SimpleNamespace

import pytest
from icalendar.parser import Contentline
from sqlalchemy import func, select, text

from market import calendar
from market.extensions import db
from market.invitations import messages, passes
from market.invitations.messages import AttendingVendor, InvitationBatch, MailKind
from market.invitations.models import PASS_ALPHABET, new_pass_code
from market.outbox import mime
from market.outbox import services as outbox_services
from market.outbox.models import OutboxMessage
from tests.helpers import NumberedMessageIds
from tests.test_invitation_batch import PEOPLE, PUBLIC, _normalised, market  # noqa: F401
from tests.test_invitations import CONSENT_AT
from tests.test_outbox_postgres import ON_POSTGRES


@pytest.mark.parametrize("market_id", [1, 51, 4096, 2**31 - 1])
def test_pass_images_are_the_pngs_segno_draws_through_qr_png(app, market_id):
    app.config["PUBLIC_BASE_URL"] = PUBLIC
    with app.test_request_context():
        images = passes.PassImages(market_id)
        codes = [new_pass_code() for _ in range(150)]
        codes += ["AAAAAA", "ZZZZZZ", "222222", PASS_ALPHABET[::-1][:6], "HK4P7Q"]
        # Not what new_pass_code makes: another length, lower case, a
        # character outside ASCII; still the image of that address.
        codes += ["ABC", "ABCDEFGH", "abcdef", "A-_b9z", "가나다라마바"]
        for code in codes:
            expected = passes.qr_png(passes.check_in_url(market_id, code))
            assert images.png(code) == expected, code


def test_pass_images_follow_the_configured_address(app):
    """Another PUBLIC_BASE_URL, another address in every pass (the basis is
    kept per address, not per market)."""
    with app.test_request_context():
        for base in ("https://a.example.kr", "http://localhost:5000/market"):
            app.config["PUBLIC_BASE_URL"] = base
            images = passes.PassImages(7)
            for code in ("HK4P7Q", new_pass_code()):
                url = passes.check_in_url(7, code)
                assert url.startswith(base)
                assert images.png(code) == passes.qr_png(url)


# Bodies the content manager writes in each of its ways: 7bit, base64 and
# quoted-printable (short and long), with the cases its quoted-printable
# folds and quotes with care: "=" at a fold, white space at a line end, CR
# alone, a Latin-1 line end (\x85) and form feeds inside UTF-8.
BODIES = [
    "",
    "plain ascii\n",
    "x" * 200,
    "안녕하세요 고객님\n" * 30,
    "<p>" + "a=b " * 40 + "</p>\n" * 12,
    "<html>\n<head>\n</head>\n<body>\n" + "<p>김하나 고객님, 초대합니다.</p>\n" * 20,
    "line with trailing space \nand tab\t\n" * 12 + "한",
    "cr\ronly\r\nand\n\nempty\n" * 6 + "…\x85\x0b\x0c\u2028 end",
    "=" * 80 + "\n" + "a" * 75 + "=\n" + "é" * 50,
]


def test_a_layout_encodes_text_bodies_as_the_content_manager_does():
    layout = mime.Layout.__new__(mime.Layout)  # only its policy and its kept lines
    layout.policy, layout._quoted = mime.MAIL_POLICY, {}
    rng = random.Random(20)
    pieces = ["a", " ", "\t", "=", "한글", "\n", "\r", "\r\n", "é", "x" * 70, "<p>", "&amp;"]
    bodies = BODIES + [
        "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 150))) for _ in range(400)
    ]
    for _round in range(2):  # the second time from the lines kept
        for body in bodies:
            assert layout._encode_text(body) == _encode_text(body, "utf-8", None, mime.MAIL_POLICY)


@pytest.mark.parametrize("kind", [MailKind.INVITE, MailKind.UPDATE])
def test_a_batch_with_a_pass_each_writes_the_bytes_invitation_message_writes(
    app,
    market,  # noqa: F811
    kind,
    monkeypatch,
):
    """As test_invitation_batch's test, but each customer with a pass code
    of their own, as a send gives them: the QR code is made from the batch's
    basis, not by segno, and the HTML's lines are encoded from those kept."""
    numbered = NumberedMessageIds(monkeypatch, messages, mime)
    ids = numbered.ids
    vendors = [AttendingVendor(f"기업 {n}", "식품") for n in range(5)]
    stamp = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    batch = InvitationBatch(market, vendors, kind, stamp)
    for round_ in range(3):
        for name, email in PEOPLE:
            customer = SimpleNamespace(name=name, email=email, consent_at=CONSENT_AT)
            token, pass_code = secrets.token_urlsafe(32), new_pass_code()
            fast = batch.message(customer, token, 1, pass_code)
            assert isinstance(fast, mime.Prepared), (name, email)
            numbered.restart_at(int(ids[-2].split(".")[0][1:]))
            single = messages.invitation_message(
                customer=customer,
                market=market,
                token=token,
                vendors=vendors,
                kind=kind,
                sequence=1,
                stamp=stamp,
                pass_code=pass_code,
            )
            assert _normalised(fast.mime) == _normalised(bytes(single)), (round_, name)


def test_calendar_lines_are_folded_as_icalendar_folds_them():
    """calendar.fold against icalendar's own folding: Korean (3 octets), a
    4-octet character, and the escapes it never splits (a backslash or a
    caret ending a piece goes on to the next one), at every position."""
    rng = random.Random(5545)
    pieces = ["a", "\\", "^", "\\,", "\\n", "^^", "한", "é", "😀", " ", ";", ":", "x" * 30]
    lines = [
        "DESCRIPTION:" + "x" * n + tail for n in range(60, 80) for tail in ("\\,a", "^'b", "한글")
    ]
    lines += ["".join(rng.choice(pieces) for _ in range(rng.randrange(0, 90))) for _ in range(3000)]
    for line in lines:
        assert calendar.fold(line) == Contentline(line).to_ical(), line


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL's TOAST compression; SQLite has none")
def test_a_campaigns_mail_is_stored_with_lz4_where_the_server_has_it(app):
    """The outbox INSERT of a batch asks for lz4 in its own transaction
    (pglz took most of the server's time for it); the mail reads back the
    same, and the setting is gone after the commit."""
    has_lz4 = db.session.scalar(
        text(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
    )
    before = db.session.scalar(text("SHOW default_toast_compression"))
    db.session.commit()
    # Incompressible enough to be stored compressed only if it is large,
    # compressible so that it is: a campaign's mail is both.
    body = b"".join(b"%06d line of a mail body\r\n" % n for n in range(2000))
    prepared = [mime.Prepared(f"c{n}@example.com", "subject", body + b"%d" % n) for n in range(3)]
    ids = outbox_services.enqueue_rows(prepared, category="invitation")
    db.session.commit()
    rows = db.session.execute(
        select(OutboxMessage.mime, func.pg_column_compression(OutboxMessage.mime))
        .where(OutboxMessage.id.in_(ids))
        .order_by(OutboxMessage.id)
    ).all()
    assert [row.mime for row in rows] == [p.mime for p in prepared]
    assert {row[1] for row in rows} == {"lz4" if has_lz4 else before}
    assert db.session.scalar(text("SHOW default_toast_compression")) == before
