"""The nurse's side: the personal-code card on the patient page, issuing a code, who may."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from followup import choices as c
from followup import services
from selfreport import codes
from selfreport.models import PersonalCode

from ..factories import UserFactory


def _issue_url(patient) -> str:
    return reverse("selfreport:issue", args=[patient.pk])


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
    response = nurse_client.post(_issue_url(patient))
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
    nurse_client.post(_issue_url(patient))
    assert "The current code will stop working" in nurse_client.get(_issue_url(patient)).content.decode()
    nurse_client.post(_issue_url(patient))
    assert list(PersonalCode.objects.filter(patient=patient).values_list("void_reason", flat=True)) == [
        "", "reissued"
    ]  # fmt: skip


@pytest.mark.django_db
def test_card_says_why_the_code_was_voided(nurse_client, nurse, patient):
    nurse_client.post(_issue_url(patient))
    services.patient_record_death(patient=patient, date_of_death=timezone.localdate(), by=nurse, expected_version=None)
    card = _card(nurse_client, patient)
    assert f"Voided</strong> on {timezone.localdate():%-d %b %Y}: the patient died" in card
    assert "Issue a new code" not in card


@pytest.mark.django_db
def test_a_patient_not_active_cannot_be_given_a_code(nurse_client, nurse, patient):
    services.patient_discharge(
        patient=patient, discharged_on=timezone.localdate(), reason="Done", by=nurse, expected_version=None
    )
    response = nurse_client.post(_issue_url(patient))
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
