"""Defects found reviewing the merged issue 12: each test failed on the merged code (31afac4)."""

import struct
import time
import tracemalloc
import zlib
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from followup import choices as c
from followup import import_files, imports, services
from followup.display import show_date
from followup.models import AccessLog, FollowUpItem, Patient, RestagingEpisode
from followup.patient_tasks import TASKS
from followup.services import SiteEntry
from followup.worklists import WORKLISTS

from .factories import (
    FollowUpItemFactory,
    PatientFactory,
    PrimaryDiagnosisFactory,
    SymptomReportFactory,
)
from .test_import import NHS, csv_bytes, row

TODAY = timezone.localdate()


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


# Upload exhaustion: the zip's announced part count is not what zipfile reads ---------------------------


def zip_with_parts(parts: int, *, announced: int) -> bytes:
    """A zip whose central directory lists ``parts`` entries (all one empty stored file, named "a"), while its
    end record announces ``announced``: zipfile reads the directory by its size in bytes, never by the count."""
    name, data = b"a", b""
    crc = zlib.crc32(data)
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, crc, 0, 0, len(name), 0) + name
    entry = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, crc, 0, 0, len(name), 0, 0, 0, 0, 0, 0)
    directory = (entry + name) * parts
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, announced, announced, len(directory), len(local), 0)
    return local + directory + end


def test_import_of_a_workbook_lying_about_its_part_count_is_refused_at_once():
    content = zip_with_parts(60_000, announced=1)
    assert len(content) < import_files.MAX_FILE_BYTES
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(imports.ImportFileError) as refused:
            imports.read_table(content)
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seconds < 1
    assert peak < 100 * 1024 * 1024
    assert refused.value.messages == [
        "The workbook holds more than 1,000 parts: it was not read. "
        "Save the caseload sheet on its own as a new workbook or as CSV."
    ]


# Confirming a refuted recurrence of a discharged patient ------------------------------------------------


def test_confirming_a_refuted_recurrence_after_discharge_puts_its_restaging_back_on_the_list(nurse, patient):
    recurrence = services.recurrence_record(
        patient=patient,
        metastatic_type=c.MetastaticType.REGIONAL,
        sites=[SiteEntry(c.Site.AXILLARY_NODES)],
        diagnosed_on=days(-30),
        restaging_tests=[c.StagingModality.CT_CAP],
        by=nurse,
    )
    recurrence = services.recurrence_set_status(
        recurrence=recurrence,
        status=c.RecurrenceStatus.REFUTED,
        cancel_outstanding_tests=True,
        cancel_reason="Biopsy benign",
        by=nurse,
        expected_version=None,
    )
    # Refuted: nothing incomplete, so the patient may be discharged.
    services.patient_discharge(
        patient=patient, discharged_on=days(-10), reason="End of follow-up", by=nurse, expected_version=None
    )
    # The refutation was wrong: the recurrence is confirmed, and its restaging is open again.
    services.recurrence_set_status(
        recurrence=recurrence, status=c.RecurrenceStatus.CONFIRMED, by=nurse, expected_version=None
    )
    episode = RestagingEpisode.objects.get(recurrence=recurrence)
    assert episode.outcome == c.RestagingOutcome.OPEN
    # ... and some list must show it: the restaging list (failsafe 4).
    assert list(RestagingEpisode.objects.incomplete()) == [episode]
    assert Patient.objects.get(pk=patient.pk).status == c.PatientStatus.SURVEILLANCE


def test_confirming_a_refuted_distant_recurrence_after_discharge_brings_the_patient_back(nurse, patient):
    recurrence = services.recurrence_record(
        patient=patient,
        metastatic_type=c.MetastaticType.DISTANT,
        sites=[SiteEntry(c.Site.LIVER)],
        diagnosed_on=days(-30),
        by=nurse,
    )
    recurrence = services.recurrence_set_status(
        recurrence=recurrence, status=c.RecurrenceStatus.REFUTED, by=nurse, expected_version=None
    )
    services.patient_discharge(
        patient=patient, discharged_on=days(-10), reason="End of follow-up", by=nurse, expected_version=None
    )
    services.recurrence_set_status(
        recurrence=recurrence, status=c.RecurrenceStatus.CONFIRMED, by=nurse, expected_version=None
    )
    # Living with secondary breast cancer: not discharged, off every list.
    assert Patient.objects.get(pk=patient.pk).status == c.PatientStatus.SECONDARY


# Results awaited, then recorded: the results list counts the wait from the result --------------------


def test_a_result_recorded_today_after_waiting_is_not_escalated_on_the_results_list(client, nurse, patient):
    item = FollowUpItemFactory(patient=patient, due_on=days(-40))
    item = services.followup_item_record_done(
        item=item, done_on=days(-30), result_awaited=True, by=nurse, expected_version=None
    )
    services.followup_item_record_result(item=item, result=c.ImagingOutcome.NORMAL, by=nurse, expected_version=None)
    client.force_login(nurse)
    response = client.get(reverse("followup:worklist", args=["results"]))
    (row,) = response.context["table"].paginated_rows
    # The result came today: it has waited 0 days to be read, and is not escalated.
    assert str(row.get_cell("waiting")) == "0 days"
    assert "app-row--escalated" not in response.content.decode()


# The caseload import's dry run checks the dates of what it adds as the import itself will -------------


@pytest.mark.parametrize(
    ("cells", "error"),
    [
        (
            {"laterality": "Left", "diagnosed_on": "01/03/1950"},
            "Date diagnosed: The date of diagnosis cannot be before the date of birth (17 May 1960).",
        ),
        (
            {"next_kind": "Mammogram", "next_due_on": "15/03/0027"},
            "Next follow-up due: The due date cannot be before 1 Jan 1900: check the year.",
        ),
        (
            {"next_kind": "Mammogram", "next_due_on": "15/03/2062"},
            "Next follow-up due: The due date is more than 10 years ahead: check the year.",
        ),
    ],
)
def test_import_dry_run_refuses_the_dates_the_import_would_refuse(nurse, admin_user, cells, error):
    content = csv_bytes([row(NHS[0], named_nurse=nurse.username, **cells)])
    plan = imports.build_plan(content, team=nurse.team)
    assert [r.errors for r in plan.rows] == [[error]]
    assert Patient.objects.count() == 0 and FollowUpItem.objects.count() == 0


# The patient page of a patient with an implausible date reads what it loaded ----------------------------


@pytest.mark.parametrize("rows", [1, 3])
def test_patient_page_with_an_implausible_date_query_count_is_constant(rows, client, nurse, django_assert_num_queries):
    patient = PatientFactory(team=nurse.team, named_nurse=nurse, date_of_birth=date(1899, 6, 1))
    for _ in range(rows):
        PrimaryDiagnosisFactory(patient=patient)
        FollowUpItemFactory(patient=patient, due_on=days(-60))
        recurrence = services.recurrence_record(
            patient=patient,
            metastatic_type=c.MetastaticType.LOCAL,
            sites=[SiteEntry(c.Site.SCAR)],
            diagnosed_on=days(-5),
            restaging_tests=[c.StagingModality.CT_CAP],
            by=nurse,
        )
        SymptomReportFactory(patient=patient)
    client.force_login(nurse)
    # As test_views.test_patient_page_query_count_is_constant: session, user, access check, the access-log row,
    # the patient, 9 prefetches (with the tasks and the contacts), one query per list of "What needs doing"
    # (patient_tasks.TASKS), the tests of the open restaging episodes, the MDT discussions (mdt.patient_page),
    # the letters (letters.patient_page). The implausible dates are found in what the page already loaded
    # (dates.stored_problems()).
    # Not on PIFU: the page skips the "PIFU ending" list (- 1).
    with django_assert_num_queries(5 + 9 + len(TASKS) - 1 + 1 + 1 + 1):
        response = client.get(reverse("followup:patient_detail", args=[patient.pk]))
    problems = [row.text for row in dict(response.context["actions"])[WORKLISTS["data-quality"]]]
    assert problems[:2] == [
        "Implausible date",
        "Patient, 1 Jun 1899: The date of birth cannot be before 1 Jan 1900: check the year.",
    ]
    assert recurrence.restaging.tests.count() == 1


# The conflict page and the new "Result not yet available" forms -------------------------------------------


def at(record) -> str:
    return f"{timezone.localtime(record.updated_at):%H:%M}"


def test_conflict_page_shows_result_not_yet_available_as_the_users_entry(client, nurse, priya, patient):
    item = FollowUpItemFactory(patient=patient, kind=c.FollowUpKind.MAMMOGRAM, due_on=days(-5))
    opened = item.version  # Alex opens "Record done"
    services.followup_item_record_done(
        item=item, done_on=days(-2), result=c.ImagingOutcome.NORMAL, by=priya, expected_version=opened
    )
    client.force_login(nurse)
    response = client.post(
        reverse("followup:item_done", args=[item.pk]),
        {"done_on": days(-1).isoformat(), "result": "awaited", "version": opened},
    )
    assert response.status_code == 409
    rows = {field: (then, now, yours) for field, then, now, yours in response.context["conflict"].rows}
    assert rows["Result"] == ("–", "Normal", "Result not yet available")


def test_conflict_page_says_the_other_person_recorded_the_awaited_result(client, nurse, priya, patient):
    item = FollowUpItemFactory(patient=patient, kind=c.FollowUpKind.MAMMOGRAM, due_on=days(-5))
    item = services.followup_item_record_done(
        item=item, done_on=days(-2), result_awaited=True, by=nurse, expected_version=None
    )
    opened = item.version  # Alex opens "Record the result"
    services.followup_item_record_result(item=item, result=c.ImagingOutcome.ABNORMAL, by=priya, expected_version=opened)
    client.force_login(nurse)
    response = client.post(
        reverse("followup:item_result", args=[item.pk]), {"result": c.ImagingOutcome.NORMAL, "version": opened}
    )
    assert response.status_code == 409
    item = FollowUpItem.objects.get(pk=item.pk)
    assert response.context["conflict"].steps == [f"Result recorded by Priya Shah at {at(item)}: Abnormal"]


# Admin-site views of a patient: the patient list searched by NHS number ---------------------------------


def test_admin_patient_list_searched_by_nhs_number_is_logged(client, admin_user, patient):
    client.force_login(admin_user)
    response = client.get(reverse("admin:followup_patient_changelist"), {"q": patient.nhs_number_display})
    # The page shows the patient's name, date of birth, team and nurse: a view of the patient.
    assert list(response.context["cl"].result_list) == [patient]
    assert list(AccessLog.objects.values_list("user", "action", "nhs_number")) == [
        (admin_user.pk, c.AccessAction.VIEW_IN_ADMIN, patient.nhs_number)
    ]


# A did-not-attend: the patient page and the no-next-follow-up list give the same day --------------------


def test_a_did_not_attend_is_dated_by_its_appointment_on_the_patient_page_as_on_the_list(client, nurse, patient):
    item = FollowUpItemFactory(
        patient=patient,
        kind=c.FollowUpKind.CLINIC_REVIEW,
        due_on=days(-30),
        status=c.FollowUpStatus.BOOKED,
        booked_for=days(-16),
    )
    services.followup_item_did_not_attend(item=item, by=nurse, expected_version=None)
    client.force_login(nurse)
    listed = client.get(reverse("followup:worklist", args=["no-follow-up"]))
    (row,) = listed.context["table"].paginated_rows
    assert str(row.get_cell("last_follow_up")) == f"Clinic review: did not attend {show_date(days(-16))}"
    page = client.get(reverse("followup:patient_detail", args=[patient.pk]))
    (event,) = [e for e in page.context["timeline"].history if e.title == "Clinic review: did not attend"]
    assert event.on == days(-16)
