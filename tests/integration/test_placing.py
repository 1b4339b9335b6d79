"""Placing a received report (integration/services.py): matched, unmatched with why, duplicate, amended.

Driven through ``receive`` with a reader that hands over a fixed Report: the formats' own tests
(HL7v2, FHIR) drive the same function with real messages.
"""

from dataclasses import replace
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from followup import choices as c
from followup import services as clinical
from followup.models import FollowUpItem, StagingTest
from integration.models import InboxMessage, MessageFormat, MessageStatus
from integration.services import Report, Unreadable, receive, record
from letters.choices import LetterKind
from letters.content import AMENDED_REFUSAL, result_refusal
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def report_for(patient, **changes) -> Report:
    today = timezone.localdate()
    base = Report(
        control_id="MSG0001",
        report_id="ACC0001",
        nhs_number=patient.nhs_number,
        family_name=patient.family_name,
        date_of_birth=patient.date_of_birth,
        exam_code="CTCAP",
        exam_system="LOCAL",
        exam_name="CT chest, abdomen and pelvis",
        performed_on=today - timedelta(days=2),
        reported_on=today - timedelta(days=1),
        report_text="No evidence of metastatic disease in the chest, abdomen or pelvis.",
    )
    return replace(base, **changes)


def send(client, report: Report, body: str = "raw") -> InboxMessage:
    return receive(client=client, format=MessageFormat.HL7V2, body=body, read=lambda text: report)


def test_a_report_for_the_one_open_ct_is_recorded_as_reported_not_yet_classified(sender, patient_with_ct):
    patient, test = patient_with_ct
    message = send(sender, report_for(patient))
    test.refresh_from_db()
    assert (message.status, message.staging_test, message.patient) == (MessageStatus.MATCHED, test, patient)
    assert test.result == c.StagingResult.REPORTED
    assert test.result_notes.startswith("No evidence of metastatic disease")
    assert test.updated_by == sender.user and test.acknowledged_at is None
    assert StagingTest.objects.awaiting_acknowledgement().filter(pk=test.pk).exists()
    with pytest.raises(Exception, match="Classify the result before acknowledging it"):
        clinical.staging_test_acknowledge(test=test, by=patient.named_nurse)


def test_a_mammogram_report_marks_the_item_done_with_the_report(sender, patient_with_mammogram):
    patient, item = patient_with_mammogram
    message = send(sender, report_for(patient, exam_code="MAMMOB", report_text="Both breasts: no change."))
    item.refresh_from_db()
    assert message.status == MessageStatus.MATCHED and message.followup_item == item
    assert (item.status, item.result, item.report) == (
        c.FollowUpStatus.DONE,
        c.ImagingOutcome.REPORTED,
        "Both breasts: no change.",
    )
    assert FollowUpItem.objects.awaiting_acknowledgement().filter(pk=item.pk).exists()


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"nhs_number": "9999999999"}, "No patient of the teams this system serves has NHS number 9999999999."),
        ({"date_of_birth": timezone.localdate() - timedelta(days=9000)}, "The date of birth in the message is not"),
        ({"family_name": "Someone-Else"}, "The family name in the message is not"),
        ({"exam_code": "ZZZ"}, "The exam code ZZZ is not in the code map"),
        ({"performed_on": timezone.localdate() - timedelta(days=300)}, "no open test or follow-up item"),
    ],
)
def test_a_report_that_cannot_be_placed_is_unmatched_with_why(sender, patient_with_ct, changes, why):
    patient, test = patient_with_ct
    message = send(sender, report_for(patient, **changes))
    test.refresh_from_db()
    assert message.status == MessageStatus.UNMATCHED and why in message.reason
    assert test.result == "" and InboxMessage.objects.unplaced().filter(pk=message.pk).exists()


def test_two_candidate_tests_leave_the_report_unmatched(sender, patient_with_ct, nurse):
    patient, test = patient_with_ct
    clinical.staging_test_request(
        episode=test.episode, modality=c.StagingModality.CT_CAP, requested_on=test.requested_on, by=nurse
    )
    message = send(sender, report_for(patient))
    assert message.status == MessageStatus.UNMATCHED and message.reason.startswith("More than one open test")
    assert not StagingTest.objects.exclude(result="").exists()


def test_the_same_control_id_twice_is_recorded_once(sender, patient_with_ct):
    patient, test = patient_with_ct
    first = send(sender, report_for(patient))
    second = send(sender, report_for(patient))
    assert second.status == MessageStatus.DUPLICATE and second.duplicate_of == first
    assert InboxMessage.objects.count() == 2 and StagingTest.objects.get().version == test.version + 1


def test_an_unreadable_message_is_kept_as_rejected(sender):
    def unreadable(text):
        raise Unreadable("The message has no OBR segment.")

    message = receive(client=sender, format=MessageFormat.HL7V2, body="MSH|garbage", read=unreadable)
    assert (message.status, message.reason, message.body) == (
        MessageStatus.REJECTED,
        "The message has no OBR segment.",
        "MSH|garbage",
    )


def test_a_corrected_report_goes_back_for_acknowledgement_marked_amended(sender, patient_with_ct, nurse):
    patient, test = patient_with_ct
    send(sender, report_for(patient))
    test.refresh_from_db()
    clinical.staging_test_record_result(
        test=test,
        performed_on=test.performed_on,
        reported_on=test.reported_on,
        result=c.StagingResult.CLEAR,
        notes=test.result_notes,
        by=nurse,
    )
    clinical.staging_test_acknowledge(test=StagingTest.objects.get(pk=test.pk), by=nurse)
    amended = send(
        sender, report_for(patient, control_id="MSG0002", amendment=True, report_text="ADDENDUM: 6 mm liver lesion.")
    )
    test.refresh_from_db()
    assert amended.status == MessageStatus.MATCHED and amended.amends.control_id == "MSG0001"
    assert (test.report_amended, test.acknowledged_at, test.result) == (True, None, c.StagingResult.CLEAR)
    assert test.result_notes == "ADDENDUM: 6 mm liver lesion."
    assert test.history.filter(result_notes__startswith="No evidence").exists()  # the first report stays in the history


# Review of issue 15: what must never happen ------------------------------------------------------------------


def _acknowledged_clear(test, nurse):
    test.refresh_from_db()
    clinical.staging_test_classify(test=test, result=c.StagingResult.CLEAR, by=nurse)
    return StagingTest.objects.get(pk=test.pk)


def test_a_correction_naming_another_patient_is_unmatched_not_put_on_the_first(sender, patient_with_ct, nurse):
    patient, test = patient_with_ct
    send(sender, report_for(patient))
    _acknowledged_clear(test, nurse)
    other = PatientFactory(team=patient.team, named_nurse=nurse, family_name="Other")
    correction = send(
        sender,
        report_for(other, control_id="MSG0002", amendment=True, report_text="Corrected: wrong patient before."),
    )
    test.refresh_from_db()
    assert correction.status == MessageStatus.UNMATCHED and "does not name the same patient" in correction.reason
    assert test.acknowledged_at is not None and not test.report_amended  # the first patient's result untouched


def test_a_report_sent_again_under_a_new_control_id_never_lands_on_a_second_test(sender, patient_with_ct, nurse):
    patient, test = patient_with_ct
    send(sender, report_for(patient))
    second = clinical.staging_test_request(
        episode=test.episode, modality=c.StagingModality.CT_CAP, requested_on=test.requested_on, by=nurse
    )
    again = send(sender, report_for(patient, control_id="MSG0009"))
    second.refresh_from_db()
    assert again.status == MessageStatus.UNMATCHED and "was placed already" in again.reason
    assert second.result == ""


def test_an_amended_report_is_acknowledged_only_by_classifying_it_again(sender, patient_with_ct, nurse):
    patient, test = patient_with_ct
    send(sender, report_for(patient))
    _acknowledged_clear(test, nurse)
    send(sender, report_for(patient, control_id="MSG0002", amendment=True, report_text="Addendum: liver lesion."))
    test.refresh_from_db()
    with pytest.raises(ValidationError, match="Classify the result before acknowledging it"):
        clinical.staging_test_acknowledge(test=test, by=nurse)
    assert result_refusal(LetterKind.RESULT_PATIENT, test) == AMENDED_REFUSAL
    done = clinical.staging_test_classify(test=test, result=c.StagingResult.EQUIVOCAL, by=nurse)
    assert (done.result, done.report_amended, done.acknowledged_by) == (c.StagingResult.EQUIVOCAL, False, nurse)
    assert result_refusal(LetterKind.RESULT_PATIENT, done) == ""


def test_a_test_given_a_result_meanwhile_is_not_overwritten(sender, patient_with_ct, nurse):
    patient, test = patient_with_ct
    stale = StagingTest.objects.get(pk=test.pk)
    clinical.staging_test_record_result(
        test=test, performed_on=test.requested_on, reported_on=test.requested_on, result=c.StagingResult.CLEAR,
        notes="Typed by the nurse.", by=nurse,
    )  # fmt: skip
    message = InboxMessage.objects.create(client=sender, format=MessageFormat.HL7V2, body="x", sha256="0" * 64)
    with pytest.raises(ValidationError, match="has a result already"):
        record(message, stale, by=sender.user)
    test.refresh_from_db()
    assert test.result_notes == "Typed by the nurse."


def test_a_reader_that_trips_rejects_the_message_with_why_never_a_500(sender):
    def broken(text):
        raise IndexError("list index out of range")

    message = receive(client=sender, format=MessageFormat.HL7V2, body="MSH|odd", read=broken)
    assert (message.status, message.reason) == (MessageStatus.REJECTED, "The message could not be read (IndexError).")
    assert not InboxMessage.objects.unplaced().exists()


def test_family_names_in_another_script_must_agree_too(sender, patient_with_ct):
    patient, test = patient_with_ct
    patient.family_name = "Иванова"
    patient.save()
    message = send(sender, report_for(patient, family_name="Петрова"))
    assert message.status == MessageStatus.UNMATCHED and "family name" in message.reason
