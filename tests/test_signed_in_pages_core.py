"""market.core.signed_in_pages' own rules: what it refuses to keep or
serve, and the bounded store. The pages' freshness is in
test_staff_page_cache.py."""

from flask import template_rendered
from flask_login import current_user, login_user
from sqlalchemy import delete, text

from market.core import versions
from market.core.pagecache import Page, Recent
from market.core.signed_in_pages import STORE, _read_again_after_the_version
from market.customers import jobs
from market.extensions import db
from market.outbox import delivery
from tests.vendors_factories import make_vendor, make_vendor_login


def _renders(app, client, path) -> int:
    seen = []

    def note(_app, template, context, **extra):
        seen.append(template.name)

    template_rendered.connect(note, app)
    try:
        assert client.get(path).status_code == 200
    finally:
        template_rendered.disconnect(note, app)
    return len(seen)


def _settled(app, client, path) -> None:
    """The login's welcome is shown (never kept), then the page is built and kept."""
    client.get(path)
    client.get(path)


def test_a_kept_staff_page_is_served_without_rendering(app, staff_client):
    _settled(app, staff_client, "/staff/")
    assert _renders(app, staff_client, "/staff/") == 0


def test_nothing_is_kept_without_a_version_row(app, staff_client):
    """A database whose versions were never moved (seeded through SQL) has
    no key that is safe: every request builds the page."""
    _settled(app, staff_client, "/staff/")
    with app.app_context():
        db.session.execute(delete(versions.DataVersion))  # moves nothing: not watched
        db.session.commit()
        assert versions.current_many((versions.STAFF,)) is None
    assert _renders(app, staff_client, "/staff/") > 0
    assert _renders(app, staff_client, "/staff/") > 0


def test_staff_page_cache_off_builds_every_time(app, staff_client):
    app.config["STAFF_PAGE_CACHE"] = False
    _settled(app, staff_client, "/staff/")
    assert _renders(app, staff_client, "/staff/") > 0
    assert len(app.extensions[STORE].items) == 0


def test_current_many_reads_several_scopes_in_one_go(app):
    with app.app_context():
        with db.engine.begin() as connection:
            versions.changed(connection, "markets", "invitations")
        both = versions.current_many((versions.STAFF, "public"))
        assert both == (versions.current(versions.STAFF), versions.current("public"))
        assert versions.current_many((versions.STAFF, "no_such_scope")) is None


def test_every_write_to_a_shown_table_moves_the_staff_version(app):
    with app.app_context():
        shown = versions.scopes_of(["markets", "takings", "orders", "audit_entries"])
        assert shown >= {versions.STAFF}
        assert versions.STAFF not in versions.scopes_of(versions.NOT_SHOWN_ON_STAFF_PAGES)


def _page(size: int) -> Page:
    return Page(b"x" * size, "text/html", (), None, False)


def test_the_store_forgets_the_oldest_pages_beyond_its_bytes():
    store = Recent(100, max_bytes=1_000)
    for key in "abcd":
        store.put(key, _page(400))
    assert list(store.items) == ["c", "d"]
    assert store.bytes == 800
    store.put("c", _page(100))  # replaced, not counted twice
    assert store.bytes == 500


def test_the_store_keeps_one_page_larger_than_its_bytes():
    store = Recent(100, max_bytes=1_000)
    store.put("big", _page(5_000))
    assert list(store.items) == ["big"]
    store.put("next", _page(10))
    assert list(store.items) == ["next"]


def test_an_idle_worker_pass_moves_no_version(app, staff):
    """The worker polls for mail and imports every few seconds: a poll that
    finds nothing writes nothing, or no staff page would stay kept while a
    worker runs."""
    with app.app_context():
        before = versions.current(versions.STAFF)
        assert before is not None  # the staff member's row moved it
        assert delivery.deliver_due().sent == 0
        assert jobs.claim_next("idle-worker") is None
        db.session.remove()
        assert versions.current(versions.STAFF) == before


def test_a_kept_page_ends_after_its_maximum_age(app, clock, staff_client):
    """A change no version saw (a hand edit) shows within STAFF_PAGE_MAX_AGE."""
    path = "/staff/takings/report"  # no clock rule of its own
    _settled(app, staff_client, path)
    assert _renders(app, staff_client, path) == 0
    clock.advance(seconds=app.config["STAFF_PAGE_MAX_AGE"] - 1)
    assert _renders(app, staff_client, path) == 0
    clock.advance(seconds=1)
    assert _renders(app, staff_client, path) > 0


def test_a_page_built_after_the_version_reads_the_enterprise_again(app):
    """The login loader reads the user's enterprise before the version is
    read; a page built under the newer version must not show it older."""
    vendor = make_vendor("옛이름 협동조합")
    user = make_vendor_login(vendor)
    db.session.commit()
    with app.test_request_context("/vendor/"):
        login_user(user)
        assert current_user.vendor.name == "옛이름 협동조합"  # loaded, as the loader does
        with db.engine.begin() as other:  # another request commits a rename
            rename = text("UPDATE vendors SET name = '새이름 협동조합' WHERE id = :id")
            other.execute(rename, {"id": vendor.id})
            versions.changed(other, "vendors")
        _read_again_after_the_version()
        assert current_user.vendor.name == "새이름 협동조합"
