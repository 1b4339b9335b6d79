"""Logging in and staying logged in (issue 12, item 5): the lockout says when it ends, a password
reset lifts it, and the idle allowance counts every request exactly."""

import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from followup import middleware

from .factories import UserFactory

# The lockout says when it ends; a password reset lifts it -------------------------------

PASSWORD = "correct-horse-battery"


def login(client, username, password=PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR="10.0.0.1")


def lock_out(client, user, settings, *, minutes=15):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=minutes)
    for _ in range(3):
        response = login(client, user.username, "wrong")
    assert response.status_code == 429
    return response


@pytest.mark.parametrize(
    ("minutes", "wait"), [(15, "15 minutes"), (1, "1 minute"), (60, "1 hour"), (90, "1 hour 30 minutes")]
)
def test_lockout_page_says_how_long_the_wait_is_and_when_it_ends(client, nurse, settings, minutes, wait):
    response = lock_out(client, nurse, settings, minutes=minutes)
    ends = timezone.localtime(AccessAttempt.objects.get().attempt_time + timedelta(minutes=minutes))
    at = f"{ends:%H:%M}" if ends.date() == timezone.localdate() else f"{ends:%H:%M} on {ends:%-d %b %Y}"
    page = " ".join(response.content.decode().split())
    assert f"Try again after {wait} (at {at})." in page
    assert f"Trying again before then starts the {wait} again." in page


def test_lockout_page_time_moves_with_each_attempt_while_locked(client, nurse, settings):
    lock_out(client, nurse, settings)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=10))
    response = login(client, nurse.username)  # the right password, still locked: the wait starts again
    assert response.status_code == 429
    ends = timezone.localtime(AccessAttempt.objects.get().attempt_time + timedelta(minutes=15))
    assert ends > timezone.localtime() + timedelta(minutes=14)
    assert f"(at {ends:%H:%M})" in response.content.decode()


def test_an_admins_password_reset_lifts_the_lockout(client, nurse, admin_user, settings):
    lock_out(client, nurse, settings)
    assert login(client, nurse.username).status_code == 429
    admin = Client()
    admin.force_login(admin_user)
    reset = admin.post(
        reverse("admin:auth_user_password_change", args=[nurse.pk]),
        {"usable_password": "true", "password1": "a-new-long-passphrase", "password2": "a-new-long-passphrase"},
    )
    assert reset.status_code == 302
    assert AccessAttempt.objects.filter(username=nurse.username).count() == 0
    assert login(client, nurse.username, "a-new-long-passphrase")["Location"] == reverse("followup:dashboard")


def test_any_password_change_lifts_that_users_lockout_only(client, nurse, settings):
    colleague = UserFactory(username="priya", team=nurse.team)
    lock_out(client, nurse, settings)
    lock_out(client, colleague, settings)
    nurse.set_password("a-new-long-passphrase")
    nurse.save()  # as `manage.py changepassword` or the shell would
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["priya"]


def test_the_password_form_says_a_reset_lifts_the_lockout(client, admin_user, nurse):
    client.force_login(admin_user)
    page = client.get(reverse("admin:auth_user_password_change", args=[nurse.pk])).content.decode()
    assert "Setting a new password also lifts any login lockout of this account." in page


# The idle allowance is exact: every request counts ---------------------------------------


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


def test_idle_allowance_counts_from_the_last_request_not_the_last_stamp(client, nurse, clock, one_minute):
    client.force_login(nurse)
    for clock.now in (50, 109, 168, 227):  # each 59 s after the one before: just inside the minute
        assert dashboard(client).status_code == 200, clock.now


def test_idle_allowance_just_outside_logs_out(client, nurse, clock, one_minute):
    client.force_login(nurse)
    clock.now = 50
    assert dashboard(client).status_code == 200
    clock.now = 50 + 61  # 61 s after the last request
    assert logged_out(dashboard(client))
    clock.now += 1
    assert logged_out(dashboard(client))  # really logged out


def test_idle_allowance_from_login_with_no_request_since(client, nurse, clock, one_minute):
    client.force_login(nurse)
    clock.now = 59
    assert dashboard(client).status_code == 200
    client.force_login(nurse)  # a new session: its clock starts again
    clock.now = 59 + 61
    assert logged_out(dashboard(client))


def test_the_last_request_cannot_be_forged_or_moved_to_another_session(client, nurse, clock, one_minute, settings):
    client.force_login(nurse)
    assert dashboard(client).status_code == 200
    client.cookies[middleware.LAST_REQUEST_COOKIE] = f"{clock.start + 1000:.3f}"  # unsigned: ignored
    clock.now = 61
    assert logged_out(dashboard(client))
    other = Client()
    other.force_login(nurse)
    assert dashboard(other).status_code == 200
    client.force_login(nurse)
    client.cookies[middleware.LAST_REQUEST_COOKIE] = other.cookies[middleware.LAST_REQUEST_COOKIE].value
    clock.now = 61 + 61
    assert logged_out(dashboard(client))  # the other session's stamp does not count for this one
