"""Korean subjects read back in mail readers exactly as written."""

import pytest

from market.outbox.mime import build_message, parse

SUBJECTS = (
    "[굿모닝장터] 잔다리마을공동체 기업 정보 변경이 반려되었습니다",
    "[굿모닝장터] 잔다리마을공동체 참여기업 등록이 반려되었습니다",
    "[굿모닝장터] 12월 3일(목) 굿모닝장터에 초대합니다 — 경기도 사회적경제지원센터 앞마당 A동",
    "짧은 제목",
    "Plain ASCII subject that is long enough to be folded over more than one line of mail",
)


@pytest.mark.parametrize("subject", SUBJECTS)
def test_a_folded_subject_keeps_every_space(app, subject):
    """The email package's folder split a long Korean subject at a space and
    left it between two encoded words, where readers drop it: the first two
    subjects came back as "…공동체기업…" and "…공동체참여기업…"."""
    raw = build_message("손님 <guest@example.kr>", subject, "본문").as_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert all(len(line) <= 78 for line in head.split("\r\n"))
    assert parse(raw)["Subject"] == subject


def test_a_line_break_in_a_subject_is_folded_onto_one_line(app):
    raw = build_message("guest@example.kr", "부스 배정\r\nBcc: x@evil.example", "본문").as_bytes()
    message = parse(raw)
    assert message["Subject"] == "부스 배정 Bcc: x@evil.example"
    assert message["Bcc"] is None
