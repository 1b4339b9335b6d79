"""Accounts, sessions, headers, deny-by-default and the role matrix (issue 6)."""

import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from importlib import import_module
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from followup import choices as c
from followup import middleware
from followup.models import Patient

from .factories import FollowUpItemFactory, PatientFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-battery"


def login(client, username, password=PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR="10.0.0.1")


# Deny by default ----------------------------------------------------------------

# Reachable without logging in, and why.
ALLOWED_ANONYMOUS = {"login", "health", "admin:login"}
# The steps of logging in itself (accounts/): the code and the app's set-up answer only a session whose
# password was right moments ago (tests/accounts/); single sign-on's way out and back (404 until set up);
# logging out (POST only).
ALLOWED_ANONYMOUS |= {
    "login_code",
    "login_set_up",
    "oidc_authentication_init",
    "oidc_authentication_callback",
    "logout",
}
# API endpoints (integration/api.py) take a bearer token, never a session: without one they answer
# 401 in their own format, not a login page. The FHIR CapabilityStatement is public (docs/integration.md).
API_ANONYMOUS = {
    "integration:hl7_v2": 401,
    "integration:fhir_metadata": 200,
    "integration:fhir_patient_search": 401,
    "integration:fhir_patient": 401,
    "integration:fhir_condition_search": 401,
    "integration:fhir_diagnostic_reports": 401,
    # The patient's self-report page (selfreport/): public by design, write-only (tests/selfreport/
    # test_write_only.py); its result page takes a signed token ("1" is none: not found).
    "selfreport:report": 200,
    "selfreport:sent": 404,
}
SAMPLE = {
    "pk": "1",
    "slug": "overdue",
    "kind": "item",
    "object_id": "1",
    "app_label": "followup",
    "content_type_id": "1",
    "model_name": "patient",
    "url": "x",
}


def every_url(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from every_url(entry, ns)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name}" if entry.name else None, entry


def _sample_path(pattern: URLPattern, prefixes) -> str:
    route = str(pattern.pattern)
    route = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: SAMPLE.get(m.group(1), "1"), route)
    return "/" + "".join(prefixes) + route.lstrip("^").rstrip("$").replace("\\Z", "")


def test_every_url_sends_an_anonymous_visitor_to_login(client, patient):
    checked = 0
    for name, pattern in every_url():
        if name in ALLOWED_ANONYMOUS:
            continue
        if name is None or not re.fullmatch(r"[\w:]+", name):
            continue
        try:
            url = reverse(name, kwargs={k: SAMPLE.get(k, "1") for k in pattern.pattern.regex.groupindex})
        except NoReverseMatch:  # noqa: S112 -- admin catch-all patterns have no usable reverse
            continue
        response = client.get(url)
        if name in API_ANONYMOUS:
            assert response.status_code == API_ANONYMOUS[name], (name, url, response.status_code)
            continue
        assert response.status_code in (301, 302), (name, url, response.status_code)
        target = response["Location"]
        assert target.startswith((reverse("login") + "?next=", reverse("admin:login") + "?next=")), (name, target)
        checked += 1
    assert checked > 40


def test_health_is_open_and_says_the_database_is_up(client, db):
    response = client.get("/health")
    assert (response.status_code, response.json()) == (200, {"app": "ok", "database": "ok"})


def test_there_is_no_self_service_sign_up_or_password_reset(client, db):
    for path in ("/accounts/password_reset/", "/accounts/signup/", "/accounts/register/"):
        assert client.get(path).status_code == 404, path


# Lockout ------------------------------------------------------------------------


def test_repeated_failures_lock_that_username_from_that_address_only(client, nurse, settings):
    settings.AXES_FAILURE_LIMIT = 3
    colleague = UserFactory(username="priya", team=nurse.team)
    for _ in range(2):
        assert login(client, nurse.username, "wrong").status_code == 200
    assert login(client, nurse.username, "wrong").status_code == 429  # the third failure locks
    locked = login(client, nurse.username)  # now even the right password is refused
    assert locked.status_code == 429
    assert "Too many failed attempts" in locked.content.decode()
    # Another person on the same address is not locked out.
    assert login(client, colleague.username)["Location"] == reverse("followup:dashboard")
    client.logout()
    # The same person from another address is not locked out either.
    other = client.post(reverse("login"), {"username": nurse.username, "password": PASSWORD}, REMOTE_ADDR="10.0.0.2")
    assert other.status_code == 302


def test_lockout_lifts_after_the_cool_off(client, nurse, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        login(client, nurse.username, "wrong")
    assert login(client, nurse.username).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(minutes=1))
    assert login(client, nurse.username).status_code == 302


def test_lockout_page_is_the_same_for_a_username_that_does_not_exist(client, nurse, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for name in (nurse.username, "nobody-here"):
        for _ in range(2):
            login(client, name, "wrong")
    real, fake = login(client, nurse.username), login(client, "nobody-here")
    assert (real.status_code, fake.status_code) == (429, 429)
    # The page names the time the wait ends ("at 10:57"): the two logins may straddle a minute.
    clock = re.compile(rb"\b\d\d:\d\d\b")
    assert clock.search(real.content)
    assert clock.sub(b"HH:MM", real.content) == clock.sub(b"HH:MM", fake.content)


# Sessions ---------------------------------------------------------------------------


def _age_session(client, **seconds_ago):
    session = client.session
    for key, ago in seconds_ago.items():
        session[key] = time.time() - ago
    session.save()


def test_idle_session_is_logged_off(client, nurse, settings, monkeypatch):
    client.force_login(nurse)
    assert client.get(reverse("followup:dashboard")).status_code == 200
    later = time.time() + settings.SESSION_IDLE_TIMEOUT.total_seconds() + 5
    monkeypatch.setattr(middleware, "clock", lambda: later)
    response = client.get(reverse("followup:dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert client.get(reverse("followup:dashboard")).status_code == 302  # really logged out


def test_session_ends_after_its_maximum_length_even_when_active(client, nurse, settings):
    client.force_login(nurse)
    _age_session(client, started_at=settings.SESSION_MAX_AGE.total_seconds() + 5, last_seen=10)
    response = client.get(reverse("followup:dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_active_session_within_limits_carries_on(client, nurse):
    client.force_login(nurse)
    _age_session(client, last_seen=60 * 5, started_at=60 * 60 * 3)
    assert client.get(reverse("followup:dashboard")).status_code == 200


def test_logout_ends_the_session_on_the_server(client, nurse):
    client.force_login(nurse)
    key = client.session.session_key
    client.post(reverse("logout"))
    assert not Session.objects.filter(session_key=key).exists()


def test_sessions_are_kept_in_the_database(settings):
    # Several app servers behind one load balancer: a session must not live in one process.
    engine = import_module(settings.SESSION_ENGINE)
    assert issubclass(engine.SessionStore, DatabaseSessionStore)


def test_a_session_from_one_server_is_read_from_the_database_by_another(client, nurse, settings):
    assert login(client, nurse.username).status_code == 302
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert Session.objects.get(session_key=key).get_decoded()["_auth_user_id"] == str(nurse.pk)
    # Another server: nothing in common with the first but the cookie and the database.
    other = Client()
    other.cookies[settings.SESSION_COOKIE_NAME] = key
    assert other.get(reverse("followup:dashboard")).context["user"] == nurse
    # The database is the only copy: without its row, the session is gone everywhere.
    Session.objects.filter(session_key=key).delete()
    response = client.get(reverse("followup:dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_deactivating_a_user_ends_their_access(client, nurse):
    client.force_login(nurse)
    nurse.is_active = False
    nurse.save()
    response = client.get(reverse("followup:dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_password_validators_refuse_weak_passwords(nurse):
    for weak in ("password", "12345678", "short", nurse.username):
        with pytest.raises(ValidationError):
            validate_password(weak, user=nurse)
    validate_password("a-long-unusual-passphrase", user=nurse)


# Headers ------------------------------------------------------------------------------


def test_signed_in_pages_are_not_stored_and_have_a_strict_csp(client, nurse, patient):
    client.force_login(nurse)
    for url in (reverse("followup:patient_detail", args=[patient.pk]), reverse("followup:dashboard")):
        response = client.get(url)
        assert "no-store" in response["Cache-Control"], url
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response["X-Frame-Options"] == "DENY"


def test_no_template_has_inline_script():
    inline = []
    for path in (ROOT / "templates").rglob("*.html"):
        for tag in re.findall(r"<script\b[^>]*>", path.read_text()):
            if "src=" not in tag:
                inline.append((path.name, tag))
    assert inline == []


def test_production_settings_pass_check_deploy():
    test_only = {"DEBUG", "SECURE_SSL_REDIRECT", "DJANGO_ALLOW_ASYNC_UNSAFE", "PLAIN_STATIC_STORAGE"}
    env = {k: v for k, v in os.environ.items() if k not in test_only}
    env.update(
        DEBUG="0", SECRET_KEY="x" * 20 + "-production-like-key-" + "y" * 30, ALLOWED_HOSTS="followup.example.nhs.uk"
    )
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# Error pages --------------------------------------------------------------------------


def test_not_found_page_is_nhs_style_without_details(client, nurse):
    client.force_login(nurse)
    response = client.get("/patients/999999/")
    body = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in body and "nhsuk-header" in body and "Traceback" not in body


def test_forbidden_page_for_a_read_only_clinician(client, nurse, patient):
    clinician = UserFactory(team=nurse.team, role=c.Role.CLINICIAN)
    client.force_login(clinician)
    response = client.get(reverse("followup:item_add", args=[patient.pk]))
    assert response.status_code == 403
    assert "You cannot do this" in response.content.decode()


def test_server_error_page_hides_the_error(client, nurse, monkeypatch):
    client.force_login(nurse)
    client.raise_request_exception = False

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("followup.worklists.Worklist.counts", broken)
    response = client.get(reverse("followup:dashboard"))
    body = response.content.decode()
    assert response.status_code == 500
    assert "problem with the service" in body and "secret internals" not in body and "Traceback" not in body


# Role matrix ---------------------------------------------------------------------------

ROLES = ("nurse", "clinician", "admin")
# capability: who may (the others get 403)
MATRIX = {
    "view patient": {"nurse", "clinician", "admin"},
    "edit": {"nurse", "admin"},
    "export": {"nurse", "clinician", "admin"},
    "import": {"admin"},
    "reassign named nurse": {"admin"},
    "admin site": {"admin"},
}


@pytest.fixture
def people(nurse, admin_user):
    return {
        "nurse": nurse,
        "clinician": UserFactory(team=nurse.team, role=c.Role.CLINICIAN, username="sam"),
        "admin": admin_user,
    }


def _attempt(client, capability, patient):
    item = FollowUpItemFactory(patient=patient, due_on=timezone.localdate() + timedelta(days=30))
    if capability == "view patient":
        return client.get(reverse("followup:patient_detail", args=[patient.pk])).status_code
    if capability == "edit":
        return client.post(
            reverse("followup:item_book", args=[item.pk]),
            {"version": item.version, "booked_for": item.due_on.isoformat()},
        ).status_code
    if capability == "export":
        response = client.get(reverse("followup:report_line_list", args=["follow-up-items"]), {"export": "csv"})
        return response.status_code
    if capability == "import":
        return client.get(reverse("followup:import_upload")).status_code
    if capability == "reassign named nurse":
        return client.get(reverse("followup:patient_reassign", args=[patient.pk])).status_code
    if capability == "admin site":
        response = client.get(reverse("admin:followup_patient_changelist"))
        return 403 if response.status_code == 302 else response.status_code  # admin bounces non-staff to its login
    raise AssertionError(capability)


@pytest.mark.parametrize("capability", list(MATRIX))
@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(client, people, patient, capability, role):
    client.force_login(people[role])
    status = _attempt(client, capability, patient)
    expected_ok = role in MATRIX[capability]
    assert (status in (200, 302)) is expected_ok, (role, capability, status)
    if not expected_ok:
        assert status == 403


def test_edit_by_a_clinician_changes_nothing(client, people, patient):
    client.force_login(people["clinician"])
    item = FollowUpItemFactory(patient=patient)
    client.post(reverse("followup:item_cancel", args=[item.pk]), {"version": 1, "reason": "x"})
    assert Patient.objects.get(pk=patient.pk).version == 1
    item.refresh_from_db()
    assert (item.status, item.version) == ("due", 1)


def test_another_team_is_404_for_every_role_but_admin(client, people, other_nurse):
    theirs = PatientFactory(team=other_nurse.team, named_nurse=other_nurse)
    for role in ("nurse", "clinician"):
        client.force_login(people[role])
        assert client.get(reverse("followup:patient_detail", args=[theirs.pk])).status_code == 404
        assert client.get(reverse("followup:patient_history", args=[theirs.pk])).status_code == 404
    client.force_login(people["admin"])
    assert client.get(reverse("followup:patient_detail", args=[theirs.pk])).status_code == 200


def test_lockout_keys_on_the_client_behind_a_trusted_proxy(client, nurse, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.LOCKOUT_PROXY_COUNT = 1

    def attempt(client_address, password="wrong"):
        return client.post(
            reverse("login"),
            {"username": nurse.username, "password": password},
            REMOTE_ADDR="10.9.9.9",  # the proxy
            HTTP_X_FORWARDED_FOR=f"203.0.113.66, {client_address}",  # the left entry is the client's to forge
        )

    attempt("198.51.100.1")
    assert attempt("198.51.100.1").status_code == 429
    # The same user from another client address behind the same proxy is not locked out.
    assert attempt("198.51.100.2", PASSWORD).status_code == 302


def test_health_is_exempt_from_the_https_redirect(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/health").status_code == 200
    assert client.get(reverse("login")).status_code == 301
