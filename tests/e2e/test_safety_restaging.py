"""Browser journey for issue 12, item 4: the restaging list says what each episode still needs,
and cancelling the only CT warns that restaging cannot complete without one (hazard H13).

Run with: DATABASE_URL=postgres://postgres@127.0.0.1:5432/followup .venv/bin/pytest -m browser tests/e2e
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from followup import choices as c
from followup import services
from followup.models import StagingTest
from followup.services import SiteEntry

from ..factories import PatientFactory
from .helpers import log_in, message, path_is, row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CT, BONE = c.StagingModality.CT_CAP, c.StagingModality.BONE_SCAN


def _regional(patient, nurse, *, days_ago):
    recurrence = services.recurrence_record(
        patient=patient,
        metastatic_type=c.MetastaticType.REGIONAL,
        sites=[SiteEntry(c.Site.AXILLARY_NODES)],
        diagnosed_on=timezone.localdate() - timedelta(days=days_ago),
        restaging_tests=[CT, BONE],
        by=nurse,
    )
    return recurrence, {test.modality: test for test in recurrence.restaging.tests.all()}


def _clear(test, nurse, *, acknowledge):
    today = timezone.localdate()
    test = services.staging_test_record_result(
        test=test, performed_on=today, reported_on=today, result=c.StagingResult.CLEAR, by=nurse
    )
    if acknowledge:
        services.staging_test_acknowledge(test=test, by=nurse)


def test_nurse_sees_what_restaging_needs_and_is_warned_before_cancelling_the_only_ct(page, alex):
    mary = PatientFactory(given_name="Mary", family_name="Brown", team=alex.team, named_nurse=alex)
    ann = PatientFactory(given_name="Ann", family_name="Green", team=alex.team, named_nurse=alex)
    sue = PatientFactory(given_name="Sue", family_name="White", team=alex.team, named_nurse=alex)
    # Mary: the CT was cancelled and the bone scan came back clear and was read ("1 of 1 - Results to review").
    _, tests = _regional(mary, alex, days_ago=30)
    services.staging_test_cancel(test=tests[CT], reason="Patient unwell", by=alex, expected_version=None)
    _clear(tests[BONE], alex, acknowledge=True)
    # Ann: both back clear, the CT not yet read.
    _, tests = _regional(ann, alex, days_ago=20)
    _clear(tests[CT], alex, acknowledge=False)
    _clear(tests[BONE], alex, acknowledge=True)
    # Sue: both requested, nothing back yet.
    sue_recurrence, sue_tests = _regional(sue, alex, days_ago=10)

    log_in(page, "alex")
    expect(page.locator("#count-restaging-mine")).to_have_text("3")
    page.get_by_role("link", name="Restaging incomplete", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Restaging incomplete")
    expect(page.locator("#worklist-total")).to_have_text("3")
    status = page.get_by_role("columnheader", name="Status")
    expect(status).to_be_visible()
    expect(row(page, "BROWN, Mary")).to_contain_text("1 of 1")
    expect(row(page, "BROWN, Mary").locator(".app-restaging-needs li")).to_have_text(["CT or PET-CT needed"])
    expect(row(page, "GREEN, Ann").locator(".app-restaging-needs li")).to_have_text(["Results to acknowledge"])
    expect(row(page, "WHITE, Sue").locator(".app-restaging-needs li")).to_have_text(["Results awaited"])
    expect(page.locator("tbody")).not_to_contain_text("Results to review")

    # Sue's CT is to be cancelled, from her page's timeline.
    row(page, "WHITE, Sue").get_by_role("link", name="WHITE, Sue", exact=True).click()
    expect(page).to_have_url(path_is(f"/patients/{sue.pk}/"))
    requested = f"CT chest, abdomen and pelvis requested, {sue_recurrence.diagnosed_on:%-d %b %Y}"
    page.locator("#history").get_by_role("link", name=re.compile(rf"^Cancel ?: {re.escape(requested)}$")).click()
    expect(page.get_by_role("heading", name="Cancel the CT chest, abdomen and pelvis")).to_be_visible()
    warning = page.locator("#action-warning")
    expect(warning).to_contain_text(
        "This is the only CT or PET-CT for this restaging: restaging cannot complete without one."
    )
    page.get_by_label("Reason for cancelling").fill("Booked at the wrong hospital")
    page.get_by_role("button", name="Cancel this test").click()

    expect(message(page)).to_have_text(
        "Information: CT chest, abdomen and pelvis cancelled. "
        "Restaging cannot complete without a CT or PET-CT: request one now."
    )
    expect(page).to_have_url(path_is(f"/restaging/{sue_recurrence.restaging.pk}/tests/new/"))
    expect(page.get_by_role("heading", name="Request a restaging test")).to_be_visible()
    ct = StagingTest.objects.get(pk=sue_tests[CT].pk)
    assert (ct.cancelled_on, ct.cancel_reason, ct.updated_by) == (
        timezone.localdate(),
        "Booked at the wrong hospital",
        alex,
    )

    page.goto("/worklists/restaging/")
    needs = row(page, "WHITE, Sue").locator(".app-restaging-needs li")
    expect(needs).to_have_text(["CT or PET-CT needed", "Results awaited"])
