"""Sign-in in the admin site: the security events are read only, and nobody sees an app's secret."""

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import mfa
from accounts.events import record
from accounts.models import Event, SecurityEvent


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [1, 3])
def test_security_events_list_in_constant_queries(rows, client, admin_user, nurse, django_assert_num_queries):
    for _ in range(rows):
        record(Event.WRONG_CODE, user=nurse)
        record(Event.APP_RESET, user=nurse, by=admin_user)
    client.force_login(admin_user)
    with django_assert_num_queries(7):  # the same for 1 row as for 3
        response = client.get(reverse("admin:accounts_securityevent_changelist"))
    assert response.context["cl"].result_count == 2 * rows
    assert "Authenticator app reset by an admin" in response.content.decode()


@pytest.mark.django_db
def test_security_events_cannot_be_added_changed_or_deleted(client, admin_user, nurse):
    event = record(Event.SIGNED_IN, user=nurse)
    client.force_login(admin_user)
    assert client.get(reverse("admin:accounts_securityevent_add")).status_code == 403
    client.post(reverse("admin:accounts_securityevent_change", args=[event.pk]), {"detail": "edited"})
    assert (
        client.post(reverse("admin:accounts_securityevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    )
    assert SecurityEvent.objects.get(pk=event.pk).detail == ""


@pytest.mark.django_db
def test_nobody_sees_an_apps_secret_in_the_admin_site(client, admin_user, nurse):
    mfa.set_up_app(nurse, mfa.new_app_key(), step=0)
    assert not admin.site.is_registered(TOTPDevice) and not admin.site.is_registered(StaticDevice)
    with pytest.raises(NoReverseMatch):
        reverse("admin:otp_totp_totpdevice_changelist")
    client.force_login(admin_user)
    page = client.get(reverse("admin:followup_user_change", args=[nurse.pk])).content.decode()
    assert mfa.app_of(nurse).key not in page and "Single sign-on ID" in page


@pytest.mark.django_db
def test_the_user_list_says_who_has_an_app_in_constant_queries(
    client, admin_user, nurse, priya, django_assert_num_queries
):
    mfa.set_up_app(nurse, mfa.new_app_key(), step=0)
    client.force_login(admin_user)
    response = client.get(reverse("admin:followup_user_changelist"))
    rows = {user.username: user.has_app for user in response.context["cl"].result_list}
    assert rows == {"alex": True, "priya": False, "chris": False}


@pytest.mark.django_db
def test_only_a_superuser_links_a_superuser_to_single_sign_on(client, admin_user, team):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    deputy = UserFactory(username="deputy", team=team, is_staff=True)
    deputy.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "change_user"]))
    client.force_login(deputy)
    page = client.get(reverse("admin:followup_user_change", args=[admin_user.pk])).content.decode()
    assert 'name="sso_id"' not in page  # shown, not editable
    client.force_login(admin_user)
    page = client.get(reverse("admin:followup_user_change", args=[deputy.pk])).content.decode()
    assert 'name="sso_id"' in page
