"""A live enterprise's new online shop link waits for staff like its name:
the order import matches the marketplace's sellers by shop link, so a link
changed at once could take another seller's online sales. One shop belongs
to one enterprise, compared the way the importer compares links."""

import csv
import io

import pytest
from sqlalchemy import select

from market.audit.models import AuditEntry
from market.customers.models import CustomerImport, ImportStatus, Order
from market.customers.samples import KOREAN_HEADER
from market.extensions import db
from market.outbox.mime import parse
from market.outbox.models import OutboxMessage
from market.vendors.models import Vendor, VendorChange, VendorStatus
from market.vendors.shop_links import link_key, link_owner
from tests.test_vendors_approval import _profile_form
from tests.vendors_factories import make_vendor, make_vendor_login

OLD_LINK = "https://smartstore.example.kr/jandari"
NEW_LINK = "https://smartstore.example.kr/kongsesang"
TAKEN = "이 온라인 쇼핑몰 링크는 다른 기업이 이미 쓰고 있습니다"
TAKEN_AT_APPROVAL = "다른 기업이 쓰고 있어 승인할 수 없습니다"


@pytest.fixture(autouse=True)
def _inline(app_config, tmp_path):
    app_config["IMPORT_RUN_INLINE"] = True
    app_config["IMPORT_DIR"] = str(tmp_path / "imports")


@pytest.fixture
def switch_to(client, login_as):
    def switch(user):
        client.post("/account/logout")
        return login_as(user)

    return switch


@pytest.fixture
def asked(client, login_as):
    """An approved enterprise, signed in, that asked for a new shop link."""
    vendor = make_vendor("잔다리마을공동체", shop_url=OLD_LINK)
    login_as(make_vendor_login(vendor))
    response = client.post("/vendor/profile", data=_profile_form(vendor, shop_url=NEW_LINK))
    assert response.status_code == 302
    return _reload(vendor)


def _reload(vendor) -> Vendor:
    db.session.expire_all()
    return db.session.get(Vendor, vendor.id)


def _changes() -> list[VendorChange]:
    db.session.expire_all()
    return list(db.session.scalars(select(VendorChange)))


def _decide(client, vendor, decision, reason=""):
    return client.post(
        f"/staff/vendors/{vendor.id}/change", data={"decision": decision, "reason": reason}
    )


_order_numbers = iter(range(1, 10_000))


def _import(client, *sellers: str) -> dict[str, int | None]:
    """Imports one order per seller through the staff's upload page and the
    real importer; which enterprise each seller's order went to."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(KOREAN_HEADER)
    numbers = {}
    for seller in sellers:
        number = f"S-{next(_order_numbers)}"
        numbers[number] = seller
        writer.writerow(
            [number, "2026-11-26", "김민준", "kim@example.com", "", seller, "두유", "8000", "N", ""]
        )
    client.post(
        "/staff/customers/imports",
        data={"file": (io.BytesIO(out.getvalue().encode()), "orders.csv")},
        content_type="multipart/form-data",
    )
    db.session.expire_all()
    job = db.session.scalars(select(CustomerImport).order_by(CustomerImport.id.desc())).first()
    assert job.status is ImportStatus.CHECKED
    client.post(f"/staff/customers/imports/{job.id}/run", data={})
    db.session.expire_all()
    orders = db.session.execute(
        select(Order.order_no, Order.vendor_id).where(Order.order_no.in_(numbers))
    )
    return {numbers[number]: vendor_id for number, vendor_id in orders}


def test_a_new_link_waits_and_the_import_keeps_the_approved_one(client, asked, switch_to, staff):
    assert asked.shop_url == OLD_LINK and asked.status is VendorStatus.APPROVED
    (change,) = _changes()
    assert change.shop_url == NEW_LINK and change.name is None
    profile = client.get("/vendor/profile").get_data(as_text=True)
    assert "검토 중" in profile and NEW_LINK in profile
    switch_to(staff)
    before = _import(
        client, "smartstore.example.kr/jandari/", "http://www.SmartStore.example.kr/kongsesang"
    )
    assert before == {
        "smartstore.example.kr/jandari/": asked.id,
        "http://www.SmartStore.example.kr/kongsesang": None,
    }
    review = client.get(f"/staff/vendors/{asked.id}/change").get_data(as_text=True)
    assert "온라인 쇼핑몰 링크" in review and OLD_LINK in review and NEW_LINK in review
    listing = client.get("/staff/vendors/changes").get_data(as_text=True)
    assert OLD_LINK in listing and NEW_LINK in listing

    assert _decide(client, asked, "approve").status_code == 302
    assert _reload(asked).shop_url == NEW_LINK and _changes() == []
    after = _import(
        client, "smartstore.example.kr/jandari/", "http://www.SmartStore.example.kr/kongsesang"
    )
    assert after == {
        "smartstore.example.kr/jandari/": None,
        "http://www.SmartStore.example.kr/kongsesang": asked.id,
    }
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "vendor.change_approve")
    )
    assert entry.before["shop_url"] == OLD_LINK and entry.after["shop_url"] == NEW_LINK
    (message,) = [parse(row.mime) for row in db.session.scalars(select(OutboxMessage))]
    body = message.get_body(("plain",)).get_content()
    assert f"온라인 쇼핑몰 링크: {OLD_LINK} → {NEW_LINK}" in body


def test_a_refused_link_leaves_the_old_one_matched(client, asked, switch_to, staff):
    switch_to(staff)
    _decide(client, asked, "reject", reason="쇼핑몰 운영자를 확인할 수 없습니다.")
    assert _reload(asked).shop_url == OLD_LINK and _changes() == []
    assert _import(client, OLD_LINK, NEW_LINK) == {OLD_LINK: asked.id, NEW_LINK: None}
    (message,) = [parse(row.mime) for row in db.session.scalars(select(OutboxMessage))]
    assert "반려되었습니다" in message["Subject"]


def test_removing_the_link_is_a_request_too(client, login_as, switch_to, staff):
    vendor = make_vendor(shop_url=OLD_LINK)
    login_as(make_vendor_login(vendor))
    client.post("/vendor/profile", data=_profile_form(vendor, shop_url=""))
    assert _reload(vendor).shop_url == OLD_LINK
    (change,) = _changes()
    assert change.shop_url == ""
    switch_to(staff)
    assert "링크 삭제" in client.get(f"/staff/vendors/{vendor.id}/change").get_data(as_text=True)
    _decide(client, vendor, "approve")
    assert _reload(vendor).shop_url is None and _changes() == []


def test_typing_the_approved_link_back_withdraws(client, asked):
    client.post("/vendor/profile", data=_profile_form(asked, shop_url=OLD_LINK))
    assert _changes() == [] and _reload(asked).shop_url == OLD_LINK


def test_a_link_another_enterprise_uses_is_refused_at_request(client, login_as):
    make_vendor("행복플러스", shop_url="https://www.SmartStore.example.kr/happy/")
    vendor = make_vendor(shop_url=OLD_LINK)
    login_as(make_vendor_login(vendor))
    refused = client.post(
        "/vendor/profile", data=_profile_form(vendor, shop_url="http://smartstore.example.kr/happy")
    )
    assert refused.status_code == 200 and TAKEN in refused.get_data(as_text=True)
    assert _changes() == [] and _reload(vendor).shop_url == OLD_LINK


def test_a_link_taken_since_the_request_is_refused_at_approval(client, asked, switch_to, staff):
    make_vendor("먼저등록한기업", shop_url=NEW_LINK + "/")
    switch_to(staff)
    response = _decide(client, asked, "approve")
    assert response.status_code == 200 and TAKEN_AT_APPROVAL in response.get_data(as_text=True)
    assert _reload(asked).shop_url == OLD_LINK and len(_changes()) == 1
    assert db.session.scalar(select(OutboxMessage.id)) is None


def test_an_enterprise_not_yet_approved_edits_its_link_at_once_but_not_to_a_taken_one(
    client, login_as
):
    """As with its name: a pending enterprise is reviewed whole when approved."""
    make_vendor("행복플러스", shop_url="https://smartstore.example.kr/happy")
    pending = make_vendor("검토중기업", status="pending", shop_url=None)
    login_as(make_vendor_login(pending))
    client.post("/vendor/profile", data=_profile_form(pending, shop_url=NEW_LINK))
    assert _reload(pending).shop_url == NEW_LINK and _changes() == []
    refused = client.post(
        "/vendor/profile",
        data=_profile_form(pending, shop_url="https://smartstore.example.kr/happy"),
    )
    assert TAKEN in refused.get_data(as_text=True)
    assert _reload(pending).shop_url == NEW_LINK


def test_staff_cannot_give_one_shop_to_two_enterprises(client, login_as, staff):
    make_vendor("행복플러스", shop_url="https://smartstore.example.kr/happy")
    vendor = make_vendor(shop_url=OLD_LINK)
    login_as(staff)
    refused = client.post(
        f"/staff/vendors/{vendor.id}/edit",
        data=_profile_form(vendor, shop_url="smartstore.example.kr/HAPPY".join(["https://", ""])),
    )
    assert TAKEN in refused.get_data(as_text=True)
    assert _reload(vendor).shop_url == OLD_LINK


def test_a_shop_shared_before_the_rule_does_not_block_other_edits(client, login_as):
    make_vendor("행복플러스", shop_url=OLD_LINK)
    vendor = make_vendor(shop_url=OLD_LINK + "/")
    login_as(make_vendor_login(vendor))
    response = client.post(
        "/vendor/profile", data=_profile_form(vendor, description="새 소개 문구")
    )
    assert response.status_code == 302
    assert _reload(vendor).description == "새 소개 문구" and _changes() == []


def test_links_compare_as_the_importer_compares_them(app):
    assert link_key(" HTTPS://www.Shop.kr/a// ") == link_key("shop.kr/a") == "shop.kr/a"
    owner = make_vendor(shop_url="https://www.shop.kr/a_b%")
    make_vendor("다른기업", shop_url="https://shop.kr/aXb%")  # _ and % are not wildcards
    assert link_owner("http://shop.kr/a_b%/") == owner.id
    assert link_owner("shop.kr/a_b%", other_than=owner.id) is None
    assert link_owner("") is None and link_owner(None) is None
