"""The order import's fast path for the common CSV row
(market.customers.fast_rows) stages exactly what parse_row and
staging.staged do with the same row, and leaves every row it cannot vouch
for, every bad row among them, to parse_row, which names the problem."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from market.customers.fast_rows import KEYS, FastRows
from market.customers.rows import BadRow, Limits, parse_row
from market.customers.samples import order_rows
from market.customers.staging import staged
from market.timeutil import SEOUL, utcnow


def _today():
    return utcnow().astimezone(SEOUL).date()


def _good(**changes) -> dict:
    row = {
        "order_no": "GM-1",
        "ordered_at": f"{_today() - timedelta(days=3)} 10:05",
        "buyer_name": "김민준",
        "email": "kim@example.com",
        "phone": "010-1234-5678",
        "seller": "행복플러스",
        "product": "수면 양말",
        "amount": "12,000",
        "marketing_consent": "Y",
        "consent_at": "2026-01-05",
    }
    return {**row, **changes}


def _compare(fast: FastRows, limits: Limits, line: int, row: dict, keys=KEYS):
    """Both paths on one row: the fast one takes it only as parse_row would."""
    values = [row[key] for key in keys]
    slow = parse_row(line, dict(zip(keys, values, strict=True)), limits)
    quick = fast(line, values)
    if isinstance(slow, BadRow):
        assert quick is None, (row, slow.problems)
    elif quick is not None:
        assert quick == staged(slow), row
    return quick


@pytest.fixture
def checker(app):
    with app.test_request_context():  # parse_row words problems in the request's language
        limits = Limits.now()
        yield FastRows(list(KEYS), limits), limits


def test_the_exports_rows_take_the_fast_path_and_stage_the_same(checker):
    fast, limits = checker
    end = datetime.combine(_today(), datetime.min.time(), tzinfo=UTC)
    sellers = ["행복플러스", "푸른농장", "동네가게"]
    for line, values in enumerate(order_rows(3000, sellers, end, seed=3, customers=200), start=2):
        row = dict(zip(KEYS, values, strict=True))
        assert _compare(fast, limits, line, row) is not None, row


def test_columns_in_another_order_are_read_by_name(checker):
    _fast, limits = checker
    keys = list(reversed(KEYS))
    fast = FastRows(keys, limits)
    assert fast.usable
    assert _compare(fast, limits, 2, _good(), keys) is not None


@pytest.mark.parametrize(
    "keys",
    [
        [key for key in KEYS if key != "phone"],  # an optional column left out
        [*KEYS, None],  # a column the import does not know
        [*KEYS, "email"],  # a column named twice
    ],
)
def test_a_file_of_another_shape_is_left_to_parse_row(app, keys):
    with app.test_request_context():
        assert not FastRows(keys, Limits.now()).usable


TOMORROW = _today() + timedelta(days=1)
TRICKY = {
    "ordered_at": [
        "2026-11-26 10:00:59",
        "2026-11-26 10:60",
        "2026-11-26 10:00:60",
        "2026-11-26 24:00",
        "2026-02-30 10:00",
        "2026-11-26T10:00",
        "2026/11/26 10:00",
        " 2026-11-26 10:00",
        "2026-11-26 10:00 ",
        "2026-11-26  9:05",
        "2026-11-26 9:05",
        "2026- 1-26 10:00",
        "2026-11-26 10:05:07.5",
        "2026-11-26",
        "",
        "1999-12-31 23:59",
        "2000-01-01 00:00",
        f"{TOMORROW} 23:59:59",
        f"{TOMORROW + timedelta(days=1)} 00:00",
        "2999-01-01 00:00",
        "\u0662\u0660\u0662\u0666-11-26 10:00",
        "２０２６-11-26 10:00",
        "2026-11-26 10:0５",
        "2026-11-26 10:00\n",
    ],
    "email": [
        "Kim@Example.COM",
        " kim@example.com ",
        "kim@example.com\u200b",
        "a@localhost",
        "kim@example.test",
        "김철수@x.kr",
        "kim@bücher.de",
        "a,b@x.kr",
        "",
        "x" * 250 + "@a.kr",
    ],
    "phone": [
        "",
        " ",
        "010 1234 5678",
        "01012345678",
        "+82 10-1234-5678",
        "02-123-4567",
        "010-1234-567",
        "０１０-1234-5678",
        "010-1234-5678 ",
        "010-1234-5678\t",
    ],
    "amount": [
        "12000",
        "12,000원",
        " 12000",
        "0",
        "100,000,000",
        "100000001",
        "1,2,3",
        "-5",
        "12000.0",
        "",
    ],
    "marketing_consent": ["y", " Y", "yes", "동의", "N", "", "maybe"],
    "consent_at": [
        "",
        "  ",
        " 2026-01-05",
        "2026.01.05",
        "2026-01-05 10:00",
        "1999-01-01",
        "bad",
    ],
    "order_no": ["", "  GM-2 ", "a\\b", "a\tb", "GM\x00", "\u3000GM", "G" * 64, "G" * 65],
    "buyer_name": ["", " 김 ", "김\\", "김\n민준", "\u202e김", "김" * 100, "김" * 101],
    "seller": ["", "행복\\플러스", "행" * 101],
    "product": ["", "  ", "양말\\", "p" * 200, "p" * 201],
}
CASES = [(key, value) for key, values in TRICKY.items() for value in values]


@pytest.mark.parametrize("consent", ["Y", "N"])
@pytest.mark.parametrize(("key", "value"), CASES)
def test_tricky_values_stage_as_parse_row_would(checker, key, value, consent):
    fast, limits = checker
    row = _good(marketing_consent=consent, **{key: value}) if key != "marketing_consent" else None
    _compare(fast, limits, 5, row or _good(marketing_consent=value))


def test_a_backslash_is_escaped_for_copy(checker):
    fast, limits = checker
    quick = _compare(fast, limits, 5, _good(product="양말\\2"))
    assert quick is not None and quick.fields.endswith("\t양말\\\\2")


PIECES = ["2026-11-26 10:00", "12,000", "Y", "N", "010-1234-5678", "a@b.kr", " ", "\\", ""]


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    changes=st.dictionaries(
        st.sampled_from(KEYS),
        st.one_of(st.sampled_from(PIECES), st.text(max_size=20)),
        max_size=4,
    )
)
def test_any_row_stages_as_parse_row_would(checker, changes):
    fast, limits = checker
    _compare(fast, limits, 9, _good(**changes))
