"""The venue page says how many customers a new name or address mails, by
the update mails' own rule, and saves such a change only after staff have
ticked that they know (a second step, no JavaScript). The town fixture: a
venue whose upcoming markets have invited Hana (twice), Dul (declined),
Quiet (unsubscribed) and Listed (suppression list only)."""

from market.extensions import db
from market.markets.models import Venue
from tests.test_venue_changes import (  # noqa: F401 (the fixture)
    NEW_ADDRESS,
    NEW_NAME,
    _queued_updates,
    _sequences,
    town,
)

MAILS_ONE = "초대한 고객 1명에게 변경 안내 메일이 갑니다"
ASK = "바뀐 이름이나 주소를 저장하면 고객 1명에게 변경 안내 메일이 갑니다."


def _form(venue, **changes) -> dict:
    form = {
        "name": venue.name,
        "address": venue.address,
        "booth_spots": str(venue.booth_spots),
        "map_url": venue.map_url or "",
    }
    form.update(changes)
    return form


def _venue(venue) -> Venue:
    db.session.expire_all()
    return db.session.get(Venue, venue.id)


def test_the_page_counts_the_customers_an_update_would_mail(town, client, login_as, staff):  # noqa: F811
    venue, *_ = town
    login_as(staff)
    page = client.get(f"/staff/venues/{venue.id}/edit").get_data(as_text=True)
    assert "이 장소에서 열릴 장터가 2회 있습니다" in page
    # Hana once, though invited to two markets; not the one who declined,
    # the unsubscribed one, nor the address on the suppression list.
    assert MAILS_ONE in page
    assert 'name="confirm_mail"' not in page, "nothing to confirm before a change"


def test_a_new_name_is_saved_only_once_confirmed(town, client, login_as, staff):  # noqa: F811
    venue, markets, _people, _vendor, before = town
    login_as(staff)
    url = f"/staff/venues/{venue.id}/edit"
    asked = client.post(url, data=_form(venue, name=NEW_NAME, address=NEW_ADDRESS))
    assert asked.status_code == 200
    page = asked.get_data(as_text=True)
    assert ASK in page and 'name="confirm_mail"' in page
    assert f'value="{NEW_NAME}"' in page, "the typed values are kept for the second step"
    assert _venue(venue).name == "경기도청", "nothing saved yet"
    assert _sequences(markets) == before and _queued_updates() == []

    saved = client.post(
        url, data=_form(venue, name=NEW_NAME, address=NEW_ADDRESS, confirm_mail="yes")
    )
    assert saved.status_code == 302
    assert _venue(venue).name == NEW_NAME
    assert [row.to_address for row in _queued_updates()] == ["hana@example.com"] * 2


def test_a_change_that_mails_no_one_needs_no_confirmation(town, client, login_as, staff):  # noqa: F811
    venue, markets, _people, _vendor, before = town
    login_as(staff)
    url = f"/staff/venues/{venue.id}/edit"
    spots = client.post(url, data=_form(venue, booth_spots="12", map_url="https://naver.me/x"))
    assert spots.status_code == 302, "spots and map link change no one's calendar"
    assert _venue(venue).booth_spots == 12
    assert _sequences(markets) == before and _queued_updates() == []
