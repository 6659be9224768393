"""A mail that could not be built (what a newcomer met by hand):
its reason is Korean words with advice staff can follow, never an exception's
text; its outbox page shows who it was for and why, with no empty cards and
no 0-byte download; and the staff action that caused it does not claim the
enterprise was emailed."""

import re
from datetime import timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from market.extensions import db
from market.outbox import mime
from market.outbox.models import OutboxMessage, OutboxStatus
from market.vendors.models import Application, ApplicationStatus, Category, Vendor, VendorStatus
from tests.booths_factories import applicant, open_market
from tests.vendors_factories import make_vendor

# An address the old import and old forms let in, which the mailer cannot write.
UNWRITABLE = "김철수@x.kr"
# What leaked before: an exception's class name, its English text, "))".
LEAKS = re.compile(r"[A-Z][a-z]+(?:[A-Z][a-z]+)*(?:Error|Defect|Exception)|local-part|\)\)")
FALSE_CLAIM = "기업에 이메일로 알렸습니다"


def _outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _flashes(response) -> str:
    return response.get_data(as_text=True)


def _decide(client, vendor: Vendor, decision: str, reason: str = ""):
    return client.post(
        f"/staff/vendors/{vendor.id}/decide",
        data={"decision": decision, "reason": reason},
        follow_redirects=True,
    )


def _failed_row(staff_client) -> OutboxMessage:
    vendor = make_vendor("행복플러스", status=VendorStatus.PENDING, email=UNWRITABLE)
    _decide(staff_client, vendor, "approved")
    (row,) = _outbox()
    assert row.status is OutboxStatus.FAILED and row.mime == b""
    return row


# -- the reason -------------------------------------------------------------------------


def test_the_reason_is_korean_words_with_advice_staff_can_follow(staff_client):
    row = _failed_row(staff_client)
    reason = row.last_error
    assert not LEAKS.search(reason), reason
    assert "@ 앞에 한글처럼 영문이 아닌 글자가 있습니다" in reason  # what was wrong
    assert "메일을 만들 수 없어 보내지 않았습니다" in reason
    assert "참여기업은 그 기업의 화면에서" in reason and "직접 연락해 주세요" in reason
    assert "변경을 다시" not in reason  # no advice to repeat the change


def _unbuilt(build) -> str:
    with pytest.raises(Exception):  # noqa: B017 (the email package's own refusal)
        build()
    return mime.build_or_fail(build, to="a@b.kr", subject="제목").reason


@pytest.mark.parametrize(
    ("build", "cause"),
    [
        (lambda: _to("김철수@x.kr"), "@ 앞에 한글처럼 영문이 아닌 글자가 있습니다"),
        (lambda: _to('"q"x@x.kr'), "올바른 주소가 아닙니다"),
        (lambda: _to("a,b@x.kr"), "올바른 주소가 아닙니다"),
        (lambda: _subject("장터\r\n안내"), "줄바꿈 같은 제어 문자가 있습니다"),
        (lambda: _parts(), "메일 형식으로 쓸 수 없습니다"),
    ],
)
def test_each_known_failure_has_its_korean_sentence(app, build, cause):
    with app.test_request_context():
        reason = _unbuilt(build)
    assert cause in reason and not LEAKS.search(reason), reason
    assert "메일을 만들 수 없어 보내지 않았습니다" in reason


def _to(address: str) -> bytes:
    from email.headerregistry import Address

    message = EmailMessage(policy=mime.MAIL_POLICY)
    message["To"] = Address("고객", addr_spec=address)
    message.set_content("안녕하세요")
    return bytes(message)


def _subject(subject: str) -> EmailMessage:
    message = EmailMessage(policy=mime.MAIL_POLICY)
    message["Subject"] = subject
    return message


def _parts() -> EmailMessage:
    message = EmailMessage(policy=mime.MAIL_POLICY)
    message.set_content("안녕하세요", cte="bogus")  # none of the known failures
    return message


# -- the outbox page --------------------------------------------------------------------


def test_the_page_of_a_message_never_built_shows_whom_and_why(staff_client):
    row = _failed_row(staff_client)
    response = staff_client.get(f"/staff/outbox/{row.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert UNWRITABLE in page  # the recipient
    assert row.subject in page and "행복플러스" in row.subject
    assert "이 메일은 만들 수 없어 보내지 않았습니다" in page
    assert row.last_error in page
    for empty_card in ("<h2>머리글</h2>", "<h2>텍스트 본문</h2>", "<h2>HTML 본문</h2>"):
        assert empty_card not in page
    assert f"/staff/outbox/{row.id}.eml" not in page  # no link to an empty file
    assert f"/staff/outbox/{row.id}/retry" not in page


def test_downloading_a_message_never_built_is_a_korean_404(staff_client):
    row = _failed_row(staff_client)
    response = staff_client.get(f"/staff/outbox/{row.id}.eml")
    assert response.status_code == 404
    assert "페이지를 찾을 수 없습니다" in response.get_data(as_text=True)
    assert response.mimetype == "text/html"


def test_a_built_message_keeps_its_cards_and_download(staff_client):
    vendor = make_vendor("행복플러스", status=VendorStatus.PENDING)
    _decide(staff_client, vendor, "approved")
    (row,) = _outbox()
    page = staff_client.get(f"/staff/outbox/{row.id}").get_data(as_text=True)
    assert f"/staff/outbox/{row.id}.eml" in page and vendor.email in page
    assert "만들 수 없어" not in page
    download = staff_client.get(f"/staff/outbox/{row.id}.eml")
    assert download.status_code == 200 and download.data == row.mime and row.mime


# -- the staff action's message ---------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "decision", "reason"),
    [
        (VendorStatus.PENDING, "approved", ""),
        (VendorStatus.PENDING, "rejected", "서류 미비"),
        (VendorStatus.APPROVED, "suspended", "인증 만료"),
    ],
)
def test_a_decision_whose_mail_failed_does_not_claim_it_was_emailed(
    staff_client, start, decision, reason
):
    vendor = make_vendor("행복플러스", status=start, email=UNWRITABLE)
    page = _flashes(_decide(staff_client, vendor, decision, reason))
    db.session.expire_all()
    assert db.session.get(Vendor, vendor.id).status is VendorStatus(decision)
    assert FALSE_CLAIM not in page
    assert "알림 메일을 만들 수 없어 기업에 메일을 보내지 못했습니다" in page
    assert "메일 발송함에서 이유를 확인하세요" in page


def test_a_decision_whose_mail_was_queued_still_says_so(staff_client):
    vendor = make_vendor("행복플러스", status=VendorStatus.PENDING)
    page = _flashes(_decide(staff_client, vendor, "approved"))
    assert FALSE_CLAIM in page and "만들 수 없어" not in page


def _fingerprint(client, market) -> str:
    page = client.get(f"/staff/markets/{market.id}/booths").get_data(as_text=True)
    return re.search(r'name="fingerprint"[^>]*value="([^"]*)"', page).group(1)


def test_booth_confirmation_says_how_many_mails_could_not_be_built(staff_client):
    market = open_market(booths=4)
    first = market.application_deadline - timedelta(days=6)
    for i, kind in enumerate([Category.FOOD, Category.FARM]):
        applicant(market, f"기업{i}", kind, applied=first + timedelta(hours=i))
    applicant(market, "주소기업", Category.CRAFTS, applied=first + timedelta(hours=5))
    db.session.scalar(select(Vendor).where(Vendor.name == "주소기업")).email = UNWRITABLE
    db.session.commit()
    response = staff_client.post(
        f"/staff/markets/{market.id}/booths/confirm",
        data={"fingerprint": _fingerprint(staff_client, market), "replace": "", "checked": "y"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "부스 배정을 확정했습니다" in page
    assert "각 기업에 이메일이 갑니다" not in page
    assert "이메일 1통은 만들 수 없어 보내지 않았습니다" in page
    assert [row.status for row in _outbox()].count(OutboxStatus.FAILED) == 1


def test_moving_the_booth_of_an_unmailable_enterprise_says_no_mail_went(staff_client):
    market = open_market(booths=4)
    applicant(market, "주소기업", Category.CRAFTS)
    db.session.scalar(select(Vendor).where(Vendor.name == "주소기업")).email = UNWRITABLE
    db.session.commit()
    staff_client.post(
        f"/staff/markets/{market.id}/booths/confirm",
        data={"fingerprint": _fingerprint(staff_client, market), "replace": "", "checked": "y"},
    )
    (application,) = db.session.scalars(select(Application)).all()
    assert application.status is ApplicationStatus.ASSIGNED
    number = application.booth.number if hasattr(application, "booth") else 1
    to_number = 4 if number != 4 else 3
    page = staff_client.post(
        f"/staff/markets/{market.id}/booths/move",
        data={"number": number, "to_number": to_number},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "기업에 이메일이 갑니다" not in page
    assert "변경을 저장했습니다. 다만 알림 메일을 만들 수 없어" in page
