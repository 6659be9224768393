"""Logging in takes as long for an unknown email as for a known one with a
wrong password (issue 15): otherwise the time of the answer tells which
addresses have accounts, which the words of the answer do not.

A benchmark-style check, not a timed assertion: the hash method is made
costly for this test (scrypt at werkzeug's full cost, ~50 ms here) so the
hashing dominates a request, the tries of each kind alternate, and their
medians are compared with a generous factor. Before the fix an unknown email
answered without hashing anything: well under a tenth of the time."""

import statistics
import time

import pytest

from market.accounts.models import Role
from tests.helpers import login

TRIES = 7
COSTLY = "scrypt:16384:8:1"


@pytest.fixture
def app_config(app_config):
    app_config["PASSWORD_HASH_METHOD"] = COSTLY
    return app_config


def _seconds(client, email: str) -> float:
    start = time.perf_counter()
    response = login(client, email, password="not-the-password")
    took = time.perf_counter() - start
    assert response.status_code == 200  # refused, with the same words
    assert "이메일 또는 비밀번호가 맞지 않거나" in response.get_data(as_text=True)
    return took


def test_an_unknown_email_takes_as_long_as_a_wrong_password(client, make_user):
    known = make_user(Role.STAFF, email="known@example.kr")
    disabled = make_user(Role.STAFF, email="disabled@example.kr", active=False)
    assert known.password_hash.startswith(COSTLY)
    kinds = {"known": known.email, "unknown": "nobody@example.kr", "disabled": disabled.email}
    for email in kinds.values():  # warm up: first requests, the dummy hash
        _seconds(client, email)
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    for _ in range(TRIES):
        for kind, email in kinds.items():
            times[kind].append(_seconds(client, email))
    median = {kind: statistics.median(values) for kind, values in times.items()}
    for kind in ("unknown", "disabled"):
        ratio = median[kind] / median["known"]
        assert 0.5 <= ratio <= 2, f"{kind}: {ratio:.2f} × the known email's time ({median})"
