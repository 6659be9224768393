"""The emails an enterprise gets when staff decide about it.

Always in Korean, whatever language the staff member's screen is in: the
catalogue's English msgids are rendered with the Korean locale forced."""

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from market.outbox.mime import text_message_to
from market.validators import one_line
from market.vendors.models import Vendor, VendorStatus


def status_message(vendor: Vendor, link: str | None = None):
    """The decision mail, or (for an address the mailer cannot take) an
    Unbuildable that the outbox records as failed: the decision stands."""
    with force_locale("ko"):
        subject, news = _decision_text(vendor)
        lines = [
            _("Hello %(name)s,", name=one_line(vendor.contact_name)),
            "",
            news,
        ]
        if vendor.status_reason:
            lines += ["", _("Reason: %(reason)s", reason=vendor.status_reason)]
        lines += closing_lines(link)
        text = "\n".join(lines) + "\n"
        subject = f"[{_('Good Morning Market')}] {subject}"
    return text_message_to(vendor.contact_name, vendor.email, subject, text)


def closing_lines(link: str | None) -> list[str]:
    """How every mail to an enterprise ends: its page, whom to ask, the
    center. Call it with the Korean locale forced, as the messages are."""
    config = current_app.config
    page = ["", _("Your enterprise's page: %(link)s", link=link)] if link else []
    return [
        *page,
        "",
        _("Questions: %(phone)s", phone=config["CENTER_PHONE"]),
        f"{config['CENTER_NAME']} · {config['CENTER_ADDRESS']}",
    ]


def _decision_text(vendor: Vendor) -> tuple[str, str]:
    name = one_line(vendor.name)
    if vendor.status is VendorStatus.APPROVED:
        return (
            _("%(name)s is approved as a participating enterprise", name=name),
            _(
                "%(name)s is now an approved participating enterprise of the Good Morning "
                "Market. You can apply for the market days that are open for applications.",
                name=name,
            ),
        )
    if vendor.status is VendorStatus.REJECTED:
        return (
            _("The registration of %(name)s was not approved", name=name),
            _(
                "We could not approve the registration of %(name)s. You can correct your "
                "details on your enterprise's page and they will be reviewed again.",
                name=name,
            ),
        )
    return (
        _("%(name)s is suspended from the market", name=name),
        _(
            "%(name)s is suspended and cannot apply for market days until the center "
            "lifts the suspension.",
            name=name,
        ),
    )
