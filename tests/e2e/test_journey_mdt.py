"""Journey (issue 14, MDT): record an MDT outcome and see the patient leave the MDT list.

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/followup .venv/bin/pytest -m browser tests/e2e/test_journey_mdt.py
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from pypdf import PdfReader

from mdt.choices import MDTOutcome
from mdt.models import MDTDiscussion

from ..factories import PatientFactory, PrimaryDiagnosisFactory, RecurrenceFactory, RecurrenceSiteFactory
from .helpers import fill_date, log_in, message, path_is, row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_nurse_records_an_mdt_outcome_and_the_patient_leaves_the_mdt_list(page, alex):
    today = timezone.localdate()
    mary = PatientFactory(given_name="Mary", family_name="Brown", team=alex.team, named_nurse=alex)
    PrimaryDiagnosisFactory(patient=mary)
    recurrence = RecurrenceFactory(patient=mary, diagnosed_on=today - timedelta(days=9))
    RecurrenceSiteFactory(recurrence=recurrence)
    ann = PatientFactory(given_name="Ann", family_name="Green", team=alex.team, named_nurse=alex)
    RecurrenceFactory(patient=ann, diagnosed_on=today - timedelta(days=30))

    log_in(page, "alex")
    expect(page.locator("#count-mdt-not-discussed-mine")).to_have_text("2")
    page.get_by_role("link", name="Recurrence not yet discussed at MDT", exact=True).click()
    expect(page).to_have_url(path_is("/worklists/mdt-not-discussed/"))
    expect(page.locator("tbody tr")).to_have_count(2)
    expect(page.locator("tbody tr").nth(0)).to_contain_text("GREEN, Ann")  # oldest first
    expect(row(page, "BROWN, Mary")).to_contain_text("9 days")

    # The meeting's list, then its PDF, before the meeting.
    page.get_by_role("link", name="Prepare the MDT list for a meeting").click()
    expect(page.locator("#to-discuss .app-mdt-row")).to_have_count(2)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as PDF").click()
    pdf = PdfReader(download.value.path())
    text = " ".join("\n".join(p.extract_text() for p in pdf.pages).split())
    assert "BROWN, Mary" in text and mary.nhs_number_display in text
    page.go_back()

    # At the meeting: record Mary's outcome from the worklist row.
    page.goto("/worklists/mdt-not-discussed/")
    row(page, "BROWN, Mary").get_by_role("link", name="Record MDT discussion for BROWN, Mary").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record the MDT discussion of the regional recurrence")
    page.get_by_role("button", name="Save MDT discussion").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Select the MDT outcome")
    fill_date(page, "Date of the MDT meeting", today)
    page.get_by_label("Systemic therapy").check()
    page.get_by_label("Outcome and plan").fill("Start letrozole with a CDK4/6 inhibitor; oncology clinic in 2 weeks.")
    page.get_by_label("Who attended").fill("Dr B Oncologist, Mr A Surgeon, CNS Alex")
    page.get_by_role("button", name="Save MDT discussion").click()

    # Back on the list she came from: Mary has left it, Ann is still to be discussed.
    expect(page).to_have_url(path_is("/worklists/mdt-not-discussed/"))
    expect(message(page)).to_contain_text("MDT discussion of")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(row(page, "GREEN, Ann")).to_have_count(1)
    expect(row(page, "BROWN, Mary")).to_have_count(0)

    # Her page shows the outcome under the recurrence, and the meeting's list has her as discussed.
    page.goto(f"/patients/{mary.pk}/")
    section = page.locator("#mdt-discussions")
    expect(section).to_contain_text("Systemic therapy")
    expect(section).to_contain_text("Start letrozole")
    expect(page.locator("#history")).to_contain_text("Discussed at MDT: Systemic therapy")
    page.goto("/mdt/list/")
    expect(page.locator("#discussed")).to_contain_text("BROWN, Mary")
    expect(page.locator("#to-discuss")).not_to_contain_text("BROWN, Mary")

    discussion = MDTDiscussion.objects.get()
    assert (discussion.patient, discussion.outcome, discussion.meeting_on, discussion.created_by) == (
        mary,
        MDTOutcome.SYSTEMIC_THERAPY,
        today,
        alex,
    )
