"""Korean particle markers ("(으)로", "을(를)", "이(가)", "은(는)", "와(과)")
are the translation's: a message's own markers are fitted to the value put
before them (market.josa.fill) in every path that makes text from the
catalogue (gettext in Python, lazy labels formatted with %, templates' _(),
flash, form errors). Data is not: an enterprise, a venue, a customer or a
reason typed with such a marker shows as typed on every page, download and
feed (the pages fitted every printed value: "사과이(가) 협동조합" read
"사과가 협동조합").

A value that ends in a marker is read as it is written, its closing
bracket silent (market.josa.final_consonant): "사과이(가)" + 을(를) reads
"사과이(가)를", as if the bracket's 가 were the last syllable."""

import csv
import io

import pytest
from flask import flash, get_flashed_messages, render_template_string
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from icalendar import Calendar
from markupsafe import Markup
from openpyxl import load_workbook

from market.audit.services import record
from market.booths import services as booths
from market.extensions import db
from market.invitations import sending
from market.josa import Unfilled, fill
from market.timeutil import utcnow
from market.validators import DATE_DOES_NOT_EXIST, NOT_A_DATE, date_problem
from tests.booths_factories import applicant, open_market
from tests.customer_factories import add_orders
from tests.markets_factories import make_market, make_venue, next_thursday
from tests.test_invitations import make_customer
from tests.vendors_factories import today

ENTERPRISE = "사과이(가) 협동조합"
VENUE = "장터마당은(는) 본관"
CUSTOMER = "김이(가)"
REASON = "서류이(가) 빠졌고 사진와(과) 설명을(를) 다시 (으)로 보내 주세요"
# What the pages made of them (every marker fitted to the syllable before it).
FITTED = ("사과가 협동조합", "장터마당은 본관", "김가", "서류가 빠졌고")


@pytest.fixture
def scene(app, staff):
    """A market at a venue with a marker in its name, booths assigned to an
    enterprise with one, a customer with one invited, and an audit entry
    whose reason has several."""
    market = open_market(booths=4, venue=make_venue(VENUE, 10))
    apple = applicant(market, ENTERPRISE)
    applicant(market, "두번째기업")
    booths.confirm(market.id, staff)
    db.session.commit()
    customer = make_customer("kim.i@example.com", CUSTOMER)
    add_orders(customer, 50_000, 70_000)
    db.session.commit()
    sending.invite(market, [customer.id], None, utcnow())
    record(staff, "vendor.reject", ("vendors", apple.vendor_id), reason=REASON)
    db.session.commit()
    return market


def _as_typed(text: str, *typed: str) -> None:
    for value in typed:
        assert value in text, value
    for fitted in FITTED:
        assert fitted not in text, fitted


# -- data shows as typed -------------------------------------------------------------


def test_staff_pages_show_names_and_reasons_as_typed(client, login_as, staff, scene):
    login_as(staff)
    pages = {
        "/staff/": (VENUE,),
        f"/staff/markets/{scene.id}/booths": (ENTERPRISE, VENUE),
        f"/staff/markets/{scene.id}/invitations": (CUSTOMER, VENUE),
        "/staff/audit/": (REASON,),
        "/staff/vendors/?status=all": (ENTERPRISE,),
    }
    for path, typed in pages.items():
        response = client.get(path)
        assert response.status_code == 200, path
        _as_typed(response.get_data(as_text=True), *typed)


def test_public_pages_show_names_as_typed(client, scene):
    for path, typed in {
        f"/markets/{scene.id}": (ENTERPRISE, VENUE),
        "/": (VENUE,),
        "/vendors/": (ENTERPRISE,),
    }.items():
        response = client.get(path)
        assert response.status_code == 200, path
        _as_typed(response.get_data(as_text=True), *typed)


def test_the_calendar_feeds_carry_the_venue_as_typed(client, scene):
    for path in ("/calendar.ics", f"/markets/{scene.id}.ics"):
        response = client.get(path)
        assert response.status_code == 200
        (event,) = [
            event
            for event in Calendar.from_ical(response.data).walk("VEVENT")
            if str(event["UID"]) == scene.uid
        ]
        assert VENUE in str(event["SUMMARY"]) and VENUE in str(event["LOCATION"])


def _csv_text(response) -> str:
    assert response.status_code == 200
    rows = csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline=""))
    return "\n".join("|".join(row) for row in rows)


def _xlsx_text(response) -> str:
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    return "\n".join(
        "|".join("" if cell is None else str(cell) for cell in row)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
    )


def test_downloads_carry_names_as_typed(client, login_as, staff, scene):
    login_as(staff)
    downloads = {
        "/staff/vendors/export.{}?status=all": (ENTERPRISE,),
        f"/staff/markets/{scene.id}/applications/export.{{}}": (ENTERPRISE,),
        "/staff/customers/export.{}": (CUSTOMER,),
        f"/staff/markets/{scene.id}/invitations.{{}}": (CUSTOMER,),
    }
    for path, typed in downloads.items():
        _as_typed(_csv_text(client.get(path.format("csv"))), *typed)
        _as_typed(_xlsx_text(client.get(path.format("xlsx"))), *typed)


# -- the translation's own markers still fit the value -------------------------------


def test_a_flash_fits_its_particle_to_a_name_and_keeps_the_name(client, login_as, staff):
    login_as(staff)
    for name, saved in (
        ("사과이(가)", "장소 '사과이(가)'를 저장했습니다."),
        ("서울시청", "장소 '서울시청'을 저장했습니다."),
        ("장터은(는) 본관", "장소 '장터은(는) 본관'을 저장했습니다."),
    ):
        response = client.post(
            "/staff/venues/new",
            data={"name": name, "address": "경기도 수원시 팔달구 효원로 1", "booth_spots": "10"},
            follow_redirects=True,
        )
        page = response.get_data(as_text=True)
        assert saved.replace("'", "&#39;") in page or saved in page, name


def test_a_status_message_fits_its_particle(client, login_as, staff):
    market = make_market(make_venue("수원역", 10), next_thursday(today(), weeks=3))
    login_as(staff)
    response = client.post(
        f"/staff/markets/{market.id}/status", data={"status": "open"}, follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert "(으)로" not in page
    assert "장터 상태가 &#39;참가 신청 중&#39;으로 바뀌었습니다." in page


def test_a_form_error_fits_its_particle_to_the_typed_value_as_typed(client, login_as, staff, scene):
    login_as(staff)
    for typed, says in (
        ("내일이(가)", "“내일이(가)”는 날짜가 아닙니다"),
        ("모레은(는)", "“모레은(는)”은 날짜가 아닙니다"),  # 는 ends in ㄴ
        ("2027-02-30", "“2027-02-30”은 없는 날짜입니다"),
    ):
        response = client.post(f"/staff/markets/{scene.id}/copy", data={"market_date": typed})
        assert says in response.get_data(as_text=True), typed


def test_every_gettext_path_fits_only_the_translations_markers(app):
    with app.test_request_context("/"):
        assert _("The venue %(name)s was saved.", name="사과이(가)") == (
            "장소 '사과이(가)'를 저장했습니다."
        )
        assert (
            _("The venue %(name)s was saved.", name="경기도청") == "장소 '경기도청'을 저장했습니다."
        )
        # A lazy label, formatted later with % (the validators' messages),
        # through str() first or not.
        assert (
            str(NOT_A_DATE) % {"value": "내일"}
            == "“내일”은 날짜가 아닙니다. 2026-05-07처럼 써 주세요."
        )
        assert (
            NOT_A_DATE % {"value": "이(가)"}
            == "“이(가)”는 날짜가 아닙니다. 2026-05-07처럼 써 주세요."
        )
        assert isinstance(str(DATE_DOES_NOT_EXIST), Unfilled)
        assert date_problem("사과이(가)").startswith("“사과이(가)”는 날짜가")
        # A lazy message as WTForms' validators format theirs (message % dict).
        message = _l("“%(value)s” is not a date: write it like 2026-05-07.")
        assert message % {"value": "서울이(가)", "min": 1, "max": 2} == (
            "“서울이(가)”는 날짜가 아닙니다. 2026-05-07처럼 써 주세요."
        )
        # Templates' _() with Markup: the value escaped and kept, the marker fitted.
        page = render_template_string(
            "{{ _('The venue %(name)s was saved.', name=n) }}|"
            "{{ _('Make it: %(status)s', status=s) }}",
            n="<사과이(가)>",
            s="예정",
        )
        assert page == "장소 '&lt;사과이(가)&gt;'를 저장했습니다.|'예정'으로 변경"
        flash(_("The venue %(name)s was saved.", name="김이(가)"))
        assert get_flashed_messages() == ["장소 '김이(가)'를 저장했습니다."]
        assert ngettext("%(num)d market day.", "%(num)d market days.", 3) == "장터 3회."
        with force_locale("en"):
            assert _("The venue %(name)s was saved.", name="김이(가)") == (
                "The venue 김이(가) was saved."
            )


# -- the pure function ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("'%(status)s'(으)로 변경", {"status": "예정"}, "'예정'으로 변경"),
        ("'%(status)s'(으)로 변경", {"status": "서울"}, "'서울'로 변경"),
        (
            "%(name)s을(를) %(other)s이(가)",
            {"name": "사과이(가)", "other": "서울"},
            "사과이(가)를 서울이",
        ),
        ("%(name)s은(는)", {"name": "(으)로"}, "(으)로는"),  # the value's marker stays
        ("%(name)s와(과)", {"name": "email"}, "email와(과)"),  # not told: either way
        ("%s이(가) %d개, 100%%", ("김이(가)", 3), "김이(가)가 3개, 100%"),
        ("%s은(는)", "서울", "서울은"),
        ("%(a)s 그리고 %(b)s", {"a": "이(가)", "b": "은(는)"}, "이(가) 그리고 은(는)"),
        ("장터이(가) 열립니다", {}, "장터가 열립니다"),
    ],
)
def test_fill(text, values, expected):
    assert fill(text, values) == expected


def test_fill_keeps_markup_and_escapes_the_values():
    filled = fill(Markup("<b>'%(name)s'</b>(으)로"), {"name": "<마감>"})
    assert isinstance(filled, Markup)
    assert filled == Markup("<b>'&lt;마감&gt;'</b>으로")
    assert fill(Markup("'%(name)s'을(를)"), {"name": Markup("<i>서울</i>")}) == Markup(
        "'<i>서울</i>'을"
    )


@pytest.mark.parametrize(
    ("text", "values"),
    [("%s이(가)", ("김", "남는 값")), ("%s이(가) %s", ("김",)), ("%(name)s이(가)", {})],
)
def test_fill_refuses_what_percent_refuses(text, values):
    """A surplus or missing value is a mistake in the message, as with %."""
    with pytest.raises((TypeError, KeyError)):
        text % values
    with pytest.raises((TypeError, KeyError)):
        fill(text, values)
