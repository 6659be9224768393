"""The emails an enterprise gets when staff decide about it or about a change
of its details. Their words are templates/mail/vendor_status.txt and
vendor_change.txt, written as every mail is (market.outbox.compose)."""

from flask_babel import force_locale

from market.outbox.compose import notice_subject, public_url, write
from market.outbox.mime import build_message, build_or_fail, recipient, text_message_to
from market.validators import format_business_number, one_line
from market.vendors.labels import category_label
from market.vendors.models import Vendor, VendorStatus


def status_message(vendor: Vendor, link: str | None = None):
    """The decision mail, or (for an address the mailer cannot take) an
    Unbuildable that the outbox records as failed: the decision stands."""
    name = one_line(vendor.name)
    text = write(
        "vendor_status",
        contact_name=one_line(vendor.contact_name),
        name=name,
        status=vendor.status,
        reason=vendor.status_reason,
        link=link,
    ).text
    subject = notice_subject(_subject(vendor.status, name))
    return text_message_to(vendor.contact_name, vendor.email, subject, text)


def _subject(status: VendorStatus, name: str) -> str:
    if status is VendorStatus.APPROVED:
        return f"{name} 참여기업 등록이 승인되었습니다"
    if status is VendorStatus.REJECTED:
        return f"{name} 참여기업 등록이 반려되었습니다"
    return f"{name} 장터 참여가 정지되었습니다"


def change_message(
    vendor: Vendor, before: dict, requested: dict, approved: bool, reason, link=None
):
    """The mail about a decided change of name, business number, category or shop link:
    each changed value before and as requested, in Korean whatever language
    the deciding staff member reads."""
    with force_locale("ko"):
        shown = {
            "name": ("기업 이름", one_line),
            "business_number": ("사업자등록번호", format_business_number),
            "category": ("판매 품목", category_label),
            "shop_url": ("온라인 쇼핑몰 링크", lambda link: one_line(link) if link else "없음"),
        }
        lines = [
            (label, show(before[field]), show(requested[field]))
            for field, (label, show) in shown.items()
            if before[field] != requested[field]
        ]
    name = one_line(vendor.name)
    text = write(
        "vendor_change",
        contact_name=one_line(vendor.contact_name),
        name=name,
        approved=approved,
        changes=lines,
        reason=reason,
        link=link,
    ).text
    outcome = "승인되었습니다" if approved else "반려되었습니다"
    subject = notice_subject(f"{name} 기업 정보 변경이 {outcome}")
    return text_message_to(vendor.contact_name, vendor.email, subject, text)


def sign_up_account_exists_message(user):
    """To the owner of an address someone tried to register an enterprise
    with: the sign-up page said what it says to everyone (so it does not tell
    which addresses have accounts); the owner learns of it here."""
    written = write(
        "sign_up_account_exists",
        name=one_line(user.name),
        email=user.email,
        login_url=public_url("accounts.login"),
        link=None,
    )
    subject = notice_subject("이 이메일 주소로 참여기업 등록 신청이 있었습니다")
    return build_or_fail(
        lambda: build_message(
            recipient(user.name, user.email), subject, written.text, html=written.html
        ),
        to=user.email,
        subject=subject,
    )
