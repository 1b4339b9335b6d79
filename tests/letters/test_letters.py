"""Letters: the PDF says what the record says (read back with pypdf), issuing twice gives two letters,
the bytes never change, a wrong letter is marked entered in error; scope and role on every URL."""

import hashlib
import io
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone
from pypdf import PdfReader

from contacts.models import Contact
from followup import choices as c
from followup.services import record_mark_entered_in_error, save_record
from letters import content
from letters.choices import LetterKind
from letters.models import Letter, LetterPDF
from letters.services import letter_issue

from ..factories import FollowUpItemFactory, StagingTestFactory
from .factories import letter_patient


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def zoe(nurse):
    return letter_patient(team=nurse.team, named_nurse=nurse)


@pytest.fixture
def mammogram(zoe):
    return FollowUpItemFactory(
        patient=zoe,
        kind=c.FollowUpKind.MAMMOGRAM,
        status=c.FollowUpStatus.DONE,
        due_on=date(2026, 11, 20),
        done_on=date(2026, 11, 24),
        result=c.ImagingOutcome.NORMAL,
    )


def test_result_letter_pdf_names_the_patient_nhs_number_result_and_gp_address(nurse, zoe, mammogram):
    letter = letter_issue(patient=zoe, kind=LetterKind.RESULT_PATIENT, result=mammogram, by=nurse)
    pdf = LetterPDF.objects.get(letter=letter).pdf
    text = one_line(text_of(bytes(pdf)))
    assert "Zoë O’Brien" in text
    assert "943 476 5919" in text
    assert "Your mammogram on 24 November 2026 was normal. It showed no sign of cancer." in text
    assert "Result Normal" in text
    assert "cc: Fictional Lane Surgery, 7 Fictional Lane, Testville, ZZ99 4GP" in text
    assert "12 Imaginary Road" in text  # the address window
    assert "Date of birth 17 May 1960" in text


def test_result_letter_to_the_gp_is_addressed_to_the_practice_and_copied_to_the_patient(nurse, zoe, mammogram):
    letter = letter_issue(patient=zoe, kind=LetterKind.RESULT_GP, result=mammogram, by=nurse)
    text = one_line(text_of(bytes(letter.document.pdf)))
    assert "Private and confidential Fictional Lane Surgery 7 Fictional Lane Testville ZZ99 4GP" in text
    assert "Dear Doctor" in text
    assert "cc: Zoë O’Brien, 12 Imaginary Road, Nowhere Green, Testville, ZZ99 3CZ" in text
    assert "the result of Zoë O’Brien's mammogram on 24 November 2026: Normal." in text
    assert (letter.recipient, letter.addressee) == ("gp", "Fictional Lane Surgery")


def test_a_staging_result_letter_says_the_test_and_its_outcome(nurse, zoe):
    test = StagingTestFactory(
        episode__recurrence__patient=zoe,
        modality=c.StagingModality.CT_CAP,
        performed_on=timezone.localdate() - timedelta(days=3),
        reported_on=timezone.localdate() - timedelta(days=2),
        result=c.StagingResult.CLEAR,
    )
    letter = letter_issue(patient=zoe, kind=LetterKind.RESULT_PATIENT, result=test, by=nurse)
    text = one_line(text_of(bytes(letter.document.pdf)))
    assert "Result No evidence of distant disease" in text
    assert "showed no sign that the cancer has spread to other parts of the body." in text
    assert letter.staging_test == test and letter.followup_item is None


def test_care_plan_lists_the_surveillance_dates_and_the_red_flag_symptoms(nurse, zoe):
    FollowUpItemFactory(patient=zoe, kind=c.FollowUpKind.MAMMOGRAM, due_on=date(2027, 3, 1))
    FollowUpItemFactory(
        patient=zoe,
        kind=c.FollowUpKind.CLINIC_REVIEW,
        due_on=date(2027, 6, 1),
        status=c.FollowUpStatus.BOOKED,
        booked_for=date(2027, 6, 8),
    )
    FollowUpItemFactory(
        patient=zoe, kind=c.FollowUpKind.BLOODS, due_on=date(2027, 1, 5), status=c.FollowUpStatus.CANCELLED,
        cancel_reason="Not needed.",
    )  # fmt: skip
    letter = letter_issue(patient=zoe, kind=LetterKind.CARE_PLAN, by=nurse)
    text = one_line(text_of(bytes(letter.document.pdf)))
    assert "Mammogram due 1 March 2027" in text
    assert "Clinic review booked for 8 June 2027" in text
    assert "5 January 2027" not in text  # a cancelled item is no check-up
    # Every area of DOMAIN.md's table, in followup/advice.py's words, the urgent ones with them.
    for area in content.advice.SYMPTOMS_TO_REPORT:
        assert area.symptoms[:1].upper() + area.symptoms[1:] in text
    urgent = "Urgent: back pain with weak legs, numbness, loss of bladder or bowel control (spinal cord compression)"
    assert urgent in text
    assert "Signs of spinal cord compression" in text
    assert "Contact the acute oncology service immediately; do not wait. Acute oncology: 01632 960999." in text
    assert "Call 999." in text
    assert "Breast care nurses 01632 960123" in text
    assert f"Your breast care nurse {nurse.get_full_name()}" in text


def _set(patient, **fields):
    type(patient).objects.filter(pk=patient.pk).update(**fields)
    patient.refresh_from_db()


def test_pifu_letter_runs_until_the_end_of_the_patients_pifu_period(nurse, zoe):
    _set(zoe, follow_up_model=c.FollowUpModel.PIFU, pifu_starts_on=date(2025, 3, 1), pifu_ends_on=date(2030, 3, 1))
    assert content.pifu_until(zoe) == date(2030, 3, 1)  # the period, one place: not worked out from the diagnosis
    letter = letter_issue(patient=zoe, kind=LetterKind.PIFU, by=nurse)
    text = one_line(text_of(bytes(letter.document.pdf)))
    assert "This lasts until 1 March 2030. Your surveillance mammograms carry on as planned." in text
    assert "Symptoms to report" in text
    assert "01632 960123" in text


def test_a_pifu_letter_without_a_pifu_period_is_refused(nurse, zoe):
    _set(zoe, follow_up_model=c.FollowUpModel.PIFU)
    assert content.pifu_until(zoe) is None
    with pytest.raises(ValidationError) as refused:
        letter_issue(patient=zoe, kind=LetterKind.PIFU, by=nurse)
    assert refused.value.message_dict == {
        "kind": ["No PIFU period is set for this patient: set it first (PIFU period), then write the letter."]
    }


def test_a_pifu_letter_after_the_pifu_period_is_refused(nurse, zoe):
    _set(zoe, follow_up_model=c.FollowUpModel.PIFU, pifu_starts_on=date(2022, 3, 1), pifu_ends_on=date(2027, 3, 1))
    with pytest.raises(ValidationError) as refused:
        content.check_can_write(
            patient=zoe, kind=LetterKind.PIFU, letterhead=zoe.team.letterhead, today=date(2027, 3, 2)
        )
    assert "ended on 1 March 2027: end PIFU and discharge instead" in str(refused.value)
    # On its last day PIFU still runs (Patient.pifu_ended, the banner's and the list's rule too).
    content.check_can_write(patient=zoe, kind=LetterKind.PIFU, letterhead=zoe.team.letterhead, today=date(2027, 3, 1))


def test_discharge_letters_to_the_patient_and_the_gp(nurse, zoe):
    _set(zoe, status=c.PatientStatus.DISCHARGED, discharged_on=date(2026, 11, 30), discharge_reason="Completed.")
    to_patient = letter_issue(patient=zoe, kind=LetterKind.DISCHARGE_PATIENT, by=nurse)
    to_gp = letter_issue(patient=zoe, kind=LetterKind.DISCHARGE_GP, by=nurse)
    patient_text = one_line(text_of(bytes(to_patient.document.pdf)))
    gp_text = one_line(text_of(bytes(to_gp.document.pdf)))
    assert "You have finished your follow-up with the breast care team." in patient_text
    assert "Zoë O’Brien has completed follow-up with the breast care team" in gp_text
    assert "cc: Zoë O’Brien" in gp_text


def test_issuing_records_a_letter_contact(nurse, zoe, mammogram):
    letter = letter_issue(patient=zoe, kind=LetterKind.RESULT_PATIENT, result=mammogram, by=nurse)
    contact = Contact.objects.get(pk=letter.contact_id)
    assert (contact.kind, contact.with_whom, contact.by, contact.patient) == ("letter", "patient", nurse, zoe)
    assert contact.contacted_at == letter.issued_at
    assert contact.summary == "Your mammogram result (result letter to the patient) sent to Zoë O’Brien."
    assert contact.outcome == "cc Fictional Lane Surgery."


def test_no_gp_letter_without_a_gp_practice_and_no_patient_letter_without_an_address(nurse):
    nobody = letter_patient(team=nurse.team, named_nurse=nurse, gp=False, address=False, nhs_number="")
    with pytest.raises(ValidationError) as no_gp:
        letter_issue(patient=nobody, kind=LetterKind.DISCHARGE_GP, by=nurse)
    assert no_gp.value.message_dict == {
        "kind": ["No GP practice is recorded for this patient, so a letter to the GP cannot be written."]
    }
    with pytest.raises(ValidationError) as no_address:
        letter_issue(patient=nobody, kind=LetterKind.CARE_PLAN, by=nurse)
    assert no_address.value.message_dict == {
        "kind": ["No address is recorded for this patient, so a letter to them cannot be written."]
    }
    assert Letter.all_objects.count() == 0 and Contact.objects.count() == 0


def test_a_result_of_another_patient_is_refused(nurse, zoe):
    other = letter_patient(team=nurse.team, named_nurse=nurse, nhs_number="4010232137")
    theirs = FollowUpItemFactory(
        patient=other, status=c.FollowUpStatus.DONE, done_on=date(2026, 11, 1), result=c.ImagingOutcome.NORMAL
    )
    with pytest.raises(ValidationError) as refused:
        letter_issue(patient=zoe, kind=LetterKind.RESULT_PATIENT, result=theirs, by=nurse)
    assert refused.value.message_dict == {"result": ["This result is not one of this patient's."]}
    assert Letter.all_objects.count() == 0


def test_issuing_twice_gives_two_letters_never_an_overwrite(nurse, zoe, mammogram):
    first = letter_issue(patient=zoe, kind=LetterKind.RESULT_PATIENT, result=mammogram, by=nurse)
    second = letter_issue(patient=zoe, kind=LetterKind.RESULT_PATIENT, result=mammogram, by=nurse)
    assert first.pk != second.pk
    assert list(Letter.objects.filter(patient=zoe).order_by("pk")) == [first, second]
    assert first.contact_id != second.contact_id
    for letter in (first, second):
        stored = bytes(LetterPDF.objects.get(letter=letter).pdf)
        assert hashlib.sha256(stored).hexdigest() == letter.sha256 and len(stored) == letter.size


def test_the_stored_pdf_cannot_be_changed_by_a_service_or_by_sql(nurse, priya, zoe, mammogram):
    letter = letter_issue(patient=zoe, kind=LetterKind.RESULT_PATIENT, result=mammogram, by=nurse)
    original = bytes(letter.document.pdf)
    forged = b"%PDF-1.7 forged"
    letter = Letter.objects.get(pk=letter.pk)
    letter.sha256, letter.size = hashlib.sha256(forged).hexdigest(), len(forged)
    with pytest.raises(ValidationError, match="An issued letter cannot be changed"):
        save_record(letter, priya)
    with transaction.atomic(), pytest.raises(DatabaseError):  # the trigger, on PostgreSQL and SQLite alike
        LetterPDF.objects.filter(letter=letter).update(pdf=forged)
    with transaction.atomic(), pytest.raises(DatabaseError):
        Letter.objects.filter(pk=letter.pk).update(sha256=hashlib.sha256(forged).hexdigest())
    assert bytes(LetterPDF.objects.get(letter_id=letter.pk).pdf) == original


def test_marking_a_letter_entered_in_error_keeps_it_and_its_pdf(nurse, priya, zoe, mammogram):
    letter = letter_issue(patient=zoe, kind=LetterKind.RESULT_PATIENT, result=mammogram, by=nurse)
    digest = letter.sha256
    record_mark_entered_in_error(record=letter, reason="Sent before the result was checked.", by=priya)
    kept = Letter.all_objects.get(pk=letter.pk)
    assert (kept.entered_in_error, kept.error_reason, kept.error_marked_by, kept.sha256) == (
        True,
        "Sent before the result was checked.",
        priya,
        digest,
    )
    assert list(Letter.objects.filter(patient=zoe)) == []
    assert hashlib.sha256(bytes(kept.document.pdf)).hexdigest() == digest
    assert [h.history_type for h in kept.history.order_by("history_id")] == ["+", "~"]


@pytest.mark.parametrize(
    ("fields", "kinds", "why"),
    [
        # A discharge letter tells the patient follow-up has ended: never while it goes on.
        ({}, [LetterKind.DISCHARGE_PATIENT, LetterKind.DISCHARGE_GP], "This patient is not discharged"),
        # A PIFU letter says "no routine clinic appointments": only for a patient on PIFU.
        ({}, [LetterKind.PIFU], "not patient-initiated"),
        # No letter is written to a patient who has died (the GP may still be written to).
        (
            {"status": c.PatientStatus.DECEASED, "date_of_death": date(2026, 11, 1)},
            [LetterKind.RESULT_PATIENT, LetterKind.CARE_PLAN, LetterKind.DISCHARGE_PATIENT, LetterKind.PIFU],
            "has died",
        ),
    ],
)
def test_a_letter_that_does_not_fit_the_patients_status_is_refused(nurse, zoe, mammogram, fields, kinds, why):
    _set(zoe, **fields)
    for kind in kinds:
        with pytest.raises(ValidationError) as refused:
            letter_issue(patient=zoe, kind=kind, result=mammogram, by=nurse)
        assert why in str(refused.value), kind
    assert Letter.objects.count() == 0
