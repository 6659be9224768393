"""The center's mailbox, read from a real IMAP server (Dovecot, started by
tests/dovecot_fixtures.py): bounces, auto-replies, other mail and garbage,
each handled once, filed and never deleted; restarts and two pollers at
once. Calendar replies are tests/test_inbox_replies.py's."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from market.customers.models import Suppression, email_hash
from market.extensions import db
from market.inbox import polling
from market.inbox.mailbox import MailboxError
from market.inbox.models import Filing, InboxBounce, InboxFolder, InboxMessage
from market.inbox.outcome import MessageKind, Outcome
from market.outbox.models import OutboxMessage, OutboxStatus
from market.timeutil import utcnow
from tests import dovecot_fixtures
from tests import inbox_samples as samples
from tests.customer_factories import make_customer

dovecot = dovecot_fixtures.dovecot
mailbox_config = dovecot_fixtures.mailbox_config


def sent_mail(address: str, message_id: str, days_ago: int = 3) -> OutboxMessage:
    """An invitation the outbox sent, as the worker leaves it."""
    when = utcnow() - timedelta(days=days_ago)
    mime = (
        f"From: market@gbsec.example.kr\r\nTo: {address}\r\nSubject: invitation\r\n"
        f"Message-ID: {message_id}\r\n\r\nhello\r\n"
    ).encode()
    row = OutboxMessage(
        category="invitation",
        to_address=address,
        subject="invitation",
        mime=mime,
        status=OutboxStatus.SENT,
        attempts=1,
        sent_at=when,
        created_at=when,
        next_attempt_at=when,
    )
    db.session.add(row)
    db.session.commit()
    return row


def records() -> list[InboxMessage]:
    db.session.expire_all()
    rows = db.session.scalars(select(InboxMessage).order_by(InboxMessage.uid)).all()
    db.session.rollback()  # hold no read lock on SQLite while a poller writes
    return rows


def suppression(address: str) -> Suppression | None:
    db.session.expire_all()
    return db.session.scalars(
        select(Suppression).where(Suppression.email_hash == email_hash(address))
    ).one_or_none()


# --- not configured ------------------------------------------------------------------


def test_without_imap_host_the_command_says_so_and_exits_0(app, runner):
    assert not app.config.get("IMAP_HOST")
    result = runner.invoke(args=["inbox", "poll", "--once"])
    assert result.exit_code == 0, result.output
    assert "not configured" in result.output
    assert polling.poll_once() == 0


def test_plain_imap_is_refused_to_another_host():
    from market.config import ConfigError, check_imap

    with pytest.raises(ConfigError, match="unencrypted"):
        check_imap({"IMAP_HOST": "imap.example.kr", "IMAP_SECURITY": "plain"})
    config = {"IMAP_HOST": "127.0.0.1", "IMAP_SECURITY": "PLAIN"}
    check_imap(config)
    assert config["IMAP_PORT"] == 143
    config = {"IMAP_HOST": "imap.example.kr", "IMAP_SECURITY": "imaps"}
    check_imap(config)
    assert config["IMAP_PORT"] == 993
    with pytest.raises(ConfigError, match="IMAP_SECURITY"):
        check_imap({"IMAP_HOST": "imap.example.kr", "IMAP_SECURITY": "ssl3"})


# --- bounces ------------------------------------------------------------------------


def test_postfix_report_makes_the_address_undeliverable_and_marks_the_mail(
    mailbox_config, app, dovecot
):
    customer = make_customer("kim@example.net")
    db.session.commit()
    older = sent_mail("kim@example.net", "<older.1@gbsec.example.kr>", days_ago=10)
    bounced = sent_mail("kim@example.net", "<inv.42@gbsec.example.kr>", days_ago=3)
    newer = sent_mail("kim@example.net", "<newer.1@gbsec.example.kr>", days_ago=1)
    dovecot.deliver(samples.postfix_bounce("kim@example.net", "<inv.42@gbsec.example.kr>"))

    assert polling.poll_once() == 1

    (record,) = records()
    assert (record.kind, record.outcome) == (MessageKind.BOUNCE, Outcome.APPLIED)
    row = suppression(customer.email)
    assert row.reason == "undeliverable"
    assert row.bounced_at is not None
    assert "User unknown in virtual mailbox table" in row.bounce_diagnostic
    # The report quotes the Message-ID: that mail bounced, not the newest.
    db.session.expire_all()
    assert db.session.get(OutboxMessage, bounced.id).bounced_at is not None
    assert db.session.get(OutboxMessage, older.id).bounced_at is None
    assert db.session.get(OutboxMessage, newer.id).bounced_at is None
    (bounce,) = db.session.scalars(select(InboxBounce)).all()
    assert (bounce.status, bounce.permanent, bounce.outbox_message_id) == (
        "5.1.1",
        True,
        bounced.id,
    )
    # Filed in Processed, not deleted.
    assert dovecot.folder_uids("INBOX") == []
    assert len(dovecot.folder_uids("Processed")) == 1
    assert record.filing is Filing.MOVED


def test_gmail_plain_text_bounce_is_read_by_its_words(mailbox_config, app, dovecot):
    make_customer("lee@example.org")
    db.session.commit()
    mail = sent_mail("lee@example.org", "<inv.7@gbsec.example.kr>")
    dovecot.deliver(samples.gmail_bounce("lee@example.org", "<inv.7@gbsec.example.kr>"))

    assert polling.poll_once() == 1

    (record,) = records()
    assert (record.kind, record.outcome) == (MessageKind.BOUNCE, Outcome.APPLIED)
    row = suppression("lee@example.org")
    assert row.reason == "undeliverable"
    assert "User unknown in local recipient table" in row.bounce_diagnostic
    db.session.expire_all()
    assert db.session.get(OutboxMessage, mail.id).bounced_at is not None


def test_three_temporary_failures_in_30_days_count_as_permanent(
    mailbox_config, app, dovecot, clock
):
    make_customer("park@example.com")
    db.session.commit()
    mail = sent_mail("park@example.com", "<inv.9@gbsec.example.kr>")
    for number in range(1, 4):
        dovecot.deliver(
            samples.postfix_delayed(
                "park@example.com", "<inv.9@gbsec.example.kr>", queue_id=f"4QDELAY{number}"
            )
        )
        assert polling.poll_once() == 1
        if number < 3:
            assert suppression("park@example.com") is None, f"suppressed after {number}"
            db.session.expire_all()
            assert db.session.get(OutboxMessage, mail.id).bounced_at is None
        clock.advance(days=10)

    row = suppression("park@example.com")
    assert row.reason == "undeliverable"
    assert "Mailbox full" in row.bounce_diagnostic
    db.session.expire_all()
    assert db.session.get(OutboxMessage, mail.id).bounced_at is not None
    temporary = db.session.scalars(select(InboxBounce.permanent)).all()
    assert temporary == [False, False, False]


def test_temporary_failures_further_apart_than_30_days_do_not_add_up(
    mailbox_config, app, dovecot, clock
):
    sent_mail("choi@example.com", "<inv.10@gbsec.example.kr>")
    for number in range(1, 4):
        dovecot.deliver(
            samples.postfix_delayed(
                "choi@example.com", "<inv.10@gbsec.example.kr>", queue_id=f"4QSLOW{number}"
            )
        )
        assert polling.poll_once() == 1
        clock.advance(days=16)
    assert suppression("choi@example.com") is None


def test_an_unsubscribed_address_keeps_its_reason_and_gains_the_bounce(
    mailbox_config, app, dovecot
):
    db.session.add(Suppression(email_hash=email_hash("kim@example.net"), reason="unsubscribed"))
    db.session.commit()
    dovecot.deliver(samples.postfix_bounce("kim@example.net", "<unknown@x>"))
    assert polling.poll_once() == 1
    row = suppression("kim@example.net")
    assert row.reason == "unsubscribed"
    assert row.bounced_at is not None


# --- auto-replies, other mail, garbage ------------------------------------------------


def test_auto_replies_and_other_mail_stay_in_place_marked_seen(mailbox_config, app, dovecot):
    dovecot.deliver(samples.out_of_office("kim@example.net"))
    dovecot.deliver(samples.vacation_reply("lee@example.org"))
    dovecot.deliver(samples.person_mail("park@example.com"))

    assert polling.poll_once() == 3

    kinds = [(r.kind, r.outcome, r.filing) for r in records()]
    assert kinds == [
        (MessageKind.AUTO_REPLY, Outcome.IGNORED, Filing.FLAGGED),
        (MessageKind.AUTO_REPLY, Outcome.IGNORED, Filing.FLAGGED),
        (MessageKind.OTHER, Outcome.IGNORED, Filing.FLAGGED),
    ]
    flags = dovecot.folder_flags("INBOX")
    assert len(flags) == 3
    assert all(r"\Seen" in found and r"\Flagged" not in found for found in flags.values())
    assert dovecot.folder_uids("Processed") == []
    # Read once: the next pass finds nothing new.
    assert polling.poll_once() == 0
    assert len(records()) == 3


def test_garbage_is_flagged_recorded_and_never_retried(mailbox_config, app, dovecot):
    dovecot.append(samples.garbage())
    dovecot.deliver(samples.person_mail("park@example.com"))

    assert polling.poll_once() == 2
    assert polling.poll_once() == 0

    garbage, person = records()
    assert (garbage.kind, garbage.outcome) == (MessageKind.UNPARSEABLE, Outcome.FAILED)
    assert garbage.reason
    assert person.kind is MessageKind.OTHER
    flags = dovecot.folder_flags("INBOX")
    assert r"\Flagged" in flags[garbage.uid] and r"\Seen" in flags[garbage.uid]
    assert r"\Flagged" not in flags[person.uid]


def test_the_same_message_twice_takes_effect_once(mailbox_config, app, dovecot):
    raw = samples.postfix_delayed("kim@example.net", "<inv.1@x>", queue_id="4QSAME")
    dovecot.deliver(raw)
    dovecot.deliver(raw)  # a relay that delivered twice: the same Message-ID
    assert polling.poll_once() == 2
    first, copy = records()
    assert first.outcome is Outcome.APPLIED
    assert (copy.outcome, copy.duplicate_of_id) == (Outcome.IGNORED, first.id)
    assert db.session.scalar(select(func.count(InboxBounce.id))) == 1
    assert len(dovecot.folder_uids("Processed")) == 2


# --- once, even across restarts -------------------------------------------------------


def test_a_new_uidvalidity_reads_the_folder_again_without_handling_twice(
    mailbox_config, app, dovecot, caplog
):
    dovecot.deliver(samples.postfix_bounce("kim@example.net", "<a@x>"))
    dovecot.deliver(samples.person_mail("a@example.com", "<p1@example.com>"))
    assert polling.poll_once() == 2
    before = db.session.scalar(select(InboxFolder.uidvalidity))
    dovecot.renumber()  # the server lost its index: new UIDs, new UIDVALIDITY
    dovecot.deliver(samples.person_mail("b@example.com", "<p2@example.com>"))

    assert polling.poll_once() == 2

    assert "UIDVALIDITY changed" in caplog.text
    db.session.expire_all()
    assert db.session.scalar(select(InboxFolder.uidvalidity)) != before
    rows = records()
    assert len(rows) == 4
    # The person's mail left in place is seen again, and known by its Message-ID.
    (copy,) = [r for r in rows if r.duplicate_of_id is not None]
    assert copy.outcome is Outcome.IGNORED
    assert db.session.get(InboxMessage, copy.duplicate_of_id).message_id == "<p1@example.com>"
    assert sorted(r.message_id for r in rows if r.message_id) == [
        "<20261206052003.4QXyZ12abcz3K@mail.relay.example>",
        "<p1@example.com>",
        "<p2@example.com>",
    ]
    assert db.session.scalar(select(func.count(InboxBounce.id))) == 1


def test_a_crash_after_handling_and_before_filing_files_it_next_time(
    mailbox_config, app, dovecot, monkeypatch, clock
):
    """The process dies between the commit and the move (here: the move
    fails as a killed process's would never happen): the next pass moves
    the message without handling it again."""
    dovecot.deliver(samples.postfix_bounce("kim@example.net", "<a@x>"))
    calls = []

    def dies(self, uid, destination):
        calls.append(uid)
        raise ConnectionResetError("connection lost")

    monkeypatch.setattr("market.inbox.mailbox.Mailbox.move", dies)
    with pytest.raises(ConnectionResetError):
        polling.poll_once()
    monkeypatch.undo()
    (record,) = records()
    assert record.filing is Filing.PENDING and calls
    assert polling.poll_once() == 0
    assert records()[0].filing is Filing.PENDING  # its poller may still be filing it

    clock.advance(minutes=3)
    assert polling.poll_once() == 0
    (record,) = records()
    assert record.filing is Filing.MOVED
    assert len(dovecot.folder_uids("Processed")) == 1
    assert db.session.scalar(select(func.count(InboxBounce.id))) == 1


def test_a_crash_while_handling_leaves_the_message_to_the_next_pass(
    mailbox_config, app, dovecot, monkeypatch
):
    dovecot.deliver(samples.postfix_bounce("kim@example.net", "<a@x>"))
    dovecot.deliver(samples.postfix_bounce("lee@example.org", "<b@x>", queue_id="4QSECOND"))
    from market.inbox import bounces

    real = bounces.handle_bounce

    def killed_on_the_second(message, record=None):
        if "lee@" in str(message):
            raise KeyboardInterrupt  # what SIGINT does mid-transaction
        return real(message, record)

    monkeypatch.setattr(bounces, "handle_bounce", killed_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        polling.poll_once()
    db.session.rollback()
    monkeypatch.undo()
    (first,) = records()

    assert polling.poll_once() == 1
    assert [r.uid for r in records()] == [first.uid, first.uid + 1]
    assert db.session.scalar(select(func.count(InboxBounce.id))) == 2
    assert len(dovecot.folder_uids("Processed")) == 2


# --- real processes -------------------------------------------------------------------


def poller_environment(tmp_path: Path, database_url: str, server) -> dict[str, str]:
    (tmp_path / "config.py").write_text("SECRET_KEY = 'inbox-test'\n")
    environ = {
        name: value
        for name, value in os.environ.items()
        if name not in {"MARKET_ENV", "CLOCK", "SECRET_KEY", "TEST_DATABASE_URL"}
    }
    return {
        **environ,
        "MARKET_INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": database_url,
        "IMAP_HOST": server.host,
        "IMAP_PORT": str(server.imap_port),
        "IMAP_USER": server.user,
        "IMAP_PASSWORD": server.password,
        "IMAP_SECURITY": "plain",
    }


def flask_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "market", *args]


def deliver_mixed(server, count: int) -> int:
    """`count` messages, every third a bounce for its own address; returns
    how many bounces."""
    bounces = 0
    for number in range(count):
        if number % 3 == 0:
            raw = samples.postfix_bounce(
                f"gone{number}@example.net", f"<inv.{number}@x>", queue_id=f"4QMIX{number}"
            )
            bounces += 1
        else:
            raw = samples.person_mail(f"p{number}@example.com", f"<p.{number}@example.com>")
        server.deliver(raw)
    return bounces


def assert_each_handled_once(server, count: int, bounces: int) -> None:
    rows = records()
    assert len(rows) == count
    assert len({r.uid for r in rows}) == count
    assert all(r.duplicate_of_id is None for r in rows)
    assert db.session.scalar(select(func.count(InboxBounce.id))) == bounces
    assert db.session.scalar(select(func.count(Suppression.id))) == bounces
    db.session.rollback()
    # None lost, none deleted: bounces in Processed, the rest where they were.
    assert len(server.folder_uids("Processed")) == bounces
    assert len(server.folder_uids("INBOX")) == count - bounces


def test_two_pollers_at_once_handle_each_message_once(
    mailbox_config, app, dovecot, database_url, tmp_path
):
    count = 45
    bounces = deliver_mixed(dovecot, count)
    env = poller_environment(tmp_path, database_url, dovecot)
    pollers = [
        subprocess.Popen(
            flask_command("inbox", "poll", "--once"),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(2)
    ]
    outputs = [poller.communicate(timeout=120)[0].decode() for poller in pollers]
    assert [poller.returncode for poller in pollers] == [0, 0], outputs

    assert_each_handled_once(dovecot, count, bounces)
    said = sum(int(out.rsplit(": ", 1)[1].split()[0]) for out in outputs)
    assert said == count, outputs


def test_a_poller_killed_mid_pass_loses_nothing_and_repeats_nothing(
    mailbox_config, app, dovecot, database_url, tmp_path
):
    count = 120
    bounces = deliver_mixed(dovecot, count)
    env = poller_environment(tmp_path, database_url, dovecot)
    poller = subprocess.Popen(
        flask_command("inbox", "poll", "--once"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while len(records()) < 10 and time.monotonic() < deadline and poller.poll() is None:
        time.sleep(0.01)
    poller.send_signal(signal.SIGKILL)
    poller.wait(timeout=30)
    done_at_kill = len(records())
    assert 0 < done_at_kill < count, "the poller was to be killed in the middle of its pass"

    # The next poll comes after FILING_GRACE: a message handled but not yet
    # moved when the poller died is filed by the first poll after the grace,
    # not sooner (it could be another poller's, about to file it). Killed
    # between the two, an immediate rerun left it in the inbox, rightly.
    later = tmp_path / "later"
    later.mkdir()
    moment = utcnow() + polling.FILING_GRACE + timedelta(minutes=1)
    (later / "config.py").write_text(f"SECRET_KEY = 'inbox-test'\nCLOCK = '{moment.isoformat()}'\n")
    rerun = subprocess.run(
        flask_command("inbox", "poll", "--once"),
        env={**env, "MARKET_INSTANCE_PATH": str(later)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr

    assert_each_handled_once(dovecot, count, bounces)


def test_poll_command_once_reports_what_it_read(mailbox_config, app, dovecot, runner):
    dovecot.deliver(samples.person_mail("a@example.com"))
    result = runner.invoke(args=["inbox", "poll", "--once"])
    assert result.exit_code == 0, result.output
    assert "1 new message(s) handled" in result.output


# --- TLS ------------------------------------------------------------------------------


@pytest.mark.parametrize(("security", "port"), [("imaps", "imaps_port"), ("starttls", "imap_port")])
def test_the_mailbox_is_read_over_tls(mailbox_config, app, dovecot, security, port):
    app.config.update(
        IMAP_HOST="localhost",
        IMAP_SECURITY=security,
        IMAP_PORT=getattr(dovecot, port),
        IMAP_CA_FILE=dovecot.ca_file,
    )
    dovecot.deliver(samples.postfix_bounce("kim@example.net", "<a@x>"))
    assert polling.poll_once() == 1
    assert suppression("kim@example.net").reason == "undeliverable"


@pytest.mark.parametrize(("security", "port"), [("imaps", "imaps_port"), ("starttls", "imap_port")])
def test_a_server_certificate_not_trusted_is_refused_before_the_password(
    mailbox_config, app, dovecot, security, port
):
    app.config.update(
        IMAP_HOST="localhost", IMAP_SECURITY=security, IMAP_PORT=getattr(dovecot, port)
    )  # no IMAP_CA_FILE: the system's authorities do not know the test CA
    dovecot.deliver(samples.person_mail("a@example.com"))
    logged = len(dovecot.log())
    with pytest.raises(MailboxError, match="CERTIFICATE_VERIFY_FAILED"):
        polling.poll_once()
    assert records() == []
    assert "Login: user=" not in dovecot.log()[logged:]  # the password was never sent


def test_poll_keeps_running_until_told_to_stop(
    mailbox_config, app, dovecot, database_url, tmp_path
):
    env = poller_environment(tmp_path, database_url, dovecot)
    poller = subprocess.Popen(
        flask_command("inbox", "poll", "--poll", "1"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        dovecot.deliver(samples.postfix_bounce("kim@example.net", "<a@x>"))
        deadline = time.monotonic() + 30
        while not records() and time.monotonic() < deadline:
            time.sleep(0.1)
        dovecot.deliver(samples.person_mail("a@example.com"))
        while len(records()) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        poller.send_signal(signal.SIGTERM)
        output = poller.communicate(timeout=30)[0]
    assert poller.returncode == 0, output
    assert "Stopped." in output
    assert [r.kind for r in records()] == [MessageKind.BOUNCE, MessageKind.OTHER]


# --- what kind of message ---------------------------------------------------------------


def test_an_out_of_office_quoting_the_invitation_is_not_a_calendar_reply():
    """Some responders attach the message they answer: our REQUEST."""
    from market.inbox import handling

    request = (
        b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nVERSION:2.0\r\nPRODID:-//x//y//\r\n"
        b"BEGIN:VEVENT\r\nUID:market-1@x\r\nDTSTAMP:20261126T000000Z\r\nEND:VEVENT\r\n"
        b"END:VCALENDAR\r\n"
    )
    raw = (
        b"From: kim@example.net\r\nTo: market@gbsec.example.kr\r\n"
        b"Subject: =?utf-8?B?7J6Q64+ZIO2ajOyLoDo=?= invitation\r\nAuto-Submitted: auto-replied\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nAway.\r\n"
        b"--b\r\nContent-Type: text/calendar; method=REQUEST; charset=utf-8\r\n\r\n"
        + request
        + b"--b--\r\n"
    )
    handled = handling.handle(raw)
    assert (handled.kind, handled.outcome) == (MessageKind.AUTO_REPLY, Outcome.IGNORED)


@pytest.mark.parametrize(
    "headers",
    [
        "Auto-Submitted: auto-replied",
        "Auto-Submitted: auto-generated",
        "X-Autoreply: yes",
        "Precedence: auto_reply",
        "Subject: Automatic reply: invitation",
        "Subject: Out of Office: invitation",
        "Subject: =?utf-8?B?7J6Q64+ZIOydkeuLtQ==?=",  # 자동 응답
    ],
)
def test_auto_replies_are_recognised(headers):
    from market.inbox import handling

    raw = f"From: a@example.com\r\n{headers}\r\n\r\nAway.\r\n".encode()
    assert handling.handle(raw).kind is MessageKind.AUTO_REPLY


def test_a_person_writing_is_other_mail():
    from market.inbox import handling

    handled = handling.handle(samples.person_mail("a@example.com"))
    assert (handled.kind, handled.outcome) == (MessageKind.OTHER, Outcome.IGNORED)
