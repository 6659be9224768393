"""The email an enterprise gets when staff decide about it. Its words are
templates/mail/vendor_status.txt, written as every mail is (market.outbox.compose)."""

from market.outbox.compose import notice_subject, write
from market.outbox.mime import text_message_to
from market.validators import one_line
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
