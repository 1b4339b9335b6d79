"""Issue 13, the forms, in a real Chromium: the NHS.UK date input, the service manual's messages with
error-summary links that reach their field, and the recurrence asked in two steps with or without
JavaScript.

Run with: DATABASE_URL=postgres://postgres@127.0.0.1:5432/followup .venv/bin/pytest -m browser tests/e2e
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from followup import choices as c
from followup.models import FollowUpItem, Recurrence, StagingTest, SymptomReport

from ..factories import FollowUpItemFactory, PatientFactory, PrimaryDiagnosisFactory
from .helpers import PASSWORD, date_input, expect_date, fill_date, log_in, message, path_is, row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def mary(alex):
    patient = PatientFactory(given_name="Mary", family_name="Brown", team=alex.team, named_nurse=alex)
    PrimaryDiagnosisFactory(patient=patient)
    return patient


def _focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_a_date_without_its_year_marks_the_year_and_its_summary_link_moves_there(page, alex, mary):
    today = timezone.localdate()
    mammogram = FollowUpItemFactory(patient=mary, kind=c.FollowUpKind.MAMMOGRAM, due_on=today - timedelta(days=40))
    log_in(page, "alex")
    page.goto(f"/items/{mammogram.pk}/done/")
    done = date_input(page, "Date done")
    done.get_by_label("Day", exact=True).fill("3")
    done.get_by_label("Month", exact=True).fill("11")
    page.get_by_role("group", name="Result").get_by_role("radio", name="Normal", exact=True).check()
    page.get_by_role("button", name="Save").click()

    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_text(["Date done must include a year"])
    expect(page.locator("#id_done_on-error")).to_have_text("Error: Date done must include a year")
    # Only the year is marked; what was typed stays.
    expect(done.get_by_label("Year", exact=True)).to_have_class(
        "nhsuk-input nhsuk-date-input__input nhsuk-input--width-4 nhsuk-input--error"
    )
    expect(done.get_by_label("Day", exact=True)).not_to_have_class("nhsuk-input--error")
    expect(done.get_by_label("Day", exact=True)).to_have_value("3")
    summary.get_by_role("link", name="Date done must include a year").click()
    expect(done.get_by_label("Year", exact=True)).to_be_focused()

    done.get_by_label("Year", exact=True).fill(str(today.year))
    page.get_by_role("button", name="Save").click()
    expect(message(page)).to_have_text("Information: Mammogram recorded as done.")
    mammogram.refresh_from_db()
    assert (mammogram.status, mammogram.done_on.day, mammogram.done_on.month) == (c.FollowUpStatus.DONE, 3, 11)


def test_every_summary_link_of_an_empty_symptom_report_reaches_its_field(page, alex, mary):
    log_in(page, "alex")
    page.goto(f"/patients/{mary.pk}/symptoms/new/")
    page.get_by_role("button", name="Save").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_focused()
    links = summary.get_by_role("link")
    expect(links).to_have_text(
        ["Enter the date the symptoms were reported", "Select where the symptoms are", "Describe the symptoms"]
    )
    targets = {}
    for index in range(links.count()):
        link = links.nth(index)
        link.click()
        targets[link.inner_text()] = _focused_id(page)
    assert targets == {
        "Enter the date the symptoms were reported": "id_reported_on_0",  # the day box
        "Select where the symptoms are": "id_area_0",  # the first radio
        "Describe the symptoms": "id_description",
    }
    assert SymptomReport.objects.count() == 0


def test_a_recurrence_is_recorded_in_two_steps_with_javascript_off(browser, live_server, alex, mary):
    """The first step is a plain GET form: no JavaScript needed to choose the type or to see only its sites."""
    today = timezone.localdate()
    context = browser.new_context(
        base_url=live_server.url, java_script_enabled=False, viewport={"width": 390, "height": 844}, locale="en-GB"
    )
    try:
        page = context.new_page()
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill("alex")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.goto(f"/patients/{mary.pk}/recurrences/new/")
        expect(page.get_by_role("checkbox")).to_have_count(0)  # no sites or tests before the type
        page.get_by_role("button", name="Continue").click()
        expect(page.locator("#id_metastatic_type-error")).to_have_text("Error: Select the type of recurrence")
        page.get_by_label("Local", exact=True).check()
        page.get_by_role("button", name="Continue").click()

        sites = page.get_by_role("group", name="Site of the recurrence")
        expect(sites.get_by_role("checkbox")).to_have_count(4)
        tests = page.get_by_role("group", name="Restaging tests to request")
        expect(tests.get_by_role("checkbox", checked=True)).to_have_count(len(c.STANDARD_RESTAGING_TESTS))
        # Unticking CT leaves restaging without its required scan: refused, and nothing saved.
        sites.get_by_label("Chest wall", exact=True).check()
        fill_date(page, "Date clinically agreed", today - timedelta(days=1))
        tests.get_by_label("CT chest, abdomen and pelvis", exact=True).uncheck()
        page.get_by_role("button", name="Save").click()
        expect(page.locator("#id_restaging_tests-error")).to_have_text(
            "Error: Request CT chest, abdomen and pelvis or PET-CT."
        )
        assert Recurrence.all_objects.count() == 0
        expect_date(page, "Date clinically agreed", today - timedelta(days=1))
        page.get_by_role("group", name="Restaging tests to request").get_by_label("FDG PET-CT", exact=True).check()
        page.get_by_role("button", name="Save").click()
        expect(page).to_have_url(path_is(f"/patients/{mary.pk}/"))
        # The page stays within a phone's width throughout.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
    recurrence = Recurrence.objects.get()
    assert (recurrence.metastatic_type, recurrence.diagnosed_on) == (c.MetastaticType.LOCAL, today - timedelta(days=1))
    assert sorted(StagingTest.objects.values_list("modality", flat=True)) == sorted(
        [c.StagingModality.PET_CT, *[t for t in c.STANDARD_RESTAGING_TESTS if t != c.StagingModality.CT_CAP]]
    )


def test_change_brings_back_the_type_with_javascript_on(page, alex, mary):
    log_in(page, "alex")
    page.goto(f"/patients/{mary.pk}/recurrences/new/")
    page.get_by_label("Distant (secondary breast cancer)", exact=True).check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("group", name="Restaging tests to request")).to_have_count(0)
    expect(page.get_by_role("group", name="Site of the recurrence").get_by_role("checkbox")).to_have_count(
        len(c.DISTANT_SITES)
    )
    page.get_by_role("link", name="Change type of recurrence").click()
    expect(page.get_by_label("Distant (secondary breast cancer)", exact=True)).to_be_checked()
    page.get_by_label("Regional", exact=True).check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("group", name="Site of the recurrence").get_by_role("checkbox")).to_have_count(4)


def test_a_worklist_filtered_by_typed_dates(page, alex, mary):
    today = timezone.localdate()
    FollowUpItemFactory(patient=mary, kind=c.FollowUpKind.MAMMOGRAM, due_on=today - timedelta(days=90))
    FollowUpItemFactory(patient=mary, kind=c.FollowUpKind.CLINIC_REVIEW, due_on=today - timedelta(days=30))
    log_in(page, "alex")
    page.goto("/worklists/overdue/")
    expect(page.locator("#worklist-total")).to_have_text("2")
    page.get_by_text("Change the filters").click()  # the filters are folded under their summary
    due = date_input(page, "Due between")
    fill_date(due, "From", today - timedelta(days=60))
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("#worklist-total")).to_have_text("1")
    expect(row(page, "BROWN, Mary")).to_contain_text("Clinic review")
    page.get_by_text("Change the filters").click()
    expect_date(date_input(page, "Due between"), "From", today - timedelta(days=60))
    assert FollowUpItem.objects.count() == 2
