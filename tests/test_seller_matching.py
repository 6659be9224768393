"""Which enterprise an imported order's seller is (issue 19's review): only a
live enterprise (approved or suspended) is matched, a name or shop-link key
two live enterprises share matches nobody and the import report says so,
and a name whose seller key another enterprise has is refused wherever
names are set, as shop links already are."""

import pytest
from sqlalchemy import select

from market.customers.models import CustomerImport
from market.extensions import db
from market.vendors import changes, services
from market.vendors.models import Vendor, VendorChange, VendorStatus
from market.vendors.shop_links import link_key, seller_key
from tests.test_vendors_approval import _profile_form
from tests.test_vendors_changes import _details
from tests.test_vendors_shop_links import _decide, _import
from tests.vendors_factories import make_vendor, make_vendor_login, registration_form

NAME_TAKEN = "이미 같은 이름으로 등록된 기업이 있어"
NAME_TAKEN_AT_APPROVAL = "같은 이름으로 등록된 기업이 있어 승인할 수 없습니다"


@pytest.fixture(autouse=True)
def _inline(app_config, tmp_path):
    app_config["IMPORT_RUN_INLINE"] = True
    app_config["IMPORT_DIR"] = str(tmp_path / "imports")


def _reload(vendor) -> Vendor:
    db.session.expire_all()
    return db.session.get(Vendor, vendor.id)


def test_link_key_drops_www_without_a_scheme_too():
    assert link_key("www.shop.kr/a") == link_key("https://shop.kr/a") == "shop.kr/a"
    assert link_key("WWW.Shop.kr/a/") == link_key("http://www.shop.kr/a") == "shop.kr/a"
    assert link_key("wwwshop.kr/a") == "wwwshop.kr/a", "only a whole www. label"


def test_a_link_typed_without_scheme_is_matched_and_refused_as_the_same_shop(
    client, login_as, staff
):
    owner = make_vendor("잔다리마을공동체", shop_url="https://shop.kr/jandari")
    login_as(staff)
    assert _import(client, "www.shop.kr/jandari") == {"www.shop.kr/jandari": owner.id}
    with pytest.raises(services.VendorRuleError) as refused:
        services.register_vendor(
            services.VendorDetails(
                **{**_details(owner).__dict__, "name": "콩세상", "shop_url": "www.shop.kr/jandari"}
            ),
            "long-password-1",
        )
    assert "shop_url" in refused.value.errors


def test_a_pending_or_rejected_sign_up_takes_no_ones_orders(client, login_as, staff):
    """The reviewer's case: a pending "(주) 한국컴퓨터재생센터" got the approved
    enterprise's orders (the dict's last row won), and saw them at home."""
    real = make_vendor("한국컴퓨터재생센터", shop_url="https://shop.kr/pc")
    squatter = make_vendor("(주) 한국컴퓨터재생센터", VendorStatus.PENDING, shop_url=None)
    make_vendor("콩세상", VendorStatus.REJECTED, shop_url="https://shop.kr/kong")
    suspended = make_vendor("나눔봉제", VendorStatus.SUSPENDED, shop_url=None)
    assert seller_key(squatter.name) == seller_key(real.name)
    login_as(staff)
    matched = _import(client, "한국컴퓨터재생센터", "콩세상", "shop.kr/kong", "나눔봉제")
    assert matched == {
        "한국컴퓨터재생센터": real.id,
        "콩세상": None,
        "shop.kr/kong": None,
        "나눔봉제": suspended.id,
    }
    client.post("/account/logout")
    login_as(make_vendor_login(squatter))
    home = client.get("/vendor/")
    assert home.status_code == 200
    assert "8,000" not in home.get_data(as_text=True)


def test_a_key_two_live_enterprises_share_matches_nobody_and_the_report_says_so(
    client, login_as, staff
):
    """Shared before the rule existed (written straight into the table):
    the order stays unmatched, and the import page names both enterprises."""
    one = make_vendor("행복플러스", shop_url="https://shop.kr/socks")
    two = make_vendor("(주)행복 플러스", shop_url="https://shop.kr/other")
    three = make_vendor("다시입다", shop_url="https://www.shop.kr/bags")
    four = make_vendor("업사이클링", shop_url="shop.kr/bags/")
    login_as(staff)
    matched = _import(client, "행복플러스", "https://shop.kr/bags", "shop.kr/socks")
    assert matched == {"행복플러스": None, "https://shop.kr/bags": None, "shop.kr/socks": one.id}
    db.session.expire_all()
    job = db.session.scalars(select(CustomerImport).order_by(CustomerImport.id.desc())).first()
    ambiguous = {item["seller"]: item for item in job.report["ambiguous_sellers"]}
    assert set(ambiguous) == {"행복플러스", "https://shop.kr/bags"}
    assert [id_ for id_, _name in ambiguous["행복플러스"]["vendors"]] == [one.id, two.id]
    assert [id_ for id_, _name in ambiguous["https://shop.kr/bags"]["vendors"]] == [
        three.id,
        four.id,
    ]
    assert ambiguous["행복플러스"]["orders"] == 1
    assert ["행복플러스", 1] in job.report["unmatched_sellers"], "still listed as unmatched"
    page = client.get(f"/staff/customers/imports/{job.id}").get_data(as_text=True)
    assert "둘 이상의 기업" in page
    for vendor in (one, two, three, four):
        assert f"/staff/vendors/{vendor.id}" in page


def test_a_name_another_enterprise_has_is_refused_at_sign_up(client):
    make_vendor("한국컴퓨터재생센터", shop_url=None)
    response = client.post(
        "/vendors/register",
        data=registration_form(name="(주) 한국컴퓨터 재생센터", shop_url=""),
    )
    assert response.status_code == 200
    assert NAME_TAKEN in response.get_data(as_text=True)
    assert db.session.scalar(select(Vendor).where(Vendor.name.contains("(주)"))) is None


def test_a_name_another_enterprise_has_is_refused_on_staff_and_pending_edits(staff):
    make_vendor("한국컴퓨터재생센터", shop_url=None)
    pending = make_vendor("새날목공", VendorStatus.PENDING, shop_url=None)
    other = make_vendor("우리밀빵집", shop_url=None)
    taken = "주식회사 한국컴퓨터재생센터"
    with pytest.raises(services.VendorRuleError) as refused:
        services.update_vendor(other, _details(other, name=taken), staff)
    assert "name" in refused.value.errors
    db.session.rollback()
    with pytest.raises(services.VendorRuleError) as refused:
        changes.save_own_profile(pending, _details(pending, name=taken), pending)
    assert "name" in refused.value.errors
    db.session.rollback()
    assert _reload(pending).name == "새날목공" and _reload(other).name == "우리밀빵집"


def test_a_live_enterprise_cannot_ask_for_a_taken_name(client, login_as):
    make_vendor("한국컴퓨터재생센터", shop_url=None)
    vendor = make_vendor("잔다리마을공동체", shop_url=None)
    login_as(make_vendor_login(vendor))
    response = client.post(
        "/vendor/profile", data=_profile_form(vendor, name="한국컴퓨터재생센터(주)")
    )
    assert response.status_code == 200 and NAME_TAKEN in response.get_data(as_text=True)
    assert db.session.scalar(select(VendorChange)) is None


def test_a_name_taken_since_the_request_is_refused_at_approval(client, login_as, staff):
    vendor = make_vendor("잔다리마을공동체", shop_url=None)
    login_as(make_vendor_login(vendor))
    response = client.post("/vendor/profile", data=_profile_form(vendor, name="콩세상"))
    assert response.status_code == 302
    make_vendor("(주)콩세상", shop_url=None)  # registered meanwhile (written straight in)
    client.post("/account/logout")
    login_as(staff)
    response = _decide(client, vendor, "approve")
    assert NAME_TAKEN_AT_APPROVAL in response.get_data(as_text=True)
    assert _reload(vendor).name == "잔다리마을공동체"
    assert db.session.scalar(select(VendorChange)) is not None


def test_a_name_shared_before_the_rule_does_not_stop_other_edits(staff):
    one = make_vendor("행복플러스", shop_url=None)
    two = make_vendor("(주)행복플러스", shop_url=None)
    services.update_vendor(two, _details(two, phone="+821099998888"), staff)
    db.session.commit()
    assert _reload(two).phone == "+821099998888" and _reload(one).name == "행복플러스"
