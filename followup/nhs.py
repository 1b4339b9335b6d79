"""NHS numbers: normalise, validate (modulus 11 via the nhs-number package), format."""

import re

import nhs_number
from django.core.exceptions import ValidationError

_SEPARATORS = re.compile(r"[\s-]+")


def normalise_nhs_number(value: str | None) -> str:
    """Strip spaces and hyphens: what the user typed, as stored (may still be invalid)."""
    return _SEPARATORS.sub("", value or "")


def nhs_number_error(value: str) -> str | None:
    """Why a (normalised) NHS number is not valid, or None when it is."""
    if not value.isdigit() or len(value) != 10:
        return "Enter an NHS number with exactly 10 digits, for example 943 476 5919."
    # The arithmetic passes for 0000000000 and friends; DOMAIN.md rejects them.
    if len(set(value)) == 1:
        return "An NHS number cannot be one digit repeated 10 times."
    if not nhs_number.is_valid(value):
        return "This NHS number is not valid: check the digits (its check digit does not match)."
    return None


def validate_nhs_number(value: str) -> None:
    error = nhs_number_error(normalise_nhs_number(value))
    if error:
        raise ValidationError(error, code="invalid_nhs_number")


def format_nhs_number(value: str) -> str:
    """943 476 5919: the NHS display format. Anything else is shown as it is."""
    if len(value) == 10 and value.isdigit():
        return f"{value[:3]} {value[3:6]} {value[6:]}"
    return value


def nhs_numbers_in_test_range(count: int) -> list[str]:
    """The first ``count`` valid numbers of the 999 test range, in order (demo and test data only)."""
    numbers: list[str] = []
    stem = 0
    while len(numbers) < count:
        if stem > 999_999:
            raise ValueError("The 999 test range holds fewer valid NHS numbers than requested.")
        digits = f"999{stem:06d}"
        check = nhs_number.calculate_checksum(digits)
        number = f"{digits}{check}"
        if check != 10 and not nhs_number_error(number):
            numbers.append(number)
        stem += 1
    return numbers
