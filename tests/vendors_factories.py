"""Factories for enterprises and applications, shared by the vendor tests."""

import itertools
from datetime import date, timedelta

from market.accounts.models import Role, User
from market.extensions import db
from market.timeutil import SEOUL, utcnow
from market.validators import business_check_digit
from market.vendors.models import (
    Application,
    ApplicationStatus,
    Category,
    EnterpriseType,
    Vendor,
    VendorStatus,
)
from tests.helpers import PASSWORD

_serial = itertools.count(1)


def valid_business_number(first_nine: str | None = None) -> str:
    first_nine = first_nine or f"{305810000 + next(_serial)}"  # apart from the fixed test numbers
    return f"{first_nine}{business_check_digit(first_nine)}"


def today() -> date:
    return utcnow().astimezone(SEOUL).date()


def make_vendor(
    name: str = "잔다리마을공동체", status: VendorStatus = VendorStatus.APPROVED, **changes
) -> Vendor:
    values = {
        "business_number": valid_business_number(),
        "enterprise_type": EnterpriseType.VILLAGE,
        "cert_issuer": "경기도",
        "cert_number": "2021-12",
        "cert_issued_on": today() - timedelta(days=700),
        "cert_expires_on": None,
        "category": Category.FOOD,
        "description": "우리 콩으로 만든 두유와 콩 가공식품",
        "shop_url": "https://shop.example.kr/jandari",
        "contact_name": "박담당",
        "phone": "+821012345678",
        "email": f"contact{next(_serial)}@vendor.example.kr",
        "status_reason": None if status in ("pending", "approved") else "사유",
    }
    values.update(changes)
    vendor = Vendor(name=name, status=VendorStatus(status), **values)
    db.session.add(vendor)
    db.session.commit()
    return vendor


def make_vendor_login(vendor: Vendor, email: str | None = None) -> User:
    user = User(
        email=email or f"login{next(_serial)}@vendor.example.kr",
        name=vendor.contact_name,
        role=Role.VENDOR,
        vendor_id=vendor.id,
    )
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()
    return user


def make_application(vendor, market, status=ApplicationStatus.APPLIED, note=None) -> Application:
    application = Application(vendor_id=vendor.id, market_id=market.id, status=status, note=note)
    db.session.add(application)
    db.session.commit()
    return application


def registration_form(**changes) -> dict:
    data = {
        "name": "행복플러스",
        "business_number": "124-81-00998",
        "enterprise_type": "social",
        "cert_issuer": "고용노동부",
        "cert_number": "2015-123",
        "cert_issued_on": "2015-06-01",
        "cert_expires_on": "",
        "category": "clothing",
        "description": "국내에서 만든 양말",
        "shop_url": "https://shop.example.kr/happy",
        "contact_name": "김행복",
        "phone": "010-2345-6789",
        "email": "happy@vendor.example.kr",
        "password": "long-password-1",
        "confirm": "long-password-1",
    }
    data.update(changes)
    return data
