"""A value that starts with a carriage return is neutralised in the real
downloads, like one that starts with "=": some spreadsheet programs drop
the leading line break and then read the rest as a formula. Such names can
be in the database from before the forms refused control characters."""

import csv
import io
from datetime import date

from openpyxl import load_workbook

from market.extensions import db
from tests.markets_factories import make_market, make_venue
from tests.takings_factories import add_takings
from tests.vendors_factories import make_vendor

PERIOD = "start=2025-01-01&end=2025-12-31"
FORMULA = '=HYPERLINK("http://evil.example","클릭")'


def _entries(app):
    venue = make_venue("경기도청")
    venue.name = "\r@경기도청"  # stored directly, as an older version could have
    vendor = make_vendor("우리밀빵집")
    vendor.name = "\r" + FORMULA
    db.session.commit()
    add_takings(vendor, make_market(venue, date(2025, 4, 3)), 1_500_000)


def test_a_leading_carriage_return_is_neutralised_in_the_csv(app, client, login_as, staff):
    _entries(app)
    login_as(staff)
    response = client.get(f"/staff/takings/report.csv?{PERIOD}&table=entries")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))
    [row] = rows[1:]
    assert row[1:3] == ["'\r@경기도청", "'\r" + FORMULA]


def test_a_leading_carriage_return_is_neutralised_in_the_workbook(app, client, login_as, staff):
    _entries(app)
    login_as(staff)
    response = client.get(f"/staff/takings/report.xlsx?{PERIOD}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data))["입력 내역"]
    [row] = list(sheet.iter_rows(min_row=2, values_only=True))
    # XML reads a stored CR back as LF; what matters is the quote before it.
    venue, vendor = (value.replace("\n", "\r") for value in row[1:3])
    assert (venue, vendor) == ("'\r@경기도청", "'\r" + FORMULA)
