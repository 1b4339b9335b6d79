"""Patients and their primary breast cancer."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Min, Q
from django.db.models.functions import Lower, Upper
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .. import choices as c
from .. import dates
from ..display import show_date
from ..nhs import format_nhs_number, validate_nhs_number
from ..querysets import (
    PatientQuerySet,
    PrimaryDiagnosisQuerySet,
)
from .base import (
    ClinicalRecord,
    RecordManager,
    Team,
    _birth_date_of_patient,
    _choice_constraint,
    date_errors,
    history_actor,
)


class GPPractice(models.Model):
    """A registered GP practice: one row per ODS code, shared by every patient registered there.

    Reference data, not a clinical record: admins keep it in the admin site; its history says who changed what.
    """

    ods_code = models.CharField(
        "ODS code", max_length=6, unique=True, help_text="The practice's ODS code: a letter and 5 digits, e.g. A81001."
    )
    name = models.CharField(max_length=120)
    address_line_1 = models.CharField("address line 1", max_length=120)
    address_line_2 = models.CharField("address line 2", max_length=120, blank=True)
    town = models.CharField("town or city", max_length=80)
    postcode = models.CharField(max_length=8)
    phone = models.CharField("phone number", max_length=20, blank=True)

    history = HistoricalRecords(get_user=history_actor)

    class Meta:
        verbose_name = "GP practice"
        ordering = ["name", "ods_code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ods_code__regex=r"^[A-Z][0-9]{5}$"),
                name="followup_gppractice_ods_code_format",
                violation_error_message="Enter the practice's ODS code: a capital letter and 5 digits, like A81001.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.ods_code})"

    @property
    def address_lines(self) -> list[str]:
        return [line for line in (self.address_line_1, self.address_line_2, self.town, self.postcode) if line]


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
    # Contact details (DOMAIN.md "Contacts, the GP and letters").
    address_line_1 = models.CharField("address line 1", max_length=120, blank=True)
    address_line_2 = models.CharField("address line 2", max_length=120, blank=True)
    town = models.CharField("town or city", max_length=80, blank=True)
    postcode = models.CharField(max_length=8, blank=True)
    phone_mobile = models.CharField("mobile phone", max_length=20, blank=True)
    phone_home = models.CharField("home phone", max_length=20, blank=True)
    email = models.EmailField("email address", blank=True)
    preferred_contact = models.CharField(
        "preferred way of contact", max_length=10, choices=c.ContactPreference.choices, blank=True
    )
    # None: not asked yet; a call that finds no answer must not leave a message unless this is True.
    messages_may_be_left = models.BooleanField("messages may be left", null=True, blank=True)
    next_of_kin_name = models.CharField("next of kin or carer", max_length=120, blank=True)
    next_of_kin_relationship = models.CharField("relationship", max_length=60, blank=True)
    next_of_kin_phone = models.CharField("next of kin's phone", max_length=20, blank=True)
    interpreter_needed = models.BooleanField("interpreter needed", default=False)
    interpreter_language = models.CharField("language", max_length=60, blank=True)
    accessible_information = models.CharField(
        "accessible information needs", max_length=200, blank=True, help_text="For example: large print, easy read."
    )
    gp_practice = models.ForeignKey(
        GPPractice, null=True, blank=True, on_delete=models.PROTECT, related_name="patients", verbose_name="GP practice"
    )
    # Patient-initiated follow-up: the period the patient may call us in; at its end they are discharged to the GP.
    pifu_starts_on = models.DateField("PIFU starts", null=True, blank=True)
    pifu_ends_on = models.DateField("PIFU ends", null=True, blank=True)

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
            # Access scope: a team's patients, with what the counts filter on beside it, read from the index
            # alone. Every dashboard count joins the team's patients: read from the table they were a
            # 17-25 ms scan each at 100,000 patients (docs/performance.md, issue 17).
            models.Index(
                fields=["team"],
                include=["id", "named_nurse", "status", "entered_in_error"],
                name="followup_patient_scope",
            ),
            # "PIFU ending": the few patients on PIFU, by the end of their period; covering what the list's
            # rule and the dashboard's count read (the count reads the index alone).
            models.Index(
                fields=["pifu_ends_on"],
                include=["id", "team", "named_nurse", "status", "entered_in_error"],
                condition=Q(follow_up_model=c.FollowUpModel.PIFU),
                name="followup_patient_pifu_cover",
            ),
        ]
        constraints = [
            *ClinicalRecord.Meta.constraints,
            models.CheckConstraint(
                condition=Q(pifu_starts_on__isnull=True, pifu_ends_on__isnull=True)
                | Q(pifu_starts_on__isnull=False, pifu_ends_on__gt=F("pifu_starts_on")),
                name="followup_patient_pifu_period",
                violation_error_message="A PIFU period needs a start and an end after it.",
            ),
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
            _choice_constraint("patient", "preferred_contact", c.ContactPreference, blank=True),
            models.CheckConstraint(
                condition=Q(interpreter_needed=False) | ~Q(interpreter_language=""),
                name="followup_patient_interpreter_language",
                violation_error_message="Say which language the interpreter is needed for.",
            ),
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
    def address_lines(self) -> list[str]:
        return [line for line in (self.address_line_1, self.address_line_2, self.town, self.postcode) if line]

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def is_active(self) -> bool:
        return self.status in c.ACTIVE_PATIENT_STATUSES

    def pifu_ended(self, today) -> bool:
        """Has patient-initiated follow-up ended? Its period runs to the end of ``pifu_ends_on``: on that
        day it "ends today", the day after it has ended. The one place this is decided (banner, list,
        letters)."""
        return self.pifu_ends_on is not None and self.pifu_ends_on < today

    @property
    def pifu_has_ended(self) -> bool:
        return self.pifu_ended(timezone.localdate())


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
