"""Every sentence the booth assignment says, in plain Korean, in one place.

Vendors read these on their page and in the confirmation email, and staff read
them on the booth screen, so they are kept short, concrete and checkable: a
vendor can see the numbers its rank came from. Keeping them together makes them
easy to review and, later, to translate (the `Basis` codes stay stable).
"""

from datetime import date


def history(recent_markets: int, recent_no_shows: int) -> str:
    """'최근 8주간 2회 참가하여': the inputs of the rank a vendor can check itself."""
    if recent_markets:
        stem, ending = f"최근 8주간 {recent_markets}회 참가하", "여"
    else:
        stem, ending = "최근 8주간 참가 이력이 없", "어"
    if recent_no_shows:
        return f"{stem}고 최근 6개월간 {recent_no_shows}회 불참하여"
    return stem + ending


def pinned(booth: int) -> str:
    return f"운영자 지정 부스 {booth}번"


def assigned(history_text: str, rank: int, booth: int, over_cap: bool) -> str:
    text = f"{history_text} 우선순위 {rank}위로 {booth}번 부스 배정"
    if over_cap:
        text += " (다른 품목 대기 기업이 없어 같은 품목 상한을 넘겨 배정)"
    return text


def waitlisted_by_rank(history_text: str, rank: int, position: int) -> str:
    return f"{history_text} 우선순위 {rank}위, 부스가 모두 차서 대기 {position}순위"


def waitlisted_by_cap(position: int) -> str:
    return f"같은 품목 부스 상한 초과로 대기 {position}순위"


def not_approved() -> str:
    return "승인되지 않은 기업"


def certification_expired(expiry: date) -> str:
    return f"인증이 만료되어 참가할 수 없습니다 (만료일 {expiry.isoformat()})"


def late() -> str:
    return "신청 마감 후 신청"


def withdrawn(booth: int | None = None) -> str:
    return "참가 신청 철회" if booth is None else f"참가 신청 철회 ({booth}번 부스 반납)"


def pin_refused(booth: int, why: str) -> str:
    return f"{booth}번 부스 지정 불가: {why}"


PIN_UNKNOWN_VENDOR = "이 장터에 신청하지 않은 기업"
PIN_WITHDRAWN = "참가 신청을 철회한 기업"
PIN_VENDOR_TWICE = "같은 기업이 여러 부스에 지정됨"
PIN_BOOTH_TWICE = "같은 부스에 여러 기업이 지정됨"


def pin_out_of_range(booth_count: int) -> str:
    return f"부스 번호는 1~{booth_count}번"


def promoted(freed: int, from_position: int) -> str:
    return f"{freed}번 부스 참가 취소로 대기 {from_position}순위에서 승격하여 {freed}번 부스 배정"


def passed_over_for_neighbours(freed: int, position: int) -> str:
    return f"빈 {freed}번 부스의 이웃 부스와 품목이 같아 대기 {position}순위"


def moved_up_after_promotion(position: int) -> str:
    return f"앞 순위 기업의 승격으로 대기 {position}순위"


def moved_up_after_withdrawal(position: int) -> str:
    return f"앞 순위 기업의 철회로 대기 {position}순위"


# -- staff changes after the assignment is confirmed (market.booths.changes) -------------------

PIN_DECLINED = "운영자가 참가를 거절한 기업"


def moved_by_staff(from_booth: int, to_booth: int) -> str:
    return f"운영자가 {from_booth}번에서 {to_booth}번 부스로 옮겨 배정"


def swapped_by_staff(from_booth: int, to_booth: int) -> str:
    return f"운영자가 {from_booth}번 부스와 {to_booth}번 부스를 맞바꿔 {to_booth}번 부스 배정"


def unassigned_by_staff(booth: int, position: int) -> str:
    return f"운영자가 {booth}번 부스 배정을 취소하여 대기 {position}순위"


def added_by_staff(booth: int, from_position: int) -> str:
    return f"운영자가 대기 {from_position}순위에서 {booth}번 부스에 배정"
