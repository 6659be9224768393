"""Rows for the bench data set, as plain dicts; no database in here.

Everything comes from `random.Random` streams named after the seed and the
table, and every date and timestamp from the anchor day (`Plan.today`), so the
same seed, scale and day always give the same rows. Primary keys are given
explicitly (1..n), so children refer to parents without reading ids back."""

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from market.customers.samples import FAMILY, GIVEN, PRODUCTS
from market.markets.models import MarketStatus
from market.markets.schedule import korean_holidays, thursdays
from market.timeutil import SEOUL
from market.validators import business_check_digit
from market.vendors.models import ApplicationStatus, Category, EnterpriseType, VendorStatus

# Full-size counts (scale 1.0): ten busy years, the size the benchmark targets are set for.
FULL = {
    "markets": 520,  # ten years of Thursdays
    "vendors": 2_000,
    "applications": 60_000,
    "customers": 200_000,
    "orders": 2_000_000,
}
# The smallest sensible set, whatever the scale (the tests use tiny scales).
LEAST = {"markets": 8, "vendors": 150, "applications": 40, "customers": 50, "orders": 200}
FUTURE_SHARE = 0.05  # about half a year of the ten is still ahead

VENUES = (
    ("경기도청", "경기도 수원시 영통구 도청로 30", 10),
    ("경기남부경찰청", "경기도 수원시 팔달구 월드컵로 206", 8),
    ("수원시청", "경기도 수원시 팔달구 효원로 241", 8),
    ("용인시청", "경기도 용인시 처인구 중부대로 1199", 6),
)
NAME_HEADS = ("햇살", "푸른", "늘봄", "다온", "한결", "새날", "들꽃", "온누리", "바른", "모두")
NAME_TAILS = ("협동조합", "공방", "농장", "상회", "마을기업", "자활센터", "식품", "살림")
CATEGORY_WEIGHTS = {
    Category.FOOD: 30,
    Category.FARM: 20,
    Category.HOUSEHOLD: 15,
    Category.CLOTHING: 12,
    Category.ELECTRONICS: 6,
    Category.CRAFTS: 12,
    Category.OTHER: 5,
}
VENDOR_STATUS_WEIGHTS = {
    VendorStatus.APPROVED: 88,
    VendorStatus.PENDING: 5,
    VendorStatus.SUSPENDED: 3,
    VendorStatus.REJECTED: 4,
}
REASONS = {
    VendorStatus.SUSPENDED: "연락 없이 두 번 불참하여 참가를 중지합니다.",
    VendorStatus.REJECTED: "사회적경제기업 인증서를 확인할 수 없습니다.",
}
CANCEL_REASON = "기상 악화로 취소합니다."
DECLINE_REASON = "참가 요건을 충족하지 못했습니다."
UNMATCHED_SELLERS = 40
TAKES_APPLICATIONS = (
    MarketStatus.CLOSED,
    MarketStatus.HELD,
    MarketStatus.ASSIGNED,
    MarketStatus.OPEN,
)  # marketplace sellers that are no vendor of ours


@dataclass(frozen=True)
class Plan:
    seed: int
    scale: float
    today: date
    markets: int
    vendors: int
    applications: int
    customers: int
    orders: int

    @classmethod
    def make(cls, seed: int, scale: float, today: date) -> "Plan":
        if scale <= 0:
            raise ValueError("scale must be positive")
        counts = {k: max(LEAST[k], round(full * scale)) for k, full in FULL.items()}
        return cls(seed=seed, scale=scale, today=today, **counts)

    @property
    def future_markets(self) -> int:
        return max(3, round(self.markets * FUTURE_SHARE))

    def rng(self, name: str) -> random.Random:
        return random.Random(f"bench-{self.seed}-{name}")

    def moment(self, day: date, hour: int = 9) -> datetime:
        """A timestamp in UTC for a local day: the data carries no wall clock."""
        return datetime.combine(day, time(hour), tzinfo=SEOUL).astimezone(UTC)


def _weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _person(rng: random.Random) -> str:
    return rng.choice(FAMILY) + rng.choice(GIVEN)


def _phone(rng: random.Random) -> str:
    return f"+8210{rng.randrange(2000, 9999)}{rng.randrange(1000, 9999)}"


def venue_rows(plan: Plan) -> list[dict]:
    created = plan.moment(plan.today - timedelta(days=3700))
    return [
        {
            "id": number,
            "name": name,
            "address": address,
            "map_url": f"https://map.naver.com/p/search/{name}",
            "booth_spots": spots,
            "created_at": created,
            "updated_at": created,
        }
        for number, (name, address, spots) in enumerate(VENUES, start=1)
    ]


def market_days(plan: Plan) -> list[date]:
    """Thursdays without a public holiday: the newest past ones and the next
    few, `plan.markets` in all, oldest first."""
    future = plan.future_markets
    past = plan.markets - future
    margin = plan.markets // 8 + 10  # weeks lost to holidays
    start = plan.today - timedelta(weeks=past + margin)
    end = plan.today + timedelta(weeks=future + margin)
    holidays = korean_holidays(start, end)
    days = [day for day in thursdays(start, end) if day not in holidays]
    before = [day for day in days if day < plan.today]
    after = [day for day in days if day >= plan.today]
    return before[-past:] + after[:future]


def market_status(index_from_today: int) -> MarketStatus:
    """By position relative to today: -1 is the last market, 0 the next."""
    if index_from_today < -1:
        return MarketStatus.CLOSED
    if index_from_today == -1:
        return MarketStatus.HELD
    if index_from_today == 0:
        return MarketStatus.ASSIGNED
    if index_from_today <= 2:
        return MarketStatus.OPEN
    return MarketStatus.PLANNED


def market_rows(plan: Plan, deadline, ceiling: int, uid_domain: str) -> list[dict]:
    """`deadline(day)` is the app's default deadline rule."""
    rng = plan.rng("markets")
    days = market_days(plan)
    first_future = next((i for i, day in enumerate(days) if day >= plan.today), len(days))
    rows = []
    for index, day in enumerate(days):
        venue_id = index % len(VENUES) + 1
        spots = VENUES[venue_id - 1][2]
        status = market_status(index - first_future)
        cancelled = status in (MarketStatus.CLOSED, MarketStatus.PLANNED) and rng.random() < 0.015
        changed = plan.moment(day - timedelta(days=rng.randrange(1, 30)))
        rows.append(
            {
                "id": index + 1,
                "market_date": day,
                "start_time": time(10),
                "end_time": time(15),
                "venue_id": venue_id,
                "booth_count": min(spots, rng.choice((6, 8, 8, 10))),
                "application_deadline": deadline(day),
                "takings_ceiling": ceiling,
                "status": MarketStatus.CANCELLED if cancelled else status,
                "cancel_reason": CANCEL_REASON if cancelled else None,
                "uid": f"market-{rng.getrandbits(128):032x}@{uid_domain}",
                "sequence": 1 if cancelled else 0,
                "created_at": plan.moment(day - timedelta(days=90)),
                "updated_at": changed,
            }
        )
    return rows


def business_number(index: int) -> str:
    first_nine = f"{110_000_000 + index * 37:09d}"
    return f"{first_nine}{business_check_digit(first_nine)}"


def vendor_name(index: int) -> str:
    head = NAME_HEADS[index % len(NAME_HEADS)]
    tail = NAME_TAILS[(index // len(NAME_HEADS)) % len(NAME_TAILS)]
    return f"{head}{tail} {index + 1:04d}"


def vendor_rows(plan: Plan) -> list[dict]:
    """Vendor 1 is always approved: the bench's vendor login acts for it."""
    rng = plan.rng("vendors")
    rows = []
    for index in range(plan.vendors):
        status = VendorStatus.APPROVED if index == 0 else _weighted(rng, VENDOR_STATUS_WEIGHTS)
        issued = plan.today - timedelta(days=rng.randrange(30, 3650))
        expires = None if rng.random() < 0.6 else issued + timedelta(days=rng.choice((1095, 1825)))
        joined = plan.moment(issued + timedelta(days=rng.randrange(0, 30)))
        kind = rng.choice(list(EnterpriseType))
        rows.append(
            {
                "id": index + 1,
                "name": vendor_name(index),
                "business_number": business_number(index),
                "enterprise_type": kind,
                "cert_issuer": "고용노동부" if kind is EnterpriseType.SOCIAL else "경기도",
                "cert_number": f"{issued.year}-{index + 1:05d}",
                "cert_issued_on": issued,
                "cert_expires_on": expires,
                "category": _weighted(rng, CATEGORY_WEIGHTS),
                "description": "지역에서 만든 제품을 판매하는 사회적경제기업입니다.",
                "shop_url": f"https://shop.example.kr/v{index + 1}" if rng.random() < 0.5 else None,
                "contact_name": _person(rng),
                "phone": _phone(rng),
                "email": f"vendor{index + 1}@bench-vendor.example.kr",
                "status": status,
                "status_reason": REASONS.get(status),
                "status_changed_at": joined,
                "feed_token": f"{rng.getrandbits(192):048x}",
                "created_at": joined,
                "updated_at": joined,
            }
        )
    return rows


def application_rows(plan: Plan, markets: list[dict], vendors: list[dict]) -> list[dict]:
    """Spread evenly over the markets that take applications. Past markets:
    the first approved applicants fill the booths, a few are declined, the
    rest wait. The next market is assigned the same way; open ones are still
    `applied`. Vendor 1 applies to every upcoming market."""
    rng = plan.rng("applications")
    taking = [m for m in markets if m["status"] in TAKES_APPLICATIONS]
    base, extra = divmod(plan.applications, len(taking))
    approved = {v["id"] for v in vendors if v["status"] is VendorStatus.APPROVED}
    rows: list[dict] = []
    for position, market in enumerate(taking):
        wanted = min(base + (position < extra), len(vendors))
        chosen = rng.sample(range(1, len(vendors) + 1), wanted)
        upcoming = market["market_date"] >= plan.today
        if upcoming and 1 not in chosen:
            chosen[0] = 1
        if upcoming:
            chosen.sort(key=lambda vendor_id: vendor_id != 1)
        deadline = market["application_deadline"]
        booths = market["booth_count"]
        for vendor_id in chosen:
            applied = deadline - timedelta(hours=rng.randrange(2, 20 * 24))
            status, reason = ApplicationStatus.APPLIED, None
            if market["status"] is not MarketStatus.OPEN:
                if vendor_id not in approved or rng.random() < 0.05:
                    status, reason = ApplicationStatus.DECLINED, DECLINE_REASON
                elif rng.random() < 0.02:
                    status = ApplicationStatus.WITHDRAWN
                elif booths:
                    status, booths = ApplicationStatus.ASSIGNED, booths - 1
                else:
                    status = ApplicationStatus.WAITLISTED
            decided = applied if status is ApplicationStatus.APPLIED else deadline
            rows.append(
                {
                    "id": len(rows) + 1,
                    "vendor_id": vendor_id,
                    "market_id": market["id"],
                    "status": status,
                    "note": None,
                    "applied_at": applied,
                    "status_changed_at": decided + timedelta(hours=1),
                    "status_reason": reason,
                }
            )
    return rows


def customer_rows(plan: Plan, wording: str) -> Iterator[dict]:
    rng = plan.rng("customers")
    for index in range(plan.customers):
        email = f"buyer{index}@bench-buyer.example.com"
        consent = rng.random() < 0.7
        joined = plan.moment(plan.today - timedelta(days=rng.randrange(1, 3650)))
        unsubscribed = consent and rng.random() < 0.01
        yield {
            "id": index + 1,
            "email": email,
            "email_hash": hashlib.sha256(email.encode()).hexdigest(),
            "name": _person(rng),
            "phone": _phone(rng),
            "consent": consent,
            "consent_at": joined if consent else None,
            "consent_source": "bench-orders.csv" if consent else None,
            "consent_wording": wording if consent else None,
            "unsubscribed_at": joined + timedelta(days=30) if unsubscribed else None,
            "details_as_of": joined,
            "created_at": joined,
        }


def order_rows(plan: Plan, vendor_names: list[str]) -> Iterator[dict]:
    """Ten years of marketplace orders; a few customers buy a lot (the
    ranking has a real top), 8% from sellers that are none of our vendors."""
    rng = plan.rng("orders")
    end = plan.moment(plan.today, hour=0)
    minutes = 3650 * 24 * 60
    for index in range(plan.orders):
        vendor = rng.randrange(len(vendor_names)) if rng.random() < 0.92 else None
        yield {
            "id": index + 1,
            "order_no": f"B{plan.seed:02d}{index:010d}",
            "ordered_at": end - timedelta(minutes=rng.randrange(minutes)),
            "customer_id": int(plan.customers * rng.random() ** 2) + 1,
            "vendor_id": None if vendor is None else vendor + 1,
            "seller_name": vendor_names[vendor]
            if vendor is not None
            else f"다른판매자 {rng.randrange(UNMATCHED_SELLERS) + 1}",
            "product": rng.choice(PRODUCTS),
            "amount": rng.randrange(5, 300) * 1000,
            "import_id": None,
        }
