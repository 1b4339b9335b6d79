"""The channel is write-only: no answer of /report-symptoms/ says anything about the patient.

A patient with distinctive details reports through every state of the page (the empty form, a
wrong date of birth, a wrong code, locked, a confirmation, urgent guidance); every body and header
is searched for each detail, as the database would print it."""

from datetime import date

import pytest
from django.urls import reverse

from followup import choices as c
from followup.display import show_date
from followup.models import SymptomReport

from ..factories import GPPracticeFactory, PatientFactory, UserFactory
from ..letters.factories import LetterheadFactory
from .helpers import answers, issue

URL = reverse("selfreport:report")
BORN = date(1947, 8, 29)
WRONG_BORN = date(1961, 3, 11)


@pytest.fixture
def distinctive(team):
    nurse = UserFactory(username="qxnurse", team=team, first_name="Philomena", last_name="Quaxworthy")
    LetterheadFactory(team=team)
    patient = PatientFactory(
        team=team,
        named_nurse=nurse,
        given_name="Euphrosyne",
        family_name="Zanzibarr",
        nhs_number="9434765919",
        hospital_number="HZQ778812",
        date_of_birth=BORN,
        address_line_1="17 Quillfeather Mews",
        town="Snorlington",
        postcode="ZZ99 7QQ",
        phone_mobile="07700 900417",
        email="euphrosyne@example.org",
        next_of_kin_name="Barnabus Zanzibarr",
        gp_practice=GPPracticeFactory(ods_code="Y90417", name="Wobblegate Surgery"),
    )
    return patient, nurse


def secrets_of(patient, nurse) -> list[str]:
    return [
        patient.given_name,
        patient.family_name,
        patient.family_name.upper(),
        patient.nhs_number,
        patient.nhs_number_display,
        patient.hospital_number,
        patient.address_line_1,
        patient.town,
        patient.postcode,
        patient.phone_mobile,
        patient.email,
        patient.next_of_kin_name,
        patient.gp_practice.name,
        nurse.first_name,
        nurse.last_name,
        show_date(BORN),
        BORN.isoformat(),
        f"{BORN:%d/%m/%Y}",
        f"{BORN.day} {BORN:%B} {BORN.year}",
        str(BORN.year),
    ]


def _everything(response) -> str:
    headers = "\n".join(f"{key}: {value}" for key, value in response.headers.items())
    return headers + "\n" + response.content.decode()


def test_no_answer_of_the_page_says_anything_about_the_patient(distinctive, client, settings):
    patient, nurse = distinctive
    code = issue(patient, nurse)
    settings.SELF_REPORT_CODE_ATTEMPTS = 2
    responses = {"empty form": client.get(URL)}
    responses["wrong date of birth"] = client.post(URL, answers(code, born=WRONG_BORN), REMOTE_ADDR="10.0.0.1")
    responses["wrong code"] = client.post(URL, answers("WXYZ-WXYZ-WXYZ", born=WRONG_BORN), REMOTE_ADDR="10.0.0.2")
    responses["not complete"] = client.post(URL, answers(code, born=WRONG_BORN, area=None), REMOTE_ADDR="10.0.0.3")
    responses["locked"] = client.post(URL, answers(code, born=WRONG_BORN), REMOTE_ADDR="10.0.0.4")
    assert [r.status_code for r in responses.values()] == [200, 200, 200, 200, 429]
    # Another code of the same patient, issued after the lock (the old one is void): the report goes in.
    code = issue(patient, nurse)
    sent = client.post(URL, answers(code, born=BORN), REMOTE_ADDR="10.0.0.5")
    responses["confirmation (redirect)"] = sent
    responses["confirmation"] = client.get(sent["Location"])
    urgent = client.post(URL, answers(code, born=BORN, urgent=[c.RedFlag.CORD_COMPRESSION]), REMOTE_ADDR="10.0.0.6")
    responses["urgent (redirect)"] = urgent
    responses["urgent guidance"] = client.get(urgent["Location"])
    assert SymptomReport.objects.filter(patient=patient).count() == 2
    assert "01632 960999" in responses["urgent guidance"].content.decode()  # the team's number, not theirs

    leaks = {
        (state, secret)
        for state, response in responses.items()
        for secret in secrets_of(patient, nurse)
        if secret in _everything(response)
    }
    assert leaks == set()
