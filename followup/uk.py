"""UK postcodes and telephone numbers: read as people type them, stored and shown one way.

- A postcode is stored in capitals with one space before its last three characters ("ls1 4ab" →
  "LS1 4AB"). The shape is checked, not whether Royal Mail delivers there (the NHS pseudo-postcodes
  "ZZ99 3VZ" and the like have the same shape).
- A phone number is a UK number: digits, spaces, brackets or hyphens, with 0 or +44 in front. It is
  stored as it is read out ("07700 900123", "020 7946 0123", "0113 496 0123"); a ``tel:`` link
  uses its digits (``tel_digits``).

The forms (followup/forms.py) and the caseload import (followup/imports.py) both use these, so
the same words come back whichever way a number arrives.
"""

import re

POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
POSTCODE_ERROR = "Enter a full UK postcode, like LS1 4AB"
PHONE_ERROR = "Enter a UK phone number, like 07700 900123 or 0113 496 0123"
_PHONE_PUNCTUATION = re.compile(r"[\s()\-.]")


def normalise_postcode(text: str) -> str:
    """The postcode in capitals with one space ("ls1 4ab" → "LS1 4AB"), or "" if it is not one."""
    squeezed = re.sub(r"\s+", "", text or "").upper()
    match = POSTCODE.match(squeezed)
    return f"{match.group(1)} {match.group(2)}" if match else ""


def normalise_phone(text: str) -> str:
    """A UK phone number as it is read out ("+44 7700 900123" → "07700 900123"), or "" if it is not one."""
    digits = _PHONE_PUNCTUATION.sub("", text or "")
    if digits.startswith("+44"):
        digits = "0" + digits[3:].removeprefix("0")  # "+44 (0)113..." too
    elif digits.startswith("0044"):
        digits = "0" + digits[4:]
    if not (re.fullmatch(r"0[1-9][0-9]{9}", digits) or re.fullmatch(r"01[0-9]{8}", digits)):
        return ""
    if len(digits) == 10:  # a few small exchanges: 01xxxx xxxx
        return f"{digits[:5]} {digits[5:]}"
    if digits.startswith("02"):  # London, Cardiff...: 020 7946 0123
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    if digits[1] in "389" or (digits[1] == "1" and "1" in digits[2:4]):  # 0300, 0113, 0161: 0113 496 0123
        return f"{digits[:4]} {digits[4:7]} {digits[7:]}"
    return f"{digits[:5]} {digits[5:]}"  # mobiles and most areas: 07700 900123, 01632 960123


def tel_digits(phone: str) -> str:
    """The number for a ``tel:`` link: its digits only ("07700 900123" → "07700900123")."""
    return re.sub(r"[^0-9+]", "", phone or "")
