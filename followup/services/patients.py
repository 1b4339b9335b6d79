"""Patients: registration, schedule, named nurse, discharge, death."""

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from .. import choices as c
from ..models import (
    FollowUpItem,
    FollowUpProtocol,
    GPPractice,
    Patient,
    PrimaryDiagnosis,
    ProtocolStep,
    RestagingEpisode,
    User,
)
from ..uk import PHONE_ERROR, POSTCODE_ERROR, normalise_phone, normalise_postcode
from .records import lock, save_record

EDITABLE_PATIENT_FIELDS = (
    "nhs_number",
    "hospital_number",
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "follow_up_model",
)

# How to reach the patient, and their GP (DOMAIN.md "Contacts, the GP and letters"): changed
# together through patient_update_contact_details, which reads them the one way.
CONTACT_DETAIL_FIELDS = (
    "address_line_1",
    "address_line_2",
    "town",
    "postcode",
    "phone_mobile",
    "phone_home",
    "email",
    "preferred_contact",
    "messages_may_be_left",
    "next_of_kin_name",
    "next_of_kin_relationship",
    "next_of_kin_phone",
    "interpreter_needed",
    "interpreter_language",
    "accessible_information",
)
PHONE_FIELDS = ("phone_mobile", "phone_home", "next_of_kin_phone")


def gp_practice_for(ods_code: str) -> GPPractice | None:
    """The registered practice with this ODS code (None for no code); never created here: admins keep
    the practices (the admin site), so a mistyped code cannot become a practice."""
    code = (ods_code or "").strip().upper()
    if not code:
        return None
    practice = GPPractice.objects.filter(ods_code=code).first()
    if practice is None:
        raise ValidationError({"gp_ods_code": f"No GP practice has the ODS code {code}. Ask an admin to add it."})
    return practice


def contact_details_cleaned(fields: dict) -> dict:
    """The contact details as stored: postcode and phone numbers in their one written form, the
    language kept only when an interpreter is needed. Every field in error is named at once."""
    cleaned, errors = dict(fields), {}
    if cleaned.get("postcode"):
        cleaned["postcode"] = normalise_postcode(cleaned["postcode"])
        if not cleaned["postcode"]:
            errors["postcode"] = POSTCODE_ERROR
    for name in PHONE_FIELDS:
        if cleaned.get(name):
            cleaned[name] = normalise_phone(cleaned[name])
            if not cleaned[name]:
                errors[name] = PHONE_ERROR
    if "interpreter_needed" in cleaned:
        language = (cleaned.get("interpreter_language") or "").strip()
        if cleaned["interpreter_needed"] and not language:
            errors["interpreter_language"] = "Enter the language the interpreter is needed for"
        cleaned["interpreter_language"] = language if cleaned["interpreter_needed"] else ""
    if errors:
        raise ValidationError(errors)
    return cleaned


def add_months(start: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


@transaction.atomic
def patient_create(*, by: User, **fields) -> Patient:
    patient = Patient(**fields)
    save_record(patient, by)
    return patient


@transaction.atomic
def patient_update(*, patient: Patient, by: User, expected_version: int | None, **fields) -> Patient:
    """Change a patient's details (not their status: that has its own actions)."""
    unknown = set(fields) - set(EDITABLE_PATIENT_FIELDS)
    if unknown:
        raise ValueError(f"Not editable here: {', '.join(sorted(unknown))}")
    patient = lock(patient, expected_version=expected_version)
    for name, value in fields.items():
        setattr(patient, name, value)
    save_record(patient, by)
    return patient


@transaction.atomic
def patient_update_contact_details(
    *, patient: Patient, by: User, expected_version: int | None, gp_ods_code: str | None = None, **fields
) -> Patient:
    """Change how to reach the patient and their registered GP practice (by its ODS code; "" for none
    recorded, None to leave it as it is)."""
    unknown = set(fields) - set(CONTACT_DETAIL_FIELDS)
    if unknown:
        raise ValueError(f"Not contact details: {', '.join(sorted(unknown))}")
    errors = {}
    try:
        fields = contact_details_cleaned(fields)
    except ValidationError as exc:
        errors |= exc.message_dict
    try:
        practice = gp_practice_for(gp_ods_code) if gp_ods_code is not None else None
    except ValidationError as exc:
        errors |= exc.message_dict
    if errors:
        raise ValidationError(errors)
    patient = lock(patient, expected_version=expected_version)
    for name, value in fields.items():
        setattr(patient, name, value)
    if gp_ods_code is not None:
        patient.gp_practice = practice
    save_record(patient, by)
    return patient


@transaction.atomic
def primary_record(*, patient: Patient, by: User, **fields) -> PrimaryDiagnosis:
    primary = PrimaryDiagnosis(patient=patient, **fields)
    save_record(primary, by)
    return primary


@dataclass(frozen=True)
class ScheduleSlot:
    step: ProtocolStep
    sequence: int
    due_on: date


def protocol_schedule(steps: Iterable[ProtocolStep], *, start_on: date) -> list[ScheduleSlot]:
    """Every item a protocol calls for from ``start_on``, soonest first."""
    slots = [
        ScheduleSlot(step, index + 1, add_months(start_on, step.start_months + index * (step.interval_months or 0)))
        for step in steps
        for index in range(step.occurrences)
    ]
    return sorted(slots, key=lambda slot: (slot.due_on, slot.step.pk or 0, slot.sequence))


def _require_active(patient: Patient, doing: str) -> None:
    if not patient.is_active:
        raise ValidationError(f"{doing} is not possible for a {patient.get_status_display().lower()} patient.")


@transaction.atomic
def protocol_assign(*, patient: Patient, protocol: FollowUpProtocol, start_on: date, by: User) -> list[FollowUpItem]:
    """Assign a protocol and generate the items it calls for; returns the items created.

    Idempotent: an item already generated for a (step, occurrence), whatever its
    status and even if entered in error, is never generated again.
    """
    _require_active(patient, "Starting a follow-up schedule")
    patient = lock(patient, expected_version=None)
    patient.protocol = protocol
    patient.protocol_start_on = start_on
    if patient.follow_up_model == c.FollowUpModel.PIFU and protocol.pifu_months:
        # The protocol says how long PIFU lasts from its start; the nurse may change it later
        # (patient_set_pifu_period).
        patient.pifu_starts_on, patient.pifu_ends_on = start_on, add_months(start_on, protocol.pifu_months)
    save_record(patient, by)

    existing = set(
        FollowUpItem.all_objects.filter(patient=patient, protocol_step__protocol=protocol).values_list(
            "protocol_step_id", "sequence"
        )
    )
    now = timezone.now()
    new_items = []
    for slot in protocol_schedule(protocol.steps.all(), start_on=start_on):
        if (slot.step.pk, slot.sequence) in existing:
            continue
        item = FollowUpItem(
            patient=patient,
            kind=slot.step.kind,
            due_on=slot.due_on,
            protocol_step=slot.step,
            sequence=slot.sequence,
            created_by=by,
            updated_by=by,
            created_at=now,
            updated_at=now,
        )
        # Constraints are the database's job here: the slot check above already ran. The due
        # dates follow from the start date the patient's own checks passed (a long protocol may
        # run more than dates.MAX_YEARS_AHEAD years ahead, which a typed due date may not).
        item.clean_fields()
        new_items.append(item)
    return bulk_create_with_history(new_items, FollowUpItem, default_user=by)


@transaction.atomic
def patient_set_pifu_period(
    *, patient: Patient, starts_on: date, ends_on: date, by: User, expected_version: int | None
) -> Patient:
    """Set or change the period of patient-initiated follow-up (the banner, the PIFU letter and the
    "PIFU ending" list read it). Only for an active patient on PIFU; the history keeps every change."""
    patient = lock(patient, expected_version=expected_version)
    _require_active(patient, "Setting a PIFU period")
    if patient.follow_up_model != c.FollowUpModel.PIFU:
        raise ValidationError(
            f"This patient's follow-up is {patient.get_follow_up_model_display().lower()}, not patient-initiated: "
            "change the follow-up model first (Change details)."
        )
    if starts_on and ends_on and ends_on <= starts_on:
        raise ValidationError({"pifu_ends_on": "The end of the PIFU period must be after its start."})
    patient.pifu_starts_on, patient.pifu_ends_on = starts_on, ends_on
    save_record(patient, by)
    return patient


@transaction.atomic
def patient_reassign_nurse(*, patient: Patient, nurse: User, by: User, expected_version: int | None) -> Patient:
    patient = lock(patient, expected_version=expected_version)
    patient.named_nurse = nurse
    save_record(patient, by)
    return patient


def require_receiving_nurse(to_nurse: User, *, team_id: int | None) -> None:
    """Whoever hands patients over (a caseload, or patients chosen on the list): the new named
    nurse is an active nurse of the patients' team."""
    if to_nurse.team_id != team_id or to_nurse.role != c.Role.NURSE or not to_nurse.is_active:
        raise ValidationError({"to_nurse": "The new named nurse must be an active nurse in the same team."})


@transaction.atomic
def caseload_hand_over(*, from_nurse: User, to_nurse: User, by: User) -> int:
    """Move every patient of one named nurse to another in the same team; returns how many."""
    if from_nurse == to_nurse:
        raise ValidationError({"to_nurse": "Choose a different nurse to hand the caseload to."})
    require_receiving_nurse(to_nurse, team_id=from_nurse.team_id)
    patients = list(Patient.objects.select_for_update().filter(named_nurse=from_nurse))
    now = timezone.now()
    for patient in patients:
        patient.named_nurse, patient.updated_by, patient.updated_at = to_nurse, by, now
        patient.version += 1
    # Not QuerySet.update(): that would leave no audit history (see test_audit).
    bulk_update_with_history(
        patients, Patient, ["named_nurse", "updated_by", "updated_at", "version"], default_user=by, batch_size=500
    )
    return len(patients)


def _close_open_items(patient: Patient, reason: str, by: User) -> int:
    items = list(FollowUpItem.objects.open().select_for_update().filter(patient=patient))
    now = timezone.now()
    for item in items:
        item.status, item.booked_for, item.cancel_reason = c.FollowUpStatus.CANCELLED, None, reason
        item.updated_by, item.updated_at = by, now
        item.version += 1
    fields = ["status", "booked_for", "cancel_reason", "updated_by", "updated_at", "version"]
    bulk_update_with_history(items, FollowUpItem, fields, default_user=by)
    return len(items)


@transaction.atomic
def patient_discharge(
    *, patient: Patient, discharged_on: date, reason: str, by: User, expected_version: int | None
) -> Patient:
    """Discharge from follow-up: open items are cancelled with the reason, so nothing stays due."""
    patient = lock(patient, expected_version=expected_version)
    _require_active(patient, "Discharge")
    if RestagingEpisode.objects.incomplete().filter(recurrence__patient=patient).exists():
        raise ValidationError("Restaging is still incomplete for this patient: complete it before discharge.")
    patient.status, patient.discharged_on, patient.discharge_reason = c.PatientStatus.DISCHARGED, discharged_on, reason
    save_record(patient, by)
    _close_open_items(patient, f"Patient discharged: {reason}", by)
    _void_personal_code(patient, "discharged", by)
    return patient


@transaction.atomic
def patient_record_death(*, patient: Patient, date_of_death: date, by: User, expected_version: int | None) -> Patient:
    patient = lock(patient, expected_version=expected_version)
    if patient.status == c.PatientStatus.DECEASED:
        raise ValidationError("This patient's death is already recorded.")
    patient.status, patient.date_of_death = c.PatientStatus.DECEASED, date_of_death
    patient.discharged_on, patient.discharge_reason = None, ""
    save_record(patient, by)
    _close_open_items(patient, "Patient died.", by)
    _void_personal_code(patient, "died", by)
    return patient


def _void_personal_code(patient: Patient, reason: str, by: User) -> None:
    """The patient's personal code for the self-report page (selfreport/) stops working now."""
    from selfreport.services import personal_code_void  # selfreport builds on these services

    personal_code_void(patient=patient, reason=reason, by=by)
