"""The nurse's side: the personal-code card on the patient page, issuing a code, who may."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from followup import choices as c
from followup import services
from selfreport import codes
from selfreport.models import PersonalCode

from ..factories import UserFactory


def _issue_url(patient) -> str:
    return reverse("selfreport:issue", args=[patient.pk])


def _issue(client, patient):
    """Press "Issue a new code" on the confirmation page as it is now (it carries the live code seen)."""
    page = client.get(_issue_url(patient)).content.decode()
    seen = re.search(r'name="live" value="([^"]+)"', page).group(1)
    return client.post(_issue_url(patient), {"live": seen})


def _card(client, patient) -> str:
    text = client.get(reverse("followup:patient_detail", args=[patient.pk])).content.decode()
    card = text[text.index('id="personal-code"') :]
    return re.sub(r"\s+", " ", card[: card.index("</section>")])


@pytest.mark.django_db
def test_card_says_when_no_code_was_issued(nurse_client, patient):
    card = _card(nurse_client, patient)
    assert "None issued." in card and "Issue a new code" in card


@pytest.mark.django_db
def test_issuing_shows_the_code_once_and_stores_only_its_hash(nurse_client, nurse, patient, settings):
    settings.SITE_URL = "https://followup.example.nhs.uk"
    confirm = nurse_client.get(_issue_url(patient))
    assert confirm.status_code == 200 and "The current code will stop working" not in confirm.content.decode()
    response = nurse_client.post(_issue_url(patient), {"live": "none"})
    text = response.content.decode()
    shown = re.search(r'id="personal-code">([^<]+)<', text).group(1)
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", shown)
    assert "This code will not be shown again" in text
    assert "https://followup.example.nhs.uk/report-symptoms/" in text
    assert response["Cache-Control"].startswith("no-store")
    row = PersonalCode.objects.get(patient=patient)
    assert (row.code_hash, row.issued_by) == (codes.digest(shown), nurse)
    assert shown.replace("-", "") not in _card(nurse_client, patient)
    assert f"Live</strong> since {timezone.localdate():%-d %b %Y}" in _card(nurse_client, patient)


@pytest.mark.django_db
def test_issuing_again_warns_then_voids_the_old_code(nurse_client, patient):
    _issue(nurse_client, patient)
    assert "The current code will stop working" in nurse_client.get(_issue_url(patient)).content.decode()
    _issue(nurse_client, patient)
    assert list(PersonalCode.objects.filter(patient=patient).values_list("void_reason", flat=True)) == [
        "", "reissued"
    ]  # fmt: skip


CHANGED = "The personal code has changed since you opened this page"


@pytest.mark.django_db
def test_sending_the_issue_page_again_issues_nothing_more(nurse_client, patient):
    first = nurse_client.post(_issue_url(patient), {"live": "none"})
    assert first.status_code == 200 and 'id="personal-code"' in first.content.decode()
    again = nurse_client.post(_issue_url(patient), {"live": "none"})  # a refresh resubmits the same form
    text = again.content.decode()
    assert again.status_code == 409
    assert CHANGED in text and "No new code was issued." in text and 'id="personal-code"' not in text
    assert list(PersonalCode.objects.filter(patient=patient).values_list("void_reason", flat=True)) == [""]


@pytest.mark.django_db
def test_two_nurses_issuing_at_once_do_not_void_each_others_code(nurse_client, nurse, patient):
    client = Client()  # the colleague's own browser
    client.force_login(UserFactory(team=nurse.team, role=c.Role.NURSE))
    _issue(nurse_client, patient)  # a live code, seen by both confirmation pages
    seen = PersonalCode.objects.get(patient=patient).pk
    assert nurse_client.post(_issue_url(patient), {"live": str(seen)}).status_code == 200  # the nurse re-issues
    late = client.post(_issue_url(patient), {"live": str(seen)})  # the colleague, from the same old page
    assert late.status_code == 409 and CHANGED in late.content.decode()
    assert list(PersonalCode.objects.filter(patient=patient).order_by("pk").values_list("void_reason", flat=True)) == [
        "reissued", ""
    ]  # fmt: skip
    assert PersonalCode.objects.live().get(patient=patient).issued_by == nurse


@pytest.mark.django_db
def test_an_issue_without_the_live_code_seen_is_refused(nurse_client, patient):
    assert nurse_client.post(_issue_url(patient)).status_code == 409
    assert PersonalCode.objects.count() == 0


@pytest.mark.django_db
def test_card_says_why_the_code_was_voided(nurse_client, nurse, patient):
    _issue(nurse_client, patient)
    services.patient_record_death(patient=patient, date_of_death=timezone.localdate(), by=nurse, expected_version=None)
    card = _card(nurse_client, patient)
    assert f"Voided</strong> on {timezone.localdate():%-d %b %Y}: the patient died" in card
    assert "Issue a new code" not in card


@pytest.mark.django_db
def test_a_patient_not_active_cannot_be_given_a_code(nurse_client, nurse, patient):
    services.patient_discharge(
        patient=patient, discharged_on=timezone.localdate(), reason="Done", by=nurse, expected_version=None
    )
    response = nurse_client.post(_issue_url(patient), {"live": "none"})
    assert "Only a patient under active follow-up can be given a personal code." in response.content.decode()
    assert PersonalCode.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_teams_nurse_gets_not_found(method, client, other_nurse, patient):
    client.force_login(other_nurse)
    assert getattr(client, method)(_issue_url(patient)).status_code == 404
    assert PersonalCode.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_read_only_clinician_is_refused(method, client, team, patient):
    client.force_login(UserFactory(username="dr", team=team, role=c.Role.CLINICIAN))
    assert getattr(client, method)(_issue_url(patient)).status_code == 403
    assert PersonalCode.objects.count() == 0
    assert "Issue a new code" not in _card(client, patient)


@pytest.mark.django_db
def test_anonymous_is_sent_to_sign_in(client, patient):
    response = client.post(_issue_url(patient))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert PersonalCode.objects.count() == 0
