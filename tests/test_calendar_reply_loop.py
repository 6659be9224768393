"""The whole loop, with the real servers: staff invite a customer, the
outbox delivers the invitation over SMTP (aiosmtpd on loopback), the
customer's Outlook answers it (a reply built from the invitation as
received, in Outlook's format), the reply lands in the center's mailbox
(Dovecot), `flask inbox poll` reads it, and the staff page counts it."""

import re
from datetime import datetime, timedelta

import pytest
from icalendar import Calendar

from market.accounts.models import Role
from market.extensions import db
from market.inbox import handling, polling
from market.timeutil import SEOUL, utcnow
from tests.calendar_reply_samples import Reply, outlook
from tests.dovecot_fixtures import dovecot, mailbox_config  # noqa: F401
from tests.markets_factories import make_market, make_venue, next_thursday
from tests.test_invitations import make_customer, send_all
from tests.test_outbox import running_smtp


@pytest.fixture
def smtp(app_config):
    with running_smtp(app_config) as handler:
        yield handler


@pytest.fixture
def center_mailbox(mailbox_config, dovecot):  # noqa: F811
    """Invitations name the test mailbox as their organizer."""
    mailbox_config["INVITATION_REPLY_ADDRESS"] = dovecot.user
    return mailbox_config


def test_an_outlook_accept_travels_from_the_invitation_to_the_staff_page(
    smtp,
    center_mailbox,
    dovecot,  # noqa: F811
    app,
    client,
    make_user,
    login_as,
):
    venue = make_venue("경기도청", 10)
    market = make_market(venue, next_thursday(datetime.now(SEOUL).date(), weeks=2))
    hana = make_customer("Hana.Kim@example.com", "김하나")
    login_as(make_user(Role.STAFF, email="staff@example.kr"))
    url = f"/staff/markets/{market.id}/invitations"
    sent = client.post(f"{url}/send", data={"customer_id": hana.id, "confirmed": "yes"})
    assert sent.status_code == 302
    send_all(utcnow())  # inside the sending hours, whatever the hour

    # What Outlook received.
    [invitation] = smtp.messages()
    assert invitation["Reply-To"] == dovecot.user
    event = Calendar.from_ical(handling.find_calendar_part(invitation).get_content()).walk(
        "VEVENT"
    )[0]
    organizer = str(event["ORGANIZER"]).removeprefix("mailto:")
    assert organizer == dovecot.user
    attendee = str(event["ATTENDEE"]).removeprefix("mailto:")

    # Outlook's answer to it: to the organizer, about its UID and SEQUENCE.
    answer = Reply(
        uid=str(event["UID"]),
        attendee=attendee,
        name="김하나",
        stamp=utcnow() - timedelta(minutes=1),
        sequence=int(event["SEQUENCE"]),
        organizer=organizer,
        title=str(invitation["Subject"]),
    )
    dovecot.append(outlook(answer))

    assert polling.poll_once() == 1
    db.session.remove()
    page = client.get(url).text
    row = re.search(r'<th scope="row">캘린더 앱</th>' + r'\s*<td class="num">(\d+)</td>' * 4, page)
    assert row and row.groups() == ("1", "0", "0", "1")
    assert '<span class="tile-number">1</span><span class="tile-label">참석</span>' in page
    assert "(캘린더 앱, " in page
    assert dovecot.folder_uids("INBOX") == []  # handled replies are moved
    assert len(dovecot.folder_uids("Processed")) == 1
    # Read again: nothing new, nothing twice.
    assert polling.poll_once() == 0
