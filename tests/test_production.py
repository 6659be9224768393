"""MARKET_ENV=production refuses to start unsafe, refuses the demo and bench
seeds, pins browsers to https; pages for logged-in users and every download
are never cached, in every environment."""

from datetime import date

import pytest

from benchmarks.app import register_bench_commands
from market import create_app
from market.accounts.models import User
from market.config import ConfigError
from market.extensions import db
from market.outbox import mime
from market.outbox import services as outbox
from market.takings import exports, reports
from tests.servers import free_port
from tests.test_takings_exports import PERIOD, entries  # noqa: F401

GOOD_KEY = "k" * 32
HSTS = "max-age=31536000; includeSubDomains"
SETTINGS = (
    "SECRET_KEY",
    "PUBLIC_BASE_URL",
    "RATELIMIT_STORAGE_URI",
    "WEB_WORKERS",
    "TRUSTED_PROXY_HOPS",
    "DATABASE_URL",
)


@pytest.fixture
def environ(tmp_path, monkeypatch):
    """No setting left in the shell decides these tests."""
    monkeypatch.setenv("MARKET_INSTANCE_PATH", str(tmp_path))
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def production(**changes) -> dict:
    """A production configuration that starts; each test breaks one setting."""
    return {
        "MARKET_ENV": "production",
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "SECRET_KEY": GOOD_KEY,
        "PUBLIC_BASE_URL": "https://market.example.kr",
        "WEB_WORKERS": 1,
        **changes,
    }


def test_a_safe_production_configuration_starts(environ):
    app = create_app(production())
    assert app.config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize("key", ["from-the-environment", "k" * 31])
def test_production_refuses_a_short_secret_key(environ, key):
    with pytest.raises(ConfigError, match=r"SECRET_KEY is .* at least 32") as refused:
        create_app(production(SECRET_KEY=key))
    assert key not in str(refused.value), "the message never prints the key itself"


@pytest.mark.parametrize("url", ["http://market.example.kr", "http://127.0.0.1:5000"])
def test_production_refuses_a_public_address_without_https(environ, url):
    with pytest.raises(ConfigError, match=r"PUBLIC_BASE_URL=.* is not https"):
        create_app(production(PUBLIC_BASE_URL=url))


@pytest.mark.parametrize("categories", [(), ("vendor-status",)])
def test_production_refuses_advertising_categories_without_invitations(environ, categories):
    """Emptied, invitations would go out at night, against the advertising law."""
    with pytest.raises(ConfigError, match=r"ADVERTISING_CATEGORIES.*정보통신망법"):
        create_app(production(ADVERTISING_CATEGORIES=categories))


def test_development_keeps_allowing_any_hour_for_benchmarks(environ):
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "ADVERTISING_CATEGORIES": ()})
    assert app.config["ADVERTISING_CATEGORIES"] == ()


@pytest.mark.parametrize("workers", [None, 2, 4])
def test_production_refuses_a_limiter_store_of_each_worker_alone(environ, workers):
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI='memory://'") as refused:
        create_app(production(WEB_WORKERS=workers))
    assert "redis://" in str(refused.value) and "WEB_WORKERS=1" in str(refused.value)


@pytest.mark.parametrize("uri", ["redis://127.0.0.1:6379/0", "rediss://redis.internal:6380/1"])
def test_production_takes_a_shared_redis_store(environ, uri):
    app = create_app(production(WEB_WORKERS=None, RATELIMIT_STORAGE_URI=uri))
    assert app.config["RATELIMIT_STORAGE_URI"] == uri


def test_one_worker_is_declared_in_the_environment(environ):
    config = production()
    del config["WEB_WORKERS"]
    with pytest.raises(ConfigError, match="WEB_WORKERS=1"):
        create_app(config)
    environ.setenv("WEB_WORKERS", "1")
    assert create_app(config).config["WEB_WORKERS"] == 1
    environ.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0")
    environ.setenv("WEB_WORKERS", "3")
    assert create_app(config).config["WEB_WORKERS"] == 3


# --- the seeds -----------------------------------------------------------------


@pytest.fixture
def in_production(app_config):
    app_config.update(
        MARKET_ENV="production",
        SECRET_KEY=GOOD_KEY,
        PUBLIC_BASE_URL="https://market.example.kr",
        WEB_WORKERS=1,
    )


def test_seed_demo_refuses_to_run_in_production(in_production, runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "seed-demo does not run with MARKET_ENV=production" in result.output
    assert db.session.query(User).count() == 0


def test_seed_bench_refuses_to_run_in_production(in_production, app):
    register_bench_commands(app)
    result = app.test_cli_runner().invoke(args=["seed-bench", "--scale", "0.001"])
    assert result.exit_code != 0
    assert "seed-bench does not run with MARKET_ENV=production" in result.output
    assert db.session.query(User).count() == 0


# --- headers -------------------------------------------------------------------


def test_production_pins_browsers_to_https(in_production, client):
    for url in ("/", "/account/login", "/healthz", "/no-such-page", "/static/css/app.css"):
        with client.get(url) as response:
            assert response.headers["Strict-Transport-Security"] == HSTS, url


def test_development_pins_nothing(client):
    """http://127.0.0.1:5000 must keep opening in the developer's browser."""
    for url in ("/", "/account/login"):
        assert "Strict-Transport-Security" not in client.get(url).headers


def test_anonymous_public_pages_stay_cacheable(client):
    for url in ("/", "/account/login", "/calendar.ics"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" not in response.headers.get("Cache-Control", ""), url


def test_pages_for_a_logged_in_user_are_not_stored(client, login_as, staff, vendor_user):
    login_as(staff)
    for url in ("/", "/staff/outbox/", "/account/password"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response.headers["Cache-Control"], url
    # Static files are the same for everybody: cached as before.
    with client.get("/static/css/app.css") as response:
        assert "no-store" not in response.headers.get("Cache-Control", "")
    client.post("/account/logout")
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")
    login_as(vendor_user)
    assert "no-store" in client.get("/").headers["Cache-Control"]


def test_every_staff_export_is_not_stored(client, login_as, staff, entries):  # noqa: F811
    login_as(staff)
    report = reports.build_report(date(2025, 1, 1), date(2025, 12, 31))  # PERIOD
    keys = [table.key for table in exports.report_tables(report)]
    row = outbox.enqueue(mime.build_message("guest@example.kr", "안내", "본문", html="<p>본문</p>"))
    db.session.commit()
    urls = [f"/staff/takings/report.csv?{PERIOD}&table={key}" for key in [*keys, "entries"]]
    urls += [
        f"/staff/takings/report.xlsx?{PERIOD}",
        f"/staff/outbox/{row.id}.eml",
        f"/staff/outbox/{row.id}/body.html",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response.headers["Cache-Control"], url


# --- forwarded addresses -----------------------------------------------------------

HOSTILE_FORWARDS = [
    "not-an-address",
    "",
    ",,,,",
    "999.999.999.999",
    "[::1]:80, <script>",
    "203.0.113.7, " * 5000 + "203.0.113.8",
    "x" * 100_000,
    "\t 203.0.113.7 ;; \x7f",
]


@pytest.fixture
def hops(request, app_config):
    """The app behind `request.param` trusted proxies, the login limit on."""
    del app_config["SERVER_NAME"]  # the host comes from the request
    app_config.update(
        TRUSTED_PROXY_HOPS=request.param, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute"
    )
    return request.param


@pytest.mark.parametrize("hops", [0, 1, 2], indirect=True)
def test_hostile_forwarded_headers_never_break_a_page(hops, client):
    for forwarded in HOSTILE_FORWARDS:
        headers = {
            "X-Forwarded-For": forwarded,
            "X-Forwarded-Proto": forwarded[:50],
            "X-Forwarded-Host": forwarded[:50],
            "X-Forwarded-Port": forwarded[:50],
        }
        for _ in range(4):  # past the limit too
            response = client.post(
                "/account/login", data={"email": "x@example.kr"}, headers=headers
            )
            assert response.status_code in (200, 400, 429), (hops, forwarded[:40])
        assert client.get("/", headers=headers).status_code in (200, 400), (hops, forwarded[:40])


@pytest.fixture
def redis_gone(app_config):
    """A Redis address nothing answers on, the login limit on."""
    app_config.update(
        RATELIMIT_ENABLED=True,
        LOGIN_RATE_LIMIT="2 per minute",
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0",
    )


def test_logins_go_on_and_stay_limited_while_redis_is_unreachable(redis_gone, client):
    """Each worker counts on its own until Redis is back: no 500 for every
    login, and no unlimited guessing either."""
    statuses = [
        client.post("/account/login", data={"email": "x@example.kr", "password": "x"}).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
