"""The emails a vendor gets about its booth: assigned (with the number),
waitlisted (with the place), declined (with the reason), and later changes.

Always in Korean, whatever language the staff screen is in (the catalogue's
English msgids rendered with the Korean locale forced), and always through
the outbox: `queue` only adds a row, the caller commits it with the change."""

from enum import StrEnum

from flask_babel import force_locale
from flask_babel import gettext as _

from market.invitations.messages import public_url
from market.markets.models import Market
from market.outbox.mime import text_message_to
from market.outbox.services import enqueue
from market.timeutil import format_korean_date
from market.validators import one_line
from market.vendors.mails import closing_lines
from market.vendors.models import Application, Vendor

OUTBOX_CATEGORY = "booth"


class News(StrEnum):
    ASSIGNED = "assigned"
    WAITLISTED = "waitlisted"
    DECLINED = "declined"
    MOVED = "moved"  # staff moved or swapped it: a new booth number
    UNASSIGNED = "unassigned"  # staff took the booth back: on the waitlist


def queue(application: Application, market: Market, news: News, booth: int | None = None):
    """Adds the mail for `application` (its vendor loaded) to the outbox session."""
    return enqueue(message(application, market, news, booth), category=OUTBOX_CATEGORY)


def message(application: Application, market: Market, news: News, booth: int | None = None):
    vendor: Vendor = application.vendor
    with force_locale("ko"):
        day = format_korean_date(market.market_date)
        subject, text = _news(news, day, booth, application.waitlist_position)
        lines = [_("Hello %(name)s,", name=one_line(vendor.contact_name)), "", text]
        if application.status_reason:
            lines += ["", _("Reason: %(reason)s", reason=application.status_reason)]
        lines += [
            "",
            _(
                "Market: %(date)s %(start)s–%(end)s",
                date=day,
                start=_hm(market.start_time),
                end=_hm(market.end_time),
            ),
            _(
                "Venue: %(venue)s (%(address)s)",
                venue=one_line(market.venue.name),
                address=one_line(market.venue.address),
            ),
        ]
        lines += closing_lines(_home_link())
        subject = f"[{_('Good Morning Market')}] {subject}"
    text = "\n".join(lines) + "\n"
    return text_message_to(vendor.contact_name, vendor.email, subject, text)


def _news(news: News, day: str, booth: int | None, position: int | None) -> tuple[str, str]:
    if news is News.ASSIGNED:
        return (
            _("Booth %(number)d at the market on %(date)s", number=booth, date=day),
            _(
                "Your enterprise has booth %(number)d at the market on %(date)s. See you there!",
                number=booth,
                date=day,
            ),
        )
    if news is News.MOVED:
        return (
            _("Your booth on %(date)s is now booth %(number)d", number=booth, date=day),
            _(
                "The center changed your booth at the market on %(date)s: you now have "
                "booth %(number)d.",
                number=booth,
                date=day,
            ),
        )
    if news in (News.WAITLISTED, News.UNASSIGNED):
        intro = (
            _("The center took back your booth at the market on %(date)s.", date=day)
            if news is News.UNASSIGNED
            else _("All booths of the market on %(date)s are taken.", date=day)
        )
        return (
            _(
                "Waitlist place %(position)d for the market on %(date)s",
                position=position,
                date=day,
            ),
            intro
            + " "
            + _(
                "Your enterprise is number %(position)d on the waitlist; we will "
                "email you if a booth becomes free.",
                position=position,
            ),
        )
    return (
        _("Your application for the market on %(date)s was not accepted", date=day),
        _("We cannot give your enterprise a booth at the market on %(date)s.", date=day),
    )


def _hm(value) -> str:
    return value.strftime("%H:%M")


def _home_link() -> str | None:
    """The vendor home, absolute; None from a CLI without PUBLIC_BASE_URL or SERVER_NAME."""
    try:
        return public_url("home.vendor")
    except RuntimeError:
        return None
