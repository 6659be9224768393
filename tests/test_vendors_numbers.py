"""사업자등록번호 checksum and phone numbers (market.validators)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from market.validators import (
    BusinessNumberError,
    PhoneError,
    business_check_digit,
    business_number_valid,
    format_business_number,
    format_phone,
    parse_business_number,
    parse_phone,
)

VALID = ["124-81-00998", "220-81-62517", "116-82-00276"]


@pytest.mark.parametrize("number", VALID)
def test_known_numbers_pass_with_or_without_hyphens(number):
    digits = number.replace("-", "")
    assert business_number_valid(digits)
    assert parse_business_number(number) == digits
    assert parse_business_number(digits) == digits
    assert parse_business_number(f" {number.replace('-', ' ')} ") == digits
    assert format_business_number(digits) == number


@pytest.mark.parametrize(
    "text",
    [
        "123-45-67890",  # wrong check digit
        "000-00-00000",  # all zero (its checksum would pass)
        "0000000000",
        "124-81-0099",  # nine digits
        "124-81-009980",  # eleven
        "124-81-0099a",
        "１２４８１００９９８",  # full-width digits
        "",
    ],
)
def test_invalid_numbers_are_refused(text):
    assert not business_number_valid(text.replace("-", ""))
    with pytest.raises(BusinessNumberError):
        parse_business_number(text)


def test_the_ninth_digit_counts_twice():
    """The tens digit of (9th digit × 5) is added: 124-81-00998 has 9 × 5 = 45 → 4."""
    assert business_check_digit("124810099") == 8


nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9).filter(
    lambda digits: digits != "000000000"
)


@given(nine_digits)
def test_every_number_with_the_right_check_digit_passes(first_nine):
    assert business_number_valid(f"{first_nine}{business_check_digit(first_nine)}")


@given(nine_digits, st.integers(0, 9), st.integers(1, 9))
def test_every_single_digit_change_fails(first_nine, position, shift):
    number = f"{first_nine}{business_check_digit(first_nine)}"
    changed = list(number)
    changed[position] = str((int(changed[position]) + shift) % 10)
    assert not business_number_valid("".join(changed))


@pytest.mark.parametrize(
    ("typed", "e164", "shown"),
    [
        ("010-1234-5678", "+821012345678", "010-1234-5678"),
        ("01012345678", "+821012345678", "010-1234-5678"),
        ("+82 10 1234 5678", "+821012345678", "010-1234-5678"),
        ("02-123-4567", "+8221234567", "02-123-4567"),
        ("031-8008-1234", "+82318008", None),
    ],
)
def test_phone_numbers_are_stored_as_e164_and_shown_korean_style(typed, e164, shown):
    stored = parse_phone(typed)
    assert stored.startswith(e164)
    if shown:
        assert format_phone(stored) == shown


@pytest.mark.parametrize("typed", ["", "1234", "010-123-456", "전화번호", "010-1234-5678-9999"])
def test_bad_phone_numbers_are_refused(typed):
    with pytest.raises(PhoneError):
        parse_phone(typed)
