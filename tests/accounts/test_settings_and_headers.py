"""The sign-in settings, read from the environment in a fresh interpreter, and the security headers."""

import ast
import re

import pytest
from django.urls import reverse

from tests.test_settings import load_settings, run_manage

KEY = "tracker-test-key-" + "".join(chr(ord("a") + (i * 7) % 26) for i in range(50))


def settings_value(*names, **env):
    import os
    import subprocess
    import sys

    from tests.test_settings import ROOT

    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL", "MFA_REQUIRED"}}
    clean.update({"SECRET_KEY": KEY, **env})
    code = f"import clinic.settings as s; print(*[repr(getattr(s, n)) for n in {names!r}], sep='|')"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True)
    return result


def test_a_second_factor_is_required_of_everyone_by_default_when_debug_is_off():
    assert settings_value("MFA_REQUIRED", DEBUG="0").stdout.strip() == "True"
    assert settings_value("MFA_REQUIRED", DEBUG="1").stdout.strip() == "False"
    assert settings_value("MFA_REQUIRED", DEBUG="0", MFA_REQUIRED="0").stdout.strip() == "False"


def test_the_demo_exemption_is_refused_outside_the_demo():
    result = load_settings(SECRET_KEY=KEY, DEBUG="0", DEMO_ACCOUNTS_WITHOUT_MFA="1")
    assert result.returncode != 0
    assert "DEMO_ACCOUNTS_WITHOUT_MFA is for the demo only: it needs DEBUG=1." in result.stderr
    assert load_settings(DEBUG="1", DEMO_ACCOUNTS_WITHOUT_MFA="1").returncode == 0


def test_single_sign_on_settings_are_checked_at_start():
    half = load_settings(SECRET_KEY=KEY, OIDC_ISSUER="https://idp.example")
    assert half.returncode != 0 and "OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are needed too" in half.stderr
    nobody = load_settings(SECRET_KEY=KEY, LOCAL_LOGIN="0")
    assert nobody.returncode != 0 and "nobody could log in" in nobody.stderr
    full = settings_value(
        "OIDC_DISCOVERY_URL",
        "CONTENT_SECURITY_POLICY",
        OIDC_ISSUER="https://login.example.nhs.uk/realms/staff",
        OIDC_CLIENT_ID="tracker",
        OIDC_CLIENT_SECRET="s",
    )
    discovery, csp = (ast.literal_eval(value) for value in full.stdout.strip().split("|"))
    assert discovery == "https://login.example.nhs.uk/realms/staff/.well-known/openid-configuration"
    # Logging out is a form whose answer redirects to the provider: the policy lets that one origin in.
    assert csp["DIRECTIVES"]["form-action"] == ["'self'", "https://login.example.nhs.uk"]


def test_hsts_subdomains_and_preload_are_opt_in():
    off = settings_value("SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", DEBUG="0")
    assert off.stdout.strip() == "False|False"
    on = settings_value(
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SILENCED_SYSTEM_CHECKS",
        DEBUG="0",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="1",
        SECURE_HSTS_PRELOAD="1",
    )
    assert on.stdout.strip() == "True|True|[]"


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"SECURE_HSTS_INCLUDE_SUBDOMAINS": "1", "SECURE_HSTS_PRELOAD": "1"},
        {"OIDC_ISSUER": "https://idp.example", "OIDC_CLIENT_ID": "t", "OIDC_CLIENT_SECRET": "s", "LOCAL_LOGIN": "0"},
    ],
)
def test_the_deploy_check_is_clean(extra):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=KEY,
        DEBUG="0",
        SECURE_SSL_REDIRECT="1",
        DJANGO_ALLOW_ASYNC_UNSAFE="",
        ALLOWED_HOSTS="tracker.example",
        **extra,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout


@pytest.mark.django_db
def test_every_page_sends_a_permissions_policy_that_allows_no_powerful_feature(client, nurse):
    for response in (client.get(reverse("login")), client.get("/health")):
        policy = response["Permissions-Policy"]
        for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
            assert feature in policy
    client.force_login(nurse)
    assert "camera=()" in client.get(reverse("followup:dashboard"))["Permissions-Policy"]


@pytest.mark.django_db
def test_hsts_header_has_no_subdomains_or_preload_unless_asked(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = False
    settings.SECURE_HSTS_PRELOAD = False
    plain = client.get(reverse("login"), secure=True)["Strict-Transport-Security"]
    assert plain == "max-age=31536000"
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    full = client.__class__().get(reverse("login"), secure=True)["Strict-Transport-Security"]
    assert full == "max-age=31536000; includeSubDomains; preload"


def test_the_readme_configuration_table_lists_every_setting_read_from_the_environment():
    from tests.test_settings import ROOT

    source = (ROOT / "clinic" / "settings.py").read_text()
    names = set(re.findall(r'(?:os\.environ\.get|env_bool|env_int|env_list)\(\s*"([A-Z_0-9]+)"', source))
    names |= set(re.findall(r'os\.environ\["([A-Z_0-9]+)"\]', source))
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Configuration") : readme.index("\n## ", readme.index("## Configuration"))]
    assert {"LOCAL_LOGIN", "MFA_REQUIRED", "OIDC_ISSUER", "OIDC_USER_CLAIM", "SECURE_HSTS_PRELOAD"} <= names
    assert sorted(name for name in names if f"| `{name}` |" not in table) == []
