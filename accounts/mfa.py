"""The second factor of a local sign-in: who needs one, an authenticator app (TOTP) and recovery codes.

django-otp keeps the devices: one confirmed TOTPDevice (the app) and one StaticDevice (the recovery codes,
each used once) per user. Setting up an app replaces any earlier one and makes new recovery codes.
"""

import secrets
from base64 import b32encode
from binascii import unhexlify
from dataclasses import dataclass

from axes.utils import reset as reset_lockout
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .events import record
from .models import Event

APP_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"


def demo_usernames() -> set[str]:
    from followup.demo import USERS

    return {username for username, *_ in USERS}


def needs_second_factor(user) -> bool:
    """Admins and staff always; everyone when MFA_REQUIRED is on; and anyone who has set up an app.

    The demo's own accounts are exempt only when the demo says so (DEMO_ACCOUNTS_WITHOUT_MFA, which the
    settings refuse without DEBUG).
    """
    if settings.DEBUG and settings.DEMO_ACCOUNTS_WITHOUT_MFA and user.username in demo_usernames():
        return False
    return user.is_admin_role or user.is_staff or settings.MFA_REQUIRED or has_app(user)


def app_of(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()


def has_app(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def new_app_key() -> str:
    """A new secret for an authenticator app, hex as django-otp keeps it (20 bytes, as RFC 6238 advises)."""
    return secrets.token_hex(20)


def otpauth_url(user, key: str) -> str:
    """What the QR code holds: the key, the account name and the issuer, as authenticator apps read it."""
    return TOTPDevice(user=user, key=key).config_url


def spaced_secret(key: str) -> str:
    """The key in base32 groups of four, for typing into an app by hand."""
    text = b32encode(unhexlify(key)).decode()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def clean_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


@dataclass(frozen=True)
class Verified:
    recovery_code: bool
    codes_left: int


@dataclass(frozen=True)
class Checked:
    """What a code proved: ``verified`` (None: refused), or ``wait`` seconds to wait first (the device is
    throttled after wrong codes: the code was not tried and is not counted as wrong)."""

    verified: Verified | None = None
    wait: int = 0


def _wait(device) -> int:
    allowed, data = device.verify_is_allowed()
    if allowed or not data or "locked_until" not in data:
        return 0
    return max(1, int((data["locked_until"] - timezone.now()).total_seconds() + 0.999))


@transaction.atomic
def check(user, code: str) -> Checked:
    """The user's app code or one of their recovery codes. Refused: a wrong, reused or expired code. A
    recovery code works once. The device's row is locked while it is checked, so two requests at once
    cannot both use one code or step around the wait after a wrong one."""
    code = clean_code(code)
    if not code:
        return Checked()
    if code.isdigit() and len(code) == 6:
        devices = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("-pk")[:1]
    else:
        devices = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True)
    for device in devices:
        if wait := _wait(device):
            return Checked(wait=wait)
        if device.verify_token(code):
            recovery = isinstance(device, StaticDevice)
            return Checked(Verified(recovery_code=recovery, codes_left=recovery_codes_left(user)))
    return Checked()


def code_fits_key(key: str, code: str) -> int | None:
    """The time step at which ``code`` is right for a new key (one step either side), or None."""
    code = clean_code(code)
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = TOTP(unhexlify(key))
    if totp.verify(int(code), tolerance=1):
        return totp.t()  # the drift found is part of t()
    return None


@transaction.atomic
def set_up_app(user, key: str, step: int, *, request=None) -> list[str]:
    """The user's new app (replacing any earlier one) and new recovery codes, which are returned to be shown
    once. ``step`` is the code's time step: that code cannot be used again to log in."""
    TOTPDevice.objects.filter(user=user).delete()
    TOTPDevice.objects.create(user=user, name=APP_NAME, key=key, confirmed=True, last_t=step)
    codes = _new_recovery_codes(user)
    record(Event.APP_SET_UP, user=user, request=request)
    return codes


@transaction.atomic
def new_recovery_codes(user, *, request=None) -> list[str]:
    codes = _new_recovery_codes(user)
    record(Event.RECOVERY_CODES_NEW, user=user, request=request)
    return codes


def _new_recovery_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(settings.MFA_RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def recovery_code_shown(code: str) -> str:
    """A recovery code as shown: two groups of four, easier to read out and type."""
    return f"{code[:4]}-{code[4:]}"


@transaction.atomic
def reset(user, *, by, request=None) -> None:
    """An admin's reset: the app and recovery codes are gone; the user sets up a new app when they next log
    in (with their password). Lifts any login lockout of the account."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    reset_lockout(username=user.get_username())
    record(Event.APP_RESET, user=user, by=by, request=request)
