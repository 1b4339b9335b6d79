"""API tokens: "ftk_<prefix>_<secret>", shown once, stored as the SHA-256 of the whole token.

The prefix finds the client (an index lookup); the digest is compared in constant time. A token
carries 256 bits of randomness, so a plain SHA-256 suffices (no password stretching needed).
"""

import hashlib
import hmac
import re
import secrets

TOKEN_RE = re.compile(r"^ftk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str, str]:
    """(token, prefix, digest): the token to show once, what to store."""
    prefix = secrets.token_hex(6)
    token = f"ftk_{prefix}_{secrets.token_urlsafe(32)}"
    return token, prefix, digest(token)


def prefix_of(token: str) -> str | None:
    match = TOKEN_RE.match(token)
    return match.group(1) if match else None


def matches(token: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(token), stored_digest)
