"""The printable market-day sheet (issue 17): staff only, from the booth
screen, with the map, who to call at each booth, a box to tick and a QR code
holding the absolute address of this market's vendor takings entry."""

import re

import pytest
import segno

from market.booths import services as booth_services
from market.extensions import db
from tests.booths_factories import applicants, open_market
from tests.markets_factories import make_venue


@pytest.fixture
def market(app, staff):
    market = open_market(booths=10, venue=make_venue("경기도청", 12))
    made = applicants(market, 10)
    made[0].note = "전기 콘센트 필요"
    db.session.commit()
    booth_services.confirm(market.id, staff)
    db.session.commit()
    return market


def test_the_sheet_has_map_table_ticks_and_one_qr_per_booth(staff_client, market, app):
    page = staff_client.get(f"/staff/markets/{market.id}/booths/sheet").get_data(as_text=True)
    assert "장터 당일 출력물" in page and "css/sheet.css" in page
    assert 'aria-label="부스 배치도: 부스 10개 중 10개 배정' in page  # the map
    for heading in (
        "부스",
        "참여기업",
        "담당자",
        "전화번호",
        "판매 품목",
        "메모",
        "출석",
        "매출 입력",
    ):
        assert f">{heading}</th>" in page
    assert page.count('class="tick-box"') == 10
    assert page.count('class="qr-code"') == 10
    assert "전기 콘센트 필요" in page and "010-1234-5678" in page and "박담당" in page
    assert "style=" not in page  # the CSP allows no inline style
    assert "js/print.js" in page and "<script>" not in page  # the 인쇄 button, no inline script
    url = f"http://market.test/vendor/takings/{market.id}"
    assert url in page
    svg = re.search(
        r'<svg aria-hidden="true" focusable="false"[^>]*class="qr-code".*?</svg>', page, re.S
    )
    assert svg is not None
    expected = segno.make(url, error="m").svg_inline(
        border=2, omitsize=True, svgclass="qr-code", lineclass=None
    )
    assert expected.split("<path", 1)[1] in page  # the code holds exactly that address


def test_the_sheet_uses_public_base_url_for_the_qr(staff_client, market, app):
    app.config["PUBLIC_BASE_URL"] = "https://market.example.kr"
    page = staff_client.get(f"/staff/markets/{market.id}/booths/sheet").get_data(as_text=True)
    assert f"https://market.example.kr/vendor/takings/{market.id}" in page


def test_the_booth_screen_links_to_the_sheet(staff_client, market):
    page = staff_client.get(f"/staff/markets/{market.id}/booths").get_data(as_text=True)
    assert f'href="/staff/markets/{market.id}/booths/sheet"' in page


def test_no_sheet_before_the_booths_are_confirmed(staff_client, app):
    market = open_market(booths=4, venue=make_venue("용인시청", 6))
    response = staff_client.get(f"/staff/markets/{market.id}/booths/sheet")
    assert response.status_code == 302
    assert "부스 배정을 확정한 뒤에" in staff_client.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_the_sheet_is_staff_only_and_unknown_markets_are_404(
    client, login_as, vendor_user, staff, market
):
    login_as(vendor_user)
    assert client.get(f"/staff/markets/{market.id}/booths/sheet").status_code == 403
    login_as(staff)
    assert client.get(f"/staff/markets/{2**31 + 1}/booths/sheet").status_code == 404


def test_the_sheet_queries_are_bounded(staff_client, market, count_queries):
    url = f"/staff/markets/{market.id}/booths/sheet"
    staff_client.get(url)
    with count_queries() as ten:
        staff_client.get(url)
    smaller = open_market(booths=5, venue=make_venue("수원시청", 8))
    applicants(smaller, 5, start=20)
    booth_services.confirm(smaller.id, None)
    db.session.commit()
    staff_client.get(f"/staff/markets/{smaller.id}/booths/sheet")
    with count_queries() as five:
        staff_client.get(f"/staff/markets/{smaller.id}/booths/sheet")
    assert len(five.statements) == len(ten.statements)
