"""market.core.signed_in_pages' own rules: what it refuses to keep or
serve, and the bounded store. The pages' freshness is in
test_staff_page_cache.py."""

from flask import template_rendered
from sqlalchemy import delete

from market.core import versions
from market.core.pagecache import Page, Recent
from market.core.signed_in_pages import STORE
from market.extensions import db


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
