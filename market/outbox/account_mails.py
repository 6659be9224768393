"""The mails with a signed link to one user (market.accounts.tokens): a
forgotten password, an invitation to a center login, the confirmation of a
new enterprise's email. Accounts stands below the outbox, so it only says
what to send (the accounts.services.account_mail signal); they are written
and queued here, in the same transaction as the change that asked for them."""

from flask import Flask

from market.accounts import tokens
from market.accounts.models import Role
from market.accounts.services import account_mail
from market.outbox.compose import notice_subject, public_url, write
from market.outbox.mime import text_message_to
from market.outbox.services import enqueue
from market.validators import one_line

CATEGORY = "account"

_PAGES = {
    tokens.RESET: ("accounts.reset_password", "password_reset", "비밀번호 재설정 링크입니다"),
    tokens.INVITE: (
        "accounts.accept_invitation",
        "staff_invite",
        "관리 화면 초대: 비밀번호를 정해 주세요",
    ),
    tokens.CONFIRM: ("accounts.confirm_email", "confirm_email", "이메일 주소를 확인해 주세요"),
}
# "…님을 직원으로 초대했습니다": the particle fitted to each word.
_ROLE_WORDS = {Role.ADMIN: "관리자로", Role.STAFF: "직원으로", Role.VENDOR: "참여기업으로"}


def on_account_mail(user, kind: str, token: str, inviter=None, **_extra) -> None:
    endpoint, template, subject = _PAGES[kind]
    text = write(
        template,
        name=one_line(user.name),
        email=user.email,
        role=_ROLE_WORDS[user.role],
        inviter=one_line(inviter.name) if inviter is not None else "센터",
        unconfirmed=user.email_confirmed_at is None,
        link_url=public_url(endpoint, token=token),
        link=None,
        html=False,
    ).text
    enqueue(text_message_to(user.name, user.email, notice_subject(subject), text), CATEGORY)


def connect_listeners(app: Flask) -> None:
    """Called by the app factory (a receiver connected twice is called once)."""
    account_mail.connect(on_account_mail, weak=False)
