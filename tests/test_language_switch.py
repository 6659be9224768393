"""The language switch needs no CSRF token, so public pages set no cookie
for a visitor who has not logged in; its `next` stays on this site."""

import pytest


def test_public_pages_set_no_cookie_for_visitors(client):
    for path in ("/", "/markets/past", "/vendors/"):
        response = client.get(path)
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers, path


def test_the_switch_works_with_csrf_protection_on(client):
    client.application.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/language", data={"lang": "en", "next": "/vendors/?page=2"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/vendors/?page=2"
    assert 'lang="en"' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    "target", ["//evil.example/", "/\\evil.example", "https://evil.example/", "evil", ""]
)
def test_next_never_leaves_the_site(client, target):
    response = client.post("/language", data={"lang": "ko", "next": target})
    assert response.headers["Location"] == "/"
