import base64
import re
import time

import pyotp
import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "correct-horse-battery"  # tests/factories.UserFactory's
ADDRESS = "10.0.0.7"


def post_password(client, user, password=PASSWORD, next_url=""):
    data = {"username": user.username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("login"), data, REMOTE_ADDR=ADDRESS)


def post_code(client, code):
    return client.post(reverse("login_code"), {"code": code}, REMOTE_ADDR=ADDRESS)


def authenticator(device: TOTPDevice) -> pyotp.TOTP:
    """The user's authenticator app, as pyotp computes it from the key django-otp keeps (hex)."""
    return pyotp.TOTP(base64.b32encode(device.bin_key).decode())


def authenticator_from_page(html: str) -> pyotp.TOTP:
    """The app a person sets up from the set-up page, by typing the key it shows."""
    key = re.search(r'<p class="app-secret" id="secret-key"><code>([A-Z2-7 ]+)</code>', html).group(1)
    return pyotp.TOTP(key.replace(" ", ""))


def codes_on_page(html: str) -> list[str]:
    return re.findall(r"<li><code>([a-z2-7]{4}-[a-z2-7]{4})</code></li>", html)


def next_step_code(app: pyotp.TOTP) -> str:
    """A code that has not been used yet: the next time step's (within the one step of tolerance)."""
    return app.at(time.time() + 30)


@pytest.fixture
def no_throttle(settings):
    """django-otp waits 1, 2, 4 ... seconds after each wrong code; these tests look at other rules."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def dashboard_status(client) -> int:
    return client.get(reverse("followup:dashboard")).status_code
