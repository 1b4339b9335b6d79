"""Issue 13, item 4: the idle-logoff warning. "Stay signed in" is a request that counts as activity
(the allowance runs from the last request, followup/middleware.py); it needs a signed-in session,
refreshes only its caller's, and every signed-in page carries what the warning needs."""

import time
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from followup import choices as c
from followup import middleware

from . import pages
from .factories import UserFactory

STAY = reverse("stay_signed_in")


@pytest.fixture
def clock(monkeypatch):
    """The sessions' clock, moved by hand: clock.now = seconds since login."""

    class Clock:
        start = time.time()
        now = 0.0

    monkeypatch.setattr(middleware, "clock", lambda: Clock.start + Clock.now)
    return Clock


@pytest.fixture
def one_minute(settings):
    settings.SESSION_IDLE_TIMEOUT = timedelta(minutes=1)


def dashboard(client):
    return client.get(reverse("followup:dashboard"))


def logged_out(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_stay_signed_in_refreshes_the_idle_allowance(client, nurse, clock, one_minute):
    client.force_login(nurse)
    idle = Client()
    idle.force_login(nurse)
    clock.now = 50
    response = client.post(STAY)
    assert (response.status_code, response.json()) == (200, {"seconds_left": 60})
    assert response["Cache-Control"] == "no-store, no-cache, must-revalidate, private"
    clock.now = 50 + 59  # 109 s after login, 59 s after "Stay signed in"
    assert dashboard(client).status_code == 200
    assert logged_out(dashboard(idle))  # the same wait without it: signed out


def test_stay_signed_in_refreshes_only_its_callers_session(client, nurse, priya, clock, one_minute):
    client.force_login(nurse)
    other = Client()
    other.force_login(priya)
    clock.now = 50
    assert client.post(STAY).status_code == 200
    clock.now = 61
    assert logged_out(dashboard(other))
    assert dashboard(client).status_code == 200


def test_stay_signed_in_after_the_allowance_has_run_out_is_signed_out(client, nurse, clock, one_minute):
    client.force_login(nurse)
    clock.now = 61
    response = client.post(STAY)
    assert logged_out(response)
    assert "_auth_user_id" not in client.session
    login = client.get(response["Location"])
    assert [str(m) for m in login.context["messages"]] == ["You were logged out after a period of inactivity."]


def test_stay_signed_in_needs_a_signed_in_session(client):
    response = client.post(STAY)
    assert logged_out(response)


def test_stay_signed_in_is_a_post_with_the_csrf_token(nurse):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(nurse)
    assert browser.post(STAY).status_code == 403  # another site's form cannot keep a session alive
    assert browser.get(STAY).status_code == 405
    dashboard(browser)
    token = browser.cookies["csrftoken"].value
    assert browser.post(STAY, HTTP_X_CSRFTOKEN=token).status_code == 200


def test_a_clinician_may_stay_signed_in(client, nurse):
    """Not a clinical action: the read-only role has a session to keep like everyone else."""
    client.force_login(UserFactory(team=nurse.team, role=c.Role.CLINICIAN))
    assert client.post(STAY).status_code == 200


def test_stay_signed_in_near_the_maximum_length_says_the_time_left(client, nurse, clock, one_minute, settings):
    settings.SESSION_MAX_AGE = timedelta(seconds=100)
    client.force_login(nurse)
    clock.now = 50
    assert client.post(STAY).json() == {"seconds_left": 50}


def test_every_signed_in_page_carries_the_warning_closed(client, nurse, clock, settings):
    settings.SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    settings.SESSION_IDLE_WARNING = timedelta(minutes=2)
    settings.SESSION_MAX_AGE = timedelta(hours=12)
    client.force_login(nurse)
    clock.now = 600
    root = pages.parse(dashboard(client).content.decode())
    dialog = pages.by_id(root, "timeout-warning")
    assert dialog[0] == "dialog" and "open" not in dialog[1]  # never shown without JavaScript
    assert {key: value for key, value in dialog[1].items() if key.startswith("data-")} == {
        "data-seconds-left": "1800",
        "data-idle-seconds": "1800",
        "data-max-seconds": str(12 * 3600 - 600),
        "data-warn-seconds": "120",
        "data-stay-url": STAY,
    }
    assert pages.headings(dialog, 2) == ["You will be signed out soon"]
    assert [pages.text(b) for b in pages.find(dialog, lambda n: n[0] == "button")] == ["Stay signed in", "Sign out"]
    sign_out = pages.find(dialog, lambda n: n[0] == "form")[0]
    assert (sign_out[1]["action"], sign_out[1]["method"]) == (reverse("logout"), "post")
    scripts = [n[1].get("src") for n in pages.find(root, lambda n: n[0] == "script")]
    assert "/static/js/timeout.mjs" in scripts


def test_the_login_page_has_no_warning(client):
    root = pages.parse(client.get(reverse("login")).content.decode())
    assert pages.by_id(root, "timeout-warning") is None
