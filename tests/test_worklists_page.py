"""Issue 13, the worklists' pages: layout, scope tabs, collapsed filters with their summary in words,
inline row actions that keep the row, and downloads that stay exactly as they were."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from followup import choices as c
from followup.worklists import WORKLISTS

from .factories import (
    FollowUpItemFactory,
    PatientFactory,
    RestagingEpisodeFactory,
    StagingTestFactory,
    SymptomReportFactory,
)

TODAY = timezone.localdate()


def days(n):
    return TODAY + timedelta(days=n)


def url(name, *args):
    return reverse(f"followup:{name}", args=args)


# Downloads: exactly as before the pages changed ----------------------------------------------------


@pytest.fixture
def one_of_each(nurse):
    """One row on every worklist, for a patient whose name and NHS number the downloads show."""
    nurse.first_name, nurse.last_name = "Alex", "Morgan"
    nurse.save()
    ann = PatientFactory(
        team=nurse.team, named_nurse=nurse, given_name="Ann", family_name="Green", nhs_number="9990000026"
    )
    FollowUpItemFactory(patient=ann, due_on=days(-60))
    FollowUpItemFactory(patient=ann, due_on=days(3), status=c.FollowUpStatus.BOOKED, booked_for=days(4))
    FollowUpItemFactory(patient=ann, status=c.FollowUpStatus.DONE, done_on=days(-20), result="02")
    FollowUpItemFactory(patient=ann, status=c.FollowUpStatus.DONE, done_on=days(-2), result_awaited=True)
    episode = RestagingEpisodeFactory(recurrence__patient=ann, opened_on=days(-40), target_on=days(-12))
    episode.recurrence.sites.create(
        metastatic_type="02", site=c.Site.AXILLARY_NODES, created_by=nurse, updated_by=nurse
    )
    StagingTestFactory(episode=episode)
    distant = StagingTestFactory(episode=episode, performed_on=days(-3), reported_on=days(-2), result="distant")
    distant.sites.create(site=c.Site.LIVER)
    SymptomReportFactory(patient=ann, reported_on=days(-1), red_flag=c.RedFlag.CORD_COMPRESSION)
    bob = PatientFactory(team=nurse.team, named_nurse=nurse, given_name="Bob", family_name="Hill", nhs_number="")
    return ann, bob


def _download(client, slug) -> list[list[str]]:
    response = client.get(url("worklist", slug), {"export": "csv"})
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


RED_FLAG = (
    "Red flag:  Possible spinal cord compression "
    "(back pain with weak legs, numbness, or loss of bladder or bowel control)"
)


def test_worklist_downloads_keep_every_column_the_screen_merges(nurse_client, one_of_each):
    """The screen merges columns (NHS number under the name, days overdue beside the date...); the
    downloads keep one value a column, exactly as before issue 13."""
    ann, nurse = "GREEN, Ann", "Alex Morgan"
    iso = {n: days(n).isoformat() for n in (-60, -40, -20, -12, -2, -1, 3, 4)}
    assert {slug: _download(nurse_client, slug) for slug in WORKLISTS} == {
        "overdue": [
            ["Patient", "NHS number", "Named nurse", "Follow-up", "Due", "Days overdue", "Escalation", "Status"],
            [ann, "9990000026", nurse, "Mammogram", iso[-60], "60", "Escalated", "Due"],
        ],
        "due-soon": [
            ["Patient", "NHS number", "Named nurse", "Follow-up", "Due", "Status", "Booked for"],
            [ann, "9990000026", nurse, "Mammogram", iso[3], "Booked", iso[4]],
        ],
        "results": [
            ["Patient", "NHS number", "Named nurse", "Test", "Done", "Result", "Days waiting", "Escalation"],
            [ann, "9990000026", nurse, "Mammogram", iso[-20], "Normal", "20", "Escalated: waiting over 14 days"],
        ],
        "results-awaited": [
            ["Patient", "NHS number", "Named nurse", "Test", "Done", "Days waiting"],
            [ann, "9990000026", nurse, "Mammogram", iso[-2], "2"],
        ],
        "staging-results": [
            ["Patient", "NHS number", "Named nurse", "Test", "Reported", "Result", "Days waiting", "Escalation"],
            [ann, "9990000026", nurse, "CT chest, abdomen and pelvis", iso[-2], "Distant disease Liver", "2", ""],
        ],
        "restaging": [
            [
                *("Patient", "NHS number", "Status", "Tests reported", "Recurrence", "Recurrence date"),
                *("Days open", "Target", "Named nurse"),
            ],
            [
                *(ann, "9990000026", "Results to acknowledge; Results awaited", "1 of 2"),
                *("Regional: Axillary lymph nodes", iso[-40], "40", iso[-12], nurse),
            ],
        ],
        "distant-not-recorded": [
            [
                "Patient",
                "NHS number",
                "Named nurse",
                "Test",
                "Reported",
                "Distant disease found in",
                "Days since report",
            ],
            [ann, "9990000026", nurse, "CT chest, abdomen and pelvis", iso[-2], "Liver", "2"],
        ],
        "symptoms": [
            ["Patient", "NHS number", "Named nurse", "Red flag", "Reported", "Area", "Description"],
            [ann, "9990000026", nurse, RED_FLAG, iso[-1], "Bone", "Aching in the lower back."],
        ],
        "no-follow-up": [
            ["Patient", "NHS number", "Named nurse", "Status", "Follow-up model", "Last follow-up item"],
            ["HILL, Bob", "", nurse, "Under surveillance", "Clinic-led", "None yet"],
        ],
        "data-quality": [
            ["Patient", "NHS number", "Named nurse", "Problems"],
            [ann, "9990000026", nurse, "No primary diagnosis recorded"],
            ["HILL, Bob", "", nurse, "Missing NHS numberNo primary diagnosis recorded"],
        ],
    }
