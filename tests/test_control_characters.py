"""A line break in a name must not stop staff work.

At input, every single-line field of every form refuses control characters
(a text area keeps its line breaks but refuses the rest). Data stored before
that (or by other means) may still hold them: every action that mails
someone still goes through, the mail is built with the name on one line, and
a message that cannot be built at all is kept as a failed outbox message
with the reason."""

import importlib
import io
import pkgutil
import re
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from flask_wtf import FlaskForm
from icalendar import Calendar
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from wtforms import Form, PasswordField, TextAreaField

import market
from market.core.forms import AppForm, QueryForm
from market.customers.models import CustomerImport
from market.extensions import db
from market.invitations.models import Invitation, InvitationStatus, new_token
from market.markets.models import MarketStatus, Venue
from market.outbox.models import OutboxMessage, OutboxStatus
from market.timeutil import utcnow
from market.validators import NoControlCharacters, one_line, plain_lines
from market.vendors.models import (
    Application,
    ApplicationStatus,
    Category,
    Vendor,
    VendorStatus,
)
from tests.booths_factories import applicant, open_market
from tests.helpers import login
from tests.markets_factories import make_venue, market_form_data
from tests.test_invitations import make_customer
from tests.vendors_factories import make_vendor, make_vendor_login, registration_form

REFUSED = "줄바꿈, 탭 같은 제어 문자를 넣을 수 없습니다"
# A contact name as it arrived through the old sign-up form (%0D%0A).
BROKEN_NAME = "김\r\n담당"
# An address the old import let in and the mailer cannot write.
UNWRITABLE = "김철수@x.kr"


def _outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _parsed(row: OutboxMessage):
    return message_from_bytes(row.mime, policy=policy.default)


def _assert_one_line_mail_to(row: OutboxMessage, address: str) -> None:
    assert row.status is OutboxStatus.QUEUED, row.last_error
    message = _parsed(row)
    (to,) = message["To"].addresses
    assert to.addr_spec == address
    assert "\r" not in to.display_name and "\n" not in to.display_name
    assert "\n" not in str(message["Subject"])


# -- at input: one check on every field of every form ----------------------------------


def _all_form_classes() -> list[type]:
    for module in pkgutil.walk_packages(market.__path__, "market."):
        if module.name.endswith(".forms") or module.name.rsplit(".", 1)[-1] == "forms":
            importlib.import_module(module.name)
    found, todo = [], [Form]
    while todo:
        for cls in todo.pop().__subclasses__():
            todo.append(cls)
            if cls.__module__.startswith("market."):
                found.append(cls)
    return found


def test_every_form_of_the_app_is_made_from_a_checked_base():
    forms = _all_form_classes()
    assert len(forms) > 20
    unchecked = [
        f"{cls.__module__}.{cls.__name__}"
        for cls in forms
        if cls not in (AppForm, QueryForm) and not issubclass(cls, AppForm | QueryForm)
    ]
    assert unchecked == [], "make these from market.core.forms.AppForm (or QueryForm)"
    assert not [c for c in forms if issubclass(c, FlaskForm) and not issubclass(c, AppForm)]


def test_every_field_of_every_form_checks_control_characters_first(app):
    """Bound fields, as a request binds them: the check comes before any
    other validator, multi-line for text areas, none for passwords."""
    checked = 0
    with app.test_request_context("/", method="POST"):
        for cls in _all_form_classes():
            if cls in (AppForm, QueryForm):
                continue
            try:
                form = cls(formdata=MultiDict())
            except TypeError:  # a form that needs arguments: none does today
                pytest.fail(f"{cls.__name__} could not be made without arguments")
            for field in form:
                if field.name == "csrf_token":
                    continue
                if isinstance(field, PasswordField):
                    assert not any(isinstance(v, NoControlCharacters) for v in field.validators)
                    continue
                first = field.validators[0]
                assert isinstance(first, NoControlCharacters), f"{cls.__name__}.{field.name}"
                assert first.multiline is isinstance(field, TextAreaField)
                checked += 1
    assert checked > 60


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "행복\r\n플러스"),
        ("name", "행복\x7f플러스"),  # (a NUL is refused earlier, by every route: 400)
        ("name", "행복\u2028플러스"),
        ("contact_name", "김\r\nBcc: everyone@example.kr"),
        ("contact_name", "김\t행복"),
        ("cert_issuer", "고용\x85노동부"),
        ("cert_number", "2015\x0b123"),
        ("shop_url", "https://shop.example.kr/\r\nhappy"),
        ("phone", "010-2345-6789\n"),
        ("business_number", "124-81\n-00998"),
    ],
)
def test_sign_up_refuses_control_characters_in_single_line_fields(client, app, field, value):
    if value.endswith("\n"):
        value = value[:-1] + "\n0"  # not at the end, where strip() would remove it
    response = client.post("/vendors/register", data=registration_form(**{field: value}))
    assert response.status_code == 200
    assert REFUSED in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Vendor)) == 0


def test_profile_refuses_a_line_break_but_a_description_keeps_its_lines(client, login_as):
    vendor = make_vendor("행복플러스")
    login_as(make_vendor_login(vendor))
    page = client.get("/vendor/profile").get_data(as_text=True)
    assert "행복플러스" in page
    form = registration_form(business_number=vendor.business_number, email=vendor.email)
    form.pop("password"), form.pop("confirm")
    refused = client.post("/vendor/profile", data={**form, "contact_name": "김\r\n행복"})
    assert refused.status_code == 200 and REFUSED in refused.get_data(as_text=True)
    nul = client.post("/vendor/profile", data={**form, "description": "양말\x1b[31m 만들어요"})
    assert nul.status_code == 200
    assert "보이지 않는 제어 문자" in nul.get_data(as_text=True)
    saved = client.post("/vendor/profile", data={**form, "description": "양말을\r\n만들어요\t!"})
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(Vendor, vendor.id).description == "양말을\r\n만들어요\t!"


def test_staff_forms_refuse_a_line_break_too(client, login_as, staff):
    login_as(staff)
    response = client.post(
        "/staff/venues/new",
        data={"name": "경기도청\r\n", "address": "수원시\n팔달구", "booth_spots": "10"},
    )
    assert response.status_code == 200
    assert response.get_data(as_text=True).count(REFUSED) == 2
    assert db.session.scalar(select(func.count()).select_from(Venue)) == 0


def test_the_helpers_fold_what_is_already_stored():
    assert one_line("김\r\n담당\x00 님\u2028") == "김 담당  님"
    assert one_line(None) == ""
    assert plain_lines("첫 줄\r\n둘째\r셋째\x00끝\u2028넷째") == "첫 줄\n둘째\n셋째 끝\n넷째"


# -- stored before the check: the staff actions still go through ------------------------


@pytest.mark.parametrize(
    ("start", "decision", "reason"),
    [
        (VendorStatus.PENDING, "approved", ""),
        (VendorStatus.PENDING, "rejected", "인증서를\r\n확인할 수 없습니다"),
        (VendorStatus.APPROVED, "suspended", "연락 없이 불참"),
    ],
)
def test_staff_decide_about_a_vendor_with_line_breaks_in_its_names(
    staff_client, start, decision, reason
):
    vendor = make_vendor("행복\r\n플러스", status=start, contact_name=BROKEN_NAME)
    response = staff_client.post(
        f"/staff/vendors/{vendor.id}/decide", data={"decision": decision, "reason": reason}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Vendor, vendor.id).status is VendorStatus(decision)
    (row,) = _outbox()
    _assert_one_line_mail_to(row, vendor.email)
    message = _parsed(row)
    assert message["To"].addresses[0].display_name == "김 담당"
    assert "행복 플러스" in str(message["Subject"])
    assert "김 담당님, 안녕하세요." in message.get_body(("plain",)).get_content()


def test_a_vendor_address_the_mailer_cannot_write_fails_only_its_mail(staff_client):
    vendor = make_vendor("행복플러스", status=VendorStatus.PENDING, email=UNWRITABLE)
    response = staff_client.post(
        f"/staff/vendors/{vendor.id}/decide", data={"decision": "approved"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Vendor, vendor.id).status is VendorStatus.APPROVED
    (row,) = _outbox()
    assert row.status is OutboxStatus.FAILED and row.mime == b""
    assert row.to_address == UNWRITABLE and "행복플러스" in row.subject
    assert "메일을 만들 수 없어 보내지 않았습니다" in row.last_error
    page = staff_client.get(f"/staff/outbox/{row.id}").get_data(as_text=True)
    assert "메일을 만들 수 없어 보내지 않았습니다" in page
    assert f"/staff/outbox/{row.id}/retry" not in page, "nothing to send again"
    staff_client.post(f"/staff/outbox/{row.id}/retry")
    db.session.expire_all()
    assert db.session.get(OutboxMessage, row.id).status is OutboxStatus.FAILED


def _fingerprint(client, market) -> str:
    page = client.get(f"/staff/markets/{market.id}/booths").get_data(as_text=True)
    return re.search(r'name="fingerprint"[^>]*value="([^"]*)"', page).group(1)


def _market_with_a_broken_applicant():
    """Four booths; the last of five applicants (names with line breaks,
    and a sixth with an address the mailer cannot write) waits."""
    venue = make_venue("수원\r\n시청", 8, address="수원시\r\n팔달구 효원로 241")
    market = open_market(booths=4, venue=venue)
    first = market.application_deadline - timedelta(days=6)
    kinds = [Category.FOOD, Category.FARM, Category.CRAFTS, Category.HOUSEHOLD]
    people = [
        applicant(market, f"기업{i}", kind, applied=first + timedelta(hours=i))
        for i, kind in enumerate(kinds)
    ]
    broken = applicant(
        market,
        "줄바꿈\r\n기업",
        Category.CLOTHING,
        applied=first + timedelta(hours=10),
        contact_name=BROKEN_NAME,
    )
    unwritable = applicant(
        market, "주소기업", Category.ELECTRONICS, applied=first + timedelta(hours=11)
    )
    db.session.get(Vendor, unwritable.vendor_id).email = UNWRITABLE
    db.session.commit()
    return market, people, broken, unwritable


def test_booth_confirmation_and_a_withdrawal_that_promotes_a_broken_name(
    app, client, login_as, staff
):
    market, people, broken, _unwritable = _market_with_a_broken_applicant()
    login_as(staff)
    response = client.post(
        f"/staff/markets/{market.id}/booths/confirm",
        data={"fingerprint": _fingerprint(client, market), "replace": "", "checked": "y"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Application, broken.id).status is ApplicationStatus.WAITLISTED
    rows = _outbox()
    assert len(rows) == 6
    failed = [row for row in rows if row.status is OutboxStatus.FAILED]
    assert [row.to_address for row in failed] == [UNWRITABLE]
    broken_email = db.session.get(Vendor, broken.vendor_id).email
    (to_broken,) = [row for row in rows if row.to_address == broken_email]
    _assert_one_line_mail_to(to_broken, broken_email)

    # The vendor with booth 1 withdraws: the broken name is first on the waitlist.
    leaving = people[0]
    vendor_client = app.test_client()
    login(vendor_client, make_vendor_login(db.session.get(Vendor, leaving.vendor_id)))
    response = vendor_client.post(f"/vendor/applications/{leaving.id}/withdraw")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Application, broken.id).status is ApplicationStatus.ASSIGNED
    promoted = [row for row in _outbox()[6:] if row.to_address == broken_email]
    assert promoted and "부스" in promoted[-1].subject
    _assert_one_line_mail_to(promoted[-1], broken_email)
    body = _parsed(promoted[-1]).get_body(("plain",)).get_content()
    assert "수원 시청 (수원시 팔달구 효원로 241)" in body


@pytest.fixture
def invited(app):
    """An upcoming market and three customers invited to it before the
    import checked names and addresses: a fine one, one whose name has a
    line break, one whose address the mailer cannot write."""
    market = open_market(weeks=3, booths=4, venue=make_venue("경기도청", 10))
    customers = [
        make_customer("hana@example.com", "김하나"),
        make_customer("dul@example.com", "이\r\n둘"),
        make_customer(UNWRITABLE, "김철수"),
    ]
    for customer in customers:
        sent = OutboxMessage(
            category="invitation",
            to_address=customer.email,
            subject="(광고) 굿모닝장터 초대",
            mime=b"(sent earlier)",
            status=OutboxStatus.SENT,
        )
        db.session.add(sent)
        db.session.flush()
        db.session.add(
            Invitation(
                customer_id=customer.id,
                market_id=market.id,
                status=InvitationStatus.INVITED,
                sequence_sent=market.sequence,
                created_at=utcnow(),
                token=new_token(),
                outbox_message_id=sent.id,
            )
        )
    db.session.commit()
    return market, customers


def _market_form(market, **changes) -> dict:
    saved = market_form_data(market.venue_id, market.market_date.isoformat(), market.booth_count)
    return saved | changes


def _check_update_mails(kind: str, count: int = 3) -> None:
    rows = [row for row in _outbox() if row.category == f"invitation-{kind}"]
    assert len(rows) == count
    by_address = {row.to_address: row for row in rows}
    _assert_one_line_mail_to(by_address["hana@example.com"], "hana@example.com")
    _assert_one_line_mail_to(by_address["dul@example.com"], "dul@example.com")
    attendee = Calendar.from_ical(
        _parsed(by_address["dul@example.com"]).get_body(("calendar",)).get_content()
    ).walk("VEVENT")[0]["ATTENDEE"]
    assert attendee.params["CN"] == "이 둘"
    failed = by_address[UNWRITABLE]
    assert failed.status is OutboxStatus.FAILED and "메일을 만들 수 없어" in failed.last_error


def test_staff_cancel_a_market_whose_invitees_have_broken_names(staff_client, invited):
    market, _customers = invited
    response = staff_client.post(
        f"/staff/markets/{market.id}/status",
        data={"status": "cancelled", "reason": "태풍 예보"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert market.status is MarketStatus.CANCELLED
    _check_update_mails("cancel")


@pytest.mark.parametrize("change", ["date", "time", "venue"])
def test_staff_change_date_time_or_venue_of_such_a_market(staff_client, invited, change):
    market, _customers = invited
    if change == "date":
        changes = {"market_date": (market.market_date + timedelta(days=7)).isoformat()}
    elif change == "time":
        changes = {"start_time": "11:00"}
    else:
        changes = {"venue_id": str(make_venue("용인\r\n시청", 10).id)}
    response = staff_client.post(
        f"/staff/markets/{market.id}/edit", data=_market_form(market, **changes)
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    _check_update_mails("update")


def test_one_bad_customer_does_not_fail_an_invitation_batch(staff_client, app):
    market = open_market(weeks=3, booths=4)
    customers = [
        make_customer("hana@example.com", "김하나"),
        make_customer("dul@example.com", "이\r\n둘"),
        make_customer(UNWRITABLE, "김철수"),
    ]
    url = f"/staff/markets/{market.id}/invitations/send"
    ids = [customer.id for customer in customers]
    response = staff_client.post(url, data={"customer_id": ids, "confirmed": "yes"})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 3
    rows = {row.to_address: row for row in _outbox()}
    assert [row.status for row in rows.values()].count(OutboxStatus.QUEUED) == 2
    _assert_one_line_mail_to(rows["dul@example.com"], "dul@example.com")
    assert rows[UNWRITABLE].status is OutboxStatus.FAILED
    # The preview of that customer's mail says why instead of failing.
    preview = staff_client.get(
        f"/staff/markets/{market.id}/invitations/preview/{customers[2].id}.html"
    )
    assert preview.status_code == 200
    assert "메일을 만들 수 없어" in preview.get_data(as_text=True)


def test_the_private_feed_of_a_vendor_with_a_broken_name(client, app):
    market = open_market(weeks=2, booths=4, venue=make_venue("수원\r\n시청", 8))
    vendor = make_vendor("줄바꿈\r\n기업", contact_name=BROKEN_NAME)
    db.session.add(
        Application(vendor_id=vendor.id, market_id=market.id, status=ApplicationStatus.ASSIGNED)
    )
    market.status = MarketStatus.CANCELLED
    market.cancel_reason = "태풍\r\n예보\x0b"  # (PostgreSQL stores no NUL at all)
    db.session.commit()
    response = client.get(f"/vendors/feed/{vendor.feed_token}.ics")
    assert response.status_code == 200
    calendar = Calendar.from_ical(response.data)
    assert calendar["X-WR-CALNAME"].endswith("줄바꿈 기업")
    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "굿모닝장터 · 수원 시청"
    assert str(event["DESCRIPTION"]).startswith("취소됨: 태풍 예보\n")
    assert b"\x0b" not in response.data and b"\r\r" not in response.data


def test_an_uploaded_file_name_is_one_line_too(staff_client):
    response = staff_client.post(
        "/staff/customers/imports",
        data={"file": (io.BytesIO(b"order_no\n"), "orders\t2026\x1b.csv")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "파일 이름에 받을 수 없는 문자" in page
    assert "파일 이름을 바꾼 뒤 다시 선택해 주세요" in page and REFUSED not in page
    assert db.session.scalar(select(func.count()).select_from(CustomerImport)) == 0
