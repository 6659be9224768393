"""The mail outbox: building, queueing, delivering over real SMTP (aiosmtpd on
loopback), retries, the worker command and the staff pages."""

import os
import signal
import smtplib
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from email import policy
from email.headerregistry import Address
from email.parser import BytesParser

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, update

from market.accounts.models import Role
from market.audit.models import AuditEntry
from market.extensions import db
from market.outbox import delivery, mime
from market.outbox import services as outbox
from market.outbox.models import OutboxMessage, OutboxStatus
from market.outbox.services import record_results
from market.timeutil import utcnow
from tests.servers import free_port

GUEST = "김손님 <guest@example.kr>"
SUBJECT = "(광고) 굿모닝장터 초대: 11월 27일 목요일"


class Collector:
    """An aiosmtpd handler that keeps what it receives; `reply` makes it
    answer DATA with an error instead, `refuse` rejects those recipients."""

    def __init__(self):
        self.received = []  # (envelope, peer) pairs
        self.reply: str | None = None
        self.refuse: set[str] = set()
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.reply:
            return self.reply
        with self.lock:
            self.received.append((envelope, session.peer))
        return "250 Message accepted for delivery"

    def messages(self):
        parser = BytesParser(policy=policy.default)
        return [parser.parsebytes(envelope.original_content) for envelope, _ in self.received]


@contextmanager
def running_smtp(app_config: dict):
    """A real SMTP server on loopback, and the app settings pointing at it."""
    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    app_config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_TIMEOUT=5)
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def smtp(app_config):
    """Request it before `app` (or `client`, `runner`), so the app sees it."""
    with running_smtp(app_config) as handler:
        yield handler


def queue(to=GUEST, subject=SUBJECT, text="목요일 장터에서 뵙겠습니다.", **kwargs):
    row = outbox.enqueue(mime.build_message(to, subject, text, html="<p>안녕하세요</p>"), **kwargs)
    db.session.commit()
    return row


def reload(row: OutboxMessage) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, row.id)


# --- building -----------------------------------------------------------------


def test_build_message_headers_and_bodies(app):
    message = mime.build_message(
        GUEST,
        SUBJECT,
        "본문",
        html="<p>본문</p>",
        headers={"List-Unsubscribe": "<https://market.test/u/x>"},
    )
    raw = bytes(message)
    assert raw.isascii(), "7-bit on the wire: no relay needs 8BITMIME"
    assert b"\r\n" in raw
    parsed = mime.parse(raw)
    assert parsed["Subject"] == SUBJECT
    assert parsed["From"].addresses[0].addr_spec == "market@gbsec.example.kr"
    assert parsed["To"].addresses[0].display_name == "김손님"
    assert parsed["Message-ID"].endswith("@gbsec.example.kr>")
    assert parsed["Date"].datetime is not None
    assert parsed["List-Unsubscribe"] == "<https://market.test/u/x>"
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed.get_body(("plain",)).get_content().strip() == "본문"
    assert parsed.get_body(("html",)).get_content().strip() == "<p>본문</p>"


def test_build_message_takes_calendar_parts(app):
    ics = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
    message = mime.build_message(
        ["a@example.kr", "b@example.kr"],
        "초대",
        "text",
        html="<p>html</p>",
        alternatives=[mime.Part("text", "calendar", ics, {"method": "REQUEST"})],
        attachments=[mime.Part("application", "ics", ics.encode(), filename="invite.ics")],
    )
    parsed = mime.parse(bytes(message))
    assert mime.recipients(parsed) == ["a@example.kr", "b@example.kr"]
    assert parsed.get_content_type() == "multipart/mixed"
    alternative, attachment = parsed.get_payload()
    kinds = [part.get_content_type() for part in alternative.get_payload()]
    assert kinds == ["text/plain", "text/html", "text/calendar"]
    calendar = alternative.get_payload()[2]
    assert calendar.get_param("method") == "REQUEST"
    assert calendar.get_content() == ics
    assert attachment.get_content_type() == "application/ics"
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_content() == ics.encode()


# --- queueing and delivering ----------------------------------------------------


def test_enqueue_does_not_send_and_follows_the_callers_transaction(smtp, app):
    row = queue(category="invitation")
    assert (row.status, row.attempts, row.to_address) == (
        OutboxStatus.QUEUED,
        0,
        "guest@example.kr",
    )
    assert row.subject == SUBJECT
    outbox.enqueue(mime.build_message(GUEST, "rolled back", "x"))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    assert smtp.received == []


def test_deliver_sends_over_smtp(smtp, app):
    row = queue()
    report = delivery.deliver_due()
    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    [(envelope, _)] = smtp.received
    assert envelope.mail_from == "market@gbsec.example.kr"
    assert envelope.rcpt_tos == ["guest@example.kr"]
    [received] = smtp.messages()
    assert received["Subject"] == SUBJECT
    assert received["To"].addresses[0].display_name == "김손님"
    assert received.get_body(("plain",)).get_content().strip() == "목요일 장터에서 뵙겠습니다."
    row = reload(row)
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.SENT, 1, None)
    assert row.sent_at is not None
    assert delivery.deliver_due().total == 0, "sent mail is not sent again"
    assert len(smtp.received) == 1


def test_every_to_and_cc_address_is_a_recipient(smtp, app):
    message = mime.build_message(
        [Address("이름, 쉼표", "one", "example.kr"), "둘 <two@example.kr>"],
        "여럿에게",
        "본문",
        headers={"Cc": "셋 <three@example.kr>"},
    )
    outbox.enqueue(message)
    db.session.commit()
    assert delivery.deliver_due().sent == 1
    [(envelope, _)] = smtp.received
    assert envelope.mail_from == "market@gbsec.example.kr"
    assert envelope.rcpt_tos == ["one@example.kr", "two@example.kr", "three@example.kr"]


def test_one_connection_per_batch(smtp, app):
    for n in range(3):
        queue(to=f"guest{n}@example.kr")
    assert delivery.deliver_due().sent == 3
    assert len({peer for _, peer in smtp.received}) == 1


def test_a_batch_costs_one_statement_per_message(smtp, app, count_queries):
    """The claim is one statement whatever the batch; each result is one
    UPDATE, committed at once (issue 15: before, a batch's results were one
    statement at its end, and a crash resent the whole batch). With it the
    staff pages' data version moves (issue 20: the dashboard counts what is
    queued, sent and failed), one more statement in the same commit."""
    queue()
    with count_queries() as one:
        assert delivery.deliver_due().sent == 1
    for n in range(20):
        queue(to=f"guest{n}@example.kr")
    with count_queries() as many:
        assert delivery.deliver_due().sent == 20
    assert many.count == one.count + 2 * 19, "the claim, then one UPDATE and version per message"


def test_failures_of_one_batch_are_recorded_each_on_its_own_terms(app):
    retried, failed = queue(to="later@example.kr"), queue(to="never@example.kr")
    now = utcnow()
    batch = {claimed.id: claimed for claimed in outbox.claim_due(10, "worker", now)}
    report = outbox.DeliveryReport()
    record_results(
        [],
        [
            (batch[retried.id], smtplib.SMTPDataError(451, b"try again later")),
            (batch[failed.id], smtplib.SMTPDataError(554, b"rejected")),
        ],
        now,
        report,
    )
    db.session.commit()
    assert (report.sent, report.retried, report.failed) == (0, 1, 1)
    retried, failed = reload(retried), reload(failed)
    assert (retried.status, retried.attempts) == (OutboxStatus.QUEUED, 1)
    assert retried.next_attempt_at == now + timedelta(minutes=1)
    assert (failed.status, failed.attempts) == (OutboxStatus.FAILED, 1)
    assert "554" in failed.last_error and failed.claimed_until is None


def test_a_long_batch_renews_its_lease_and_skips_what_it_lost(smtp, app, monkeypatch):
    """Half the lease gone mid-batch (a slow server): the rest of the batch
    is held again, except a message another worker took over meanwhile."""
    first, taken, third = (queue(to=f"guest{n}@example.kr") for n in range(3))
    clock = [1000.0]
    monkeypatch.setattr(delivery, "monotonic", lambda: clock[0])
    send = delivery.SMTPTransport.send

    def slow_send(transport, message):
        send(transport, message)
        if message.id == first.id:  # the lease lapsed and another worker claimed one
            db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == taken.id)
                .values(claimed_by="other worker")
            )
            db.session.commit()
            clock[0] += 200  # more than half of the five-minute lease

    monkeypatch.setattr(delivery.SMTPTransport, "send", slow_send)
    start = utcnow()
    assert delivery.deliver_due(worker_id="slow", now=start).sent == 2
    assert sorted(envelope.rcpt_tos[0] for envelope, _ in smtp.received) == [
        "guest0@example.kr",
        "guest2@example.kr",
    ]
    taken = reload(taken)
    assert (taken.status, taken.claimed_by) == (OutboxStatus.SENDING, "other worker")
    assert taken.claimed_until == start + timedelta(minutes=5), "not renewed by us"
    assert reload(third).status == OutboxStatus.SENT


def test_not_before_holds_a_message_back(smtp, app):
    now = utcnow()
    queue(not_before=now + timedelta(hours=1))
    assert delivery.deliver_due(now=now).total == 0
    assert delivery.deliver_due(now=now + timedelta(hours=1)).sent == 1


def test_temporary_failure_is_retried_with_back_off(smtp, app):
    row = queue()
    start = utcnow()
    smtp.reply = "451 4.3.0 Try again later"
    assert delivery.deliver_due(now=start).retried == 1
    row = reload(row)
    assert (row.status, row.attempts) == (OutboxStatus.QUEUED, 1)
    assert "451" in row.last_error
    assert row.next_attempt_at == start + timedelta(minutes=1)

    assert delivery.deliver_due(now=start + timedelta(seconds=30)).total == 0, "not due yet"
    assert delivery.deliver_due(now=start + timedelta(minutes=1)).retried == 1
    row = reload(row)
    assert row.attempts == 2
    assert row.next_attempt_at == start + timedelta(minutes=1 + 2)

    smtp.reply = None
    assert delivery.deliver_due(now=start + timedelta(minutes=3)).sent == 1
    row = reload(row)
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 3)
    assert len(smtp.received) == 1


def test_unreachable_server_keeps_the_whole_batch(app):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())  # nothing listens there
    rows = [queue(to=f"guest{n}@example.kr") for n in range(3)]
    report = delivery.deliver_due()
    assert (report.sent, report.retried, report.failed) == (0, 3, 0)
    for row in rows:
        row = reload(row)
        assert (row.status, row.attempts) == (OutboxStatus.QUEUED, 1)
        assert "cannot connect" in row.last_error


def test_gives_up_after_max_attempts(smtp, app):
    app.config["OUTBOX_MAX_ATTEMPTS"] = 3
    smtp.reply = "421 4.7.0 Service not available"
    row = queue()
    when = utcnow()
    outcomes = []
    for _ in range(4):
        report = delivery.deliver_due(now=when)
        outcomes.append((report.retried, report.failed))
        when += timedelta(hours=7)
    assert outcomes == [(1, 0), (1, 0), (0, 1), (0, 0)]
    row = reload(row)
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 3)
    assert smtp.received == []


def test_a_refused_recipient_fails_at_once_and_the_rest_goes_out(smtp, app):
    smtp.refuse = {"nobody@example.kr"}
    bad = queue(to="nobody@example.kr")
    good = queue(to="guest@example.kr")
    report = delivery.deliver_due()
    assert (report.sent, report.retried, report.failed) == (1, 0, 1)
    bad = reload(bad)
    assert (bad.status, bad.attempts) == (OutboxStatus.FAILED, 1)
    assert "550" in bad.last_error
    assert reload(good).status == OutboxStatus.SENT


def test_retry_delay_doubles_and_is_capped():
    delays = [outbox.retry_delay(n) for n in range(1, 12)]
    assert delays[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert delays == sorted(delays)
    assert delays[-1] == timedelta(hours=6)


def test_staff_retry_requeues_a_failed_message(smtp, app, staff):
    app.config["OUTBOX_MAX_ATTEMPTS"] = 1
    smtp.reply = "452 4.3.1 Insufficient system storage"
    row = queue()
    delivery.deliver_due()
    row = reload(row)
    assert row.status == OutboxStatus.FAILED
    outbox.retry(row, actor=staff)
    db.session.commit()
    row = reload(row)
    assert (row.status, row.attempts) == (OutboxStatus.QUEUED, 0)
    entry = db.session.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.actor_label, entry.object_id) == (
        "outbox.retry",
        staff.email,
        str(row.id),
    )
    smtp.reply = None
    assert delivery.deliver_due().sent == 1
    with pytest.raises(outbox.OutboxError):
        outbox.retry(reload(row))


def test_a_crashed_workers_claim_lapses(smtp, app):
    row = queue()
    now = utcnow()
    assert [claimed.id for claimed in outbox.claim_due(10, "crashed-worker", now)] == [row.id]
    assert delivery.deliver_due(now=now + timedelta(minutes=1)).total == 0, "claim still held"
    assert delivery.deliver_due(now=now + timedelta(minutes=6)).sent == 1
    assert reload(row).claimed_by != "crashed-worker"


def test_development_writes_eml_files(tmp_path, app):
    app.config.update(MAIL_SERVER=None, MAIL_DIR=str(tmp_path))
    row = queue(subject="장터 안내 / 11월")
    assert delivery.deliver_due().sent == 1
    files = list(tmp_path.iterdir())
    assert [f.name for f in files] == [f"{row.id}-장터-안내-11월.eml"]
    assert files[0].read_bytes() == row.mime
    assert reload(row).status == OutboxStatus.SENT


# --- the worker command ---------------------------------------------------------


def test_cli_deliver_once(smtp, runner):
    queue()
    queue(to="other@example.kr")
    result = runner.invoke(args=["outbox", "deliver", "--once"])
    assert result.exit_code == 0, result.output
    assert "sent 2, retried 0, failed 0" in result.output
    assert len(smtp.received) == 2
    assert (
        db.session.scalar(select(func.count()).where(OutboxMessage.status == OutboxStatus.SENT))
        == 2
    )


def test_cli_deliver_defaults_to_one_pass(smtp, runner):
    result = runner.invoke(args=["outbox", "deliver"])
    assert result.exit_code == 0, result.output
    assert "sent 0, retried 0, failed 0" in result.output


def test_cli_refuses_once_with_poll(runner):
    result = runner.invoke(args=["outbox", "deliver", "--once", "--poll", "5"])
    assert result.exit_code == 2
    assert "exclude each other" in result.output


def test_cli_poll_loops_until_interrupted(smtp, runner, monkeypatch):
    queue()
    sleeps = []

    def fake_sleep(seconds):
        sleeps.append(seconds)
        if len(sleeps) == 2:
            raise KeyboardInterrupt
        queue(to=f"late{len(sleeps)}@example.kr")  # arrives while the worker waits

    monkeypatch.setattr(time, "sleep", fake_sleep)
    result = runner.invoke(args=["outbox", "deliver", "--poll", "5"])
    assert result.exit_code == 0, result.output
    assert sleeps == [5, 5]
    assert result.output.count("sent 1, retried 0, failed 0") == 2
    assert "Stopped." in result.output


def test_cli_poll_finishes_the_pass_on_sigterm(smtp, runner, monkeypatch):
    queue()
    deliver_due = delivery.deliver_due

    def terminated_mid_pass(**kwargs):
        os.kill(os.getpid(), signal.SIGTERM)  # what `make run`'s `kill 0` sends
        return deliver_due(**kwargs)

    monkeypatch.setattr(delivery, "deliver_due", terminated_mid_pass)
    monkeypatch.setattr(time, "sleep", pytest.fail)
    before = signal.getsignal(signal.SIGTERM)
    result = runner.invoke(args=["outbox", "deliver", "--poll", "5"])
    assert result.exit_code == 0, result.output
    assert "sent 1, retried 0, failed 0" in result.output
    assert result.output.rstrip().endswith("Stopped.")
    assert signal.getsignal(signal.SIGTERM) == before, "the old handler is put back"


# --- staff pages -----------------------------------------------------------------


@pytest.fixture
def failed_message(app):
    row = queue()
    row.status, row.attempts, row.last_error = OutboxStatus.FAILED, 8, "SMTPDataError: 451"
    db.session.commit()
    return row


def page_urls(row):
    return [
        "/staff/outbox/",
        f"/staff/outbox/{row.id}",
        f"/staff/outbox/{row.id}/body.html",
        f"/staff/outbox/{row.id}.eml",
    ]


def test_pages_need_staff(client, make_user, login_as, failed_message):
    for url in page_urls(failed_message):
        response = client.get(url)
        assert response.status_code == 302 and "/account/login" in response.location, url
    assert client.post(f"/staff/outbox/{failed_message.id}/retry").status_code == 302
    login_as(make_user(Role.VENDOR))
    for url in page_urls(failed_message):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/staff/outbox/{failed_message.id}/retry").status_code == 403
    assert reload(failed_message).status == OutboxStatus.FAILED


def test_staff_list_filters_by_status(client, staff, login_as, failed_message):
    queue(subject="아직 보내지 않은 메일")
    login_as(staff)
    page = client.get("/staff/outbox/").get_data(as_text=True)
    assert SUBJECT in page and "아직 보내지 않은 메일" in page
    assert 'name="csrf_token"' in page
    page = client.get("/staff/outbox/?status=failed").get_data(as_text=True)
    assert SUBJECT in page and "아직 보내지 않은 메일" not in page
    assert "SMTPDataError: 451" in page
    page = client.get("/staff/outbox/?q=guest&page=9").get_data(as_text=True)
    assert SUBJECT not in page, "a page past the end is empty, not an error"


def test_list_query_count_does_not_grow(client, staff, login_as, count_queries):
    login_as(staff)
    queue()
    with count_queries() as few:
        client.get("/staff/outbox/")
    for n in range(20):
        queue(to=f"guest{n}@example.kr")
    with count_queries() as many:
        client.get("/staff/outbox/")
    assert many.count == few.count


def test_staff_opens_a_message(client, staff, login_as, failed_message):
    login_as(staff)
    response = client.get(f"/staff/outbox/{failed_message.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in (
        SUBJECT,
        "guest@example.kr",
        "market@gbsec.example.kr",
        "목요일 장터에서 뵙겠습니다.",
        f"/staff/outbox/{failed_message.id}.eml",
    ):
        assert text in page
    assert 'sandbox=""' in page and f"/staff/outbox/{failed_message.id}/body.html" in page

    body = client.get(f"/staff/outbox/{failed_message.id}/body.html")
    assert body.get_data(as_text=True).strip() == "<p>안녕하세요</p>"
    policy_header = body.headers["Content-Security-Policy"]
    assert "sandbox" in policy_header and "default-src 'none'" in policy_header

    raw = client.get(f"/staff/outbox/{failed_message.id}.eml")
    assert raw.mimetype == "message/rfc822"
    assert raw.data == failed_message.mime
    assert "attachment" in raw.headers["Content-Disposition"]
    assert client.get("/staff/outbox/999999").status_code == 404


def test_html_part_is_escaped_nowhere_it_is_framed(client, staff, login_as):
    row = outbox.enqueue(mime.build_message(GUEST, "xss", "t", html="<script>alert(1)</script>"))
    db.session.commit()
    login_as(staff)
    page = client.get(f"/staff/outbox/{row.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page


def test_retry_button(client, staff, login_as, failed_message):
    login_as(staff)
    response = client.post(
        f"/staff/outbox/{failed_message.id}/retry", data={"next": "/staff/outbox/?status=failed"}
    )
    assert response.status_code == 302
    assert response.location.endswith("/staff/outbox/?status=failed")
    row = reload(failed_message)
    assert (row.status, row.attempts) == (OutboxStatus.QUEUED, 0)
    row.status = OutboxStatus.SENT
    db.session.commit()
    response = client.post(
        f"/staff/outbox/{row.id}/retry", data={"next": "//evil.example"}, follow_redirects=True
    )
    assert response.request.path == f"/staff/outbox/{row.id}"
    assert reload(row).status == OutboxStatus.SENT
