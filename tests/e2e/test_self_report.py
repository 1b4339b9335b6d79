"""Issue 16's journey: a patient reports on a phone, a nurse sees it first on her triage list."""

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from followup import choices as c
from followup.models import SymptomReport

from ..factories import PatientFactory
from ..letters.factories import LetterheadFactory
from ..selfreport.helpers import issue
from .helpers import log_in, row

PHONE = {"width": 390, "height": 844}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_patient_reports_cord_compression_on_a_phone_and_the_nurse_sees_it_first(new_context, alex):
    LetterheadFactory(team=alex.team)
    mary = PatientFactory(
        given_name="Mary", family_name="Brown", team=alex.team, named_nurse=alex, date_of_birth=date(1958, 4, 23)
    )
    older = PatientFactory(given_name="Ruth", family_name="Hill", team=alex.team, named_nurse=alex)
    SymptomReport.objects.create(
        patient=older, reported_on=date(2026, 1, 5), area=c.SymptomArea.LUNG, description="A dry cough.",
        created_by=alex, updated_by=alex,
    )  # fmt: skip
    code = issue(mary, alex)

    phone = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    phone.goto("/report-symptoms/")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Tell us about new symptoms")
    expect(phone.locator("#not-for-emergencies")).to_contain_text("This is not for emergencies")
    phone.get_by_label("Your personal code").fill(code.lower()[:4] + " " + code.lower()[4:])
    born = phone.get_by_role("group", name="Your date of birth")
    born.get_by_label("Day").fill("23")
    born.get_by_label("Month").fill("4")
    born.get_by_label("Year").fill("1958")
    phone.get_by_label("None of these").check()
    phone.get_by_label("Bones (for example, your back, hips or ribs)").check()
    # The area's symptoms appear under it once it is chosen.
    expect(phone.get_by_label("Weak legs or numbness")).to_be_visible()
    phone.get_by_label("Pain in your back, hips or ribs").check()
    phone.get_by_label("Weak legs or numbness").check()
    phone.get_by_label("Less than a week").check()
    phone.get_by_role("group", name="Are your symptoms getting worse?").get_by_label("Yes").check()
    phone.get_by_label("Tell us about your symptoms").fill("Back pain since Tuesday, my legs feel heavy.")
    phone.get_by_role("button", name="Send your report").click()

    expect(phone.get_by_role("heading", level=1)).to_have_text("Get help now")
    guidance = phone.locator("#what-to-do-now")
    expect(guidance).to_contain_text("Call the acute oncology team now")
    expect(guidance.get_by_role("link", name="01632 960999")).to_have_attribute("href", "tel:01632960999")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    expect(phone.locator("body")).not_to_contain_text("Brown")

    desk = new_context().new_page()
    log_in(desk, "alex")
    desk.get_by_role("link", name="Symptoms to triage", exact=True).click()
    expect(desk).to_have_url(re.compile(r"/worklists/symptoms/"))
    first = desk.locator("tbody tr").first
    expect(first).to_contain_text("BROWN, Mary")
    expect(first).to_contain_text("Red flag")
    expect(first).to_contain_text("Reported by the patient")
    expect(row(desk, "HILL, Ruth")).not_to_contain_text("Reported by the patient")
    report = SymptomReport.objects.get(patient=mary)
    assert (report.red_flag, report.source) == (c.RedFlag.CORD_COMPRESSION, c.ReportSource.PATIENT)
