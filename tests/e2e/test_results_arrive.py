"""Journey (issue 15): a report arrives by itself, the nurse classifies it as distant disease and is
prompted to record the secondary breast cancer; an unmatched result is matched by hand.

Run: .venv/bin/pytest -m browser tests/e2e/test_results_arrive.py (screenshots in the temporary directory).
"""

import tempfile
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from followup import choices as c
from followup.models import StagingTest
from integration.clients import client_register
from integration.codes import SEED_CODES
from integration.models import ExamCode, InboxMessage, MessageFormat, MessageStatus
from integration.services import Report, receive

from ..factories import (
    FollowUpItemFactory,
    PatientFactory,
    RecurrenceFactory,
    RestagingEpisodeFactory,
    StagingTestFactory,
)
from .helpers import log_in, message, path_is, row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(tempfile.gettempdir()) / "c"  # screenshots to look at, never in the repository


def report_for(patient, control_id: str, **changes) -> Report:
    today = timezone.localdate()
    return replace(
        Report(
            control_id=control_id,
            report_id=f"ACC-{control_id}",
            nhs_number=patient.nhs_number,
            family_name=patient.family_name,
            given_name=patient.given_name,
            date_of_birth=patient.date_of_birth,
            exam_code="CTCAP",
            exam_system="LOCAL",
            exam_name="CT chest, abdomen and pelvis",
            performed_on=today - timedelta(days=1),
            reported_on=today - timedelta(days=1),
            report_text="Findings: two new lesions in the liver.\nConclusion: suspicious for metastases.",
        ),
        **changes,
    )


def ensure_code_map() -> None:
    """The code map's seeded rows (a migration's data): a test with transaction=True flushes them."""
    for system, code, display, modality, kind in SEED_CODES:
        ExamCode.objects.get_or_create(
            system=system, code=code, defaults={"display": display, "staging_modality": modality, "followup_kind": kind}
        )


def send(client, report: Report) -> InboxMessage:
    return receive(client=client, format=MessageFormat.HL7V2, body=f"MSH|{report.control_id}", read=lambda t: report)


@pytest.mark.parametrize("width", [1280, 390])
def test_a_result_arrives_is_classified_as_distant_disease_and_an_unmatched_one_is_matched(
    new_context, alex, chris, width
):
    today = timezone.localdate()
    ensure_code_map()
    sender, _ = client_register(name="North RIS", teams=[alex.team], can_send=True, can_read=False, by=chris)
    mary = PatientFactory(given_name="Mary", family_name="Brown", team=alex.team, named_nurse=alex)
    recurrence = RecurrenceFactory(
        patient=mary, metastatic_type=c.MetastaticType.LOCAL, diagnosed_on=today - timedelta(days=20)
    )
    episode = RestagingEpisodeFactory(recurrence=recurrence)
    ct = StagingTestFactory(episode=episode, modality=c.StagingModality.CT_CAP, requested_on=today - timedelta(days=10))
    ann = PatientFactory(given_name="Ann", family_name="Green", team=alex.team, named_nurse=alex)
    mammogram = FollowUpItemFactory(patient=ann, kind=c.FollowUpKind.MAMMOGRAM, due_on=today + timedelta(days=5))

    arrived = send(sender, report_for(mary, "ORU0001"))
    assert arrived.status == MessageStatus.MATCHED
    # Ann's mammogram report gives a date of birth that is not hers: unmatched, for a person to check.
    unmatched = send(
        sender,
        report_for(
            ann, "ORU0002", exam_code="MAMMOB", exam_name="Mammogram, both breasts",
            date_of_birth=ann.date_of_birth - timedelta(days=366), report_text="No evidence of malignancy.",
        ),
    )  # fmt: skip
    assert unmatched.status == MessageStatus.UNMATCHED

    SHOTS.mkdir(exist_ok=True)
    page = new_context(viewport={"width": width, "height": 900 if width > 400 else 844}).new_page()
    log_in(page, "alex")
    expect(page.locator("#count-staging-results-mine")).to_have_text("1")
    expect(page.locator("#count-unmatched-results-team")).to_have_text("1")

    # The report on "Staging results to acknowledge": not yet classified, no one-click acknowledge.
    page.goto("/worklists/staging-results/")
    mary_row = row(page, "BROWN, Mary")
    expect(mary_row).to_contain_text("Reported, not yet classified")
    expect(mary_row.get_by_role("button", name="Acknowledge")).to_have_count(0)
    page.screenshot(path=f"{SHOTS}/staging-results-{width}.png", full_page=True)
    mary_row.get_by_role("link", name="Classify and acknowledge").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Classify and acknowledge the CT chest, abdomen and pelvis result"
    )
    expect(page.locator("#report-text")).to_contain_text("two new lesions in the liver")
    page.get_by_label("Distant disease found").check()
    page.get_by_role("group", name="Distant disease found in").get_by_label("Liver", exact=True).check()
    page.screenshot(path=f"{SHOTS}/classify-{width}.png", full_page=True)
    page.get_by_role("button", name="Classify and acknowledge").click()

    # The existing prompt: record the secondary breast cancer now.
    expect(page).to_have_url(path_is(f"/tests/{ct.pk}/secondary/"))
    expect(message(page)).to_contain_text("Distant disease found. Record the secondary breast cancer now.")
    ct.refresh_from_db()
    assert (ct.result, ct.acknowledged_by) == (c.StagingResult.DISTANT, alex)

    # The unmatched one, matched by hand from "Unmatched results".
    page.goto("/worklists/unmatched-results/")
    unmatched_row = row(page, "GREEN")
    expect(unmatched_row).to_contain_text("The date of birth in the message is not")
    page.screenshot(path=f"{SHOTS}/unmatched-{width}.png", full_page=True)
    unmatched_row.get_by_role("link", name="Place this result").click()
    expect(page.locator("#differences")).to_contain_text("The date of birth in the message is")
    page.get_by_label("Mammogram, due").check()
    page.get_by_label("I have checked that this report is this patient's").first.check()
    page.screenshot(path=f"{SHOTS}/place-{width}.png", full_page=True)
    page.get_by_role("button", name="Match to this test or item").click()
    expect(page).to_have_url(path_is("/worklists/unmatched-results/"))
    expect(message(page)).to_contain_text("Result placed on GREEN, Ann's record")
    expect(page.locator("tbody")).to_contain_text("No result is waiting to be placed.")
    unmatched.refresh_from_db()
    mammogram.refresh_from_db()
    assert (unmatched.status, unmatched.followup_item, unmatched.placed_by) == (MessageStatus.MATCHED, mammogram, alex)
    assert mammogram.result == c.ImagingOutcome.REPORTED
    assert StagingTest.objects.awaiting_acknowledgement().count() == 0
