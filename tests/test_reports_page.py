"""The staff menu's one entry for the reports (/staff/reports)."""

from market.accounts.models import Role


def test_the_reports_page_links_every_report(client, make_user, login_as):
    login_as(make_user(Role.STAFF))
    page = client.get("/staff/reports").get_data(as_text=True)
    for address, name in (
        ("/staff/takings/report", "매출"),
        ("/staff/sales", "판로지원 실적"),
        ("/staff/invitations/report", "초대 성과"),
    ):
        assert f'href="{address}"' in page and name in page
    menu = client.get("/staff/").get_data(as_text=True)
    assert 'href="/staff/reports">보고서</a>' in menu
