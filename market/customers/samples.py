"""Believable order exports for the demo, the tests and the benchmark.

Deterministic for a given seed; writes row by row, so a million rows never
sit in memory."""

import csv
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

KOREAN_HEADER = [
    "주문번호",
    "주문일자",
    "구매자명",
    "구매자이메일",
    "구매자연락처",
    "판매자",
    "상품명",
    "결제금액",
    "마케팅수신동의",
    "동의일자",
]
FAMILY = "김이박최정강조윤장임한오서신권황안송류홍"
GIVEN = [
    "민준",
    "서연",
    "도윤",
    "지우",
    "하준",
    "서윤",
    "은우",
    "지민",
    "시우",
    "하은",
    "예준",
    "수아",
    "주원",
    "지아",
    "유진",
    "채원",
    "현우",
    "다은",
    "지호",
    "소율",
]
PRODUCTS = [
    "유기농 두유 24팩",
    "수면 양말 5켤레",
    "재생 노트북",
    "수제 비누 세트",
    "콩물 1L",
    "친환경 수세미",
    "들기름 350ml",
    "천연 염색 스카프",
    "재생 데스크톱",
    "잡곡 선물세트",
]


def order_rows(
    count: int, sellers: Sequence[str], end: datetime, seed: int = 7, customers: int | None = None
):
    """Yields rows as lists in KOREAN_HEADER order."""
    rng = random.Random(seed)
    customers = customers or max(count // 8, 1)
    for n in range(count):
        buyer = rng.randrange(customers)
        rng_buyer = random.Random(seed * 1_000_003 + buyer)
        name = rng_buyer.choice(FAMILY) + rng_buyer.choice(GIVEN)
        consent = rng_buyer.random() < 0.7
        ordered = end - timedelta(minutes=rng.randrange(60 * 24 * 540))
        consent_at = ordered - timedelta(days=rng_buyer.randrange(1, 400))
        yield [
            f"GM{seed:02d}{n:09d}",
            ordered.strftime("%Y-%m-%d %H:%M"),
            name,
            f"buyer{buyer}@example.com",
            f"010-{rng_buyer.randrange(2000, 9999)}-{rng_buyer.randrange(1000, 9999)}",
            rng.choice(sellers),
            rng.choice(PRODUCTS),
            f"{rng.randrange(5, 300) * 1000:,}",
            "Y" if consent else "N",
            consent_at.strftime("%Y-%m-%d") if consent else "",
        ]


def write_order_file(
    path: Path,
    count: int,
    sellers: Sequence[str],
    end: datetime,
    seed: int = 7,
    encoding: str = "utf-8-sig",
    customers: int | None = None,
) -> Path:
    with Path(path).open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(KOREAN_HEADER)
        for row in order_rows(count, sellers, end, seed, customers):
            writer.writerow(row)
    return Path(path)
