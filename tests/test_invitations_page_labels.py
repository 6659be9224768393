"""The staff invitations page translates its labels once per request, not
once per invited row (issue 20: a campaign of 10,000 invitations lists 50
of them a page; each row printed its answer and mail state as lazy
strings, each a catalogue lookup)."""

from contextlib import contextmanager
from datetime import timedelta

import pytest

from market.extensions import ParticleDomain, db
from market.timeutil import utcnow
from tests.test_invitations import make_customer, make_order, make_vendor
from tests.test_invitations_pages import invite_now, page_url, upcoming_market


@pytest.fixture
def market(app):
    return upcoming_market()


def _invite(market, number: int) -> None:
    vendor = make_vendor(f"기업{number}", "crafts", market)
    people = [make_customer(f"label{number}-{n}@example.com", f"고객{n}") for n in range(number)]
    for n, person in enumerate(people):
        make_order(person, 10_000 * (n + 1), utcnow() - timedelta(days=n + 1), vendor)
    db.session.commit()
    invite_now(market, people)


@contextmanager
def counting_lookups(monkeypatch):
    """Counts the catalogue's lookups (the real catalogue still answers)."""
    lookups = []
    real = ParticleDomain.gettext

    def counted(self, string, **variables):
        lookups.append(string)
        return real(self, string, **variables)

    monkeypatch.setattr(ParticleDomain, "gettext", counted)
    try:
        yield lookups
    finally:
        monkeypatch.setattr(ParticleDomain, "gettext", real)


def test_the_invited_list_does_not_look_up_labels_per_row(
    client, staff, login_as, market, monkeypatch
):
    login_as(staff)
    _invite(market, 2)
    url = page_url(market)
    client.get(url)
    with counting_lookups(monkeypatch) as few:
        small = client.get(url)
    _invite(market, 40)
    with counting_lookups(monkeypatch) as many:
        large = client.get(url)
    assert small.status_code == large.status_code == 200
    # the labels are on the page: 42 rows of "no answer yet" and their mail's state
    assert large.text.count("아직 답 없음") >= 42
    assert len(many) == len(few), many
