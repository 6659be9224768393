"""Invitation pages: staff ranking, preview and sending; the customer's
answer and unsubscribe pages (no login, GET never changes anything)."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from market.accounts.models import Role
from market.customers.models import Suppression
from market.extensions import db
from market.invitations import answers, sending
from market.invitations.messages import (
    MailKind,
    attending_vendors,
    invitation_message,
    preview_parts,
)
from market.invitations.models import Invitation, InvitationStatus
from market.markets import services as market_services
from market.markets.models import MarketStatus
from market.outbox.mime import parse
from market.outbox.models import OutboxMessage
from market.timeutil import SEOUL, utcnow
from tests.markets_factories import make_market, make_venue, next_thursday
from tests.test_invitations import invitation_of, make_customer, make_order, make_vendor


def upcoming_market():
    venue = make_venue("경기도청", 10)
    return make_market(venue, next_thursday(datetime.now(SEOUL).date(), weeks=1))


def make_buyers(market):
    """Two ranked buyers and one big spender without consent."""
    vendor = make_vendor("햇살협동조합", "food", market)
    hana = make_customer("hana@example.com", "김하나")
    dul = make_customer("dul@example.com", "이둘")
    silent = make_customer("silent@example.com", "무동의", consent=False)
    recent = utcnow() - timedelta(days=30)
    make_order(hana, 1_000_000, recent, vendor)
    make_order(hana, 234_567, recent - timedelta(days=1), vendor)
    make_order(dul, 500_000, recent)
    make_order(silent, 9_000_000, recent)
    db.session.commit()
    return hana, dul, silent


@pytest.fixture
def market(app):
    return upcoming_market()


@pytest.fixture
def buyers(app, market):
    return make_buyers(market)


DEFAULTS = {"top_n": 50, "window_days": 365, "min_orders": 1, "skip_weeks": 0}


def in_english(client):
    client.post("/language", data={"lang": "en", "next": "/"})


def invite_now(market, customers):
    result = sending.invite(market, [c.id for c in customers], None, utcnow())
    db.session.commit()
    return result


def page_url(market, **args) -> str:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return f"/staff/markets/{market.id}/invitations" + (f"?{query}" if query else "")


# --- staff ----------------------------------------------------------------------------


def test_staff_page_shows_counts_ranking_and_preview(client, staff, login_as, market, buyers):
    hana, dul, _silent = buyers
    invite_now(market, [dul])
    answers.answer(invitation_of(dul).token, True, utcnow())
    db.session.commit()
    login_as(staff)
    in_english(client)
    response = client.get(page_url(market))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # the ranking: hana first, masked addresses, won amounts; no consent, no row
    assert html.index("김하나") < html.index("이둘")
    assert "h***@example.com" in html and "hana@example.com" not in html
    assert "₩1,234,567" in html and "₩500,000" in html
    assert "무동의" not in html and "₩9,000,000" not in html
    assert f'name="customer_id" value="{hana.id}"' in html
    assert f'name="customer_id" value="{dul.id}"' not in html, "already invited: no checkbox"
    # the counts
    assert '<span class="tile-number">1</span><span class="tile-label">Invited</span>' in html
    assert '<span class="tile-number">1</span><span class="tile-label">Coming</span>' in html
    assert '<span class="tile-number">0</span><span class="tile-label">Delivered</span>' in html
    # the preview of the first ranked customer
    preview_url = f"/staff/markets/{market.id}/invitations/preview/{hana.id}.html"
    assert f'src="{preview_url}"' in html and 'sandbox=""' in html
    assert "(광고) 굿모닝장터 초대" in html

    preview = client.get(preview_url)
    assert preview.status_code == 200 and preview.mimetype == "text/html"
    assert "sandbox" in preview.headers["Content-Security-Policy"]
    body = preview.get_data(as_text=True)
    assert "김하나님, 안녕하세요." in body and "2026년 11월 20일 14:03" in body
    assert "/u/preview" in body, "the preview's links lead nowhere"
    assert client.get(
        f"/staff/markets/{market.id}/invitations/preview/999999.html"
    ).status_code == (404)


def test_ranking_options_come_from_the_query_string(client, staff, login_as, market, buyers):
    _hana, dul, _silent = buyers
    login_as(staff)
    in_english(client)
    html = client.get(page_url(market, top_n=1, window_days=365, min_orders=1, skip_weeks=0)).text
    assert "김하나" in html and "이둘" not in html
    html = client.get(
        page_url(market, top_n=50, window_days=365, min_orders=1, skip_weeks=0, assigned_only="y")
    ).text
    assert "김하나" in html and "d***@example.com" not in html, "dul bought from no assigned vendor"
    html = client.get(page_url(market, top_n=50, window_days=365, min_orders=2, skip_weeks=0)).text
    assert "h***@example.com" in html and "d***@example.com" not in html
    response = client.get(page_url(market, top_n=0, window_days=365, min_orders=1, skip_weeks=0))
    assert response.status_code == 200
    assert "Correct the options above" in response.text
    assert 'name="customer_id"' not in response.text
    html = client.get(page_url(market, preview=dul.id)).text
    assert f"/invitations/preview/{dul.id}.html" in html


def test_sending_asks_for_confirmation_then_invites(client, staff, login_as, market, buyers):
    hana, dul, silent = buyers
    login_as(staff)
    in_english(client)
    url = f"/staff/markets/{market.id}/invitations/send"
    review = client.post(url, data={"customer_id": [hana.id, dul.id, silent.id]})
    assert review.status_code == 200
    html = review.text
    assert "This sends advertising email to 2 customers." in html
    assert "no marketing consent: 1" in html
    assert html.count('type="hidden" name="customer_id"') == 2
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0, "not yet"

    done = client.post(url, data={"customer_id": [hana.id, dul.id, silent.id], "confirmed": "yes"})
    assert done.status_code == 302 and done.headers["Location"].endswith(page_url(market))
    db.session.expire_all()
    invited = db.session.scalars(select(Invitation.customer_id).order_by(Invitation.id)).all()
    assert invited == [hana.id, dul.id], "the non-consenting customer is never invited"
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 2
    html = client.get(page_url(market)).text
    assert "Invitations queued: 2." in html
    assert "Not invited: no marketing consent: 1" in html

    again = client.post(url, data={"customer_id": [hana.id], "confirmed": "yes"})
    assert again.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 2


def test_sending_needs_a_choice_and_an_upcoming_market(client, staff, login_as, market, buyers):
    hana = buyers[0]
    login_as(staff)
    in_english(client)
    url = f"/staff/markets/{market.id}/invitations/send"
    client.post(url, data={})
    assert "Choose at least one customer" in client.get(page_url(market)).text
    market_services.change_status(market, MarketStatus.CANCELLED, reason="우천")
    db.session.commit()
    client.post(url, data={"customer_id": [hana.id], "confirmed": "yes"})
    assert "only be sent for an upcoming market" in client.get(page_url(market)).text
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0
    assert client.post(url, data={"customer_id": ["x"]}).status_code == 400


@pytest.mark.parametrize(
    "path",
    ["/staff/markets/{id}/invitations", "/staff/markets/{id}/invitations/preview/{cid}.html"],
)
def test_vendors_and_anonymous_see_no_customer_data(
    client, make_user, login_as, market, buyers, path
):
    url = path.format(id=market.id, cid=buyers[0].id)
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/account/login" in anonymous.headers["Location"]
    login_as(make_user(Role.VENDOR))
    refused = client.get(url)
    assert refused.status_code == 403
    assert "hana" not in refused.text and "김하나" not in refused.text


def test_vendors_cannot_send(client, make_user, login_as, market, buyers):
    url = f"/staff/markets/{market.id}/invitations/send"
    data = {"customer_id": [buyers[0].id], "confirmed": "yes"}
    assert client.post(url, data=data).status_code == 302
    login_as(make_user(Role.VENDOR))
    assert client.post(url, data=data).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0


def _fill(market, customers: int, invited: int) -> None:
    vendor = make_vendor(f"기업{customers}", "crafts", market)
    people = [make_customer(f"c{customers}-{n}@example.com", f"고객{n}") for n in range(customers)]
    for n, person in enumerate(people):
        make_order(person, 10_000 * (n + 1), utcnow() - timedelta(days=n + 1), vendor)
    db.session.commit()
    invite_now(market, people[:invited])


def test_staff_page_runs_a_bounded_number_of_queries(
    client, staff, login_as, market, count_queries
):
    login_as(staff)
    _fill(market, customers=3, invited=1)
    url = page_url(market)
    client.get(url)
    with count_queries() as small:
        assert client.get(url).status_code == 200
    _fill(market, customers=60, invited=40)
    client.post(f"{url}/ranking", data=DEFAULTS)
    with count_queries() as large:
        response = client.get(url)
    assert response.status_code == 200
    assert response.text.count("<tr>") > 60
    assert large.count == small.count, large.statements
    assert not [s for s in large.statements if "sum(" in s.lower()], "GET does not rank"


# --- the customer's pages ---------------------------------------------------------------


def test_rsvp_get_changes_nothing_and_post_records_the_answer(client, market, buyers):
    hana = buyers[0]
    invite_now(market, [hana])
    token = invitation_of(hana).token
    for url in (f"/i/{token}", f"/i/{token}?answer=accept", f"/i/{token}?answer=decline"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "private, no-store"
        # The token leaves in no Referer to other sites, while our own form
        # POST keeps its Referer for Flask-WTF's HTTPS CSRF check.
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert 'name="answer" value="accept"' in response.text
        assert 'name="answer" value="decline"' in response.text
        assert "김하나" in response.text and "경기도청" in response.text
    invitation = invitation_of(hana)
    assert invitation.status is InvitationStatus.INVITED and invitation.answered_at is None

    response = client.post(f"/i/{token}", data={"answer": "accept"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/i/{token}")
    assert invitation_of(hana).status is InvitationStatus.ACCEPTED
    assert invitation_of(hana).answered_at is not None
    client.post(f"/i/{token}", data={"answer": "decline"})
    assert invitation_of(hana).status is InvitationStatus.DECLINED
    assert client.post(f"/i/{token}", data={"answer": "maybe"}).status_code == 400
    assert invitation_of(hana).status is InvitationStatus.DECLINED


def test_unknown_tokens_are_not_found(client, market, buyers):
    for method in ("get", "post"):
        assert getattr(client, method)("/i/nope").status_code == 404
        assert getattr(client, method)("/u/nope").status_code == 404
    assert client.get("/i/" + "x" * 200).status_code == 404


def test_a_cancelled_market_can_no_longer_be_answered(client, market, buyers):
    hana = buyers[0]
    invite_now(market, [hana])
    token = invitation_of(hana).token
    market_services.change_status(market, MarketStatus.CANCELLED, reason="폭우 예보")
    db.session.commit()
    page = client.get(f"/i/{token}")
    assert "폭우 예보" in page.text and 'name="answer"' not in page.text
    client.post(f"/i/{token}", data={"answer": "accept"})
    assert invitation_of(hana).status is InvitationStatus.INVITED


def test_unsubscribe_get_changes_nothing_and_post_unsubscribes(client, market, buyers):
    hana = buyers[0]
    invite_now(market, [hana])
    token = invitation_of(hana).token
    page = client.get(f"/u/{token}")
    assert page.status_code == 200 and "h***@example.com" in page.text
    assert f'action="/u/{token}"' in page.text or f'action="http://market.test/u/{token}"' in (
        page.text
    )
    db.session.expire_all()
    assert hana.unsubscribed_at is None
    assert db.session.scalar(select(func.count()).select_from(Suppression)) == 0

    done = client.post(f"/u/{token}", data={})
    assert done.status_code == 200 and done.headers["Cache-Control"] == "private, no-store"
    db.session.expire_all()
    assert hana.unsubscribed_at is not None
    assert db.session.scalars(select(Suppression.email_hash)).all() == [hana.email_hash]
    assert client.post(f"/u/{token}", data={}).status_code == 200, "again: still fine"
    assert db.session.scalar(select(func.count()).select_from(Suppression)) == 1
    assert f'action="/u/{token}"' not in client.get(f"/u/{token}").text, "nothing left to do"


@pytest.fixture
def csrf_on(app_config):
    app_config["WTF_CSRF_ENABLED"] = True


def test_one_click_unsubscribe_needs_no_csrf_token(csrf_on, client, market, buyers):
    """RFC 8058: the provider POSTs List-Unsubscribe=One-Click, nothing else."""
    hana = buyers[0]
    invite_now(market, [hana])
    token = invitation_of(hana).token
    response = client.post(
        f"/u/{token}",
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    db.session.expire_all()
    assert hana.unsubscribed_at is not None
    assert (
        db.session.scalar(select(func.count()).where(Suppression.email_hash == hana.email_hash))
        == 1
    )
    # ... while the answer form keeps its CSRF protection
    dul = buyers[1]
    invite_now(market, [dul])
    dul_token = invitation_of(dul).token
    assert client.post(f"/i/{dul_token}", data={"answer": "accept"}).status_code == 400
    assert invitation_of(dul).status is InvitationStatus.INVITED
    page = client.get(f"/i/{dul_token}")
    csrf_token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    answered = client.post(f"/i/{dul_token}", data={"answer": "accept", "csrf_token": csrf_token})
    assert answered.status_code == 303
    assert invitation_of(dul).status is InvitationStatus.ACCEPTED


def test_the_pages_preview_parts_are_those_of_the_real_message(app, market, buyers):
    """The page shows subject, List-Unsubscribe and text without building the
    whole message; they must be what the whole message carries."""
    hana = buyers[0]
    vendors = attending_vendors(market)
    parts = preview_parts(customer=hana, market=market, token="t0k3n", vendors=vendors)
    whole = parse(
        bytes(
            invitation_message(
                customer=hana,
                market=market,
                token="t0k3n",
                vendors=vendors,
                kind=MailKind.INVITE,
                sequence=market.sequence,
                stamp=utcnow(),
            )
        )
    )
    assert parts.subject == whole["Subject"]
    assert parts.list_unsubscribe == whole["List-Unsubscribe"]
    sent = whole.get_body(preferencelist=("plain",)).get_content()
    assert parts.text.strip() == sent.replace("\r\n", "\n").strip(), "only CRLF on the wire"
