"""The staff page "받은 메일" and what bounces show on the outbox pages."""

import re
from datetime import timedelta

from market.customers.models import Suppression, email_hash
from market.extensions import db
from market.inbox import polling
from market.inbox.models import Filing, InboxMessage
from market.inbox.outcome import MessageKind, Outcome
from market.outbox.models import OutboxMessage, OutboxStatus
from market.timeutil import utcnow
from tests import dovecot_fixtures
from tests import inbox_samples as samples
from tests.customer_factories import make_customer

dovecot = dovecot_fixtures.dovecot
mailbox_config = dovecot_fixtures.mailbox_config


def record(uid: int, kind: MessageKind, outcome: Outcome, reason=None, **extra) -> InboxMessage:
    row = InboxMessage(
        folder="INBOX",
        uidvalidity=1,
        uid=uid,
        kind=kind,
        outcome=outcome,
        reason=reason,
        filing=Filing.MOVED,
        handled_at=extra.pop("handled_at", utcnow()),
        **extra,
    )
    db.session.add(row)
    db.session.commit()
    return row


def test_only_staff_see_received_mail(client, vendor_user, login_as):
    response = client.get("/staff/inbox/")
    assert response.status_code == 302
    assert "/account/login" in response.headers["Location"]
    login_as(vendor_user)
    assert client.get("/staff/inbox/").status_code == 403


def test_the_page_lists_what_was_not_applied_and_why_with_counts(staff_client):
    record(
        1,
        MessageKind.CALENDAR_REPLY,
        Outcome.NOT_APPLIED,
        "초대받은 고객이 아닌 주소에서 온 답장입니다.",
        from_address="someone@example.com",
        subject="수락: 굿모닝장터",
    )
    record(2, MessageKind.UNPARSEABLE, Outcome.FAILED, "메일 내용을 읽을 수 없습니다.")
    record(3, MessageKind.AUTO_REPLY, Outcome.IGNORED, subject="자동 회신: 초대합니다")
    record(4, MessageKind.OTHER, Outcome.IGNORED, subject="주차 문의")

    page = staff_client.get("/staff/inbox/").get_data(as_text=True)

    assert "받은 메일" in page
    assert "초대받은 고객이 아닌 주소에서 온 답장입니다." in page
    assert "someone@example.com" in page
    assert "메일 내용을 읽을 수 없습니다." in page
    assert "반영하지 못함" in page and "읽지 못함" in page
    # Only what needs a look by default; auto-replies and other mail are counted.
    assert "자동 회신: 초대합니다" not in page
    assert "주차 문의" not in page
    for label in ("달력 앱 답장", "자동 응답", "기타 메일", "읽을 수 없는 메일", "확인이 필요한"):
        assert label in page
    # No technical words in what staff read.
    words = re.sub(r"<[^>]+>", " ", page)
    for word in ("IMAP", "UID", "not_applied", "unparseable", "auto_reply", "calendar_reply"):
        assert word not in words

    everything = staff_client.get("/staff/inbox/?show=all").get_data(as_text=True)
    assert "자동 회신: 초대합니다" in everything and "주차 문의" in everything
    only_auto = staff_client.get("/staff/inbox/?show=all&kind=auto_reply").get_data(as_text=True)
    assert "자동 회신: 초대합니다" in only_auto and "주차 문의" not in only_auto


def test_the_list_is_paginated(staff_client, app):
    app.config["PAGE_SIZE"] = 5
    now = utcnow()
    for uid in range(1, 13):
        record(
            uid,
            MessageKind.UNPARSEABLE,
            Outcome.FAILED,
            f"이유 {uid}번",
            handled_at=now - timedelta(minutes=uid),
        )
    first = staff_client.get("/staff/inbox/").get_data(as_text=True)
    assert "이유 1번" in first and "이유 6번" not in first
    third = staff_client.get("/staff/inbox/?page=3").get_data(as_text=True)
    assert "이유 11번" in third and "이유 1번<" not in third


def test_undeliverable_addresses_show_the_customer_the_date_and_the_servers_words(
    staff_client,
):
    make_customer("kim@example.net", name="김하늘")
    db.session.add(
        Suppression(
            email_hash=email_hash("kim@example.net"),
            reason="undeliverable",
            bounced_at=utcnow(),
            bounce_diagnostic="550 5.1.1 <kim@example.net>: User unknown",
        )
    )
    db.session.add(Suppression(email_hash=email_hash("quiet@example.net")))  # unsubscribed only
    db.session.commit()

    page = staff_client.get("/staff/inbox/").get_data(as_text=True)

    assert "메일을 받을 수 없는 주소" in page
    assert "김하늘" in page and "kim@example.net" in page
    assert "User unknown" in page
    assert "quiet@example.net" not in page


def test_a_bounce_read_from_the_mailbox_shows_on_the_outbox_and_inbox_pages(
    mailbox_config, app, dovecot, staff_client
):
    make_customer("kim@example.net", name="김하늘")
    when = utcnow() - timedelta(days=1)
    mail = OutboxMessage(
        category="invitation",
        to_address="kim@example.net",
        subject="(광고) 굿모닝장터에 초대합니다",
        mime=b"To: kim@example.net\r\nMessage-ID: <inv.5@gbsec.example.kr>\r\n\r\nhi\r\n",
        status=OutboxStatus.SENT,
        attempts=1,
        sent_at=when,
        created_at=when,
        next_attempt_at=when,
    )
    db.session.add(mail)
    db.session.commit()
    dovecot.deliver(samples.postfix_bounce("kim@example.net", "<inv.5@gbsec.example.kr>"))
    assert polling.poll_once() == 1

    listing = staff_client.get("/staff/outbox/").get_data(as_text=True)
    assert "반송됨" in listing
    shown = staff_client.get(f"/staff/outbox/{mail.id}").get_data(as_text=True)
    assert "반송됨" in shown and "반송된 시각" in shown

    inbox = staff_client.get("/staff/inbox/?show=all").get_data(as_text=True)
    assert "메일함을 마지막으로 확인한 시각" in inbox
    assert "Undelivered Mail Returned to Sender" in inbox
    assert "앞으로 초대하지 않습니다" in inbox
    assert "User unknown in virtual mailbox table" in inbox
    assert "김하늘" in inbox


def test_the_staff_menu_links_received_mail(staff_client):
    page = staff_client.get("/staff/outbox/").get_data(as_text=True)
    assert 'href="/staff/inbox/"' in page


def test_before_any_poll_the_page_says_the_mailbox_is_not_connected(staff_client):
    page = staff_client.get("/staff/inbox/").get_data(as_text=True)
    assert "센터 메일함이 아직 연결되지 않아" in page
    assert "마지막으로 확인한" not in page
