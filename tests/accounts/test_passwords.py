"""Passwords: the policy, changing one's own, and an admin's reset."""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import Event, SecurityEvent
from followup import choices as c
from tests.factories import UserFactory

from .conftest import PASSWORD, dashboard_status, post_password

ERROR = '<span class="nhsuk-u-visually-hidden">Error: </span>'


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("Winter2026", "This password is too short. It must contain at least 12 characters."),
        ("followup", "This password is too short. It must contain at least 12 characters."),
        ("password1234", "This password is too common."),
        ("alex.morgan.2026", "The password is too similar to the username."),
        ("738201946205", "This password is entirely numeric."),
    ],
)
def test_the_password_policy_refuses(password, why, team):
    user = UserFactory.build(username="alex.morgan", first_name="Alex", last_name="Morgan", team=team)
    with pytest.raises(ValidationError) as refused:
        validate_password(password, user)
    assert why in refused.value.messages


@pytest.mark.django_db
def test_a_long_uncommon_password_is_accepted(team):
    user = UserFactory.build(username="alex.morgan", team=team)
    validate_password("lantern orchard pebble", user)


@pytest.mark.django_db
def test_a_user_changes_their_own_password_with_the_old_one(client, nurse):
    client.force_login(nurse)
    page = client.get(reverse("password_change")).content.decode()
    assert "Your current password" in page and "At least 12 characters" in page

    wrong_old = client.post(
        reverse("password_change"),
        {
            "old_password": "not-it",
            "new_password1": "lantern orchard pebble",
            "new_password2": "lantern orchard pebble",
        },
    )
    assert f"{ERROR}Your current password is wrong. Enter it again." in wrong_old.content.decode()
    too_short = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "Winter2026", "new_password2": "Winter2026"},
    )
    assert "It must contain at least 12 characters." in too_short.content.decode()
    different = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "lantern orchard pebble",
            "new_password2": "lantern orchard pebbles",
        },
    )
    assert "The two new passwords are different." in different.content.decode()
    same = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": PASSWORD, "new_password2": PASSWORD},
    )
    assert f"{ERROR}Choose a new password that is different from your current one" in same.content.decode()
    nurse.refresh_from_db()
    assert nurse.check_password(PASSWORD)

    done = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "lantern orchard pebble",
            "new_password2": "lantern orchard pebble",
        },
        follow=True,
    )
    assert "Your password is changed." in done.content.decode()
    assert dashboard_status(client) == 200  # still logged in
    nurse.refresh_from_db()
    assert nurse.check_password("lantern orchard pebble")
    assert SecurityEvent.objects.filter(user=nurse, event=Event.PASSWORD_CHANGED).count() == 1
    client.post(reverse("logout"))
    assert post_password(client, nurse, password="lantern orchard pebble")["Location"] == reverse("followup:dashboard")


@pytest.mark.django_db
def test_an_admins_reset_lifts_the_lockout_and_forces_a_new_password_at_next_login(client, settings, nurse, admin_user):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        post_password(client, nurse, password="wrong")
    assert post_password(client, nurse).status_code == 429
    reset_by_admin = client.__class__()
    reset_by_admin.force_login(admin_user)
    response = reset_by_admin.post(
        reverse("admin:auth_user_password_change", args=[nurse.pk]),
        {"usable_password": "true", "password1": "temporary password 7", "password2": "temporary password 7"},
    )
    assert response.status_code == 302
    nurse.refresh_from_db()
    assert nurse.must_change_password and nurse.check_password("temporary password 7")
    assert not AccessAttempt.objects.filter(username=nurse.username).exists()
    event = SecurityEvent.objects.get(event=Event.PASSWORD_RESET)
    assert (event.user, event.by) == (nurse, admin_user)
    assert nurse.history.first().history_user == admin_user

    assert post_password(client, nurse, password="temporary password 7").status_code == 302
    for page in (reverse("followup:dashboard"), reverse("followup:patient_list"), reverse("account")):
        response = client.get(page)
        assert response.status_code == 302 and response["Location"] == reverse("password_change"), page
    assert (
        "An admin reset your password. Choose a new one to carry on."
        in client.get(reverse("password_change")).content.decode()
    )
    client.post(
        reverse("password_change"),
        {
            "old_password": "temporary password 7",
            "new_password1": "lantern orchard pebble",
            "new_password2": "lantern orchard pebble",
        },
    )
    nurse.refresh_from_db()
    assert not nurse.must_change_password
    assert dashboard_status(client) == 200


@pytest.mark.django_db
def test_an_admin_changing_their_own_password_in_the_admin_site_is_not_forced_again(client, admin_user):
    client.force_login(admin_user)
    client.post(
        reverse("admin:auth_user_password_change", args=[admin_user.pk]),
        {"usable_password": "true", "password1": "lantern orchard pebble", "password2": "lantern orchard pebble"},
    )
    admin_user.refresh_from_db()
    assert admin_user.check_password("lantern orchard pebble") and not admin_user.must_change_password


@pytest.mark.django_db
def test_a_single_sign_on_user_without_a_password_is_told_where_to_change_it(client, team):
    person = UserFactory(username="sso.only", team=team, role=c.Role.NURSE, sso_id="cis2-1")
    person.set_unusable_password()
    person.save()
    client.force_login(person)
    response = client.get(reverse("password_change"), follow=True)
    assert "its password is changed there" in response.content.decode()
    assert "You have no password here" in response.content.decode()


@pytest.mark.django_db
def test_a_clinician_with_read_only_access_may_still_change_their_own_password(client, team):
    clinician = UserFactory(username="dr.lee", team=team, role=c.Role.CLINICIAN)
    client.force_login(clinician)
    client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "lantern orchard pebble",
            "new_password2": "lantern orchard pebble",
        },
    )
    clinician.refresh_from_db()
    assert clinician.check_password("lantern orchard pebble")


@pytest.mark.django_db
def test_a_new_account_chooses_its_own_password_at_first_login(client, admin_user, team):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:followup_user_add"),
        {
            "username": "new.nurse",
            "usable_password": "true",
            "password1": "first password from admin",
            "password2": "first password from admin",
            "role": c.Role.NURSE,
            "team": team.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    from followup.models import User

    created = User.objects.get(username="new.nurse")
    assert created.must_change_password
