"""What a newcomer met trying the pages by hand: long tables that hide
their key column on a phone, wording addressed to the wrong reader, the
answer page silent about an unsubscribe, and a map link that text mail
clients cut at its first Korean character."""

from email.message import EmailMessage
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from market.extensions import db
from market.invitations import sending
from market.invitations.models import InvitationStatus
from market.markets import services as markets
from market.markets.models import MarketStatus
from market.outbox import mime
from market.outbox import services as outbox
from market.outbox.models import OutboxMessage, OutboxStatus
from market.timeutil import utcnow
from tests.markets_factories import make_market, make_venue, next_thursday
from tests.test_invitations import invitation_of, make_customer
from tests.test_season import _season_form
from tests.vendors_factories import make_application, make_vendor, make_vendor_login, today

KOREAN_MAP = "https://map.naver.com/p/search/경기도청?c=수원 도청"


class _Cells(HTMLParser):
    """The wrapper classes of each table and the attributes of its body
    cells, row by row."""

    def __init__(self):
        super().__init__()
        self.tables: list[dict] = []
        self._wrapper = ""
        self._in_body = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div":
            self._wrapper = attrs.get("class") or ""
        elif tag == "table":
            self.tables.append({"class": attrs.get("class") or "", "wrapper": self._wrapper})
            self.tables[-1]["rows"] = []
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.tables[-1]["rows"].append([])
        elif tag == "td" and self._in_body:
            self.tables[-1]["rows"][-1].append(attrs)

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_body = False


def _stacked_table(html: str) -> dict:
    """The page's one table, checked to turn into labelled cards on a phone."""
    parser = _Cells()
    parser.feed(html)
    [table] = parser.tables
    assert "table-stack" in table["wrapper"].split(), "stacked into cards on a phone"
    assert table["rows"], "the table has rows"
    for row in table["rows"]:
        # Only a row's last cell (its buttons) may go without a label.
        for cell in row[:-1] if len(row) > 1 else row:
            assert cell.get("data-label"), f"every cell names its column on a phone: {row}"
    return table


# -- long tables on a phone ----------------------------------------------------


def test_season_preview_rows_become_labelled_cards_on_a_phone(client, login_as, staff, app):
    venues = make_venue("경기도청", 10), make_venue("용인시청", 6)
    login_as(staff)
    page = client.post("/staff/markets/season", data=_season_form(venues)).get_data(as_text=True)
    _stacked_table(page)
    assert 'data-label="처리"' in page, "the reason a date is left out keeps its name"


def test_outbox_rows_show_status_and_error_labelled_on_a_phone(client, login_as, staff, app):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@x.kr", "b@x.kr", "실패한 메일"
    message.set_content("본문")
    row = outbox.enqueue(message)
    row.status, row.attempts, row.last_error = OutboxStatus.FAILED, 1, "550 mailbox unavailable"
    db.session.commit()
    login_as(staff)
    page = client.get("/staff/outbox/?status=failed").get_data(as_text=True)
    _stacked_table(page)
    assert 'data-label="상태"' in page and 'data-label="마지막 오류"' in page


def test_staff_market_list_is_stacked_on_a_phone(client, login_as, staff, app):
    make_market(make_venue("경기도청", 10), next_thursday(today(), weeks=1))
    login_as(staff)
    _stacked_table(client.get("/staff/markets/").get_data(as_text=True))


# -- wording -------------------------------------------------------------------


def test_withdraw_page_cancel_button_says_it_keeps_the_application(client, login_as, app):
    market = make_market(make_venue("경기도청", 10), next_thursday(today(), weeks=2))
    markets.change_status(market, MarketStatus.OPEN)
    db.session.commit()
    vendor = make_vendor("잔다리마을공동체")
    application = make_application(vendor, market)
    login_as(make_vendor_login(vendor))
    page = client.get(f"/vendor/applications/{application.id}/withdraw").get_data(as_text=True)
    assert "신청 유지하기" in page
    assert "삭제하지 않기" not in page, "nothing is deleted on this page"


def test_public_pages_do_not_show_the_vendors_status_wording(client, app):
    venue = make_venue("경기도청", 10)
    open_market = make_market(venue, next_thursday(today(), weeks=1))
    markets.change_status(open_market, MarketStatus.OPEN)
    planned = make_market(venue, next_thursday(today(), weeks=2))
    cancelled = make_market(venue, next_thursday(today(), weeks=3))
    markets.change_status(cancelled, MarketStatus.CANCELLED, reason="폭설")
    db.session.commit()
    for url in ("/", f"/markets/{open_market.id}"):
        page = client.get(url).get_data(as_text=True)
        assert "참가 신청 중" not in page, url
        assert "참가 기업 모집 중" in page, url
    planned_page = client.get(f"/markets/{planned.id}").get_data(as_text=True)
    assert "예정" not in planned_page.split("<h1>", 1)[1].split("</dl>", 1)[0]
    assert "취소됨" in client.get(f"/markets/{cancelled.id}").get_data(as_text=True)


# -- the answer page after an unsubscribe --------------------------------------


@pytest.fixture
def invited(app):
    """Hana, invited to next week's market (venue with a Korean map link)."""
    venue = make_venue("경기도청", 10, map_url=KOREAN_MAP)
    market = make_market(venue, next_thursday(today(), weeks=1))
    hana = make_customer("hana@example.com", "김하나")
    sending.invite(market, [hana.id], None, utcnow())
    db.session.commit()
    return market, hana


def test_rsvp_page_says_the_address_is_unsubscribed_and_still_takes_the_answer(client, invited):
    _market, hana = invited
    token = invitation_of(hana).token
    note = "이 주소는 수신 거부되었습니다. 더 이상 초대 메일을 보내지 않습니다."
    assert note not in client.get(f"/i/{token}").get_data(as_text=True)

    assert client.post(f"/u/{token}", data={}).status_code == 200
    page = client.get(f"/i/{token}").get_data(as_text=True)
    assert note in page
    assert f"/u/{token}" not in page, "no second offer to unsubscribe"
    # Unsubscribing stops the mail, not the answer (invitations.answers.answer
    # asks nothing of the customer's consent): the answer still counts.
    response = client.post(f"/i/{token}", data={"answer": "accept"})
    assert response.status_code == 303
    assert invitation_of(hana).status is InvitationStatus.ACCEPTED


# -- the map link in the text part -----------------------------------------------


def test_korean_map_link_is_percent_encoded_in_the_mail(invited):
    _market, hana = invited
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == hana.email))
    message = mime.parse(row.mime)
    text = message.get_body(("plain",)).get_content()
    encoded = (
        "https://map.naver.com/p/search/%EA%B2%BD%EA%B8%B0%EB%8F%84%EC%B2%AD"
        "?c=%EC%88%98%EC%9B%90%20%EB%8F%84%EC%B2%AD"
    )
    assert f"지도: {encoded}" in text.splitlines(), "one unbroken link a text client keeps"
    assert "search/경기도청" not in text
    html = message.get_body(("html",)).get_content()
    assert f'href="{encoded}"' in html
