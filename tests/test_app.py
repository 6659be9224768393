import pytest

from market import create_app
from market.config import ConfigError, normalise_database_url


def test_config_from_test_dict(app):
    assert app.testing
    assert app.config["SECRET_KEY"] == "test-secret"


def test_production_without_secret_key_refuses_to_start(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://market.example.kr")
    monkeypatch.setenv("MARKET_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"MARKET_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_production_without_public_address_refuses_to_start(tmp_path, monkeypatch):
    monkeypatch.setenv("MARKET_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        create_app({"MARKET_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_development_links_default_to_the_local_server(tmp_path, monkeypatch):
    monkeypatch.setenv("MARKET_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"


def test_production_cookies_are_secure(tmp_path, monkeypatch):
    monkeypatch.setenv("MARKET_INSTANCE_PATH", str(tmp_path))
    # Production refuses a key under 32 characters and a limiter of each
    # worker alone unless one worker is declared (tests/test_production.py).
    monkeypatch.setenv("SECRET_KEY", "from-the-environment-32-characters")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://market.example.kr")
    monkeypatch.setenv("WEB_WORKERS", "1")
    app = create_app({"MARKET_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SECRET_KEY"] == "from-the-environment-32-characters"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_development_key_is_generated_once(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("MARKET_INSTANCE_PATH", str(tmp_path))
    first = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["SECRET_KEY"]
    second = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["SECRET_KEY"]
    assert first == second and len(first) == 64
    assert (tmp_path / "secret_key").read_text() == first


def test_default_database_is_sqlite_in_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("MARKET_INSTANCE_PATH", str(tmp_path))
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'market.sqlite'}"


def test_environment_overrides_instance_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("MARKET_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.internal/market")
    monkeypatch.setenv("MAIL_SERVER", "smtp.example.kr")
    monkeypatch.setenv("MAIL_PORT", "587")
    monkeypatch.setenv("MAIL_USE_TLS", "true")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.internal/market"
    assert app.config["MAIL_SERVER"] == "smtp.example.kr"
    assert app.config["MAIL_PORT"] == 587
    assert app.config["MAIL_USE_TLS"] is True


def test_instance_config_file_is_read(tmp_path, monkeypatch):
    monkeypatch.setenv("MARKET_INSTANCE_PATH", str(tmp_path))
    (tmp_path / "config.py").write_text('CENTER_PHONE = "031-123-4567"\n')
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["CENTER_PHONE"] == "031-123-4567"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://a@b/c", "postgresql+psycopg://a@b/c"),
        ("postgresql+psycopg://a@b/c", "postgresql+psycopg://a@b/c"),
        ("sqlite:////tmp/x.sqlite", "sqlite:////tmp/x.sqlite"),
    ],
)
def test_database_url_normalised(given, expected):
    assert normalise_database_url(given) == expected


def test_healthz_does_not_touch_the_database(client, count_queries):
    with count_queries() as counter:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    assert counter.count == 0


def test_readyz_checks_the_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["database"] == "ok"


def test_readyz_reports_a_broken_database(tmp_path, monkeypatch):
    monkeypatch.setenv("MARKET_INSTANCE_PATH", str(tmp_path))
    missing_dir = tmp_path / "no" / "such" / "dir" / "x.sqlite"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{missing_dir}"})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["database"] == "error"


def test_security_headers(client):
    response = client.get("/account/login")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_templates_and_static_found(client):
    with client.get("/static/css/app.css") as response:
        assert response.status_code == 200
        assert b"--brand" in response.data
    assert "<html" in client.get("/account/login").get_data(as_text=True)


def test_unknown_page_is_friendly_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "페이지를 찾을 수 없습니다" in response.get_data(as_text=True)
