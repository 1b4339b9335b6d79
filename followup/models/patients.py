"""Patients and their primary breast cancer."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Min, Q
from django.db.models.functions import Lower, Upper
from django.utils import timezone

from .. import choices as c
from .. import dates
from ..display import show_date
from ..nhs import format_nhs_number, validate_nhs_number
from ..querysets import (
    PatientQuerySet,
    PrimaryDiagnosisQuerySet,
)
from .base import ClinicalRecord, RecordManager, Team, _birth_date_of_patient, _choice_constraint, date_errors


class Patient(ClinicalRecord):
    nhs_number = models.CharField(
        "NHS number",
        max_length=10,
        blank=True,
        help_text="10 digits; spaces are ignored.",
    )
    hospital_number = models.CharField(max_length=20, blank=True)
    given_name = models.CharField(max_length=80)
    family_name = models.CharField(max_length=80)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=1, choices=c.Sex.choices)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="patients")
    named_nurse = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="caseload")
    status = models.CharField(max_length=20, choices=c.PatientStatus.choices, default=c.PatientStatus.SURVEILLANCE)
    date_of_death = models.DateField(null=True, blank=True)
    discharged_on = models.DateField(null=True, blank=True)
    discharge_reason = models.TextField(blank=True)
    follow_up_model = models.CharField(
        "follow-up model", max_length=10, choices=c.FollowUpModel.choices, default=c.FollowUpModel.CLINIC
    )
    protocol = models.ForeignKey(
        "FollowUpProtocol", null=True, blank=True, on_delete=models.PROTECT, related_name="patients"
    )
    protocol_start_on = models.DateField(null=True, blank=True)

    objects = RecordManager.from_queryset(PatientQuerySet)()

    class Meta:
        ordering = ["family_name", "given_name", "pk"]
        indexes = [
            # The possible-duplicate check probes by surname and birth date for every patient:
            # without this it compares every patient with every other (over 10 minutes at 100,000).
            models.Index(Lower("family_name"), "date_of_birth", name="followup_patient_dup_probe"),
            # Patient search by hospital number ("iexact" compares upper case). Name search
            # uses trigram indexes on PostgreSQL (migration 0007).
            models.Index(Upper("hospital_number"), name="followup_patient_hospital_no"),
        ]
        constraints = [
            *ClinicalRecord.Meta.constraints,
            models.UniqueConstraint(
                fields=["nhs_number"],
                condition=~Q(nhs_number="") & Q(entered_in_error=False),
                name="followup_patient_nhs_number_unique",
                violation_error_message="A patient with this NHS number already exists.",
            ),
            models.UniqueConstraint(
                fields=["team", "hospital_number"],
                condition=~Q(hospital_number="") & Q(entered_in_error=False),
                name="followup_patient_hospital_number_unique",
                violation_error_message="A patient with this hospital number already exists in this team.",
            ),
            models.CheckConstraint(
                # Digits only; the modulus 11 check is the form's and the data-quality list's.
                condition=Q(nhs_number="") | Q(nhs_number__regex=r"^[0-9]{10}$"),
                name="followup_patient_nhs_number_ten_digits",
                violation_error_message="An NHS number is stored as exactly 10 digits.",
            ),
            _choice_constraint("patient", "sex", c.Sex),
            _choice_constraint("patient", "status", c.PatientStatus),
            _choice_constraint("patient", "follow_up_model", c.FollowUpModel),
            models.CheckConstraint(
                condition=Q(status=c.PatientStatus.DECEASED, date_of_death__isnull=False)
                | (~Q(status=c.PatientStatus.DECEASED) & Q(date_of_death__isnull=True)),
                name="followup_patient_deceased_has_date_of_death",
                violation_error_message="A date of death goes with the status 'Deceased', and only with it.",
            ),
            models.CheckConstraint(
                condition=Q(date_of_death__isnull=True) | Q(date_of_death__gte=F("date_of_birth")),
                name="followup_patient_death_after_birth",
                violation_error_message="The date of death cannot be before the date of birth.",
            ),
            models.CheckConstraint(
                condition=~Q(status=c.PatientStatus.DISCHARGED)
                | (Q(discharged_on__isnull=False) & ~Q(discharge_reason="")),
                name="followup_patient_discharge_has_date_and_reason",
                violation_error_message="A discharged patient needs a discharge date and reason.",
            ),
            models.CheckConstraint(
                condition=Q(protocol__isnull=True, protocol_start_on__isnull=True)
                | Q(protocol__isnull=False, protocol_start_on__isnull=False),
                name="followup_patient_protocol_has_start",
                violation_error_message="A follow-up protocol needs the date its schedule starts from.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.nhs_number_display or 'no NHS number'})"

    def clean(self) -> None:
        errors = {}
        if self.nhs_number:
            try:
                validate_nhs_number(self.nhs_number)
            except ValidationError as exc:
                errors["nhs_number"] = exc.messages
        errors.update(self._date_errors(timezone.localdate()))
        if self.named_nurse_id and self.team_id:
            nurse = self.named_nurse
            if nurse.team_id != self.team_id:
                errors["named_nurse"] = ["The named nurse must belong to the patient's team."]
        if errors:
            raise ValidationError(errors)

    def _date_errors(self, today) -> dict[str, list[str]]:
        errors = {}
        born = self.date_of_birth
        if born and dates.changed(self, "date_of_birth"):
            message = dates.birth_error(born, died=self.date_of_death, today=today)
            if message is None and not self._state.adding:
                message = dates.birth_after_records_error(born, self._recorded_dates())
            if message:
                errors["date_of_birth"] = [message]
                born = None
        return errors | dates.record_errors(self, dates.changed_dates(self), born=born, today=today)

    def _recorded_dates(self) -> list[tuple[str, object]]:
        """The earliest dates already recorded for this patient, each with what it is."""
        primary = self.primaries.aggregate(on=Min("diagnosed_on"))
        recurrence = self.recurrences.aggregate(on=Min("diagnosed_on"))
        items = self.followup_items.aggregate(due=Min("due_on"), done=Min("done_on"))
        symptoms = self.symptom_reports.aggregate(reported=Min("reported_on"), onset=Min("onset_on"))
        return [
            ("primary diagnosis", primary["on"]),
            ("recurrence", recurrence["on"]),
            ("follow-up item due", items["due"]),
            ("follow-up item done", items["done"]),
            ("symptoms reported", symptoms["reported"]),
            ("symptoms started", symptoms["onset"]),
            ("schedule start", self.protocol_start_on),
            ("discharge", self.discharged_on),
            ("death", self.date_of_death),
        ]

    @property
    def display_name(self) -> str:
        """The name as the NHS shows it: family name in capitals first."""
        return f"{self.family_name.upper()}, {self.given_name}"

    @property
    def nhs_number_display(self) -> str:
        return format_nhs_number(self.nhs_number)

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def is_active(self) -> bool:
        return self.status in c.ACTIVE_PATIENT_STATUSES


class PrimaryDiagnosis(ClinicalRecord):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="primaries")
    laterality = models.CharField(max_length=1, choices=c.Laterality.choices, blank=True)
    diagnosed_on = models.DateField()
    histology = models.CharField(max_length=20, choices=c.Histology.choices, blank=True)
    grade = models.CharField(max_length=1, choices=c.Grade.choices, blank=True)
    er_status = models.CharField("ER status", max_length=12, choices=c.ReceptorStatus.choices, blank=True)
    pr_status = models.CharField("PR status", max_length=12, choices=c.ReceptorStatus.choices, blank=True)
    her2_status = models.CharField("HER2 status", max_length=12, choices=c.ReceptorStatus.choices, blank=True)
    surgery = models.CharField(max_length=20, choices=c.BreastSurgery.choices, blank=True)
    axillary_surgery = models.CharField(max_length=10, choices=c.AxillarySurgery.choices, blank=True)
    radiotherapy = models.CharField(max_length=12, choices=c.Radiotherapy.choices, blank=True)
    systemic_therapy = models.CharField(max_length=12, choices=c.SystemicTherapy.choices, blank=True)
    endocrine_therapy = models.CharField(max_length=12, choices=c.EndocrineTherapy.choices, blank=True)
    endocrine_started_on = models.DateField(null=True, blank=True)

    objects = RecordManager.from_queryset(PrimaryDiagnosisQuerySet)()

    class Meta:
        verbose_name_plural = "primary diagnoses"
        ordering = ["diagnosed_on", "pk"]
        constraints = [
            *ClinicalRecord.Meta.constraints,
            _choice_constraint("primarydiagnosis", "laterality", c.Laterality, blank=True),
            _choice_constraint("primarydiagnosis", "histology", c.Histology, blank=True),
            _choice_constraint("primarydiagnosis", "grade", c.Grade, blank=True),
            _choice_constraint("primarydiagnosis", "er_status", c.ReceptorStatus, blank=True),
            _choice_constraint("primarydiagnosis", "pr_status", c.ReceptorStatus, blank=True),
            _choice_constraint("primarydiagnosis", "her2_status", c.ReceptorStatus, blank=True),
            _choice_constraint("primarydiagnosis", "surgery", c.BreastSurgery, blank=True),
            _choice_constraint("primarydiagnosis", "axillary_surgery", c.AxillarySurgery, blank=True),
            _choice_constraint("primarydiagnosis", "radiotherapy", c.Radiotherapy, blank=True),
            _choice_constraint("primarydiagnosis", "systemic_therapy", c.SystemicTherapy, blank=True),
            _choice_constraint("primarydiagnosis", "endocrine_therapy", c.EndocrineTherapy, blank=True),
            models.CheckConstraint(
                condition=Q(endocrine_started_on__isnull=True) | Q(endocrine_started_on__gte=F("diagnosed_on")),
                name="followup_primarydiagnosis_endocrine_after_diagnosis",
                violation_error_message="Endocrine therapy cannot start before the diagnosis.",
            ),
        ]

    def __str__(self) -> str:
        side = self.get_laterality_display() or "laterality not recorded"
        return f"Primary breast cancer ({side}), diagnosed {show_date(self.diagnosed_on)}"

    def clean(self) -> None:
        errors = date_errors(self, born=lambda: _birth_date_of_patient(self))
        if errors:
            raise ValidationError(errors)
