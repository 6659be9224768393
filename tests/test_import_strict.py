"""The order import checks every value as strictly as the mailer and both
databases will: an address the mailer cannot write, a NUL or a line
break, an amount no order has (or no BIGINT holds), a date no
timestamp column takes is one bad row named with its line, never a failed
write, a 500 later on, or a check that stops half-way."""

import csv
import io
import string
from datetime import datetime, timedelta

import pytest
from email_validator import validate_email
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import func, select

from market.customers.models import Customer, CustomerImport, ImportStatus, Order
from market.customers.rows import parse_row
from market.customers.samples import KOREAN_HEADER
from market.extensions import db
from market.invitations.messages import MailKind, attending_vendors, invitation_message
from market.invitations.models import Invitation
from market.outbox.mime import envelope, recipients
from market.outbox.models import OutboxMessage, OutboxStatus
from market.timeutil import SEOUL, utcnow
from market.validators import FAST_EMAIL, checked_email
from tests.booths_factories import open_market
from tests.test_customer_import import ENGLISH_HEADER

GOOD_ROW = {
    "order_no": "A-1",
    "ordered_at": "2026-11-26 10:00",
    "buyer_name": "김민준",
    "email": "kim@example.com",
    "phone": "010-1234-5678",
    "seller": "행복플러스",
    "product": "수면 양말",
    "amount": "12,000",
    "marketing_consent": "Y",
    "consent_at": "2026-01-05",
}
UNWRITABLE = ["a,b@x.kr", "a<b>@x.kr", '"q"x@x.kr', "김철수@x.kr", "a b@x.kr", "a@localhost"]


def _today():
    return utcnow().astimezone(SEOUL).date()


def _row(number: int, **changes) -> list:
    values = {**GOOD_ROW, "order_no": f"A-{number}", "email": f"buyer{number}@example.com"}
    values["ordered_at"] = f"{_today() - timedelta(days=3)} 10:00"
    values.update(changes)
    return [values[key] for key in ENGLISH_HEADER]


def _csv(rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(KOREAN_HEADER)
    writer.writerows(rows)
    return out.getvalue().encode()


@pytest.fixture(autouse=True)
def _inline(app_config, tmp_path):
    app_config["IMPORT_RUN_INLINE"] = True
    app_config["IMPORT_DIR"] = str(tmp_path / "imports")


def _upload(client, content: bytes, name: str = "orders.csv") -> CustomerImport:
    response = client.post(
        "/staff/customers/imports",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    return db.session.scalars(select(CustomerImport).order_by(CustomerImport.id.desc())).first()


def _bad_lines(job: CustomerImport) -> dict[int, str]:
    return {bad["line"]: " ".join(bad["problems"]) for bad in job.report["bad_rows"]}


def _import_good_rows(client, job: CustomerImport) -> CustomerImport:
    client.post(f"/staff/customers/imports/{job.id}/run", data={"good_rows_only": "y"})
    db.session.expire_all()
    job = db.session.get(CustomerImport, job.id)
    assert job.status is ImportStatus.DONE, job.error if hasattr(job, "error") else job.status
    return job


# -- addresses -------------------------------------------------------------------------


@pytest.mark.parametrize("address", [*UNWRITABLE, "a..b@x.kr", "a@x", "a@shop.test"])
def test_an_address_the_mailer_cannot_write_is_a_bad_row(app, address):
    result = parse_row(9, dict(zip(ENGLISH_HEADER, _row(1, email=address), strict=True)))
    assert result.line == 9
    assert any("이메일 주소" in problem for problem in result.problems), result.problems


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Kim.MinJun@Example.com", "kim.minjun@example.com"),
        ("o'brien+market@x.co.kr", "o'brien+market@x.co.kr"),
        ("a_b-c{d}|e~f@sub.x.kr", "a_b-c{d}|e~f@sub.x.kr"),
        ("buyer@행복.한국", "buyer@xn--pn3bl36b.xn--3e0b707e"),
    ],
)
def test_an_address_the_import_takes_is_one_the_mailer_sends_to(app, typed, stored):
    """What the mailer really accepts: the stored address goes into an
    invitation's To and its SMTP envelope unchanged."""
    email, problem = checked_email(typed)
    assert (email, problem) == (stored, None)
    market = open_market(weeks=3, booths=4)
    customer = Customer(email=email, email_hash="x", name="김민준", consent=True)
    message = invitation_message(
        customer=customer,
        market=market,
        token="t0k3n",
        vendors=attending_vendors(market),
        kind=MailKind.INVITE,
        sequence=0,
        stamp=utcnow(),
    )
    assert recipients(message) == [stored]
    assert envelope(bytes(message))[1] == [stored]


_ATEXT = string.ascii_lowercase + string.digits + "!#$%&'*+/=?^_`{|}~-"
_LABEL = st.text(string.ascii_lowercase + string.digits + "-", min_size=1, max_size=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(
    local=st.lists(st.text(_ATEXT, min_size=1, max_size=10), min_size=1, max_size=3),
    labels=st.lists(_LABEL, min_size=1, max_size=3),
    tld=st.text(string.ascii_lowercase, min_size=2, max_size=6),
)
@example(local=["a"], labels=["00--0"], tld="ab")  # found by Hypothesis: IDNA's reserved "--"
@example(local=["a"], labels=["mail", "ab--c"], tld="kr")
def test_the_fast_check_takes_only_what_email_validator_takes(local, labels, tld):
    """Most rows skip email-validator (16 us an address): the fast pattern
    must never let through what it would refuse."""
    address = f"{'.'.join(local)}@{'.'.join(labels)}.{tld}"
    if not FAST_EMAIL.fullmatch(address):
        return
    email, problem = checked_email(address)
    if problem is None and email == address:
        checked = validate_email(address, check_deliverability=False, allow_smtputf8=False)
        assert checked.ascii_email.lower() == address
    else:  # a special-use name, refused by the validator with its reason
        assert address.rsplit(".", 1)[1] in {"test", "local", "invalid", "onion", "arpa"}


def test_unwritable_addresses_are_named_then_preview_and_batch_work(staff_client):
    rows = [_row(1), _row(2, email="Hana@Example.com")]
    rows += [_row(3 + i, email=address) for i, address in enumerate(UNWRITABLE)]
    job = _upload(staff_client, _csv(rows))
    assert job.rows_bad == len(UNWRITABLE)
    bad = _bad_lines(job)
    assert sorted(bad) == list(range(4, 4 + len(UNWRITABLE)))  # the header is line 1
    assert "김철수@x.kr" in bad[7] and "이메일 주소" in bad[7]
    _import_good_rows(staff_client, job)
    customers = list(db.session.scalars(select(Customer).order_by(Customer.id)))
    assert [c.email for c in customers] == ["buyer1@example.com", "hana@example.com"]

    market = open_market(weeks=3, booths=4)
    for customer in customers:
        preview = f"/staff/markets/{market.id}/invitations/preview/{customer.id}.html"
        assert staff_client.get(preview).status_code == 200
    url = f"/staff/markets/{market.id}/invitations/send"
    ids = [c.id for c in customers]
    assert staff_client.post(url, data={"customer_id": ids, "confirmed": "yes"}).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 2
    rows = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [row.status for row in rows] == [OutboxStatus.QUEUED] * 2
    assert [envelope(row.mime)[1] for row in rows] == [[c.email] for c in customers]


# -- what the databases cannot take -----------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "word"),
    [
        ("buyer_name", "김\x00민준", "구매자명"),
        ("buyer_name", "김\r\n민준", "구매자명"),
        ("seller", "행복\t플러스", "판매자"),
        ("product", "양말\x1b[0m", "상품명"),
        ("order_no", "A-\x00", "주문번호"),
        ("phone", "010\x001234\x005678", "구매자연락처"),
        ("email", "kim\x00@example.com", "이메일"),
    ],
)
def test_a_nul_or_a_line_break_is_a_bad_row(staff_client, column, value, word):
    job = _upload(staff_client, _csv([_row(1), _row(2, **{column: value}), _row(3)]))
    assert job.status is ImportStatus.CHECKED and job.rows_bad == 1
    ((line, problems),) = _bad_lines(job).items()
    assert line >= 3 and word in problems
    assert "\x00" not in problems and "\n" not in problems, "shown, not repeated"
    job = _import_good_rows(staff_client, job)
    assert job.orders_new == 2
    assert db.session.scalar(select(func.count()).select_from(Order)) == 2


@pytest.mark.parametrize(
    "amount",
    ["100000000000000000000000", "9223372036854775808", "100,000,001", "0", "₩0"],
)
def test_an_implausible_amount_is_a_bad_row(staff_client, amount):
    job = _upload(staff_client, _csv([_row(1), _row(2, amount=amount)]))
    assert job.rows_bad == 1
    assert "결제금액" in _bad_lines(job)[3]
    _import_good_rows(staff_client, job)
    assert db.session.scalar(select(func.max(Order.amount))) == 12_000


def test_the_largest_plausible_amount_is_imported(staff_client):
    job = _upload(staff_client, _csv([_row(1, amount="100,000,000원"), _row(2, amount="1")]))
    assert job.rows_bad == 0
    _import_good_rows(staff_client, job)
    amounts = db.session.scalars(select(Order.amount).order_by(Order.amount)).all()
    assert amounts == [1, 100_000_000]


def test_excel_numbers_and_dates_are_held_to_the_same_ranges(staff_client):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(ENGLISH_HEADER)
    recent = datetime.combine(_today() - timedelta(days=3), datetime.min.time())
    base = _row(1)
    for number, (ordered_at, amount) in enumerate(
        [
            (recent, 25000),
            (recent, 1e23),
            (recent, 2**70),
            (recent, float("inf")),
            (datetime(1, 1, 1), 25000),
            (recent + timedelta(days=400), 25000),
        ],
        start=1,
    ):
        row = [*base]
        row[0], row[1], row[3], row[7] = f"X-{number}", ordered_at, f"x{number}@example.com", amount
        sheet.append(row)
    content = io.BytesIO()
    workbook.save(content)
    job = _upload(staff_client, content.getvalue(), name="orders.xlsx")
    assert job.status is ImportStatus.CHECKED
    bad = _bad_lines(job)
    assert sorted(bad) == [3, 4, 5, 6, 7]
    assert all("결제금액" in bad[line] for line in (3, 4, 5))
    assert "주문일자" in bad[6] and "주문일자" in bad[7]
    _import_good_rows(staff_client, job)
    assert db.session.scalar(select(func.count()).select_from(Order)) == 1


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("ordered_at", "0001-01-01"),
        ("ordered_at", "9999-12-31 23:59"),
        ("ordered_at", "1999-12-31"),
        ("ordered_at", "+2"),  # two days from today: see below
        ("consent_at", "0001-01-01"),
    ],
)
def test_a_date_out_of_range_marks_one_row_and_the_check_goes_on(staff_client, column, value):
    if value == "+2":
        value = (_today() + timedelta(days=2)).isoformat()
    job = _upload(staff_client, _csv([_row(1), _row(2, **{column: value}), _row(3)]))
    assert job.status is ImportStatus.CHECKED
    assert job.rows_total == 3 and job.rows_bad == 1
    label = "주문일자" if column == "ordered_at" else "동의일자"
    assert label in _bad_lines(job)[3] and "2000-01-01" in _bad_lines(job)[3]


def test_orders_of_today_and_tomorrow_in_korea_are_taken(staff_client):
    today = _today()
    rows = [_row(1, ordered_at=f"{today} 23:59"), _row(2, ordered_at=f"{today + timedelta(1)}")]
    rows.append(_row(3, ordered_at="2000-01-01 00:00", consent_at="2000-01-01"))
    job = _upload(staff_client, _csv(rows))
    assert job.rows_bad == 0, job.report["bad_rows"]
