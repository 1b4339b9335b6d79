"""Personal codes: 12 characters a patient types from a letter, stored only as a SHA-256 digest.

The alphabet leaves out what is easily misread or mistyped: 0 and O, 1, I and L, U and V. 29
characters, 12 of them: about 58 bits from ``secrets``, which no one guesses within a lock-out
(SELF_REPORT_CODE_ATTEMPTS tries per code, SELF_REPORT_ADDRESS_ATTEMPTS per address). A plain
SHA-256 is enough for a random secret this long (no password stretching: nothing to brute-force
from a dictionary). Shown as XXXX-XXXX-XXXX; typed in any case, with or without spaces or hyphens.
"""

import hashlib
import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
LENGTH = 12
# What a person may type around the characters: spaces, hyphens, dashes and dots from a phone keyboard.
SEPARATORS = re.compile(r"[\s\-\u2010-\u2015.]+")
# The longest entry looked at: anything longer is cut before hashing, so the log's key is bounded.
MAX_ENTRY = 40


def new_code() -> str:
    """A fresh code, normalised (12 characters, no hyphens)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(entered: str) -> str:
    """The code as typed, upper case, without spaces or hyphens (not checked against the alphabet)."""
    return SEPARATORS.sub("", entered or "").upper()[:MAX_ENTRY]


def is_well_formed(normalised: str) -> bool:
    return len(normalised) == LENGTH and all(ch in ALPHABET for ch in normalised)


def digest(entered: str) -> str:
    """The SHA-256 (hex) of the normalised entry: the stored code_hash, and the lock-out's key."""
    return hashlib.sha256(normalise(entered).encode()).hexdigest()


def shown(code: str) -> str:
    """XXXX-XXXX-XXXX."""
    code = normalise(code)
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
