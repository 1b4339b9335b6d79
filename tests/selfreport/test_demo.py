"""The demo's codes and reports, and the README's promise that anyone can try the page."""

from pathlib import Path

import pytest
from django.urls import reverse

from followup import choices as c
from followup import demo
from followup.models import SymptomReport
from selfreport.demo import DEMO_CODE, DEMO_PATIENT
from selfreport.models import PersonalCode

from .helpers import answers

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.django_db
def test_demo_issues_codes_and_sends_patient_reports_once():
    demo.seed(patients=12)
    demo.seed(patients=12)
    assert PersonalCode.objects.live().count() == 5
    reports = SymptomReport.objects.filter(source=c.ReportSource.PATIENT)
    assert sorted(reports.values_list("red_flag", flat=True)) == ["", "", "", c.RedFlag.CORD_COMPRESSION]


@pytest.mark.django_db
def test_the_readme_code_and_date_of_birth_work_on_the_demo(client):
    demo.seed(patients=12)
    born = DEMO_PATIENT["date_of_birth"]
    text = README.read_text()
    assert DEMO_CODE in text and f"{born.day} {born:%B %Y}" in text
    response = client.post(reverse("selfreport:report"), answers(DEMO_CODE.lower(), born=born))
    assert response.status_code == 302
    assert SymptomReport.objects.filter(patient__given_name="Hazel", source=c.ReportSource.PATIENT).count() == 1
