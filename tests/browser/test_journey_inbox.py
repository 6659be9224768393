"""Staff read "받은 메일": mail delivered to a real Dovecot, read by
`flask inbox poll --once` against the served database, shown in Chromium."""

import subprocess

from tests import calendar_reply_samples as replies
from tests import dovecot_fixtures
from tests import inbox_samples as samples
from tests.browser.conftest import BIN, ROOT, log_in

dovecot = dovecot_fixtures.dovecot


def test_staff_see_what_the_mailbox_brought(server, dovecot, desktop, shoot):
    dovecot.empty()
    dovecot.deliver(samples.postfix_bounce("gone@example.net", "<inv.1@gbsec.example.kr>"))
    dovecot.deliver(samples.gmail_bounce("old-address@example.org", "<inv.2@gbsec.example.kr>"))
    dovecot.deliver(samples.out_of_office("away@example.com"))
    dovecot.deliver(samples.person_mail("question@example.com"))
    dovecot.append(samples.garbage())
    # A reply for an event the center never sent: listed with the reason.
    dovecot.deliver(
        replies.outlook(replies.Reply(uid="market-999@elsewhere.example", attendee="x@example.com"))
    )
    env = {
        **server.env,
        "IMAP_HOST": dovecot.host,
        "IMAP_PORT": str(dovecot.imap_port),
        "IMAP_USER": dovecot.user,
        "IMAP_PASSWORD": dovecot.password,
        "IMAP_SECURITY": "plain",
    }
    done = subprocess.run(
        [str(BIN / "flask"), "--app", "market", "inbox", "poll", "--once"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "6 new message(s) handled" in done.stdout

    page = desktop
    log_in(page, server.url)
    page.goto(server.url + "/staff/inbox/")
    main = page.locator("main").inner_text()
    assert "반영하지 못한 메일" in main
    assert "읽을 수 없는 메일" in main
    assert "고객 목록에 없는 주소" in main  # no customer has it; the list keeps only its hash
    assert "User unknown in virtual mailbox table" in main
    shoot(page, "received-mail-needing-a-look")

    page.click("text=받은 메일 모두 보기")
    page.wait_for_load_state()
    main = page.locator("main").inner_text()
    assert "Undelivered Mail Returned to Sender" in main
    assert "앞으로 초대하지 않습니다" in main
    shoot(page, "received-mail-all")
    dovecot.empty()
