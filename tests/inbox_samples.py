"""Mail as other programs write it, for the mailbox tests: written from the
programs' documented formats and published samples, never from our code.

- Postfix: bounce(5) templates and RFC 3464; the layout of Postfix 3.x
  "Undelivered Mail Returned to Sender" and "Delayed Mail (still being
  retried)" reports (multipart/report; report-type=delivery-status, with
  Content-Description lines, X-Postfix-* fields and text/rfc822-headers).
- Gmail: the plain-text "Delivery Status Notification (Failure)" from
  mailer-daemon@googlemail.com (no machine-readable part; the wording that
  bounce parsers such as Sisimai and flufl.bounce keep samples of).
- Out-of-office: Outlook/Exchange's "Automatic reply:" with
  Auto-Submitted: auto-replied (RFC 3834) and X-Auto-Response-Suppress.

Each builder takes the values a test needs and returns the message bytes
with CRLF line ends, as they travel."""

from textwrap import dedent


def _crlf(text: str) -> bytes:
    return dedent(text).lstrip("\n").replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def postfix_bounce(
    recipient: str,
    original_message_id: str,
    *,
    status: str = "5.1.1",
    queue_id: str = "4QXyZ12abcz3K",
    sender: str = "market@gbsec.example.kr",
) -> bytes:
    """Postfix's non-delivery report for a recipient the remote server refused."""
    reply = status.split(".")[0] + ("50" if status.startswith("5") else "52")
    return _crlf(
        f"""
        Return-Path: <>
        Delivered-To: center@market.test
        Received: by mail.relay.example (Postfix)
        \tid {queue_id}; Sun,  6 Dec 2026 14:20:03 +0900 (KST)
        Date: Sun,  6 Dec 2026 14:20:03 +0900 (KST)
        From: MAILER-DAEMON@mail.relay.example (Mail Delivery System)
        Subject: Undelivered Mail Returned to Sender
        To: {sender}
        Auto-Submitted: auto-replied
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status;
        \tboundary="{queue_id}.1765002003/mail.relay.example"
        Content-Transfer-Encoding: 8bit
        Message-Id: <20261206052003.{queue_id}@mail.relay.example>

        This is a MIME-encapsulated message.

        --{queue_id}.1765002003/mail.relay.example
        Content-Description: Notification
        Content-Type: text/plain; charset=us-ascii

        This is the mail system at host mail.relay.example.

        I'm sorry to have to inform you that your message could not
        be delivered to one or more recipients. It's attached below.

        For further assistance, please send mail to postmaster.

        If you do so, please include this problem report. You can
        delete your own text from the attached returned message.

                           The mail system

        <{recipient}>: host mx.example.net[203.0.113.25] said: {reply} {status}
            <{recipient}>: Recipient address rejected: User unknown in virtual
            mailbox table (in reply to RCPT TO command)

        --{queue_id}.1765002003/mail.relay.example
        Content-Description: Delivery report
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mail.relay.example
        X-Postfix-Queue-ID: {queue_id}
        X-Postfix-Sender: rfc822; {sender}
        Arrival-Date: Sun,  6 Dec 2026 14:20:01 +0900 (KST)

        Final-Recipient: rfc822; {recipient}
        Original-Recipient: rfc822;{recipient}
        Action: failed
        Status: {status}
        Remote-MTA: dns; mx.example.net
        Diagnostic-Code: smtp; {reply} {status} <{recipient}>: Recipient address rejected:
            User unknown in virtual mailbox table

        --{queue_id}.1765002003/mail.relay.example
        Content-Description: Undelivered Message Headers
        Content-Type: text/rfc822-headers
        Content-Transfer-Encoding: 8bit

        Return-Path: <{sender}>
        Received: from market.gbsec.example.kr (market.gbsec.example.kr [198.51.100.7])
        \tby mail.relay.example (Postfix) with ESMTPS id {queue_id}
        \tfor <{recipient}>; Sun,  6 Dec 2026 14:20:01 +0900 (KST)
        From: =?utf-8?b?6rW/66qo64ud7J6l7YSw?= <{sender}>
        To: {recipient}
        Subject: =?utf-8?b?KOq0keqzoCkg6rW/66qo64ud7J6l7YSw7JeQIOy0iOuMgO2VqeuLiOuLpA==?=
        Date: Thu, 03 Dec 2026 09:00:00 +0900
        Message-ID: {original_message_id}
        MIME-Version: 1.0

        --{queue_id}.1765002003/mail.relay.example--
        """
    )


def postfix_delayed(recipient: str, original_message_id: str, *, queue_id: str) -> bytes:
    """Postfix's delay warning (delay_warning_time): Action delayed, 4.x.x."""
    return _crlf(
        f"""
        Return-Path: <>
        Date: Sun,  6 Dec 2026 18:20:03 +0900 (KST)
        From: MAILER-DAEMON@mail.relay.example (Mail Delivery System)
        Subject: Delayed Mail (still being retried)
        To: market@gbsec.example.kr
        Auto-Submitted: auto-replied
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status;
        \tboundary="{queue_id}.1765016403/mail.relay.example"
        Content-Transfer-Encoding: 8bit
        Message-Id: <20261206092003.{queue_id}@mail.relay.example>

        This is a MIME-encapsulated message.

        --{queue_id}.1765016403/mail.relay.example
        Content-Description: Notification
        Content-Type: text/plain; charset=us-ascii

        This is the mail system at host mail.relay.example.

        ####################################################################
        # THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #
        ####################################################################

        Your message could not be delivered for more than 4 hour(s).
        It will be retried until it is 5 day(s) old.

                           The mail system

        <{recipient}>: host mx.example.net[203.0.113.25] said: 452 4.2.2
            <{recipient}>: Mailbox full (in reply to RCPT TO command)

        --{queue_id}.1765016403/mail.relay.example
        Content-Description: Delivery report
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mail.relay.example
        X-Postfix-Queue-ID: {queue_id}
        X-Postfix-Sender: rfc822; market@gbsec.example.kr
        Arrival-Date: Sun,  6 Dec 2026 14:20:01 +0900 (KST)

        Final-Recipient: rfc822; {recipient}
        Original-Recipient: rfc822;{recipient}
        Action: delayed
        Status: 4.2.2
        Remote-MTA: dns; mx.example.net
        Diagnostic-Code: smtp; 452 4.2.2 <{recipient}>: Mailbox full
        Will-Retry-Until: Fri, 11 Dec 2026 14:20:01 +0900 (KST)

        --{queue_id}.1765016403/mail.relay.example
        Content-Description: Undelivered Message Headers
        Content-Type: text/rfc822-headers

        From: market@gbsec.example.kr
        To: {recipient}
        Subject: invitation
        Message-ID: {original_message_id}

        --{queue_id}.1765016403/mail.relay.example--
        """
    )


def gmail_bounce(recipient: str, original_message_id: str) -> bytes:
    """Gmail's plain-text failure notice: no message/delivery-status part,
    only words, then the original message quoted as text. (Gmail wraps the
    long technical line; so does this.)"""
    return _crlf(
        f"""
        Delivered-To: center@market.test
        Return-Path: <>
        MIME-Version: 1.0
        From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
        To: market@gbsec.example.kr
        X-Failed-Recipients: {recipient}
        Subject: Delivery Status Notification (Failure)
        Message-ID: <047d7b2e4f2a9b1c5f05aa1b2c3d@google.com>
        Date: Sun, 06 Dec 2026 05:31:12 +0000
        Content-Type: text/plain; charset=ISO-8859-1

        Delivery to the following recipient failed permanently:

             {recipient}

        Technical details of permanent failure:
        Google tried to deliver your message, but it was rejected by the server for the recipient
        domain example.org by mx.example.org. [192.0.2.40].

        The error that the other server returned was:
        550 5.1.1 <{recipient}>: Recipient address rejected: User unknown in local recipient table

        ----- Original message -----

        MIME-Version: 1.0
        Date: Thu, 3 Dec 2026 09:00:00 +0900
        Message-ID: {original_message_id}
        Subject: invitation
        From: market@gbsec.example.kr
        To: {recipient}
        Content-Type: text/plain; charset=UTF-8
        """
    )


def out_of_office(sender: str, original_subject: str = "초대합니다") -> bytes:
    """Outlook's automatic reply (Exchange Online)."""
    return _crlf(
        f"""
        From: =?ks_c_5601-1987?B?sejC98i4?= <{sender}>
        To: market@gbsec.example.kr
        Subject: =?utf-8?B?7J6Q64+ZIO2ajOyLoDo=?= {original_subject}
        Date: Sun, 6 Dec 2026 05:40:00 +0000
        Message-ID: <SL2P216MB1234ABCD5678@SL2P216MB1234.KORP216.PROD.OUTLOOK.COM>
        Auto-Submitted: auto-replied
        X-Auto-Response-Suppress: All
        X-MS-Exchange-Inbox-Rules-Loop: {sender}
        Content-Type: text/plain; charset="utf-8"
        Content-Transfer-Encoding: 8bit
        MIME-Version: 1.0

        12월 14일까지 휴가입니다. 급한 일은 팀 대표번호로 연락 주세요.
        """
    )


def vacation_reply(sender: str) -> bytes:
    """A responder that predates RFC 3834 (Precedence and X-Autoreply only)."""
    return _crlf(
        f"""
        From: {sender}
        To: market@gbsec.example.kr
        Subject: Out of Office: Re: invitation
        Date: Sun, 6 Dec 2026 05:41:00 +0000
        Message-ID: <vacation.1765000000.{sender}>
        Precedence: auto_reply
        X-Autoreply: yes
        Content-Type: text/plain; charset=us-ascii

        I am away until Monday.
        """
    )


def person_mail(sender: str, message_id: str = "<q1.1765000000@example.net>") -> bytes:
    return _crlf(
        f"""
        From: {sender}
        To: market@gbsec.example.kr
        Subject: =?utf-8?B?7KO87LCo7J6lIOyeiOuCmOyalD8=?=
        Date: Sun, 6 Dec 2026 05:42:00 +0000
        Message-ID: {message_id}
        MIME-Version: 1.0
        Content-Type: text/plain; charset=utf-8
        Content-Transfer-Encoding: 8bit

        장터에 주차할 곳이 있나요?
        """
    )


def garbage() -> bytes:
    """What a broken relay or a full disk may leave: bytes with no header
    at all (a truncated binary attachment), in no charset."""
    return bytes(range(256)) * 4 + b"\r\n\x00\xff\xfe--\r\n"
