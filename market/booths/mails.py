"""The emails a vendor gets about its booth: assigned (with the number),
waitlisted (with the place), declined (with the reason), and later changes.

Their words are templates/mail/booth.txt, written as every mail is
(market.outbox.compose), and they always go through the outbox: `queue`
only adds a row, the caller commits it with the change."""

from enum import StrEnum

from market.markets.models import Market
from market.outbox.compose import notice_subject, public_url, write
from market.outbox.mime import text_message_to
from market.outbox.services import enqueue
from market.timeutil import format_korean_date
from market.validators import one_line
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
    day = format_korean_date(market.market_date)
    position = application.waitlist_position
    text = write(
        "booth",
        contact_name=one_line(vendor.contact_name),
        news=news,
        day=day,
        booth=booth,
        position=position,
        reason=application.status_reason,
        start=_hm(market.start_time),
        end=_hm(market.end_time),
        venue_name=one_line(market.venue.name),
        venue_address=one_line(market.venue.address),
        link=_home_link(),
    ).text
    subject = notice_subject(_subject(news, day, booth, position))
    return text_message_to(vendor.contact_name, vendor.email, subject, text)


def _subject(news: News, day: str, booth: int | None, position: int | None) -> str:
    if news is News.ASSIGNED:
        return f"{day} 장터 {booth}번 부스 배정"
    if news is News.MOVED:
        return f"{day} 장터 부스가 {booth}번으로 바뀌었습니다"
    if news in (News.WAITLISTED, News.UNASSIGNED):
        return f"{day} 장터 대기 {position}순위 안내"
    return f"{day} 장터 참가 신청이 받아들여지지 않았습니다"


def _hm(value) -> str:
    return value.strftime("%H:%M")


def _home_link() -> str | None:
    """The vendor home, absolute; None from a CLI without PUBLIC_BASE_URL or SERVER_NAME."""
    try:
        return public_url("home.vendor")
    except RuntimeError:
        return None
