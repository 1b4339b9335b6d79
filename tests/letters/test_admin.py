"""Letterheads are kept by admins in the admin site, with history; issued letters cannot be edited there."""

from django.urls import reverse

from followup import choices as c
from letters.choices import LetterKind
from letters.models import Letterhead
from letters.services import letter_issue

from .factories import LetterheadFactory, letter_patient


def test_an_admin_edits_a_letterhead_and_its_history_says_who(client, admin_user, team):
    letterhead = LetterheadFactory(team=team)
    client.force_login(admin_user)
    url = reverse("admin:letters_letterhead_change", args=[letterhead.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data.update(team=team.pk, phone="01632 960777")
    response = client.post(url, data)
    assert response.status_code == 302
    letterhead.refresh_from_db()
    assert letterhead.phone == "01632 960777"
    assert [(h.history_type, h.history_user) for h in letterhead.history.order_by("history_id")][-1] == (
        "~",
        admin_user,
    )


def test_a_nurse_cannot_open_the_admin_site(client, nurse):
    client.force_login(nurse)
    response = client.get(reverse("admin:letters_letterhead_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response.url


def test_an_issued_letter_is_read_only_in_the_admin(client, admin_user, nurse):
    patient = letter_patient(team=nurse.team, named_nurse=nurse)
    letter = letter_issue(patient=patient, kind=LetterKind.CARE_PLAN, by=nurse)
    client.force_login(admin_user)
    listed = client.get(reverse("admin:letters_letter_changelist"))
    assert list(listed.context["cl"].result_list) == [letter]
    change = client.get(reverse("admin:letters_letter_change", args=[letter.pk]))
    assert change.status_code == 200 and not change.context["has_change_permission"]
    assert client.get(reverse("admin:letters_letter_add")).status_code == 403
    assert client.post(reverse("admin:letters_letter_delete", args=[letter.pk]), {"post": "yes"}).status_code == 403
    assert Letterhead.objects.count() == 1 and nurse.role == c.Role.NURSE
