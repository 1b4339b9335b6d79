"""Issue 12 (4): the page shown when someone else saved the record first says, in labels and
words, everything they changed since the version the user started from, and what they did."""

import html
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from followup import choices as c
from followup import services
from followup.models import FollowUpItem, Patient, StagingTest
from followup.services import SiteEntry

from .factories import FollowUpItemFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def days(n):
    return TODAY + timedelta(days=n)


def day(value) -> str:
    return f"{value.day} {value:%b %Y}"


def at(record) -> str:
    """The time of the record's last change, as the page says it: "10:42"."""
    return f"{timezone.localtime(record.updated_at):%H:%M}"


def url(name, *args):
    return reverse(f"followup:{name}", args=args)


def callout(response) -> str:
    """The conflict callout, as a person reads it."""
    match = re.search(r'<div class="nhsuk-warning-callout" id="conflict">(.*?)</div>', response.content.decode(), re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


def test_booking_an_item_someone_cancelled_meanwhile_shows_the_cancellation_in_words(
    nurse_client, nurse, priya, patient
):
    item = FollowUpItemFactory(patient=patient, kind=c.FollowUpKind.MAMMOGRAM, due_on=days(20))
    opened = item.version  # Alex opens "Book"
    services.followup_item_cancel(item=item, reason="Moved to another trust", by=priya, expected_version=opened)

    response = nurse_client.post(url("item_book", item.pk), {"booked_for": days(25).isoformat(), "version": opened})

    assert response.status_code == 409
    item = FollowUpItem.objects.get(pk=item.pk)
    conflict = response.context["conflict"]
    assert conflict.steps == [f"Cancelled by Priya Shah at {at(item)}. Reason: Moved to another trust"]
    assert conflict.rows == [
        ("Status", "Due", "Cancelled", ""),
        ("Reason for cancelling", "–", "Moved to another trust", ""),
        ("Appointment date", "–", "–", day(days(25))),
    ]
    assert callout(response) == (
        "Important: Changed by someone else After you opened this record: "
        f"Cancelled by Priya Shah at {at(item)}. Reason: Moved to another trust "
        "Field When you opened it Saved now Your entry "
        "Field Status When you opened it Due Saved now Cancelled Your entry "
        "Field Reason for cancelling When you opened it – Saved now Moved to another trust Your entry "
        f"Field Appointment date When you opened it – Saved now – Your entry {day(days(25))}"
    )
    # Nothing of Alex's was saved.
    assert (item.status, item.booked_for, item.version) == (c.FollowUpStatus.CANCELLED, None, 2)


def test_recording_a_result_someone_recorded_meanwhile_shows_their_result_with_labels(
    nurse_client, nurse, priya, patient
):
    recurrence = services.recurrence_record(
        patient=patient,
        metastatic_type=c.MetastaticType.REGIONAL,
        sites=[SiteEntry(c.Site.AXILLARY_NODES)],
        diagnosed_on=days(-10),
        restaging_tests=[c.StagingModality.CT_CAP],
        by=nurse,
    )
    test = recurrence.restaging.tests.get()
    opened = test.version  # Alex opens "Record result"
    services.staging_test_record_result(
        test=test,
        performed_on=days(-4),
        reported_on=days(-3),
        result=c.StagingResult.DISTANT,
        sites=[SiteEntry(c.Site.LIVER), SiteEntry(c.Site.BONE)],
        notes="Two liver lesions; sclerotic rib lesion.",
        by=priya,
        expected_version=opened,
    )

    response = nurse_client.post(
        url("staging_result", test.pk),
        {
            "performed_on": days(-4).isoformat(),
            "reported_on": days(-2).isoformat(),
            "result": c.StagingResult.CLEAR,
            "notes": "No distant disease.",
            "version": opened,
        },
    )

    assert response.status_code == 409
    test = StagingTest.objects.get(pk=test.pk)
    conflict = response.context["conflict"]
    assert conflict.steps == [f"Result recorded by Priya Shah at {at(test)}: Distant disease found"]
    assert conflict.rows == [
        ("Date performed", "–", day(days(-4)), day(days(-4))),
        ("Date reported", "–", day(days(-3)), day(days(-2))),
        ("Result", "–", "Distant disease found", "No evidence of distant disease"),
        ("Report summary", "–", "Two liver lesions; sclerotic rib lesion.", "No distant disease."),
        ("Distant disease found in", "–", "Bone, Liver", "–"),
    ]
    body = response.content.decode()
    assert "StagingTestSite" not in body and ">distant<" not in body and ">clear<" not in body
    assert (test.result, test.result_notes, test.version) == (
        c.StagingResult.DISTANT,
        "Two liver lesions; sclerotic rib lesion.",
        2,
    )


def test_two_people_editing_a_patient_see_every_field_the_other_changed_as_labels(nurse_client, nurse, priya, patient):
    opened = patient.version
    form = {
        "nhs_number": patient.nhs_number,
        "hospital_number": patient.hospital_number,
        "given_name": "Janet",  # Alex's change
        "family_name": patient.family_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "sex": patient.sex,
        "follow_up_model": patient.follow_up_model,
        "version": opened,
    }
    services.patient_update(
        patient=patient,
        by=priya,
        expected_version=opened,
        hospital_number="RX9999",
        sex=c.Sex.NOT_KNOWN,
        follow_up_model=c.FollowUpModel.PSFU,
    )

    response = nurse_client.post(url("patient_edit", patient.pk), form)

    assert response.status_code == 409
    patient = Patient.objects.get(pk=patient.pk)
    conflict = response.context["conflict"]
    assert conflict.steps == [f"Details changed by Priya Shah at {at(patient)}"]
    assert conflict.rows == [
        ("Hospital number", form["hospital_number"], "RX9999", form["hospital_number"]),
        ("Sex", "Female", "Not known", "Female"),
        (
            "Follow-up model",
            "Clinic-led",
            "Personalised stratified follow-up (remote monitoring)",
            "Clinic-led",
        ),
        ("First name", "Jane", "Jane", "Janet"),
    ]
    body = callout(response)
    assert " F " not in body and "clinic " not in body and "psfu" not in body
    assert (patient.given_name, patient.hospital_number, patient.version) == ("Jane", "RX9999", 2)


def test_every_change_since_the_version_opened_is_listed_oldest_first(nurse_client, nurse, priya, patient):
    """Two saves by others since Alex opened the item: both are said, and the net change shown."""
    item = FollowUpItemFactory(patient=patient, kind=c.FollowUpKind.MAMMOGRAM, due_on=days(-3))
    opened = item.version
    item = services.followup_item_book(item=item, booked_for=days(4), by=priya, expected_version=opened)
    booked_at = at(item)
    item = services.followup_item_record_done(
        item=item, done_on=TODAY, result=c.ImagingOutcome.NORMAL, by=nurse, expected_version=item.version
    )

    response = nurse_client.post(url("item_cancel", item.pk), {"reason": "Duplicate", "version": opened})

    assert response.status_code == 409
    conflict = response.context["conflict"]
    who = nurse.get_full_name()
    assert conflict.steps == [
        f"Booked for {day(days(4))} by Priya Shah at {booked_at}",
        f"Recorded as done on {day(TODAY)} (result: Normal) by {who} at {at(item)}",
    ]
    assert conflict.rows == [
        ("Status", "Due", "Done", ""),
        ("Booked for", "–", day(days(4)), ""),
        ("Done on", "–", day(TODAY), ""),
        ("Result", "–", "Normal", ""),
        ("Reason for cancelling", "–", "–", "Duplicate"),
    ]


def test_a_record_loaded_without_history_still_says_what_the_other_person_did(nurse_client, nurse, priya, patient):
    """Demo data and bulk loads have no history before their first change: the page says what it knows."""
    (item,) = FollowUpItem.objects.bulk_create(
        [
            FollowUpItem(
                patient=patient, kind=c.FollowUpKind.MAMMOGRAM, due_on=days(20), created_by=nurse, updated_by=nurse
            )
        ]
    )
    services.followup_item_cancel(item=item, reason="Moved to another trust", by=priya, expected_version=1)

    response = nurse_client.post(url("item_book", item.pk), {"booked_for": days(25).isoformat(), "version": 1})

    assert response.status_code == 409
    conflict = response.context["conflict"]
    item.refresh_from_db()
    assert conflict.steps == [f"Cancelled by Priya Shah at {at(item)}. Reason: Moved to another trust"]
    assert (conflict.rows, conflict.opened_known) == ([("Appointment date", "–", "–", day(days(25)))], False)
    assert "what it held when you opened it is not known" in callout(response)
