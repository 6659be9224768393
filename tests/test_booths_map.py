"""The booth map layout: one row wide, two rows on a phone, text that fits,
colour never the only signal."""

from market.booths.maps import COLOURS, EMPTY_FILL, MapBooth, booth_map, text_width, wrap


def test_wide_map_is_one_row_and_the_phone_map_two(app):
    drawn = booth_map(8, [MapBooth(1, "잔다리마을공동체", "food")])
    assert {box.y for box in drawn.wide.boxes} == {8}
    assert len({box.y for box in drawn.narrow.boxes}) == 2
    assert [box.booth.number for box in drawn.narrow.boxes] == list(range(1, 9))
    assert drawn.wide.width > drawn.narrow.width and drawn.narrow.height > drawn.wide.height


def test_every_booth_says_its_category_in_words_and_empty_booths_show(app):
    drawn = booth_map(4, [MapBooth(2, "행복플러스", "clothing", pinned=True)])
    texts = {box.booth.number: [line.text for line in box.lines] for box in drawn.wide.boxes}
    assert texts[2] == ["2 · 고정", "행복플러스", "의류·잡화"]
    assert texts[1] == ["1", "빈 부스"]
    fills = {box.booth.number: box.fill for box in drawn.wide.boxes}
    assert fills[2] == COLOURS["clothing"] and fills[1] == EMPTY_FILL
    assert drawn.description.startswith("1번 부스: 빈 부스. 2번 부스: 행복플러스, 의류·잡화.")
    assert drawn.label == "부스 배치도: 부스 4개 중 1개 배정, 1번 부스가 왼쪽 끝."


def test_long_names_wrap_onto_two_lines_and_squeeze_only_when_needed(app):
    assert wrap("한국컴퓨터재생센터", 5) == ["한국컴퓨터", "재생센터"]
    assert wrap("늘푸른 협동조합", 5) == ["늘푸른", "협동조합"]
    assert wrap("다시입다", 5) == ["다시입다"]
    drawn = booth_map(10, [MapBooth(1, "한국컴퓨터재생센터사회적협동조합", "electronics")])
    name_lines = drawn.narrow.boxes[0].lines[1:-1]
    assert len(name_lines) == 2
    room = drawn.narrow.boxes[0].width - 16
    for line in name_lines:
        assert line.squeeze == room or text_width(line.text, line.size) <= room
