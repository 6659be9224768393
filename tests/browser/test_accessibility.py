"""axe-core (bundled by axe-playwright-python, run inside Chromium) on the
main pages: no violations allowed."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import log_in

AXE = Axe()


def assert_accessible(page) -> None:
    results = AXE.run(page)
    details = [
        f"{v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(node["target"][0] for node in v["nodes"][:5])
        for v in results.response["violations"]
    ]
    assert details == [], "\n".join(details)


@pytest.fixture(scope="module")
def invitation_token(server):
    output = server.python("""
from datetime import UTC, datetime, timedelta
from market.customers.models import Customer, email_hash
from market.extensions import db
from market.invitations import sending
from market.markets.models import Market
from market.markets.services import MarketDetails, create_market, create_venue, default_deadline
from market.timeutil import SEOUL, utcnow
from sqlalchemy import select
market = db.session.scalar(select(Market).order_by(Market.id.desc()))
if market is None:
    venue = create_venue("접근성시청", "경기도 수원시 팔달구 효원로 241", 8)
    day = utcnow().astimezone(SEOUL).date() + timedelta(days=7)
    day += timedelta(days=(3 - day.weekday()) % 7)
    from datetime import time
    market = create_market(MarketDetails(day, time(10), time(15), venue.id, 8,
                                         default_deadline(day), 30_000_000))
now = utcnow()
customer = Customer(email="a11y@example.com", email_hash=email_hash("a11y@example.com"),
                    name="접근성", consent=True, consent_at=now - timedelta(days=30),
                    consent_source="a11y.csv", consent_wording="v1", details_as_of=now)
db.session.add(customer)
db.session.flush()
result = sending.invite(market, [customer.id], actor=None, now=now)
db.session.commit()
print(result.invitations[0].token)
""")
    return output.strip().splitlines()[-1]


@pytest.mark.parametrize("path", ["/", "/vendors/register", "/vendors/", "/account/login"])
def test_public_pages(server, phone, path):
    phone.goto(server.url + path)
    assert_accessible(phone)


def test_staff_dashboard(server, desktop):
    log_in(desktop, server.url)
    desktop.goto(server.url + "/staff/")
    assert_accessible(desktop)


def test_rsvp_page(server, phone, invitation_token):
    phone.goto(f"{server.url}/i/{invitation_token}")
    assert "접근성" in phone.content()
    assert_accessible(phone)


def test_sign_up_with_errors(server, phone):
    phone.goto(server.url + "/vendors/register")
    phone.locator("form button[type=submit]").last.click()
    phone.wait_for_load_state()
    assert_accessible(phone)
