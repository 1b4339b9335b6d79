import pytest
from django.core.exceptions import ValidationError

from followup.nhs import (
    format_nhs_number,
    nhs_number_error,
    nhs_numbers_in_test_range,
    normalise_nhs_number,
    validate_nhs_number,
)


@pytest.mark.parametrize("value", ["9434765919", "4010232137", "943 476 5919", "943-476-5919", " 9434765919 "])
def test_valid_nhs_numbers_pass(value):
    validate_nhs_number(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("9434765918", "check digit does not match"),
        ("0000000000", "one digit repeated"),
        ("1111111111", "one digit repeated"),
        ("943476591", "exactly 10 digits"),
        ("94347659190", "exactly 10 digits"),
        ("94347A5919", "exactly 10 digits"),
        ("", "exactly 10 digits"),
    ],
)
def test_invalid_nhs_numbers_say_why(value, message):
    with pytest.raises(ValidationError) as excinfo:
        validate_nhs_number(value)
    assert message in excinfo.value.messages[0]


def test_check_digit_of_ten_is_invalid():
    # About one stem in 11 has a computed check digit of 10: no 10th digit makes it valid.
    stem_with_check_ten = next(
        f"999{n:06d}" for n in range(100) if all(nhs_number_error(f"999{n:06d}{d}") for d in range(10))
    )
    assert all(nhs_number_error(f"{stem_with_check_ten}{d}") for d in range(10))


def test_normalise_and_format():
    assert normalise_nhs_number("943 476-5919") == "9434765919"
    assert format_nhs_number("9434765919") == "943 476 5919"
    assert format_nhs_number("12345") == "12345"


def test_demo_numbers_are_valid_distinct_and_in_the_999_range():
    numbers = nhs_numbers_in_test_range(500)
    assert len(set(numbers)) == 500
    assert all(n.startswith("999") and nhs_number_error(n) is None for n in numbers)
    assert nhs_numbers_in_test_range(3) == numbers[:3]
