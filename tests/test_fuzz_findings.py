"""What tests/test_hostile_input.py found: each a 500 that an ordinary
request could cause, pinned here with the request that caused it."""

import pytest

from tests.booths_factories import open_market
from tests.takings_factories import market_on, vendor_at
from tests.vendors_factories import today


def test_a_blank_looking_attendance_value_is_refused_not_a_500(client, staff, login_as):
    """Optional() on the select let " " past the choice check, and
    Attendance(" ") raised."""
    market = market_on(today())
    vendor_at(market)
    login_as(staff)
    response = client.post(
        f"/staff/markets/{market.id}/attendance",
        data={"number": "1", "value": " "},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "부스와 출석 또는 불참을 고르세요" in response.get_data(as_text=True)


def test_an_emptied_ranking_option_is_explained_not_a_500(client, staff, login_as):
    """A required option left empty: its message is a lazy string, which the
    flash message's join() refused."""
    market = open_market()
    login_as(staff)
    response = client.post(
        f"/staff/markets/{market.id}/invitations/ranking",
        data={"top_n": "", "window_days": "365", "min_orders": "1", "skip_weeks": "0"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "순위를 계산하지 않았습니다" in response.get_data(as_text=True)


@pytest.mark.parametrize("preview", ["2147483648", "9223372036854775808", "-1", "x"])
def test_a_preview_id_no_customer_can_have_shows_the_first_customer(
    client, staff, login_as, preview
):
    market = open_market()
    login_as(staff)
    response = client.get(f"/staff/markets/{market.id}/invitations?preview={preview}")
    assert response.status_code == 200


@pytest.mark.parametrize("action", ["pin", "add", "unpin"])
@pytest.mark.parametrize("number", ["2147483648", "9223372036854775808"])
def test_an_application_id_no_row_can_have_is_refused_with_a_message(
    client, staff, login_as, action, number
):
    market = open_market()
    login_as(staff)
    response = client.post(
        f"/staff/markets/{market.id}/booths/{action}",
        data={"application_id": number, "number": "1"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "이 장터의 참가 신청을 고르세요" in response.get_data(as_text=True)


@pytest.mark.parametrize("number", ["2147483648", "9223372036854775808"])
def test_a_customer_id_no_row_can_have_is_a_400_when_inviting(client, staff, login_as, number):
    market = open_market()
    login_as(staff)
    response = client.post(
        f"/staff/markets/{market.id}/invitations/send", data={"customer_id": number}
    )
    assert response.status_code == 400
