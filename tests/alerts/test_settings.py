"""The alerts' and email settings come from the environment, each in .env.example and the README's table."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
NAMES = [
    "EMAIL_BACKEND", "EMAIL_FILE_PATH", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS", "EMAIL_TIMEOUT", "DEFAULT_FROM_EMAIL", "ALERT_DIGEST_TIME", "ALERT_SEND_ATTEMPTS",
    "ALERT_RETRY_SECONDS", "ALERT_REQUEUE_MINUTES",
]  # fmt: skip
CODE = (
    "import clinic.settings as s; print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_USE_TLS, "
    "s.ALERT_DIGEST_AT, s.ALERT_SEND_ATTEMPTS, s.ALERT_RETRY_SECONDS, s.ALERT_REQUEUE_MINUTES)"
)


def run(**extra) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DATABASE_URL", *NAMES}}
    return subprocess.run(
        [sys.executable, "-c", CODE], cwd=ROOT, env=env | {"DEBUG": "1"} | extra, capture_output=True, text=True
    )


def test_the_alert_and_email_settings_come_from_the_environment():
    assert run().stdout.split() == [
        "django.core.mail.backends.filebased.EmailBackend", "localhost", "25", "False", "07:00:00", "6", "60", "60",
    ]  # fmt: skip
    changed = run(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="relay.example", EMAIL_PORT="587",
        EMAIL_USE_TLS="1", ALERT_DIGEST_TIME="06:30", ALERT_SEND_ATTEMPTS="3", ALERT_RETRY_SECONDS="5",
        ALERT_REQUEUE_MINUTES="20",
    )  # fmt: skip
    assert changed.stdout.split() == [
        "django.core.mail.backends.smtp.EmailBackend", "relay.example", "587", "True", "06:30:00", "3", "5", "20",
    ]  # fmt: skip


@pytest.mark.parametrize("value", ["7am", "25:00"])
def test_a_digest_time_that_is_no_time_is_refused(value):
    result = run(ALERT_DIGEST_TIME=value)
    assert result.returncode == 1
    assert f"ALERT_DIGEST_TIME must be a time like 07:00, not {value!r}." in result.stderr


def test_every_alert_and_email_setting_is_documented():
    example = [line.split("=")[0] for line in (ROOT / ".env.example").read_text().splitlines()]
    readme = (ROOT / "README.md").read_text()
    assert [name for name in NAMES if name not in example] == []
    assert [name for name in NAMES if f"| `{name}` |" not in readme] == []
