"""Kept public pages are keyed by the release (market.release): after a deploy
with new templates, a Redis the old workers filled serves none of their
pages to the new ones, and a browser's ETag from before the deploy gets the
new page, not a 304."""

import pytest

from market import config as market_config
from market import create_app
from market.booths import services as booths
from market.extensions import db
from market.release import code_release, release_files
from tests.booths_factories import applicants, open_market
from tests.redis_fixtures import redis_server, redis_url  # noqa: F401
from tests.test_page_cache import renders


@pytest.fixture
def market_page(app):
    market = open_market(weeks=2, booths=6)
    applicants(market, 2)
    booths.confirm(market.id, None)
    db.session.commit()
    return f"/markets/{market.id}"


def _get(app, page: str, **headers):
    with app.app_context(), renders(app) as rendered:
        response = app.test_client().get(page, headers=headers)
        db.session.remove()
        db.engine.dispose()
    return response, rendered


def test_a_new_release_does_not_serve_the_old_releases_pages_from_redis(
    app,
    app_config,
    market_page,
    redis_url,  # noqa: F811
):
    app_config["CACHE_REDIS_URL"] = redis_url
    old = create_app({**app_config, "RELEASE_ID": "release-test-old"})
    new = create_app({**app_config, "RELEASE_ID": "release-test-new"})
    old_again = create_app({**app_config, "RELEASE_ID": "release-test-old"})
    assert old.config["CACHE_TYPE"] == "RedisCache"

    built, rendered = _get(old, market_page)
    assert built.status_code == 200 and rendered, "built by the old release"
    served, rendered = _get(old_again, market_page)
    assert rendered == [], "the same release shares the page through Redis"
    assert served.data == built.data and served.headers["ETag"] == built.headers["ETag"]

    fresh, rendered = _get(new, market_page, **{"If-None-Match": built.headers["ETag"]})
    assert fresh.status_code == 200, "the old release's ETag is not the new release's page"
    assert rendered, "the new release builds its own page with its own templates"
    assert fresh.headers["ETag"] != built.headers["ETag"]


def test_without_a_release_id_the_installed_files_name_it(app, app_config):
    assert app.config["RELEASE_ID"] == code_release()
    names = {name for name, _path in release_files()}
    assert "market/core/pagecache.py" in names
    assert "templates/public/market.html" in names
    assert "market/translations/ko/LC_MESSAGES/messages.mo" in names
    assert not any("__pycache__" in name for name in names)
    assert create_app({**app_config, "RELEASE_ID": "abc123"}).config["RELEASE_ID"] == "abc123"


def test_the_environment_names_the_release_over_the_config_file():
    config = {"RELEASE_ID": "from-the-file"}
    market_config.load_environment(config, {"MARKET_RELEASE_ID": "9f3c2e1"})
    assert config["RELEASE_ID"] == "9f3c2e1"
    market_config.load_environment(config, {})
    assert config["RELEASE_ID"] == "9f3c2e1"
