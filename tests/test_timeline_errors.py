"""Issue 12 (4): a record marked entered in error stays on the patient page's history,
struck through, with who marked it, when and why; it never counts on any list."""

import html
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from followup import choices as c
from followup import services
from followup.models import FollowUpItem, PrimaryDiagnosis, Recurrence, StagingTest, SymptomReport
from followup.patient_tasks import TASKS
from followup.services import SiteEntry
from followup.worklists import WORKLISTS

from .factories import (
    FollowUpItemFactory,
    PrimaryDiagnosisFactory,
    SymptomReportFactory,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def days(n):
    return TODAY + timedelta(days=n)


def page_of(client, patient):
    return client.get(reverse("followup:patient_detail", args=[patient.pk]))


def text(fragment: str) -> str:
    """What a person reads: tags gone, spaces collapsed, entities decoded."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def history_entries(response) -> list[str]:
    """Each event of the History section, as text."""
    section = re.search(r'<ol class="app-timeline" id="history">(.*?)</ol>', response.content.decode(), re.S)
    event = r'<li class="app-timeline__event[^"]*">(.*?)</li>\s*(?=<li class="app|$)'
    events = re.findall(event, section.group(1), re.S)
    return [text(event) for event in events]


def marked(record) -> str:
    """When a record was marked entered in error, as the page says it: "1 Dec 2026 at 10:42"."""
    at = timezone.localtime(record.error_marked_at)
    return f"{at.day} {at:%b %Y at %H:%M}"


def _regional(patient, nurse, **kwargs):
    return services.recurrence_record(
        patient=patient,
        metastatic_type=c.MetastaticType.REGIONAL,
        sites=[SiteEntry(c.Site.AXILLARY_NODES)],
        diagnosed_on=days(-7),
        by=nurse,
        **kwargs,
    )


def test_recurrence_entered_in_error_is_struck_through_in_the_history_with_who_when_and_why(
    nurse_client, nurse, priya, patient
):
    recurrence = _regional(patient, nurse)
    services.record_mark_entered_in_error(record=recurrence, reason="Recorded on the wrong patient", by=priya)
    recurrence = Recurrence.all_objects.get(pk=recurrence.pk)

    response = page_of(nurse_client, patient)
    body = response.content.decode()

    assert "Nothing recorded yet." not in body
    assert '<s><span class="nhsuk-u-visually-hidden">Entered in error: </span>Regional recurrence</s>' in body
    assert history_entries(response) == [
        f"{days(-7).day} {days(-7):%b %Y} Entered in error: Regional recurrence Axillary lymph nodes "
        f"Marked entered in error by Priya Shah on {marked(recurrence)}. Reason: Recorded on the wrong patient"
    ]
    # It is on no list (the patient has nothing else: hence no follow-up and no primary), and the
    # patient page offers nothing to do about it.
    assert [w.slug for w, rows in response.context["actions"]] == ["no-follow-up", "data-quality"]
    assert [e.links for e in response.context["timeline"].history] == [[]]
    assert list(WORKLISTS["restaging"].for_user(nurse, today=TODAY)) == []


def test_every_kind_of_record_entered_in_error_stays_in_the_history_and_off_upcoming(
    nurse_client, nurse, priya, patient
):
    primary = PrimaryDiagnosisFactory(patient=patient, laterality=c.Laterality.RIGHT, diagnosed_on=days(-400))
    due = FollowUpItemFactory(patient=patient, kind=c.FollowUpKind.MAMMOGRAM, due_on=days(30))
    report = SymptomReportFactory(patient=patient, reported_on=days(-3), description="Cough for three weeks.")
    recurrence = _regional(patient, nurse, restaging_tests=[c.StagingModality.CT_CAP])
    ct = recurrence.restaging.tests.get()
    for record, reason in [
        (primary, "Another patient's diagnosis"),
        (due, "Duplicate of the booked mammogram"),
        (report, "Recorded on the wrong patient"),
        (ct, "Requested twice"),
    ]:
        services.record_mark_entered_in_error(record=record, reason=reason, by=priya)

    response = page_of(nurse_client, patient)
    timeline = response.context["timeline"]
    assert timeline.upcoming == []
    assert [(e.title, e.error.reason if e.error else None) for e in timeline.history] == [
        ("Mammogram due", "Duplicate of the booked mammogram"),
        ("Bone symptoms reported", "Recorded on the wrong patient"),
        ("Regional recurrence", None),
        ("CT chest, abdomen and pelvis requested", "Requested twice"),
        ("Primary breast cancer diagnosed (Right)", "Another patient's diagnosis"),
    ]
    assert [(e.error.by, e.error.at) for e in timeline.history if e.error] == [
        ("Priya Shah", FollowUpItem.all_objects.get(pk=due.pk).error_marked_at),
        ("Priya Shah", SymptomReport.all_objects.get(pk=report.pk).error_marked_at),
        ("Priya Shah", StagingTest.all_objects.get(pk=ct.pk).error_marked_at),
        ("Priya Shah", PrimaryDiagnosis.all_objects.get(pk=primary.pk).error_marked_at),
    ]
    assert [e.links for e in timeline.history if e.error] == [[], [], [], []]
    body = response.content.decode()
    assert "No primary diagnosis recorded." in body  # the facts column counts live primaries only
    assert "No follow-up item is booked or due." in body
    # None of them counts on any list; the live regional recurrence's restaging does.
    assert [w.slug for w, rows in response.context["actions"]] == [
        "restaging",
        "no-follow-up",
        "data-quality",
        "mdt-not-discussed",
    ]


def test_tests_of_a_recurrence_entered_in_error_are_struck_through_with_it(nurse_client, nurse, priya, patient):
    recurrence = _regional(patient, nurse, restaging_tests=[c.StagingModality.CT_CAP])
    services.record_mark_entered_in_error(record=recurrence, reason="Wrong patient", by=priya)
    recurrence = Recurrence.all_objects.get(pk=recurrence.pk)

    response = page_of(nurse_client, patient)
    entries = history_entries(response)
    assert entries == [
        f"{days(-7).day} {days(-7):%b %Y} Entered in error: Regional recurrence Axillary lymph nodes "
        f"Marked entered in error by Priya Shah on {marked(recurrence)}. Reason: Wrong patient",
        f"{days(-7).day} {days(-7):%b %Y} Entered in error: CT chest, abdomen and pelvis requested "
        f"Marked entered in error with its recurrence by Priya Shah on {marked(recurrence)}. Reason: Wrong patient",
    ]
    assert [e.links for e in response.context["timeline"].history] == [[], []]
    assert "restaging" not in [w.slug for w, rows in response.context["actions"]]


@pytest.mark.parametrize("rows", [1, 3])
def test_patient_page_reads_the_rows_entered_in_error_in_the_same_queries(
    rows, nurse_client, nurse, priya, patient, django_assert_num_queries
):
    for _ in range(rows):
        for live in (True, False):
            primary = PrimaryDiagnosisFactory(patient=patient)
            item = FollowUpItemFactory(patient=patient, due_on=days(-60))
            recurrence = _regional(patient, nurse, restaging_tests=[c.StagingModality.CT_CAP])
            report = SymptomReportFactory(patient=patient)
            if not live:
                for record in (primary, item, recurrence.restaging.tests.get(), report, recurrence):
                    services.record_mark_entered_in_error(record=record, reason="Wrong patient", by=priya)
    # session, user, access check, the access-log row, the patient with nurse/team/protocol,
    # 9 prefetches (primaries, items, recurrences+episode, sites, tests, test sites, symptoms, tasks,
    # contacts), which bring the rows entered in error too; one query per list of "What needs doing" for
    # the open actions (patient_tasks.TASKS), the tests of the open restaging episodes, which say what each
    # still needs, the MDT discussions (mdt.patient_page) and the letters (letters.patient_page).
    # Not on PIFU: the page skips the "PIFU ending" list (- 1).
    with django_assert_num_queries(5 + 9 + len(TASKS) - 1 + 1 + 1 + 1):
        response = nurse_client.get(reverse("followup:patient_detail", args=[patient.pk]))
    history = response.context["timeline"].history
    assert len([e for e in history if e.error]) == 5 * rows
    assert len([e for e in history if not e.error]) == 4 * rows  # the live item is upcoming
