"""The staff's customer pages: the search by name, email or phone, one
customer's record (consent, unsubscribed or undeliverable, orders,
invitations with their answers), hostile search text, query counts, and who
may see them."""

from datetime import UTC, date, datetime, timedelta

import pytest

from market.accounts.models import Role
from market.customers.models import Suppression
from market.extensions import db
from market.invitations.models import AnswerSource, Invitation, InvitationStatus
from market.outbox.models import OutboxMessage, OutboxStatus
from tests.customer_factories import NOW, add_orders, make_customer
from tests.markets_factories import make_market, make_venue
from tests.vendors_factories import make_vendor

SEARCH = "/staff/customers/"


def _names(page: str, *candidates: str) -> set[str]:
    return {name for name in candidates if f">{name}</a>" in page}


@pytest.fixture
def people(app):
    made = {
        "kim": make_customer("kim.cs@example.com", name="김철수", phone="+821012345678"),
        "kimy": make_customer("younghee@example.com", name="김영희", phone="+821098765432"),
        "park": make_customer("park@example.com", name="박민수", phone="+82212345678"),
        "under": make_customer("under@example.com", name="김_수"),
        "percent": make_customer("pct@example.com", name="%할인왕"),
    }
    db.session.commit()
    return made


def _search(client, text: str) -> str:
    response = client.get(SEARCH, query_string={"q": text})
    assert response.status_code == 200
    return response.get_data(as_text=True)


ALL = ("김철수", "김영희", "박민수", "김_수", "%할인왕")


def test_search_by_the_start_of_a_name(client, login_as, staff, people):
    login_as(staff)
    assert _names(_search(client, "김"), *ALL) == {"김철수", "김영희", "김_수"}
    assert _names(_search(client, "김철"), *ALL) == {"김철수"}
    assert _names(_search(client, "  박민수 "), *ALL) == {"박민수"}
    assert _names(_search(client, "철수"), *ALL) == set(), "the start of the name only"
    page = _search(client, "없는사람")
    assert "찾는 고객이 없습니다" in page


def test_search_by_email_as_stored(client, login_as, staff, people):
    """Typed in capitals with spaces around, found as the importer stores it."""
    login_as(staff)
    assert _names(_search(client, "  KIM.CS@Example.com "), *ALL) == {"김철수"}
    assert _names(_search(client, "younghee@"), *ALL) == {"김영희"}
    assert _names(_search(client, "park"), *ALL) == {"박민수"}, "a name or an email's start"


@pytest.mark.parametrize(
    "typed", ["010-1234-5678", "01012345678", "+82 10 1234 5678", "010 1234", "(010) 1234-5678"]
)
def test_search_by_phone_however_written(client, login_as, staff, people, typed):
    login_as(staff)
    assert _names(_search(client, typed), *ALL) == {"김철수"}


def test_a_landline_is_found_too(client, login_as, staff, people):
    login_as(staff)
    assert _names(_search(client, "02-1234-5678"), *ALL) == {"박민수"}


def test_wildcards_are_taken_literally(client, login_as, staff, people):
    login_as(staff)
    assert _names(_search(client, "김_"), *ALL) == {"김_수"}
    assert _names(_search(client, "%"), *ALL) == {"%할인왕"}
    assert _names(_search(client, "%수"), *ALL) == set()
    assert _names(_search(client, "_"), *ALL) == set()
    assert _names(_search(client, "\\"), *ALL) == set()


@pytest.mark.parametrize(
    "typed",
    ["김\r\n철수", "a" * 10_000, "0" * 10_000, "김\x07", "+", "12", "' OR 1=1 --", "%_%"],
)
def test_hostile_search_text_is_never_an_error(client, login_as, staff, people, typed):
    login_as(staff)
    response = client.get(SEARCH, query_string={"q": typed})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert _names(page, *ALL) == set()
    for export in ("export.csv", "export.xlsx"):
        assert client.get(SEARCH + export, query_string={"q": typed}).status_code in (200, 400)


def test_a_nul_character_is_refused_before_any_query(client, login_as, staff, people):
    login_as(staff)
    assert client.get(SEARCH, query_string={"q": "김\x00"}).status_code == 400
    assert client.get(SEARCH + "export.csv", query_string={"q": "\x00"}).status_code == 400


def test_too_long_and_control_characters_are_said(client, login_as, staff, people):
    login_as(staff)
    assert "최대 100자" in _search(client, "가" * 10_000)
    assert "입력할 수 없는 문자" in _search(client, "김\r\n철수")
    assert "3자리 이상" in _search(client, "01")


def test_pages_past_the_end_and_huge_ids(client, login_as, staff, people):
    login_as(staff)
    assert client.get(SEARCH, query_string={"page": "5"}).status_code == 200
    assert client.get(SEARCH, query_string={"page": str(2**31)}).status_code == 404
    assert client.get(SEARCH, query_string={"page": "x"}).status_code == 200
    assert client.get(f"/staff/customers/{2**31}").status_code == 404
    assert client.get(f"/staff/customers/{2**63}").status_code == 404


def test_the_list_is_paginated(client, login_as, staff, app):
    for number in range(55):
        make_customer(f"c{number:02d}@example.com", name=f"고객{number:02d}")
    db.session.commit()
    login_as(staff)
    first = _search(client, "")
    assert "55" in first and "고객54" in first and "고객04" not in first
    second = client.get(SEARCH, query_string={"page": 2}).get_data(as_text=True)
    assert "고객04" in second and "고객54" not in second


def test_the_search_costs_the_same_for_5_or_60_customers(client, login_as, staff, count_queries):
    login_as(staff)
    for number in range(5):
        make_customer(f"a{number}@example.com", name=f"가{number}")
    db.session.commit()
    client.get(SEARCH)  # warm up: the session's user, babel
    with count_queries() as few:
        assert client.get(SEARCH, query_string={"q": "가"}).status_code == 200
    for number in range(5, 60):
        make_customer(f"a{number}@example.com", name=f"가{number}")
    db.session.commit()
    with count_queries() as many:
        assert client.get(SEARCH, query_string={"q": "가"}).status_code == 200
    assert many.count == few.count <= 6


# -- one customer's page ---------------------------------------------------------------


def _invite(customer, market, status=InvitationStatus.INVITED, source=None, **mail):
    message = OutboxMessage(
        category="invitation",
        to_address=customer.email,
        subject="초대",
        mime=b"x",
        status=mail.pop("status", OutboxStatus.SENT),
        sent_at=mail.pop("sent_at", NOW - timedelta(days=3)),
        bounced_at=mail.pop("bounced_at", None),
    )
    db.session.add(message)
    db.session.flush()
    invitation = Invitation(
        customer_id=customer.id,
        market_id=market.id,
        status=status,
        outbox_message_id=message.id,
        answer_source=source,
        answered_at=NOW - timedelta(days=1) if source else None,
    )
    db.session.add(invitation)
    db.session.flush()
    return invitation


@pytest.fixture
def record(app):
    """A customer with consent (stored the old way: a file name), orders at
    two enterprises and one unmatched seller, three invitations answered
    three ways, and a bounce on the suppression list."""
    customer = make_customer("lee@example.com", name="이순신", phone="+821055556666")
    bakery, farm = make_vendor("우리밀빵집"), make_vendor("초록농장")
    add_orders(customer, 30_000, 20_000, days_ago=400, vendor_id=bakery.id)
    add_orders(customer, 15_000, days_ago=5, vendor_id=farm.id)
    add_orders(customer, 1_000, days_ago=20)
    venue = make_venue("경기도청")
    markets = [make_market(venue, date(2026, 5, day)) for day in (7, 14, 21)]
    _invite(customer, markets[0], InvitationStatus.ACCEPTED, AnswerSource.PAGE)
    _invite(customer, markets[1], InvitationStatus.TENTATIVE, AnswerSource.CALENDAR)
    _invite(customer, markets[2], bounced_at=datetime(2026, 5, 15, 1, 0, tzinfo=UTC))
    db.session.add(
        Suppression(
            email_hash=customer.email_hash,
            reason="undeliverable",
            bounced_at=datetime(2026, 5, 15, 1, 0, tzinfo=UTC),
            bounce_diagnostic="550 5.1.1 <lee@example.com>: user unknown",
        )
    )
    db.session.commit()
    return customer, bakery, farm


def test_the_customer_page_shows_consent_orders_and_invitations(client, login_as, staff, record):
    customer, bakery, _farm = record
    login_as(staff)
    response = client.get(f"/staff/customers/{customer.id}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    page = response.get_data(as_text=True)
    assert "이순신" in page and "lee@example.com" in page and "010-5555-6666" in page
    # consent: when (Korea time), where in the customer's words, the wording
    assert "2026-02-01 12:00" in page  # NOW - 300 days, 03:00 UTC = 12:00 KST
    assert "G마켓 구매 시 마케팅 수신 동의" in page
    assert "gmarket-orders.csv" not in page, "never the internal file name"
    assert "v1" in page
    # undeliverable: the bounce's date and the server's words
    assert '<span class="badge badge-warn">메일 반송</span>' in page
    assert "2026-05-15 10:00" in page
    assert "550 5.1.1 &lt;lee@example.com&gt;: user unknown" in page
    # orders: count, total, first and last, where they buy most (biggest first)
    assert "₩66,000" in page
    assert "2025-10-24 12:00" in page  # NOW - 400 days
    assert "2026-11-23 12:00" in page  # NOW - 5 days
    assert page.index("우리밀빵집") < page.index("초록농장") < page.index("가게")
    assert f'href="/staff/vendors/{bakery.id}"' in page
    # invitations: the answers and where they came from, and the bounce
    assert "참석" in page and "미정" in page
    assert "답변 페이지" in page and "캘린더 앱" in page
    assert "반송됨" in page


def test_an_unsubscribed_customer_says_so(client, login_as, staff, app):
    customer = make_customer(
        "gone@example.com", name="떠난고객", unsubscribed_at=datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
    )
    db.session.commit()
    login_as(staff)
    page = client.get(f"/staff/customers/{customer.id}").get_data(as_text=True)
    assert "수신 거부" in page and "2026-06-01 09:00" in page
    assert "초대 받을 수 있음" not in page


def test_a_customer_without_consent_or_orders(client, login_as, staff, app):
    customer = make_customer("no@example.com", name="미동의", consent=False)
    db.session.commit()
    login_as(staff)
    page = client.get(f"/staff/customers/{customer.id}").get_data(as_text=True)
    assert "마케팅 수신 동의 없음" in page
    assert "주문이 없습니다" in page and "아직 초대하지 않았습니다" in page


def test_the_customer_page_costs_the_same_for_1_or_12_invitations(
    client, login_as, staff, record, count_queries
):
    customer, *_ = record
    login_as(staff)
    url = f"/staff/customers/{customer.id}"
    client.get(url)
    with count_queries() as few:
        client.get(url)
    venue = make_venue("수원역")
    for week in range(12):  # markets are on Thursdays
        _invite(customer, make_market(venue, date(2026, 8, 6) + timedelta(weeks=week)))
    add_orders(customer, *([5_000] * 30))
    db.session.commit()
    with count_queries() as many:
        page = client.get(url).get_data(as_text=True)
    assert "수원역" in page
    assert many.count == few.count <= 9


# -- where staff find it ----------------------------------------------------------------


def test_the_staff_menu_leads_to_the_customers(client, login_as, staff, people):
    login_as(staff)
    home = client.get("/staff/").get_data(as_text=True)
    assert 'href="/staff/customers/"' in home
    page = _search(client, "김철수")
    assert f'href="/staff/customers/{people["kim"].id}"' in page
    assert 'href="/staff/customers/imports"' in page


def test_invited_customers_and_undeliverable_addresses_link_to_their_page(
    client, login_as, staff, record
):
    customer, *_ = record
    login_as(staff)
    market_id = db.session.scalar(db.select(Invitation.market_id).limit(1))
    invitations = client.get(f"/staff/markets/{market_id}/invitations").get_data(as_text=True)
    assert f'href="/staff/customers/{customer.id}"' in invitations
    inbox = client.get("/staff/inbox/").get_data(as_text=True)
    assert f'href="/staff/customers/{customer.id}"' in inbox


@pytest.mark.parametrize(
    "url", ["/staff/customers/", "/staff/customers/1", "/staff/customers/export.csv"]
)
def test_a_vendor_sees_no_customer(client, make_user, login_as, record, url):
    login_as(make_user(Role.VENDOR))
    response = client.get(url)
    assert response.status_code == 403
    assert "lee@example.com" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "url", ["/staff/customers/", "/staff/customers/1", "/staff/customers/export.xlsx"]
)
def test_nobody_logged_out_sees_a_customer(client, record, url):
    response = client.get(url)
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
