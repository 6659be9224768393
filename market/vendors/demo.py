"""Demo enterprises and their applications (idempotent).

Three are real participants of the market (한국컴퓨터재생센터, 행복플러스,
잔다리마을공동체); the rest are made up but typical. Rows are written
directly: demo history, not registrations anyone made, so no logins except
the demo vendor login, which is linked to 잔다리마을공동체."""

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from market.accounts.models import User
from market.extensions import db
from market.markets.models import Market, MarketStatus
from market.timeutil import SEOUL, today_seoul, utcnow
from market.validators import business_check_digit
from market.vendors.models import (
    Application,
    ApplicationStatus,
    Category,
    EnterpriseType,
    Vendor,
    VendorStatus,
)

DEMO_VENDOR_LOGIN = "vendor@demo.market.kr"
DEMO_VENDOR_NAME = "잔다리마을공동체"
T, C = EnterpriseType, Category

# name, first nine digits of the business number, type, category, description,
# shop, contact, certified (years ago), expires (days from today, None: never)
# and status (with reason).
# fmt: off
VENDORS = (
    ("한국컴퓨터재생센터", "124810112", T.SOCIAL, C.ELECTRONICS,
     "기업과 관공서에서 나온 컴퓨터를 정비해 재생 PC와 노트북으로 "
     "판매합니다. 취약계층 일자리를 만들고 전자 폐기물을 줄입니다.",
     "https://minishop.gmarket.co.kr/korea-pc", "이재생", 8, None, None),
    ("행복플러스", "135860231", T.SOCIAL, C.CLOTHING,
     "국내 공장에서 만든 튼튼한 양말을 판매합니다. 발달장애인 "
     "직원들이 포장과 검수를 맡습니다.",
     "https://minishop.gmarket.co.kr/happyplus", "김행복", 6, None, None),
    (DEMO_VENDOR_NAME, "138820345", T.VILLAGE, C.FOOD,
     "마을 주민이 우리 콩으로 직접 만드는 두유, 두부, 콩물과 콩 "
     "과자를 판매합니다.",
     "https://minishop.gmarket.co.kr/jandari", "박참여", 4, 400, None),
    ("늘푸른협동조합", "142810458", T.COOPERATIVE, C.FARM,
     "화성 들녘에서 농약 없이 기른 쌀과 잡곡을 조합원이 함께 도정해 "
     "판매합니다.",
     None, "최늘봄", 5, None, None),
    ("햇살공방", "129860562", T.PRE_SOCIAL_REGIONAL, C.CRAFTS,
     "경력 단절 여성 도예가들이 빚은 생활 도자기와 찻잔을 판매합니다.",
     "https://minishop.gmarket.co.kr/haessal", "정햇살", 3, -45, None),
    ("바른먹거리자활", "214820673", T.SELF_SUFFICIENCY, C.FOOD,
     "지역 자활센터 참여자들이 만드는 수제 반찬과 김치를 판매합니다.",
     None, "한바른", 4, 700, None),
    ("숲속비누협동조합", "220810781", T.COOPERATIVE, C.HOUSEHOLD,
     "식물성 오일로 저온 숙성한 천연 비누와 샴푸바를 판매합니다.",
     "https://minishop.gmarket.co.kr/supsok-soap", "윤숲속", 3, None, None),
    ("다시입다", "116820894", T.SOCIAL_COOPERATIVE, C.CLOTHING,
     "버려지는 현수막과 청바지를 가방과 파우치로 업사이클링합니다.",
     "https://minishop.gmarket.co.kr/dasiipda", "강다시", 2, None, None),
    ("우리밀빵집", "124860905", T.SOCIAL, C.FOOD,
     "국산 우리밀과 천연 발효종으로 매일 굽는 빵과 쿠키를 판매합니다.",
     None, "오우리", 7, None, None),
    ("산들농장영농조합", "135811016", T.VILLAGE, C.FARM,
     "여주 산들마을의 제철 채소와 고구마를 꾸러미로 판매합니다.",
     None, "송산들", 5, 900, None),
    ("온누리커피", "138861127", T.PRE_SOCIAL_MINISTRY, C.FOOD,
     "공정무역 생두를 직접 볶은 원두와 드립백을 판매합니다.",
     "https://minishop.gmarket.co.kr/onnuri-coffee", "임온누", 2, 40, None),
    ("한땀공예", "142821238", T.SELF_SUFFICIENCY, C.CRAFTS,
     "전통 매듭과 자수로 만든 노리개, 책갈피, 열쇠고리를 판매합니다.",
     None, "배한땀", 3, 500, None),
    ("초록살림", "214811349", T.SOCIAL_COOPERATIVE, C.HOUSEHOLD,
     "삼베 수세미, 고체 주방 세제 등 플라스틱을 줄이는 살림살이를 "
     "판매합니다.",
     "https://minishop.gmarket.co.kr/chorok", "조초록", 3, None, None),
    ("행복한밥상", "220861450", T.VILLAGE, C.FOOD,
     "마을 어르신들이 담근 전통 된장, 고추장, 간장을 판매합니다.",
     None, "서밥상", 6, 1200, None),
    ("꿈꾸는재생가전", "116861561", T.SELF_SUFFICIENCY, C.ELECTRONICS,
     "소형 가전과 선풍기를 수리·정비해 보증과 함께 판매합니다.",
     None, "유꿈꾸", 3, 300, None),
    ("모두의텃밭", "124821672", T.COOPERATIVE, C.FARM,
     "유기농 인증을 받은 사과와 배, 과일즙을 판매합니다.",
     "https://minishop.gmarket.co.kr/modu-garden", "문모두", 4, None, None),
    ("나눔봉제", "135821783", T.SELF_SUFFICIENCY, C.CLOTHING,
     "에코백, 앞치마, 장바구니를 주문 제작하고 판매합니다.",
     None, "신나눔", 2, 600, ("suspended", "지난 두 번의 장터에 연락 없이 나오지 않았습니다.")),
    ("들꽃향기", "138811894", T.OTHER, C.HOUSEHOLD,
     "지역 꽃과 허브로 만든 향초와 디퓨저를 판매합니다.",
     None, "권들꽃", 1, None, None),
    ("청춘두부", "142861905", T.PRE_SOCIAL_REGIONAL, C.FOOD,
     "청년 창업팀이 국산 콩으로 만든 손두부와 두부 과자를 판매합니다.",
     None, "황청춘", 0, 1000, ("pending", None)),
    ("새날목공협동조합", "214862016", T.COOPERATIVE, C.CRAFTS,
     "지역 간벌목으로 도마, 수저, 어린이 장난감을 만듭니다.",
     None, "안새날", 0, None, ("pending", None)),
    ("별빛누리상회", "220822127", T.OTHER, C.OTHER,
     "지역 작가들의 엽서와 문구류를 판매합니다.",
     None, "홍별빛", 1, None, ("rejected", "사회적경제기업 인증서를 확인할 수 없습니다.")),
)
# fmt: on

NOTES = (
    "시식용 샘플을 준비합니다.",
    "신제품 시식 코너를 준비합니다.",
    None,
    "전기 콘센트가 필요합니다.",
    "파라솔을 가져갑니다.",
    None,
)
PAST_PER_MARKET = 6


def business_number(first_nine: str) -> str:
    return f"{first_nine}{business_check_digit(first_nine)}"


def seed_vendors() -> list[str]:
    created = []
    today = today_seoul()
    vendors = []
    for row in VENDORS:
        vendor, is_new = _vendor(row, today)
        vendors.append(vendor)
        if is_new:
            created.append(f"vendor {vendor.name} ({vendor.status.value})")
    db.session.flush()
    _link_demo_login(vendors)
    applied = _applications(vendors, today)
    if applied:
        created.append(f"{applied} applications")
    return created


def _vendor(row, today: date) -> tuple[Vendor, bool]:
    name, nine, kind, category, description, shop, contact, years, expires, state = row
    digits = business_number(nine)
    vendor = db.session.scalar(select(Vendor).where(Vendor.business_number == digits))
    if vendor is not None:
        return vendor, False
    status, reason = state or ("approved", None)
    issued = date(today.year - years, 3, 15) if years else today - timedelta(days=20)
    vendor = Vendor(
        name=name,
        business_number=digits,
        enterprise_type=kind,
        cert_issuer="고용노동부" if kind is EnterpriseType.SOCIAL else "경기도",
        cert_number=f"{issued.year}-{nine[:3]}-{nine[5:]}",
        cert_issued_on=issued,
        cert_expires_on=today + timedelta(days=expires) if expires is not None else None,
        category=category,
        description=description,
        shop_url=shop,
        contact_name=contact,
        phone=f"+8210{int(nine) % 9000 + 1000}{nine[-4:]}",
        email=f"contact{nine[5:]}@demo-vendor.kr",
        status=VendorStatus(status),
        status_reason=reason,
    )
    if vendor.cert_expires_on and vendor.cert_expires_on < issued:
        vendor.cert_issued_on = vendor.cert_expires_on - timedelta(days=3 * 365)
    db.session.add(vendor)
    return vendor, True


def _link_demo_login(vendors: list[Vendor]) -> None:
    user = db.session.scalar(select(User).where(User.email == DEMO_VENDOR_LOGIN))
    if user is not None and user.vendor_id is None:
        user.vendor_id = next(v.id for v in vendors if v.name == DEMO_VENDOR_NAME)


def _applications(vendors: list[Vendor], today: date) -> int:
    """Booths at past markets in rotation; applications to the open ones."""
    markets = db.session.scalars(
        select(Market).where(Market.status != MarketStatus.CANCELLED).order_by(Market.market_date)
    ).all()
    existing = set(db.session.execute(select(Application.vendor_id, Application.market_id)))
    approved = [v for v in vendors if v.status is VendorStatus.APPROVED]
    count = 0
    past = [m for m in markets if m.market_date < today]
    for index, market in enumerate(past):
        for k in range(PAST_PER_MARKET):
            vendor = approved[(index * 3 + k) % len(approved)]
            if not vendor.certification_valid_on(market.market_date):
                continue
            count += _add(existing, vendor, market, ApplicationStatus.ASSIGNED, None)
    # Upcoming markets open for applications; once booths are assigned (the
    # booths demo does that for the nearest) a market still counts, so a second
    # run sees the same markets and adds nothing.
    taking = (MarketStatus.OPEN, MarketStatus.ASSIGNED)
    open_markets = [m for m in markets if m.status in taking and m.market_date >= today]
    for index, market in enumerate(open_markets):
        for k, vendor in enumerate(approved):
            if not vendor.certification_valid_on(market.market_date):
                continue
            if vendor.name == DEMO_VENDOR_NAME and index > 0:
                continue  # leave one open market for the demo login to apply to
            if (k + index) % 3 == 2 and vendor.name != DEMO_VENDOR_NAME:
                continue
            note = NOTES[(k + index) % len(NOTES)]
            count += _add(existing, vendor, market, ApplicationStatus.APPLIED, note)
    return count


def _add(existing: set, vendor: Vendor, market: Market, status, note) -> int:
    if (vendor.id, market.id) in existing:
        return 0
    deadline_day = market.application_deadline.astimezone(SEOUL).date()
    when = datetime.combine(
        deadline_day - timedelta(days=3 + vendor.id % 4), time(9 + vendor.id % 8), tzinfo=SEOUL
    )
    # A market open for weeks yet: the application was made in the last
    # days, never after today (the demo is shown as it is today).
    when = min(when, utcnow() - timedelta(hours=2 + vendor.id % 70))
    db.session.add(
        Application(
            vendor_id=vendor.id,
            market_id=market.id,
            status=status,
            note=note,
            applied_at=when,
            status_changed_at=when,
        )
    )
    existing.add((vendor.id, market.id))
    return 1
