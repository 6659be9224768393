"""TRUSTED_PROXY_HOPS: behind that many reverse proxies the app believes their
X-Forwarded-* headers (Werkzeug's ProxyFix); with 0, the default, it believes
none, since anyone can send them to an app that is reached directly."""

import re

import pytest

from market import create_app
from market.config import ConfigError
from tests.helpers import PASSWORD

FORWARDED = {
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "market.example.kr",
    "X-Forwarded-Port": "443",
}


@pytest.fixture
def hops(request, app_config):
    """The app behind `request.param` trusted proxies (the test client plays
    the last one), with the login rate limit on to see whose address counts."""
    del app_config["SERVER_NAME"]  # the host comes from the request
    app_config.update(
        TRUSTED_PROXY_HOPS=request.param, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="2 per minute"
    )
    return request.param


@pytest.mark.parametrize("hops", [1], indirect=True)
def test_a_trusted_proxy_gives_the_public_scheme_and_host(hops, client):
    page = client.get("/", headers=FORWARDED).text
    assert 'href="https://market.example.kr/calendar.ics"' in page
    assert 'href="webcal://market.example.kr/calendar.ics"' in page


@pytest.mark.parametrize("hops", [0], indirect=True)
def test_without_trusted_proxies_forwarded_headers_are_ignored(hops, client):
    page = client.get("/", headers=FORWARDED).text
    assert 'href="http://localhost/calendar.ics"' in page
    assert "market.example.kr" not in page


@pytest.mark.parametrize(("hops", "other_visitor_status"), [(1, 200), (0, 429)], indirect=["hops"])
def test_the_login_limit_counts_each_visitor_behind_a_trusted_proxy(
    hops, other_visitor_status, client, staff
):
    """Behind a proxy every request comes from its address: unless the app
    trusts it, one visitor's wrong passwords lock everybody out."""
    for _ in range(2):
        client.post("/account/login", data={"email": staff.email}, headers=FORWARDED)
    blocked = client.post("/account/login", data={"email": staff.email}, headers=FORWARDED)
    assert blocked.status_code == 429
    other = {**FORWARDED, "X-Forwarded-For": "198.51.100.2"}
    response = client.post(
        "/account/login", data={"email": staff.email, "password": "wrong"}, headers=other
    )
    assert response.status_code == other_visitor_status


@pytest.mark.parametrize("hops", [1], indirect=True)
def test_forms_over_the_proxys_https_need_a_referer_from_the_public_host(hops, client, staff):
    """Flask-WTF's strict HTTPS check: what refused the RSVP answer (defect 2)
    when its page sent no Referer."""
    client.application.config["WTF_CSRF_ENABLED"] = True
    page = client.get("/account/login", headers=FORWARDED).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    form = {"email": staff.email, "password": PASSWORD, "csrf_token": token}
    missing = client.post("/account/login", data=form, headers=FORWARDED)
    assert missing.status_code == 400 and "양식의 유효 시간이 지났습니다" in missing.text
    elsewhere = {**FORWARDED, "Referer": "https://evil.example/account/login"}
    assert client.post("/account/login", data=form, headers=elsewhere).status_code == 400
    ours = {**FORWARDED, "Referer": "https://market.example.kr/account/login"}
    assert client.post("/account/login", data=form, headers=ours).status_code == 302


def test_hops_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MARKET_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("TRUSTED_PROXY_HOPS", "1")
    assert create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["TRUSTED_PROXY_HOPS"] == 1
    monkeypatch.setenv("TRUSTED_PROXY_HOPS", "-1")
    with pytest.raises(ConfigError, match="TRUSTED_PROXY_HOPS"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
