"""The role matrix over every route of the app.

Every endpoint must be listed in ACCESS, so a new page cannot ship without
deciding who may use it; each is then requested as anonymous, as a vendor and
as staff. VENDOR pages act for the signed-in user's own enterprise, so staff
get 403 there (they have their own pages for every enterprise). Ownership
between two vendors is tested in each area's own tests."""

import pytest
from werkzeug.routing import IntegerConverter, Rule

from market import create_app
from market.accounts.models import Role

PUBLIC, LOGGED_IN, STAFF, VENDOR = "public", "logged-in", "staff", "vendor"

ACCESS = {
    "static": PUBLIC,
    "home.index": PUBLIC,
    "public.schedule": PUBLIC,
    "public.past": PUBLIC,
    "public.market": PUBLIC,
    "public.market_ics": PUBLIC,
    "public.calendar_feed": PUBLIC,
    "markets.index": STAFF,
    "markets.new": STAFF,
    "markets.show": STAFF,
    "markets.edit": STAFF,
    "markets.change_status": STAFF,
    "markets.season": STAFF,
    "markets.open_many": STAFF,
    "market_planning.delete": STAFF,
    "market_planning.copy": STAFF,
    "booths.index": STAFF,
    "booths.confirm": STAFF,
    "booths.move": STAFF,
    "booths.swap": STAFF,
    "booths.pin": STAFF,
    "booths.unpin": STAFF,
    "booths.unassign": STAFF,
    "booths.add": STAFF,
    "booths.attendance": STAFF,
    "booths.all_present": STAFF,
    "booths.market_sheet": STAFF,
    "venues.index": STAFF,
    "venues.edit": STAFF,
    "venues.delete": STAFF,
    "customers.imports": STAFF,
    "customers.show_import": STAFF,
    "customers.run_import": STAFF,
    "customer_pages.index": STAFF,
    "customer_pages.show": STAFF,
    "customer_pages.export": STAFF,
    "invitations.index": STAFF,
    "invitations.preview": STAFF,
    "invitations.send": STAFF,
    "invitations.recalculate": STAFF,
    "invitations.export": STAFF,
    "invitations.rsvp": PUBLIC,
    "invitations.unsubscribe": PUBLIC,
    "checkin.visitor": STAFF,
    "home.reports": STAFF,
    "checkin.index": STAFF,
    "checkin.by_code": STAFF,
    "checkin.find": STAFF,
    "invitation_reports.market_report": STAFF,
    "invitation_reports.market_export": STAFF,
    "invitation_reports.season_report": STAFF,
    "invitation_reports.season_export": STAFF,
    "core.healthz": PUBLIC,
    "core.readyz": PUBLIC,
    "core.set_language": PUBLIC,
    "accounts.login": PUBLIC,
    "accounts.logout": PUBLIC,
    "accounts.change_password": LOGGED_IN,
    "accounts.forgot_password": PUBLIC,
    "accounts.forgot_password_sent": PUBLIC,
    "accounts.reset_password": PUBLIC,  # the signed, single-use link is the key
    "accounts.accept_invitation": PUBLIC,
    "accounts.confirm_email": PUBLIC,
    "accounts.devices": LOGGED_IN,
    "accounts.end_device": LOGGED_IN,
    "accounts.end_other_devices": LOGGED_IN,
    "users.index": STAFF,
    "users.invite": STAFF,
    "users.show": STAFF,
    "users.act": STAFF,  # staff cannot act on an admin: tests/test_user_admin.py
    "home.staff": STAFF,
    "audit.index": STAFF,
    "outbox.index": STAFF,
    "outbox.show": STAFF,
    "outbox.raw": STAFF,
    "outbox.html_part": STAFF,
    "outbox.retry": STAFF,
    "inbox.index": STAFF,
    "vendors_public.directory": PUBLIC,
    "vendors_public.register": PUBLIC,
    "vendors_public.feed": PUBLIC,  # the unguessable token is the key
    "home.vendor": VENDOR,
    "vendors_own.history": VENDOR,
    "vendors_own.profile": VENDOR,
    "vendors_own.apply": VENDOR,
    "vendors_own.apply_many": VENDOR,
    "vendors_own.withdraw": VENDOR,
    "vendors_own.feed_token": VENDOR,
    "vendors_own.withdraw_change": VENDOR,
    "vendors_staff.index": STAFF,
    "vendors_staff.expiring": STAFF,
    "vendors_staff.show": STAFF,
    "vendors_staff.edit": STAFF,
    "vendors_staff.decide": STAFF,
    "vendors_staff.approve_many": STAFF,
    "vendors_staff.changes_index": STAFF,
    "vendors_staff.change": STAFF,
    "applications_staff.market_applications": STAFF,
    "applications_staff.application_status": STAFF,
    "vendor_exports.vendors": STAFF,
    "vendor_exports.market_applications": STAFF,
    "vendor_exports.season_applications": STAFF,
    "takings_staff.market_day": STAFF,
    "takings_staff.staff_entry": STAFF,
    "takings_staff.raise_ceiling": STAFF,
    "takings_staff.report": STAFF,
    "takings_staff.report_csv": STAFF,
    "takings_staff.report_xlsx": STAFF,
    "sales.report": STAFF,
    "sales.report_xlsx": STAFF,
    "sales.report_csv": STAFF,
    "sales_sellers.attach": STAFF,
    "takings_own.index": VENDOR,
    "takings_own.entry": VENDOR,
}


def _rules() -> list[Rule]:
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule)


def _url(rule: Rule) -> str:
    """The rule's URL with 1 for every number and "x" for every other argument;
    access checks run before any lookup, so the record need not exist."""
    values = {
        name: 1 if isinstance(converter, IntegerConverter) else "x"
        for name, converter in rule._converters.items()
    }
    return rule.build(values, append_unknown=False)[1]


def _cases():
    for rule in _rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield pytest.param(rule.endpoint, method, _url(rule), id=f"{method} {rule.rule}")


def test_every_endpoint_has_an_access_rule():
    endpoints = {rule.endpoint for rule in _rules()}
    assert endpoints - ACCESS.keys() == set(), "add the new endpoints to ACCESS"
    assert ACCESS.keys() - endpoints == set(), "remove endpoints that no longer exist"


def _request(client, method, url):
    return client.open(url, method=method, data={})


@pytest.mark.parametrize(("endpoint", "method", "url"), list(_cases()))
def test_anonymous(client, endpoint, method, url):
    response = _request(client, method, url)
    if ACCESS[endpoint] == PUBLIC:
        assert response.status_code < 500
        assert "/account/login?next" not in response.headers.get("Location", "")
    else:
        assert response.status_code == 302
        assert "/account/login" in response.headers["Location"]


@pytest.mark.parametrize(("endpoint", "method", "url"), list(_cases()))
def test_vendor(client, make_user, login_as, endpoint, method, url):
    login_as(make_user(Role.VENDOR))
    response = _request(client, method, url)
    if ACCESS[endpoint] == STAFF:
        assert response.status_code == 403
        assert "접근 권한이 없습니다" in response.get_data(as_text=True)
    else:
        assert response.status_code != 403
    assert response.status_code < 500


@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN])
@pytest.mark.parametrize(("endpoint", "method", "url"), list(_cases()))
def test_staff_and_admin(client, make_user, login_as, role, endpoint, method, url):
    login_as(make_user(role))
    response = _request(client, method, url)
    if ACCESS[endpoint] == VENDOR:
        assert response.status_code == 403
    else:
        assert response.status_code not in (401, 403, 500)
