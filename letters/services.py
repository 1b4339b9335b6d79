"""Issuing letters: the one place a letter row is written. An issued letter is never changed or replaced:
a wrong one is marked entered in error (followup.services.record_mark_entered_in_error) and a new one issued."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from contacts.models import ContactKind, ContactWith
from contacts.services import contact_record
from followup import choices as c
from followup.models import FollowUpItem, Patient, StagingTest, User, patient_of
from followup.pdf import render_pdf
from followup.services import patient_discharge, save_record

from . import content
from .choices import RECIPIENT_OF, RESULT_KINDS, LetterKind, Recipient
from .models import Letter, Letterhead, LetterPDF, pdf_digest

LETTER_TEMPLATE = "letters/letter.html"
# The discharge reason when patient-initiated follow-up ends (pifu_end): the GP's letter prints it.
PIFU_END_REASON = "End of patient-initiated follow-up"
PIFU_END_LETTERS = (LetterKind.DISCHARGE_PATIENT, LetterKind.DISCHARGE_GP)


def letterhead_of(patient: Patient) -> Letterhead | None:
    return Letterhead.objects.filter(team_id=patient.team_id).first()


def letter_render(
    *,
    patient: Patient,
    kind: str,
    result: FollowUpItem | StagingTest | None = None,
    extra_paragraph: str = "",
    on=None,
    letterhead: Letterhead | None = None,
) -> tuple[content.LetterText, bytes]:
    """The letter's words and its PDF, writing nothing (the preview shows the same words as HTML)."""
    letterhead = letterhead or letterhead_of(patient)
    on = on or timezone.localdate()
    content.check_can_write(patient=patient, kind=kind, letterhead=letterhead, today=on, result=result)
    text = content.letter_text(
        patient=patient, kind=kind, letterhead=letterhead, result=result, extra_paragraph=extra_paragraph, on=on
    )
    return text, render_pdf(LETTER_TEMPLATE, {"letter": text})


@transaction.atomic
def letter_issue(
    *,
    patient: Patient,
    kind: str,
    by: User,
    result: FollowUpItem | StagingTest | None = None,
    extra_paragraph: str = "",
) -> Letter:
    """Render the letter to PDF, store the bytes with their digest, and record a letter contact.

    Each call issues a new letter: issuing the same letter twice gives two rows, never an overwrite."""
    if kind not in RESULT_KINDS:
        result = None
    elif result is None or not result.result:
        raise ValidationError({"result": "Choose the result this letter is about."})
    elif patient_of(result).pk != patient.pk or result.entered_in_error:
        # A letter about another patient's result is the hazard H18 guards against.
        raise ValidationError({"result": "This result is not one of this patient's."})
    issued_at = timezone.now()
    text, pdf = letter_render(
        patient=patient, kind=kind, result=result, extra_paragraph=extra_paragraph, on=timezone.localdate()
    )
    to_gp = RECIPIENT_OF[kind] == Recipient.GP
    contact = contact_record(
        patient=patient,
        kind=ContactKind.LETTER,
        contacted_at=issued_at,
        by=by,
        with_whom=ContactWith.GP if to_gp else ContactWith.PATIENT,
        summary=f"{text.title} ({LetterKind(kind).label.lower()}) sent to {text.to_name}.",
        outcome=f"cc {text.cc_name}." if text.cc_name else "",
    )
    letter = Letter(
        patient=patient,
        kind=kind,
        recipient=RECIPIENT_OF[kind],
        addressee=text.to_name[:200],
        followup_item=result if isinstance(result, FollowUpItem) else None,
        staging_test=result if isinstance(result, StagingTest) else None,
        extra_paragraph=text.extra_paragraph,
        issued_at=issued_at,
        issued_by=by,
        contact=contact,
        sha256=pdf_digest(pdf),
        size=len(pdf),
    )
    save_record(letter, by)
    LetterPDF.objects.create(letter=letter, pdf=pdf)
    return letter


@transaction.atomic
def pifu_end(*, patient: Patient, discharged_on: date, by: User, expected_version: int | None) -> list[Letter]:
    """End patient-initiated follow-up: discharge the patient to the GP (followup's patient_discharge: open
    items cancelled) and issue the discharge letters to the patient and to the GP (each a letter contact).

    All or nothing: a refusal of the discharge (restaging incomplete, a change by someone else) or of either
    letter (no letterhead, no GP practice, no address) undoes the whole of it. Returns the two letters."""
    if patient.follow_up_model != c.FollowUpModel.PIFU:
        raise ValidationError(
            f"This patient's follow-up is {patient.get_follow_up_model_display().lower()}, not patient-initiated: "
            "discharge them from follow-up instead (Discharge)."
        )
    # The letters' refusals (no letterhead, no GP practice, no address), before anything is written.
    letterhead = letterhead_of(patient)
    for kind in PIFU_END_LETTERS:
        message = content.refusal(
            patient=patient, kind=kind, letterhead=letterhead, today=timezone.localdate(), discharging=True
        )
        if message:
            raise ValidationError(message)
    discharged = patient_discharge(
        patient=patient, discharged_on=discharged_on, reason=PIFU_END_REASON, by=by, expected_version=expected_version
    )
    patient = Patient.objects.select_related("named_nurse", "gp_practice", "team").get(pk=discharged.pk)
    return [letter_issue(patient=patient, kind=kind, by=by) for kind in PIFU_END_LETTERS]
