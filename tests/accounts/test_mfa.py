"""The second factor: an authenticator app (TOTP, codes computed with pyotp as a phone would) and recovery
codes, at every local login of the people who need it."""

import re
import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import mfa, signin
from accounts.models import Event, SecurityEvent
from followup import choices as c
from tests.factories import UserFactory

from .conftest import (
    authenticator,
    authenticator_from_page,
    codes_on_page,
    dashboard_status,
    post_code,
    post_password,
)


@pytest.fixture
def with_app(admin_user):
    """An admin who set up their app a while ago: their device and their recovery codes."""
    key = mfa.new_app_key()
    codes = mfa.set_up_app(admin_user, key, step=0)
    return admin_user, mfa.app_of(admin_user), codes


@pytest.mark.django_db
def test_an_admin_without_an_app_sets_one_up_by_its_qr_code_and_sees_recovery_codes_once(client, admin_user):
    response = post_password(client, admin_user, next_url="/patients/")
    assert response.status_code == 302 and response["Location"] == reverse("login_set_up")
    assert dashboard_status(client) == 302  # the password alone logs nobody in

    page = client.get(reverse("login_set_up")).content.decode()
    assert '<img src="data:image/svg+xml;base64,' in page and "QR code that adds Breast-care follow-up (chris)" in page
    app = authenticator_from_page(page)

    shown = client.post(reverse("login_set_up"), {"code": app.now()}, REMOTE_ADDR="10.0.0.7")
    assert shown.status_code == 200
    html = shown.content.decode()
    codes = codes_on_page(html)
    assert len(codes) == 10 and "This is the only time you will see them" in html
    assert 'href="/patients/"' in html  # then on to where they were going
    stored = set(StaticToken.objects.filter(device__user=admin_user).values_list("token", flat=True))
    assert stored == {code.replace("-", "") for code in codes}
    device = TOTPDevice.objects.get(user=admin_user)
    assert device.confirmed and device.bin_key.hex() == device.key
    assert dashboard_status(client) == 200
    assert client.session[signin.SIGNED_IN_WITH] == signin.PASSWORD_AND_APP
    assert list(SecurityEvent.objects.filter(user=admin_user).values_list("event", flat=True)) == [
        Event.SIGNED_IN,
        Event.APP_SET_UP,
    ]
    # The codes are never shown again: the account page says how many are left, not which.
    account = client.get(reverse("account")).content.decode()
    assert "<strong>10</strong> recovery codes left" in account and codes[0] not in account


@pytest.mark.django_db
def test_a_wrong_set_up_code_is_refused_beside_the_field_and_sets_nothing_up(client, admin_user, no_throttle):
    post_password(client, admin_user)
    page = client.get(reverse("login_set_up")).content.decode()
    app = authenticator_from_page(page)
    wrong = f"{(int(app.now()) + 1) % 1_000_000:06d}"
    for code, message in [
        (wrong, "The code is wrong or expired. Enter the code the app shows now."),
        ("12345", "Enter the 6 digits the app shows, like 123456"),
        ("", "Enter the 6-digit code from your authenticator app"),
    ]:
        response = client.post(reverse("login_set_up"), {"code": code}, REMOTE_ADDR="10.0.0.7")
        assert response.status_code == 200
        assert f'<span class="nhsuk-u-visually-hidden">Error: </span>{message}</span>' in response.content.decode()
    assert not TOTPDevice.objects.exists() and dashboard_status(client) == 302
    # The same key stays on the page between tries: the app the person added still fits.
    assert client.post(reverse("login_set_up"), {"code": app.now()}, REMOTE_ADDR="10.0.0.7").status_code == 200
    assert TOTPDevice.objects.filter(user=admin_user, confirmed=True).count() == 1


@pytest.mark.django_db
def test_every_login_asks_for_the_code_and_the_right_one_logs_in(client, with_app):
    user, device, _codes = with_app
    response = post_password(client, user, next_url="/patients/")
    assert response["Location"] == reverse("login_code")
    assert dashboard_status(client) == 302
    page = client.get(reverse("login_code")).content.decode()
    assert "Enter the code from your authenticator app" in page
    response = post_code(client, authenticator(device).now())
    assert response.status_code == 302 and response["Location"] == "/patients/"
    assert dashboard_status(client) == 200


@pytest.mark.django_db
def test_wrong_reused_and_expired_codes_are_refused(client, with_app, no_throttle):
    user, device, _codes = with_app
    app = authenticator(device)
    post_password(client, user)
    error = "The code is wrong, used already or expired. Enter the code your app shows now."

    expired = app.at(time.time() - 120)  # four steps ago: outside the one step either side allowed
    wrong = f"{(int(app.now()) + 1) % 1_000_000:06d}"
    for code in (expired, wrong, "abcdef", "12 34"):
        if code in {app.now(), app.at(time.time() - 30), app.at(time.time() + 30)}:
            continue  # a coincidence of six digits: not the case this test is about
        response = post_code(client, code)
        assert response.status_code == 200 and error in response.content.decode(), code
    assert dashboard_status(client) == 302

    right = app.now()
    assert post_code(client, right).status_code == 302
    client.post(reverse("logout"))
    post_password(client, user)
    reused = post_code(client, right)  # the same code again, within its 30 seconds
    assert reused.status_code == 200 and error in reused.content.decode()
    assert dashboard_status(client) == 302
    assert SecurityEvent.objects.filter(user=user, event=Event.WRONG_CODE).count() >= 3


@pytest.mark.django_db
def test_after_a_wrong_code_the_app_waits_before_the_next_try(client, settings, with_app):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60  # a minute after one wrong code: no race with a slow machine
    user, device, _codes = with_app
    app = authenticator(device)
    post_password(client, user)
    post_code(client, f"{(int(app.now()) + 1) % 1_000_000:06d}")
    response = post_code(client, app.now())
    assert re.search(r"Wait (59|60) seconds after a wrong code, then try again.", response.content.decode())
    assert dashboard_status(client) == 302
    # A minute later (the failure moved back in time), the right code is taken.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=timezone.now() - timedelta(seconds=61))
    assert post_code(client, app.now()).status_code == 302


@pytest.mark.django_db
def test_a_recovery_code_logs_in_once(client, with_app, no_throttle):
    user, _device, codes = with_app
    post_password(client, user)
    shown = mfa.recovery_code_shown(codes[0]).upper()  # typed as shown, in capitals: still accepted
    response = post_code(client, shown)
    assert response.status_code == 302
    assert client.session[signin.SIGNED_IN_WITH] == signin.PASSWORD_AND_RECOVERY_CODE
    page = client.get(response["Location"]).content.decode()
    assert "You used a recovery code: it will not work again. You have 9 left." in page
    assert StaticToken.objects.filter(device__user=user).count() == 9
    assert SecurityEvent.objects.filter(user=user, event=Event.RECOVERY_CODE_USED).count() == 1

    client.post(reverse("logout"))
    post_password(client, user)
    again = post_code(client, codes[0])
    assert again.status_code == 200 and dashboard_status(client) == 302


@pytest.mark.django_db
def test_wrong_codes_count_towards_the_lockout_with_wrong_passwords(client, settings, with_app, no_throttle):
    settings.AXES_FAILURE_LIMIT = 4
    user, device, _codes = with_app
    app = authenticator(device)
    assert post_password(client, user, password="not-the-password").status_code == 200  # 1
    post_password(client, user)
    for _ in range(2):  # 2, 3
        assert post_code(client, f"{(int(app.now()) + 1) % 1_000_000:06d}").status_code == 200
    locked = post_code(client, f"{(int(app.now()) + 2) % 1_000_000:06d}")  # 4: locked
    assert locked.status_code == 429 and "Too many failed attempts" in locked.content.decode()
    refused = post_code(client, app.now())  # now even the right code is refused
    assert refused.status_code == 429 and dashboard_status(client) == 302
    assert AccessAttempt.objects.get(username=user.username).failures_since_start >= 4

    # An admin's reset of the app lifts the lockout; the person sets up a new app.
    other_admin = UserFactory(username="sam", team=None, role=c.Role.ADMIN, is_staff=True, is_superuser=True)
    mfa.reset(user, by=other_admin)
    assert not AccessAttempt.objects.filter(username=user.username).exists()
    assert post_password(client, user)["Location"] == reverse("login_set_up")


@pytest.mark.django_db
def test_the_code_step_needs_a_right_password_moments_ago(client, settings, with_app):
    user, device, _codes = with_app
    assert client.get(reverse("login_code"))["Location"] == reverse("login")
    assert client.get(reverse("login_set_up"))["Location"] == reverse("login")
    post_password(client, user)
    session = client.session
    session[signin.PENDING]["at"] -= settings.MFA_PENDING_MINUTES * 60 + 1
    session.save()
    response = post_code(client, authenticator(device).now())
    assert response["Location"] == reverse("login")
    assert "Your login took too long" in client.get(reverse("login")).content.decode()
    assert dashboard_status(client) == 302


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("mfa_required", "role", "asks"),
    [
        (False, c.Role.NURSE, False),
        (False, c.Role.CLINICIAN, False),
        (False, c.Role.ADMIN, True),  # admins always
        (True, c.Role.NURSE, True),
        (True, c.Role.CLINICIAN, True),
    ],
)
def test_who_is_asked_for_a_second_factor(client, settings, team, mfa_required, role, asks):
    settings.MFA_REQUIRED = mfa_required
    user = UserFactory(username="pat", role=role, team=None if role == c.Role.ADMIN else team)
    response = post_password(client, user)
    assert response["Location"] == (reverse("login_set_up") if asks else reverse("followup:dashboard"))
    assert (dashboard_status(client) == 200) is not asks


@pytest.mark.django_db
def test_a_user_who_set_up_an_app_is_asked_for_it_even_where_not_required(client, settings, nurse):
    settings.MFA_REQUIRED = False
    mfa.set_up_app(nurse, mfa.new_app_key(), step=0)
    assert post_password(client, nurse)["Location"] == reverse("login_code")


@pytest.mark.django_db
def test_staff_with_the_admin_site_are_asked_like_admins(client, settings, team):
    settings.MFA_REQUIRED = False
    staff = UserFactory(username="staffer", team=team, role=c.Role.NURSE, is_staff=True)
    assert post_password(client, staff)["Location"] == reverse("login_set_up")


@pytest.mark.django_db
def test_the_demo_accounts_are_exempt_only_in_the_demo(client, settings, team):
    demo_admin = UserFactory(username="admin", team=None, role=c.Role.ADMIN, is_staff=True, is_superuser=True)
    settings.DEMO_ACCOUNTS_WITHOUT_MFA = True
    settings.DEBUG = False  # a deployment: no exemption, whatever the setting says
    assert mfa.needs_second_factor(demo_admin)
    settings.DEBUG = True
    assert not mfa.needs_second_factor(demo_admin)
    other_admin = UserFactory(username="not-a-demo-name", team=None, role=c.Role.ADMIN, is_staff=True)
    assert mfa.needs_second_factor(other_admin)
    settings.DEBUG = False
    assert post_password(client, demo_admin)["Location"] == reverse("login_set_up")


@pytest.mark.django_db
def test_the_admin_site_login_page_leads_to_the_one_with_the_second_factor(client):
    response = client.get(reverse("admin:login") + "?next=/admin/")
    assert response.status_code == 302 and response["Location"] == reverse("login") + "?next=%2Fadmin%2F"
    # ... and posting a password to it logs nobody in.
    client.post(reverse("admin:login"), {"username": "chris", "password": "correct-horse-battery"})
    assert dashboard_status(client) == 302


@pytest.mark.django_db
def test_new_recovery_codes_replace_the_old_ones(client, with_app, no_throttle):
    user, _device, old = with_app
    client.force_login(user)
    page = client.post(reverse("recovery_codes_new")).content.decode()
    new = codes_on_page(page)
    assert len(new) == 10 and "The old ones no longer work" in page
    assert not set(new) & {mfa.recovery_code_shown(code) for code in old}
    client.post(reverse("logout"))
    post_password(client, user)
    assert post_code(client, old[1]).status_code == 200  # refused
    assert post_code(client, new[1]).status_code == 302
    assert SecurityEvent.objects.filter(user=user, event=Event.RECOVERY_CODES_NEW).count() == 1


@pytest.mark.django_db
def test_the_admin_resets_an_app_from_the_user_list(client, with_app, nurse):
    user, _device, _codes = with_app
    mfa.set_up_app(nurse, mfa.new_app_key(), step=0)
    resetter = UserFactory(username="sam", team=None, role=c.Role.ADMIN, is_staff=True, is_superuser=True)
    client.force_login(resetter)
    listing = client.get(reverse("admin:followup_user_changelist")).content.decode()
    assert "Authenticator app" in listing
    response = client.post(
        reverse("admin:followup_user_changelist"),
        {"action": "reset_authenticator_app", "_selected_action": [nurse.pk]},
        follow=True,
    )
    assert f"Reset the authenticator app of {nurse}" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=nurse).exists()
    assert not StaticToken.objects.filter(device__user=nurse).exists()
    assert TOTPDevice.objects.filter(user=user).exists()  # nobody else's
    event = SecurityEvent.objects.get(event=Event.APP_RESET)
    assert (event.user, event.by) == (nurse, resetter)


@pytest.mark.django_db
def test_break_glass_resets_an_app_from_the_server(with_app, settings):
    from io import StringIO

    from django.core.management import CommandError, call_command

    user, _device, _codes = with_app
    settings.AXES_FAILURE_LIMIT = 1
    AccessAttempt.objects.create(
        username=user.username,
        ip_address="10.0.0.7",
        failures_since_start=3,
        user_agent="",
        http_accept="",
        path_info="/",
        get_data="",
        post_data="",
    )
    out = StringIO()
    call_command("reset_authenticator_app", user.username, stdout=out)
    assert f"Reset the authenticator app of {user.username}" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not AccessAttempt.objects.filter(username=user.username).exists()
    assert SecurityEvent.objects.get(event=Event.APP_RESET).by is None
    with pytest.raises(CommandError, match="No user is called 'nobody'"):
        call_command("reset_authenticator_app", "nobody")


@pytest.mark.django_db
def test_the_code_pages_are_never_cached(client, admin_user, nurse):
    post_password(client, admin_user)
    for name in ("login_set_up",):
        assert "no-store" in client.get(reverse(name))["Cache-Control"]
    mfa.set_up_app(nurse, mfa.new_app_key(), step=0)
    other = client.__class__()
    post_password(other, nurse)
    assert "no-store" in other.get(reverse("login_code"))["Cache-Control"]


@pytest.mark.django_db
def test_a_login_started_again_shows_the_same_key(client, admin_user, settings):
    post_password(client, admin_user)
    first = authenticator_from_page(client.get(reverse("login_set_up")).content.decode())
    session = client.session
    session[signin.PENDING]["at"] -= settings.MFA_PENDING_MINUTES * 60 + 1  # installing the app took long
    session.save()
    assert client.get(reverse("login_set_up"))["Location"] == reverse("login")
    post_password(client, admin_user)
    again = authenticator_from_page(client.get(reverse("login_set_up")).content.decode())
    assert again.secret == first.secret  # the entry already added to the app still works
    assert client.post(reverse("login_set_up"), {"code": first.now()}, REMOTE_ADDR="10.0.0.7").status_code == 200
    assert dashboard_status(client) == 200


@pytest.mark.django_db
def test_a_second_press_after_the_login_completed_goes_on_in(client, with_app):
    user, device, _codes = with_app
    post_password(client, user)
    code = authenticator(device).now()
    assert post_code(client, code).status_code == 302
    again = post_code(client, code)
    assert again.status_code == 302 and again["Location"] == reverse("followup:dashboard")
    assert client.get(reverse("login_set_up"))["Location"] == reverse("followup:dashboard")
    assert dashboard_status(client) == 200


@pytest.mark.django_db
def test_a_next_address_on_another_site_is_not_followed_after_the_code(client, with_app):
    user, device, _codes = with_app
    post_password(client, user, next_url="https://evil.example/")
    assert post_code(client, authenticator(device).now())["Location"] == reverse("followup:dashboard")


@pytest.mark.django_db
def test_a_recovery_code_waits_for_its_own_throttle_not_the_apps(client, settings, with_app):
    settings.OTP_STATIC_THROTTLE_FACTOR = 60
    user, device, codes = with_app
    post_password(client, user)
    post_code(client, "aaaa-aaaa")  # a wrong recovery code
    response = post_code(client, codes[2])
    assert re.search(r"Wait (59|60) seconds after a wrong code, then try again.", response.content.decode())
    assert StaticToken.objects.filter(device__user=user, token=codes[2]).exists()  # not used up
    assert post_code(client, authenticator(device).now()).status_code == 302  # the app has no wait


@pytest.mark.django_db
def test_only_a_superuser_resets_a_superusers_app(client, with_app, team):
    from django.contrib.auth.models import Permission

    superuser, _device, _codes = with_app
    helper = UserFactory(username="deputy", team=team, role=c.Role.ADMIN, is_staff=True)
    helper.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "change_user"]))
    client.force_login(helper)
    response = client.post(
        reverse("admin:followup_user_changelist"),
        {"action": "reset_authenticator_app", "_selected_action": [superuser.pk]},
        follow=True,
    )
    assert "Only a superuser may reset a superuser" in response.content.decode()
    assert TOTPDevice.objects.filter(user=superuser).exists()
    viewer = UserFactory(username="viewer", team=team, role=c.Role.ADMIN, is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_user"))
    client.force_login(viewer)
    listing = client.get(reverse("admin:followup_user_changelist")).content.decode()
    assert "reset_authenticator_app" not in listing
