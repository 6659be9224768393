"""Whole public pages and invitation answer pages kept per data version
(market.core.pagecache, market.core.versions): served again without being
built, answered with 304 while unchanged, and never stale: every change to
what they show appears on the very next request, also when the change is
made by another app instance (another worker) and when the pages are kept
in Redis (shared by every worker and host)."""

from datetime import time, timedelta

import pytest
from sqlalchemy import update

from market import create_app
from market.booths import services as booths
from market.core import versions
from market.customers.models import Customer
from market.extensions import db
from market.invitations import sending
from market.markets import services as markets
from market.markets.models import Market, MarketStatus, Venue
from market.timeutil import SEOUL, utcnow
from market.vendors.models import Vendor
from tests.booths_factories import applicants, open_market
from tests.helpers import renders
from tests.redis_fixtures import redis_server, redis_url  # noqa: F401
from tests.test_customer_import import _csv_bytes
from tests.test_invitations import invitation_of, make_customer
from tests.write_guard import UNVERSIONED


@pytest.fixture
def assigned(app):
    """A market two weeks ahead whose booths are assigned to four enterprises."""
    market = open_market(weeks=2, booths=6)
    applicants(market, 4)
    booths.confirm(market.id, None)
    db.session.commit()
    assert market.status is MarketStatus.ASSIGNED
    return market


def _vendor_in_booth(market: Market, number: int) -> Vendor:
    from market.booths.models import Booth

    booth = db.session.scalar(
        db.select(Booth).where(Booth.market_id == market.id, Booth.number == number)
    )
    return db.session.get(Vendor, booth.vendor_id)


def test_a_public_page_is_kept_and_answers_304_while_unchanged(app, client, assigned):
    for url in ("/", f"/markets/{assigned.id}", "/markets/past"):
        first = client.get(url)
        assert first.status_code == 200
        assert first.headers["Cache-Control"] == "public, no-cache"
        assert "Cookie" in first.headers["Vary"] and first.headers["ETag"]
        with renders(app) as rendered:
            again = client.get(url)
        assert rendered == [] and again.data == first.data
        assert again.headers["ETag"] == first.headers["ETag"]
        unchanged = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
        assert unchanged.status_code == 304 and unchanged.data == b""
    etag = client.get("/").headers["ETag"]
    markets.change_status(assigned, MarketStatus.CANCELLED, reason="폭우 예보")
    db.session.commit()
    changed = client.get("/", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and "폭우 예보" in changed.text


def test_each_change_shows_on_the_next_request(app, client, assigned):
    schedule, page = "/", f"/markets/{assigned.id}"
    vendor = _vendor_in_booth(assigned, 1)
    assert vendor.name in client.get(page).text and "경기도청" in client.get(schedule).text

    assigned.start_time, assigned.end_time = time(11, 0), time(16, 0)  # the market
    db.session.commit()
    assert "11:00–16:00" in client.get(schedule).text
    assert "11:00–16:00" in client.get(page).text

    db.session.get(Venue, assigned.venue_id).name = "수원시청 광장"  # its venue
    db.session.commit()
    assert "수원시청 광장" in client.get(schedule).text
    assert "수원시청 광장" in client.get(page).text

    vendor.name = "새이름협동조합"  # an enterprise's name, through the ORM
    db.session.commit()
    assert "새이름협동조합" in client.get(page).text

    # ... and through a bulk UPDATE statement, which no flush sees
    db.session.execute(update(Vendor).where(Vendor.id == vendor.id).values(name="벌크협동조합"))
    db.session.commit()
    assert "벌크협동조합" in client.get(page).text

    # a booth and its assignment: assigned again from scratch, one booth fewer
    applicants(assigned, 1, start=10)
    assigned.booth_count = 4
    db.session.commit()
    booths.confirm(assigned.id, None, replace=True)
    db.session.commit()
    text = client.get(page).text
    assert "<dd>4</dd>" in text
    assert _vendor_in_booth(assigned, 1).name in text


def test_a_change_made_by_another_app_instance_shows_at_once(app, app_config, client, assigned):
    """Another gunicorn worker: its own app, its own kept pages; the data
    version in the database tells this one that its page is out of date."""
    page = f"/markets/{assigned.id}"
    vendor_id = _vendor_in_booth(assigned, 2).id
    assert client.get(page).status_code == 200
    other = create_app(app_config)
    with other.app_context():
        db.session.get(Vendor, vendor_id).name = "다른워커협동조합"
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    assert "다른워커협동조합" in client.get(page).text


def test_pages_kept_in_redis_are_shared_and_never_stale(app, app_config, redis_url):  # noqa: F811
    app_config["CACHE_REDIS_URL"] = redis_url
    first, second = create_app(app_config), create_app(app_config)
    assert first.config["CACHE_TYPE"] == "RedisCache"
    with first.app_context():
        market = open_market(weeks=2, booths=6)
        applicants(market, 4)
        booths.confirm(market.id, None)
        db.session.commit()
        page = f"/markets/{market.id}"
        built = first.test_client().get(page)
        vendor_id = _vendor_in_booth(market, 3).id
        db.session.remove()
        db.engine.dispose()
    with second.app_context(), renders(second) as rendered:
        served = second.test_client().get(page)
        assert rendered == [], "built by the first app, served from Redis by the second"
        assert served.data == built.data
        db.session.get(Vendor, vendor_id).name = "레디스협동조합"
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    with first.app_context():
        assert "레디스협동조합" in first.test_client().get(page).text
        db.session.remove()
        db.engine.dispose()


def test_logged_in_visitors_and_other_languages_get_their_own_page(
    client, staff, login_as, assigned
):
    anonymous = client.get("/")
    assert "Log in" in anonymous.text or "로그인" in anonymous.text
    login_as(staff)
    mine = client.get("/")
    assert "no-store" in mine.headers["Cache-Control"] and "ETag" not in mine.headers
    assert staff.name in mine.text
    client.post("/account/logout")
    assert staff.name not in client.get("/").text
    client.post("/language", data={"lang": "en", "next": "/"})
    english = client.get("/")
    assert (
        "Market schedule" in english.text and english.headers["ETag"] != anonymous.headers["ETag"]
    )
    client.post("/language", data={"lang": "ko", "next": "/"})
    assert client.get("/").data == anonymous.data


@pytest.fixture
def invited(app, assigned):
    hana = make_customer("hana@example.com", "김하나")
    sending.invite(assigned, [hana.id], None, utcnow())
    db.session.commit()
    return invitation_of(hana)


def test_the_answer_page_is_kept_per_address_and_an_answer_shows_at_once(app, app_config, invited):
    """Over HTTPS with CSRF on: a kept page carries each visitor's own CSRF
    token, and the POST of an answer changes the kept page at once."""
    app.config["WTF_CSRF_ENABLED"] = True
    url = f"/i/{invited.token}"
    https = {"base_url": "https://market.test"}
    first, second = app.test_client(), app.test_client()
    built = first.get(url, **https)
    assert built.headers["Cache-Control"] == "private, no-store"
    with renders(app) as rendered:
        kept = second.get(url, **https)
    assert rendered == [] and "김하나" in kept.text
    assert kept.headers["Cache-Control"] == "private, no-store"

    def token_in(page):
        return page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]

    assert token_in(kept) != token_in(built), "each visitor's own token"
    answered = second.post(
        url,
        data={"answer": "accept", "csrf_token": token_in(kept)},
        headers={"Referer": f"https://market.test{url}"},
        **https,
    )
    assert answered.status_code == 303
    thanks = second.get(url, **https)
    assert "We look forward" in thanks.text or "기다리겠습니다" in thanks.text
    after = second.get(url, **https)
    assert "badge-ok" in after.text and "기다리겠습니다" not in after.text
    assert "badge-ok" in first.get(url, **https).text, "the other visitor sees it too"


def test_the_kept_answer_page_ends_with_the_market(app, client, clock, invited, assigned):
    market = db.session.get(Market, assigned.id)
    clock.set(markets.starts_at(market) - timedelta(hours=1))
    url = f"/i/{invited.token}"
    assert 'name="answer" value="accept"' in client.get(url).text
    assert 'name="answer" value="accept"' in client.get(url).text  # kept
    clock.set(markets.ends_at(market) + timedelta(minutes=1))
    closed = client.get(url).text
    assert 'name="answer" value="accept"' not in closed
    assert "visitor-pass" in closed, "the pass stays until the end of the day"
    clock.set(
        markets.ends_at(market).astimezone(SEOUL).replace(hour=23, minute=59) + timedelta(minutes=2)
    )
    assert "visitor-pass" not in client.get(url).text


def test_a_customers_change_shows_on_their_answer_page(app, client, invited):
    url = f"/i/{invited.token}"
    assert "김하나" in client.get(url).text
    db.session.get(Customer, invited.customer_id).name = "김두리"
    db.session.commit()
    assert "김두리" in client.get(url).text


def test_a_kept_page_costs_one_version_read_and_no_other_statement(
    app, client, assigned, count_queries, monkeypatch
):
    reads = []
    real = versions.current
    monkeypatch.setattr(versions, "current", lambda scope: reads.append(scope) or real(scope))
    for url in ("/", f"/markets/{assigned.id}", "/calendar.ics"):
        client.get(url)
        reads.clear()
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        assert counter.count == 0 and len(reads) == 1, (url, counter.statements)


def test_flask_cache_clear_forgets_pages_after_a_change_by_hand(app, client, runner, assigned):
    """A change made by hand in the database moves no version; the command
    makes every worker build its pages again."""
    page = f"/markets/{assigned.id}"
    vendor_id = _vendor_in_booth(assigned, 1).id
    assert client.get(page).status_code == 200
    by_hand = {UNVERSIONED: "a change made by hand in psql: what the command is for"}
    with db.engine.begin() as connection:
        connection.execution_options(**by_hand).exec_driver_sql(
            f"UPDATE vendors SET name = '손으로바꾼이름' WHERE id = {int(vendor_id)}"
        )
    assert "손으로바꾼이름" not in client.get(page).text, "kept: nothing told the cache"
    result = runner.invoke(args=["cache", "clear"])
    assert result.exit_code == 0, result.output
    assert "손으로바꾼이름" in client.get(page).text


def test_an_order_import_that_renames_a_customer_shows_on_their_answer_page(
    app, client, runner, invited, tmp_path
):
    """The import writes customers on connections of its own (no session
    events); it moves the version itself."""
    url = f"/i/{invited.token}"
    assert "김하나" in client.get(url).text
    assert "김하나" in client.get(url).text  # kept
    row = ["B-1", "2026-12-01", "김두리", "hana@example.com", "010-1234-5678"]
    row += ["모르는상점", "비누", "15000", "N", ""]
    path = tmp_path / "orders.csv"
    path.write_bytes(_csv_bytes([row]))
    result = runner.invoke(args=["customers", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "김두리" in client.get(url).text
