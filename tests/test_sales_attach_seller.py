"""판로지원 실적: staff connect an unmatched seller's orders, imported before
its enterprise could be matched, to a live enterprise (issue 19's review):
choose, confirm, one audited UPDATE; the kept report shows it at once."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from market.audit.models import AuditEntry
from market.customers.models import Order
from market.extensions import db
from market.timeutil import utcnow
from market.vendors.models import VendorStatus
from tests.customer_factories import make_customer
from tests.vendors_factories import make_vendor, make_vendor_login

SELLER = "콩세상 온라인몰"
ATTACH = "/staff/sales/sellers/attach"


@pytest.fixture
def shop(app):
    """콩세상 (approved) and 우리밀빵집 (approved); the seller "콩세상 온라인몰"
    has two orders without an enterprise (₩10,000 and ₩5,000) and one
    already 우리밀빵집's; another seller has one of its own."""
    kong = make_vendor("콩세상", shop_url=None)
    bread = make_vendor("우리밀빵집", shop_url=None)
    pending = make_vendor("새날목공", VendorStatus.PENDING, shop_url=None)
    rejected = make_vendor("별빛누리", VendorStatus.REJECTED, shop_url=None)
    buyer = make_customer("kim@example.com")
    when = utcnow() - timedelta(hours=1)
    for number, seller, amount, vendor_id in (
        ("K-1", SELLER, 10_000, None),
        ("K-2", SELLER, 5_000, None),
        ("K-3", SELLER, 7_000, bread.id),
        ("O-1", "모르는상점", 3_000, None),
    ):
        db.session.add(
            Order(
                order_no=number,
                customer_id=buyer.id,
                ordered_at=when,
                seller_name=seller,
                product="두유",
                amount=amount,
                vendor_id=vendor_id,
            )
        )
    db.session.commit()
    return {"kong": kong, "bread": bread, "pending": pending, "rejected": rejected}


def _vendors() -> dict[str, int | None]:
    db.session.expire_all()
    return dict(db.session.execute(select(Order.order_no, Order.vendor_id)).all())


def _attach_entries() -> list[AuditEntry]:
    return list(
        db.session.scalars(select(AuditEntry).where(AuditEntry.action == "customers.attach_seller"))
    )


def _unmatched_section(page: str) -> str:
    return page[page.index('id="unmatched"') :]


def test_staff_connect_a_sellers_orders_after_confirming(client, login_as, staff, shop):
    login_as(staff)
    before = client.get("/staff/sales").get_data(as_text=True)  # now kept (market.sales.cache)
    unmatched = _unmatched_section(before)
    assert SELLER in unmatched and "이 판매자의 주문을 기업에 연결" in unmatched
    assert "₩15,000" in unmatched

    choose = client.get(ATTACH, query_string={"seller": SELLER})
    page = choose.get_data(as_text=True)
    assert choose.status_code == 200
    assert "2건" in page and "₩15,000" in page
    assert f'value="{shop["kong"].id}"' in page and f'value="{shop["bread"].id}"' in page
    assert f'value="{shop["pending"].id}"' not in page, "only live enterprises are offered"
    assert f'value="{shop["rejected"].id}"' not in page

    confirm = client.get(ATTACH, query_string={"seller": SELLER, "vendor_id": shop["kong"].id})
    assert "확인: 주문 2건을 콩세상에 연결" in confirm.get_data(as_text=True)
    assert _vendors()["K-1"] is None, "choosing changes nothing"

    done = client.post(ATTACH, data={"seller": SELLER, "vendor_id": shop["kong"].id})
    assert done.status_code == 302
    assert _vendors() == {
        "K-1": shop["kong"].id,
        "K-2": shop["kong"].id,
        "K-3": shop["bread"].id,  # already an enterprise's: never moved
        "O-1": None,
    }
    (entry,) = _attach_entries()
    assert entry.object_type == "vendors" and entry.object_id == str(shop["kong"].id)
    assert entry.after == {"seller_name": SELLER, "orders_attached": 2}
    assert entry.actor_id == staff.id

    after = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "2건을 콩세상에 연결했습니다" in after
    assert SELLER not in _unmatched_section(after), "the kept report saw the change"
    kong_row = after[after.index(f'/staff/vendors/{shop["kong"].id}">콩세상</a>') :]
    assert "₩15,000" in kong_row[: kong_row.index("</tr>")]

    audit = client.get("/staff/audit/").get_data(as_text=True)
    assert "판매자 주문을 기업에 연결" in audit and "연결한 주문 수" in audit

    again = client.post(ATTACH, data={"seller": SELLER, "vendor_id": shop["bread"].id})
    assert again.status_code == 302 and len(_attach_entries()) == 1
    assert _vendors()["K-1"] == shop["kong"].id, "a second attach moves nothing"


@pytest.mark.parametrize(
    ("seller", "vendor"),
    [
        ("없는판매자", "kong"),
        ("콩세상\x00온라인몰", "kong"),
        ("콩세상 온라인몰\r\nX-Injected: 1", "kong"),
        ("가" * 10_000, "kong"),
        (SELLER, "pending"),
        (SELLER, "rejected"),
        (SELLER, "abc"),
        (SELLER, ""),
        (SELLER, "-1"),
        (SELLER, str(2**31)),
        (SELLER, "9" * 40),
        (SELLER, "1\x00"),
    ],
)
def test_hostile_or_wrong_input_changes_nothing(client, login_as, staff, shop, seller, vendor):
    login_as(staff)
    vendor_id = str(shop[vendor].id) if vendor in shop else vendor
    orders = _vendors()
    for method in ("GET", "POST"):
        if method == "GET":
            response = client.get(ATTACH, query_string={"seller": seller, "vendor_id": vendor_id})
        else:
            response = client.post(ATTACH, data={"seller": seller, "vendor_id": vendor_id})
        assert response.status_code in (200, 302, 400)
        page = client.get(response.headers["Location"]) if response.status_code == 302 else response
        text = page.get_data(as_text=True)
        assert (
            "아무것도 바꾸지 않았습니다" in text
            or "목록에서 승인된 기업을 고르세요" in text
            or (method == "GET" and not vendor_id)
            # a NUL in the query string is refused for every page (market.core.web)
            or (method == "GET" and "\x00" in seller + vendor_id and response.status_code == 400)
        )
    assert _vendors() == orders and _attach_entries() == []


def test_the_seller_page_reads_a_bounded_number_of_statements(
    client, login_as, staff, shop, count_queries
):
    login_as(staff)
    with count_queries() as few:
        client.get(ATTACH, query_string={"seller": SELLER})
    for number in range(30):
        make_vendor(f"기업{number}", shop_url=None)
    with count_queries() as many:
        response = client.get(ATTACH, query_string={"seller": SELLER})
    assert response.status_code == 200 and "기업29" in response.get_data(as_text=True)
    assert few.count == many.count <= 8, many.statements


def test_vendors_cannot_connect_orders(client, login_as, shop):
    login_as(make_vendor_login(shop["kong"]))
    response = client.post(ATTACH, data={"seller": SELLER, "vendor_id": shop["kong"].id})
    assert response.status_code in (302, 403)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).where(Order.vendor_id.is_(None))) == 3
