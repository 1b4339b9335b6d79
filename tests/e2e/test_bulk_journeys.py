"""Browser journeys for acting on several rows at once (issue 14, views/actions_bulk.py)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from followup import choices as c

from ..factories import FollowUpItemFactory, PatientFactory
from .helpers import log_in, message, row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _result(nurse, given_name, family_name, outcome, kind=c.FollowUpKind.MAMMOGRAM):
    today = timezone.localdate()
    patient = PatientFactory(given_name=given_name, family_name=family_name, team=nurse.team, named_nurse=nurse)
    return FollowUpItemFactory(patient=patient, kind=kind, status=c.FollowUpStatus.DONE,
                               due_on=today - timedelta(days=10), done_on=today - timedelta(days=3),
                               result=outcome)  # fmt: skip


def test_nurse_acknowledges_two_normal_results_at_once_and_both_leave_the_list(page, alex):
    mary = _result(alex, "Mary", "Brown", c.ImagingOutcome.NORMAL)
    ann = _result(alex, "Ann", "Green", c.ImagingOutcome.BENIGN, kind=c.FollowUpKind.BLOODS)
    sue = _result(alex, "Sue", "White", c.ImagingOutcome.ABNORMAL)
    log_in(page, "alex")
    page.goto("/worklists/results/")
    expect(page.locator("#worklist-total")).to_have_text("3")

    # The abnormal result has no checkbox: it is read and acknowledged on its own.
    expect(row(page, "WHITE, Sue").get_by_role("checkbox")).to_have_count(0)
    row(page, "BROWN, Mary").get_by_role("checkbox", name=re.compile(r"^Select BROWN, Mary: mammogram")).check()
    row(page, "GREEN, Ann").get_by_role("checkbox", name=re.compile(r"^Select GREEN, Ann: bloods")).check()
    page.get_by_role("button", name="Acknowledge selected").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Acknowledge 2 results")
    listed = page.locator("#bulk-results tbody tr")
    expect(listed).to_have_count(2)
    expect(listed.nth(0)).to_contain_text("BROWN, Mary")
    expect(listed.nth(0)).to_contain_text("Normal")
    expect(listed.nth(1)).to_contain_text("GREEN, Ann")
    expect(listed.nth(1)).to_contain_text("Benign")
    page.get_by_role("button", name="Acknowledge these 2 results").click()

    expect(page).to_have_url(re.compile(r"/worklists/results/"))
    expect(message(page)).to_contain_text("2 results acknowledged.")
    expect(page.locator("#worklist-total")).to_have_text("1")
    expect(row(page, "BROWN, Mary")).to_have_count(0)
    expect(row(page, "GREEN, Ann")).to_have_count(0)
    expect(row(page, "WHITE, Sue")).to_have_count(1)
    for item in (mary, ann):
        item.refresh_from_db()
        assert item.result_acknowledged_by == alex
    sue.refresh_from_db()
    assert sue.result_acknowledged_at is None


def test_admin_hands_over_two_patients_to_another_nurse(page, alex, priya, chris):
    mary = PatientFactory(given_name="Mary", family_name="Brown", team=alex.team, named_nurse=alex)
    ann = PatientFactory(given_name="Ann", family_name="Green", team=alex.team, named_nurse=alex)
    log_in(page, "chris")
    page.goto("/patients/")
    row(page, "BROWN, Mary").get_by_role("checkbox").check()
    row(page, "GREEN, Ann").get_by_role("checkbox").check()
    page.get_by_role("button", name="Hand over selected").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Hand over 2 patients")
    page.get_by_role("button", name="Continue").click()  # no nurse chosen: the message beside the field
    expect(page.locator("#id_to_nurse-error")).to_contain_text("Select the nurse who takes over these patients")
    page.get_by_label("Hand over to").select_option(label="Priya Shah")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hand over 2 patients to Priya Shah")
    page.get_by_role("button", name="Hand over these 2 patients to Priya Shah").click()

    expect(message(page)).to_contain_text("2 patients handed over to Priya Shah.")
    for patient in (mary, ann):
        patient.refresh_from_db()
        assert patient.named_nurse == priya


def test_a_printed_results_list_has_no_checkboxes(page, alex):
    _result(alex, "Mary", "Brown", c.ImagingOutcome.NORMAL)
    log_in(page, "alex")
    page.goto("/worklists/results/")
    expect(row(page, "BROWN, Mary").get_by_role("checkbox")).to_be_visible()
    page.emulate_media(media="print")
    for hidden in ("#bulk-select", "tbody .app-select-cell", "thead .app-select-cell"):
        expect(page.locator(hidden).first).to_be_hidden()
    expect(page.locator("tbody tr")).to_have_count(1)
