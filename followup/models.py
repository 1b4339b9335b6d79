"""The clinical data model. Code lists live in choices.py, QuerySets in querysets.py.

Rules the database can hold are constraints here; multi-step rules live in
services.py. Clinical rows are never deleted: they are marked "entered in
error", and the default manager leaves those out (``all_objects`` keeps them).
"""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Min, Q
from django.db.models.functions import Lower, Upper
from django.utils import timezone
from simple_history.models import HistoricalRecords

from . import choices as c
from . import dates
from .display import plural, show_date, show_datetime
from .nhs import format_nhs_number, validate_nhs_number
from .querysets import (
    ABNORMAL_RESULT,
    OPEN_ITEM,
    RESULT_AWAITED,
    UNACKNOWLEDGED_RESULT,
    FollowUpItemQuerySet,
    PatientQuerySet,
    PrimaryDiagnosisQuerySet,
    RecurrenceQuerySet,
    RecurrenceSiteQuerySet,
    RestagingEpisodeQuerySet,
    StagingTestQuerySet,
    SymptomReportQuerySet,
    routine_result,
)


class Team(models.Model):
    """A breast unit or clinic: the boundary of what its staff may see."""

    name = models.CharField(max_length=120, unique=True)
    code = models.SlugField(max_length=30, unique=True, help_text="Short code, e.g. 'north'.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def history_actor(instance, request=None, **kwargs):
    """Who made this change: the service's user, else the signed-in user, else whoever the row says.

    Every clinical row has a non-null updated_by (stamped by services.record_stamp),
    so its history always names someone.
    """
    actor = getattr(instance, "_history_user", None)
    if actor is None and request is not None and getattr(request, "user", None) and request.user.is_authenticated:
        actor = request.user
    if actor is None and getattr(instance, "updated_by_id", None):
        actor = instance.updated_by
    return actor


class User(AbstractUser):
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="members")
    role = models.CharField(max_length=20, choices=c.Role.choices, default=c.Role.NURSE)

    history = HistoricalRecords(get_user=history_actor, excluded_fields=["password", "last_login"])

    class Meta:
        ordering = ["last_name", "first_name", "username"]
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=c.Role.values),
                name="followup_user_role_valid",
                violation_error_message="Choose a valid role.",
            ),
            models.CheckConstraint(
                condition=Q(role=c.Role.ADMIN) | Q(is_superuser=True) | Q(team__isnull=False),
                name="followup_user_team_unless_admin",
                violation_error_message="Nurses and clinicians must belong to a team.",
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_admin_role(self) -> bool:
        return self.role == c.Role.ADMIN or self.is_superuser


def _choice_constraint(model: str, field: str, choices: type[models.TextChoices], *, blank: bool = False):
    values = list(choices.values) + ([""] if blank else [])
    return models.CheckConstraint(
        condition=Q(**{f"{field}__in": values}),
        name=f"followup_{model}_{field}_valid",
        violation_error_message=f"Choose a valid {field.replace('_', ' ')}.",
    )


class RecordManager(models.Manager):
    """The default manager of clinical rows: leaves out those entered in error."""

    def get_queryset(self):
        return super().get_queryset().filter(entered_in_error=False)


class ClinicalRecord(models.Model):
    """Who created and last changed a clinical row, its version, and its error mark."""

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Checked by services before a write, so a second editor cannot overwrite the first.
    version = models.PositiveIntegerField(default=1)
    entered_in_error = models.BooleanField(default=False)
    error_reason = models.TextField(blank=True)
    error_marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    error_marked_at = models.DateTimeField(null=True, blank=True)

    all_objects = models.Manager()
    # Who changed what and when, before and after: one history table per clinical model.
    history = HistoricalRecords(inherit=True, get_user=history_actor)

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=Q(entered_in_error=False, error_marked_at__isnull=True)
                | (
                    Q(entered_in_error=True, error_marked_by__isnull=False, error_marked_at__isnull=False)
                    & ~Q(error_reason="")
                ),
                name="followup_%(class)s_error_mark_complete",
                violation_error_message="Marking a record entered in error needs a reason, who and when.",
            ),
        ]

    @classmethod
    def from_db(cls, db, field_names, values):
        record = super().from_db(db, field_names, values)
        dates.remember_dates(record)  # only dates entered or changed are checked (dates.changed)
        return record


def date_errors(record, *, born) -> dict[str, list[str]]:
    """The plausibility errors of a row's new or changed dates (followup/dates.py has the rules).

    ``born``: a callable giving the patient's date of birth, called only when a date changed.
    """
    rules = dates.changed_dates(record)
    if not rules:
        return {}
    return dates.record_errors(record, rules, born=born(), today=timezone.localdate())


def _birth_date_of_patient(record):
    """The date of birth of the row's patient, also of one not saved yet (the caseload import's dry run)."""
    if record.patient_id is None and not type(record)._meta.get_field("patient").is_cached(record):
        return None
    patient = record.patient
    return patient.date_of_birth if patient is not None else None


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


class FollowUpProtocol(models.Model):
    """A template that generates a patient's follow-up schedule."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProtocolStep(models.Model):
    """One line of a protocol, e.g. "mammogram every 12 months x 5, starting at 12 months"."""

    protocol = models.ForeignKey(FollowUpProtocol, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(max_length=20, choices=c.FollowUpKind.choices)
    start_months = models.PositiveSmallIntegerField(help_text="Months from the protocol start to the first item.")
    interval_months = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Months between repeats; empty when the step happens once."
    )
    occurrences = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["protocol", "start_months", "pk"]
        constraints = [
            _choice_constraint("protocolstep", "kind", c.FollowUpKind),
            models.CheckConstraint(
                condition=Q(occurrences__gte=1),
                name="followup_protocolstep_occurs_at_least_once",
                violation_error_message="A step happens at least once.",
            ),
            models.CheckConstraint(
                condition=Q(occurrences__lte=1, interval_months__isnull=True)
                # Spelled out: "interval >= 1" alone is NULL for a missing interval, and a CHECK passes NULL.
                | Q(occurrences__gt=1, interval_months__isnull=False, interval_months__gte=1),
                name="followup_protocolstep_repeat_has_interval",
                violation_error_message="A repeated step needs an interval of at least one month; "
                "a single one has none.",
            ),
        ]

    def __str__(self) -> str:
        if self.occurrences == 1:
            return f"{self.get_kind_display()} at {plural(self.start_months, 'month')}"
        return (
            f"{self.get_kind_display()} every {plural(self.interval_months, 'month')} x {self.occurrences}, "
            f"from {plural(self.start_months, 'month')}"
        )


class FollowUpItem(ClinicalRecord):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="followup_items")
    kind = models.CharField(max_length=20, choices=c.FollowUpKind.choices)
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=c.FollowUpStatus.choices, default=c.FollowUpStatus.DUE)
    booked_for = models.DateField(null=True, blank=True)
    done_on = models.DateField(null=True, blank=True)
    result = models.CharField(max_length=2, choices=c.ImagingOutcome.choices, blank=True)
    # Done, with the result not yet available: on "Results awaited" until it is recorded.
    result_awaited = models.BooleanField("result not yet available", default=False)
    # The day the result was entered: a result waits to be read from then (the results list's
    # "Waiting" and escalation), not from the day the test was done, which may be weeks earlier.
    result_recorded_on = models.DateField("result recorded on", null=True, blank=True)
    result_acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    result_acknowledged_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField("reason for cancelling", blank=True)
    notes = models.TextField(blank=True)
    # Set when generated from a protocol; (patient, step, sequence) makes generation idempotent.
    protocol_step = models.ForeignKey(
        ProtocolStep, null=True, blank=True, on_delete=models.PROTECT, related_name="items"
    )
    sequence = models.PositiveSmallIntegerField(null=True, blank=True)

    objects = RecordManager.from_queryset(FollowUpItemQuerySet)()

    class Meta:
        verbose_name = "follow-up item"
        ordering = ["due_on", "pk"]
        # Partial indexes for the failsafe lists: open items are a third of all items and
        # overdue ones a fraction of a percent; each is measured in docs/performance.md.
        indexes = [
            # Overdue and due soon: open items in due-date order, with the patient to join.
            models.Index(fields=["due_on", "patient"], condition=OPEN_ITEM, name="followup_item_open_due"),
            # No next follow-up: does this patient have any open item?
            models.Index(fields=["patient"], condition=OPEN_ITEM, name="followup_item_open_patient"),
            # Results to acknowledge, oldest first.
            models.Index(fields=["done_on"], condition=UNACKNOWLEDGED_RESULT, name="followup_item_unacknowledged"),
            # ... and in the list's own order, abnormal first (querysets.urgent_first()): read in
            # order and stopped at a page, where sorting them all chose a hash join of every patient.
            models.Index(
                routine_result(ABNORMAL_RESULT),
                F("result_recorded_on"),
                F("id"),
                condition=UNACKNOWLEDGED_RESULT,
                name="followup_item_unack_urgent",
            ),
            # Results awaited, oldest first.
            models.Index(fields=["done_on"], condition=RESULT_AWAITED, name="followup_item_result_awaited"),
        ]
        constraints = [
            *ClinicalRecord.Meta.constraints,
            _choice_constraint("followupitem", "kind", c.FollowUpKind),
            _choice_constraint("followupitem", "status", c.FollowUpStatus),
            _choice_constraint("followupitem", "result", c.ImagingOutcome, blank=True),
            models.UniqueConstraint(
                fields=["patient", "protocol_step", "sequence"],
                name="followup_followupitem_protocol_slot_unique",
                violation_error_message="This protocol item already exists for the patient.",
            ),
            models.CheckConstraint(
                condition=Q(protocol_step__isnull=True, sequence__isnull=True)
                | Q(protocol_step__isnull=False, sequence__isnull=False),
                name="followup_followupitem_protocol_step_has_sequence",
                violation_error_message="A protocol item needs its place in the protocol.",
            ),
            models.CheckConstraint(
                condition=Q(status=c.FollowUpStatus.DONE, done_on__isnull=False)
                | (~Q(status=c.FollowUpStatus.DONE) & Q(done_on__isnull=True)),
                name="followup_followupitem_done_has_date",
                violation_error_message="A done item needs the date it was done, and only a done item has one.",
            ),
            models.CheckConstraint(
                condition=~Q(status=c.FollowUpStatus.BOOKED) | Q(booked_for__isnull=False),
                name="followup_followupitem_booked_has_date",
                violation_error_message="A booked item needs the appointment date.",
            ),
            models.CheckConstraint(
                condition=~Q(status=c.FollowUpStatus.CANCELLED) | ~Q(cancel_reason=""),
                name="followup_followupitem_cancel_has_reason",
                violation_error_message="Give a reason for cancelling.",
            ),
            models.CheckConstraint(
                condition=Q(result="") | Q(status=c.FollowUpStatus.DONE, kind__in=c.RESULT_KINDS),
                name="followup_followupitem_result_when_done",
                violation_error_message="A result can only be recorded on a done mammogram, bloods or other test.",
            ),
            models.CheckConstraint(
                condition=~Q(status=c.FollowUpStatus.DONE, kind__in=c.RESULT_KINDS)
                | ~Q(result="")
                | Q(result_awaited=True),
                name="followup_followupitem_done_has_result_or_awaits_it",
                violation_error_message="A done mammogram, bloods or other test needs its result, "
                "or 'Result not yet available'.",
            ),
            models.CheckConstraint(
                condition=Q(result_awaited=False) | Q(status=c.FollowUpStatus.DONE, kind__in=c.RESULT_KINDS, result=""),
                name="followup_followupitem_awaited_only_without_result",
                violation_error_message="Only a done mammogram, bloods or other test with no result yet "
                "can be awaiting its result.",
            ),
            models.CheckConstraint(
                condition=Q(result="", result_recorded_on__isnull=True)
                | (~Q(result="") & Q(result_recorded_on__isnull=False)),
                name="followup_followupitem_result_has_recorded_date",
                violation_error_message="A result goes with the day it was recorded, and only a result has one.",
            ),
            models.CheckConstraint(
                condition=Q(result_acknowledged_at__isnull=True, result_acknowledged_by__isnull=True)
                | (~Q(result="") & Q(result_acknowledged_at__isnull=False, result_acknowledged_by__isnull=False)),
                name="followup_followupitem_acknowledged_has_result",
                violation_error_message="Only a recorded result can be acknowledged, and it needs who and when.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} due {show_date(self.due_on)} ({self.get_status_display()})"

    def clean(self) -> None:
        errors = date_errors(self, born=lambda: _birth_date_of_patient(self))
        if errors:
            raise ValidationError(errors)


class Recurrence(ClinicalRecord):
    """A non-primary cancer record (COSD): local, regional or distant."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="recurrences")
    primary = models.ForeignKey(
        PrimaryDiagnosis, null=True, blank=True, on_delete=models.PROTECT, related_name="recurrences"
    )
    metastatic_type = models.CharField(max_length=2, choices=c.MetastaticType.choices)
    status = models.CharField(max_length=10, choices=c.RecurrenceStatus.choices, default=c.RecurrenceStatus.SUSPECTED)
    diagnosed_on = models.DateField("date clinically agreed")
    detection_method = models.CharField(max_length=20, choices=c.DetectionMethod.choices, blank=True)
    basis_of_diagnosis = models.CharField(max_length=1, choices=c.BasisOfDiagnosis.choices, blank=True)
    er_status = models.CharField("ER status", max_length=12, choices=c.ReceptorStatus.choices, blank=True)
    pr_status = models.CharField("PR status", max_length=12, choices=c.ReceptorStatus.choices, blank=True)
    her2_status = models.CharField("HER2 status", max_length=12, choices=c.ReceptorStatus.choices, blank=True)
    lymphoedema = models.BooleanField(default=False)
    notes = models.TextField(blank=True)

    objects = RecordManager.from_queryset(RecurrenceQuerySet)()

    class Meta:
        ordering = ["diagnosed_on", "pk"]
        constraints = [
            *ClinicalRecord.Meta.constraints,
            _choice_constraint("recurrence", "metastatic_type", c.MetastaticType),
            _choice_constraint("recurrence", "status", c.RecurrenceStatus),
            _choice_constraint("recurrence", "detection_method", c.DetectionMethod, blank=True),
            _choice_constraint("recurrence", "basis_of_diagnosis", c.BasisOfDiagnosis, blank=True),
            _choice_constraint("recurrence", "er_status", c.ReceptorStatus, blank=True),
            _choice_constraint("recurrence", "pr_status", c.ReceptorStatus, blank=True),
            _choice_constraint("recurrence", "her2_status", c.ReceptorStatus, blank=True),
        ]

    def __str__(self) -> str:
        kind, status = self.get_metastatic_type_display(), self.get_status_display()
        return f"{kind} recurrence, {show_date(self.diagnosed_on)} ({status})"

    def clean(self) -> None:
        errors = date_errors(self, born=lambda: _birth_date_of_patient(self))
        if self.primary_id and self.patient_id and self.primary.patient_id != self.patient_id:
            errors["primary"] = ["The primary diagnosis belongs to another patient."]
        elif (
            self.primary_id
            and "diagnosed_on" not in errors
            and self.diagnosed_on
            and dates.changed(self, "diagnosed_on")
        ):
            message = dates.recurrence_error(self.diagnosed_on, self.primary.diagnosed_on)
            if message:
                errors["diagnosed_on"] = [message]
        if errors:
            raise ValidationError(errors)


class RecurrenceSite(ClinicalRecord):
    recurrence = models.ForeignKey(Recurrence, on_delete=models.PROTECT, related_name="sites")
    # A copy of the recurrence's type, so the database itself refuses a site that does not fit it.
    metastatic_type = models.CharField(max_length=2, choices=c.MetastaticType.choices)
    site = models.CharField(max_length=30, choices=c.Site.choices)
    other_site_text = models.CharField("other site", max_length=120, blank=True)

    objects = RecordManager.from_queryset(RecurrenceSiteQuerySet)()

    class Meta:
        ordering = ["recurrence", "pk"]
        constraints = [
            *ClinicalRecord.Meta.constraints,
            models.CheckConstraint(
                condition=Q(metastatic_type=c.MetastaticType.LOCAL, site__in=c.sites_for_type(c.MetastaticType.LOCAL))
                | Q(
                    metastatic_type=c.MetastaticType.REGIONAL,
                    site__in=c.sites_for_type(c.MetastaticType.REGIONAL),
                )
                | Q(metastatic_type=c.MetastaticType.DISTANT, site__in=c.DISTANT_SITES),
                name="followup_recurrencesite_site_fits_type",
                violation_error_message="This site does not fit the recurrence type.",
            ),
            models.CheckConstraint(
                condition=(Q(site=c.Site.OTHER) & ~Q(other_site_text=""))
                | (~Q(site=c.Site.OTHER) & Q(other_site_text="")),
                name="followup_recurrencesite_other_described",
                violation_error_message="Describe the site when it is 'Other', and only then.",
            ),
            models.UniqueConstraint(
                fields=["recurrence", "site"],
                condition=Q(entered_in_error=False),
                name="followup_recurrencesite_unique",
                violation_error_message="This site is already recorded for the recurrence.",
            ),
        ]

    def __str__(self) -> str:
        return self.other_site_text or self.get_site_display()

    @property
    def cosd_site(self) -> str:
        return c.SITE_INFO[self.site].cosd

    def clean(self) -> None:
        if self.recurrence_id and self.metastatic_type != self.recurrence.metastatic_type:
            raise ValidationError({"metastatic_type": "The site's type must match its recurrence."})


class RestagingEpisode(ClinicalRecord):
    """The tests that look for distant spread after a local or regional recurrence."""

    recurrence = models.OneToOneField(Recurrence, on_delete=models.PROTECT, related_name="restaging")
    opened_on = models.DateField()
    target_on = models.DateField()
    outcome = models.CharField(max_length=12, choices=c.RestagingOutcome.choices, default=c.RestagingOutcome.OPEN)
    closed_on = models.DateField(null=True, blank=True)

    objects = RecordManager.from_queryset(RestagingEpisodeQuerySet)()

    class Meta:
        ordering = ["opened_on", "pk"]
        constraints = [
            *ClinicalRecord.Meta.constraints,
            _choice_constraint("restagingepisode", "outcome", c.RestagingOutcome),
            models.CheckConstraint(
                condition=Q(target_on__gte=F("opened_on")),
                name="followup_restagingepisode_target_after_open",
                violation_error_message="The target date cannot be before the episode opened.",
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=c.OPEN_RESTAGING_OUTCOMES, closed_on__isnull=True)
                | (
                    ~Q(outcome__in=c.OPEN_RESTAGING_OUTCOMES)
                    & Q(closed_on__isnull=False, closed_on__gte=F("opened_on"))
                ),
                name="followup_restagingepisode_closed_has_date",
                violation_error_message="A closed episode needs a closing date on or after it opened; "
                "an open one has none.",
            ),
        ]

    def __str__(self) -> str:
        return f"Restaging opened {show_date(self.opened_on)} ({self.get_outcome_display()})"

    def clean(self) -> None:
        if self.recurrence_id and self.recurrence.metastatic_type not in c.RESTAGED_TYPES:
            raise ValidationError("Only a local or regional recurrence is restaged.")
        errors = date_errors(
            self,
            born=lambda: Patient.all_objects.filter(recurrences=self.recurrence_id)
            .values_list("date_of_birth", flat=True)
            .first(),
        )
        if errors:
            raise ValidationError(errors)


class StagingTest(ClinicalRecord):
    episode = models.ForeignKey(RestagingEpisode, on_delete=models.PROTECT, related_name="tests")
    modality = models.CharField(max_length=20, choices=c.StagingModality.choices)
    requested_on = models.DateField()
    performed_on = models.DateField(null=True, blank=True)
    reported_on = models.DateField(null=True, blank=True)
    result = models.CharField(max_length=10, choices=c.StagingResult.choices, blank=True)
    result_notes = models.TextField("report summary", blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    cancelled_on = models.DateField(null=True, blank=True)
    cancel_reason = models.TextField("reason for cancelling", blank=True)
    # A test requested to settle an equivocal one: its result then stands for both.
    follow_up_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="follow_ups")
    distant_recurrence = models.ForeignKey(
        Recurrence, null=True, blank=True, on_delete=models.PROTECT, related_name="from_staging_tests"
    )

    objects = RecordManager.from_queryset(StagingTestQuerySet)()

    class Meta:
        ordering = ["requested_on", "pk"]
        constraints = [
            *ClinicalRecord.Meta.constraints,
            _choice_constraint("stagingtest", "modality", c.StagingModality),
            _choice_constraint("stagingtest", "result", c.StagingResult, blank=True),
            models.CheckConstraint(
                condition=Q(performed_on__isnull=True) | Q(performed_on__gte=F("requested_on")),
                name="followup_stagingtest_performed_after_requested",
                violation_error_message="A test cannot be performed before it was requested.",
            ),
            models.CheckConstraint(
                condition=Q(reported_on__isnull=True)
                | Q(performed_on__isnull=False, reported_on__gte=F("performed_on")),
                name="followup_stagingtest_reported_after_performed",
                violation_error_message="A test is reported on or after the date it was performed.",
            ),
            models.CheckConstraint(
                condition=Q(result="", reported_on__isnull=True) | (~Q(result="") & Q(reported_on__isnull=False)),
                name="followup_stagingtest_result_has_report_date",
                violation_error_message="A result goes with the date it was reported.",
            ),
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True, acknowledged_by__isnull=True)
                | (~Q(result="") & Q(acknowledged_at__isnull=False, acknowledged_by__isnull=False)),
                name="followup_stagingtest_acknowledged_has_result",
                violation_error_message="Only a recorded result can be acknowledged, and it needs who and when.",
            ),
            models.CheckConstraint(
                condition=Q(cancelled_on__isnull=True, cancel_reason="")
                | (Q(cancelled_on__isnull=False, result="") & ~Q(cancel_reason="")),
                name="followup_stagingtest_cancel_has_reason",
                violation_error_message="A cancelled test needs a date and a reason, and has no result.",
            ),
            models.CheckConstraint(
                condition=Q(distant_recurrence__isnull=True) | Q(result=c.StagingResult.DISTANT),
                name="followup_stagingtest_distant_link_needs_distant_result",
                violation_error_message="Only a result showing distant disease links to a distant recurrence.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_modality_display()} requested {show_date(self.requested_on)}"

    def clean(self) -> None:
        errors = date_errors(self, born=self._birth_date)
        if errors:
            raise ValidationError(errors)

    def _birth_date(self):
        """The patient's date of birth: one query, however little of the chain is loaded."""
        return (
            Patient.all_objects.filter(recurrences__restaging=self.episode_id)
            .values_list("date_of_birth", flat=True)
            .first()
        )


class StagingTestSite(models.Model):
    """A site of distant disease found by a staging test."""

    test = models.ForeignKey(StagingTest, on_delete=models.CASCADE, related_name="sites")
    site = models.CharField(max_length=30, choices=c.Site.choices)
    other_site_text = models.CharField("other site", max_length=120, blank=True)

    history = HistoricalRecords(get_user=lambda instance, request=None, **kw: getattr(instance, "_history_user", None))

    class Meta:
        ordering = ["test", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(site__in=c.DISTANT_SITES),
                name="followup_stagingtestsite_distant_only",
                violation_error_message="A staging test records sites of distant disease only.",
            ),
            models.CheckConstraint(
                condition=(Q(site=c.Site.OTHER) & ~Q(other_site_text=""))
                | (~Q(site=c.Site.OTHER) & Q(other_site_text="")),
                name="followup_stagingtestsite_other_described",
                violation_error_message="Describe the site when it is 'Other', and only then.",
            ),
            models.UniqueConstraint(
                fields=["test", "site"],
                name="followup_stagingtestsite_unique",
                violation_error_message="This site is already recorded for the test.",
            ),
        ]

    def __str__(self) -> str:
        return self.other_site_text or self.get_site_display()


class SymptomReport(ClinicalRecord):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="symptom_reports")
    reported_on = models.DateField()
    onset_on = models.DateField(null=True, blank=True)
    area = models.CharField(max_length=12, choices=c.SymptomArea.choices)
    description = models.TextField()
    red_flag = models.CharField(max_length=20, choices=c.RedFlag.choices, blank=True)
    triage_outcome = models.CharField(max_length=15, choices=c.TriageOutcome.choices, blank=True)
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    triaged_at = models.DateTimeField(null=True, blank=True)
    triage_notes = models.TextField(blank=True)

    objects = RecordManager.from_queryset(SymptomReportQuerySet)()

    class Meta:
        ordering = ["reported_on", "pk"]
        constraints = [
            *ClinicalRecord.Meta.constraints,
            _choice_constraint("symptomreport", "area", c.SymptomArea),
            _choice_constraint("symptomreport", "red_flag", c.RedFlag, blank=True),
            _choice_constraint("symptomreport", "triage_outcome", c.TriageOutcome, blank=True),
            models.CheckConstraint(
                condition=Q(onset_on__isnull=True) | Q(onset_on__lte=F("reported_on")),
                name="followup_symptomreport_onset_before_report",
                violation_error_message="Symptoms cannot start after they were reported.",
            ),
            models.CheckConstraint(
                condition=Q(triage_outcome="", triaged_by__isnull=True, triaged_at__isnull=True)
                | (~Q(triage_outcome="") & Q(triaged_by__isnull=False, triaged_at__isnull=False)),
                name="followup_symptomreport_triage_complete",
                violation_error_message="A triage needs its outcome, who and when.",
            ),
            models.CheckConstraint(
                # DOMAIN.md: cord-compression symptoms are always urgent.
                condition=~Q(red_flag=c.RedFlag.CORD_COMPRESSION) | Q(triage_outcome__in=["", c.TriageOutcome.URGENT]),
                name="followup_symptomreport_cord_compression_urgent",
                violation_error_message="Possible spinal cord compression must be triaged as urgent.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_area_display()} symptoms reported {show_date(self.reported_on)}"

    def clean(self) -> None:
        errors = date_errors(self, born=lambda: _birth_date_of_patient(self))
        if errors:
            raise ValidationError(errors)


class ExportLog(models.Model):
    """Every export: who, which report, with which filters, how many rows, when."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="exports"
    )
    report = models.CharField(max_length=60)
    format = models.CharField(max_length=4, choices=c.ExportFormat.choices)
    filters = models.JSONField(default=dict, blank=True)
    via = models.CharField(max_length=10, choices=c.ExportVia.choices, default=c.ExportVia.WEB)
    rows = models.PositiveIntegerField(null=True, blank=True, help_text="Empty while the export is running.")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            _choice_constraint("exportlog", "format", c.ExportFormat),
            _choice_constraint("exportlog", "via", c.ExportVia),
            models.CheckConstraint(
                condition=Q(via="command") | Q(user__isnull=False),
                name="followup_exportlog_web_export_has_user",
                violation_error_message="An export from the web records who made it.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.report} ({self.format}) by {self.user or 'command'} at {show_datetime(self.started_at)}"


class AccessLog(models.Model):
    """Reads of patient data, and refused requests for it: who asked for what, when, and what they got.

    Append-only. ``patient`` is empty when a request was refused without finding anyone
    (a 404 looks nothing up); ``object_type``/``object_pk`` then say what was asked for.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=20, choices=c.AccessAction.choices)
    outcome = models.CharField(max_length=20, choices=c.AccessOutcome.choices, default=c.AccessOutcome.VIEWED)
    object_type = models.CharField(
        "type of record asked for", max_length=60, blank=True, help_text="The model, e.g. followup.patient."
    )
    object_pk = models.CharField("key of record asked for", max_length=40, blank=True)
    nhs_number = models.CharField("NHS number asked about", max_length=10, blank=True)
    path = models.CharField(max_length=300)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]
        constraints = [
            _choice_constraint("accesslog", "action", c.AccessAction),
            _choice_constraint("accesslog", "outcome", c.AccessOutcome),
            models.CheckConstraint(
                condition=Q(patient__isnull=False) | ~Q(object_pk="") | ~Q(nhs_number=""),
                name="followup_accesslog_names_what_was_asked_for",
                violation_error_message="An access log row names the patient, the record or the NHS number asked for.",
            ),
        ]
        indexes = [
            # A user's recent refusals, counted by the NHS-number check's limit (followup/audit.py).
            models.Index(fields=["user", "outcome", "at"], name="followup_access_refusals"),
        ]

    def __str__(self) -> str:
        asked = f"patient {self.patient_id}" if self.patient_id else self.asked_for
        action, outcome = self.get_action_display().lower(), self.get_outcome_display().lower()
        return f"{self.user} {action}, {asked}: {outcome} at {self.at:%Y-%m-%d %H:%M}"

    @property
    def asked_for(self) -> str:
        """What the request named, as a person reads it: "patient 72", "NHS number 9990000018"."""
        if self.object_type:
            try:
                name = self._meta.apps.get_model(self.object_type)._meta.verbose_name
            except (LookupError, ValueError):
                name = self.object_type
            return f"{name} {self.object_pk}"
        return f"NHS number {self.nhs_number}" if self.nhs_number else ""


def patient_of(record) -> Patient:
    """The patient a clinical row belongs to, whatever the row."""
    if isinstance(record, Patient):
        return record
    if isinstance(record, StagingTestSite):
        return record.test.episode.recurrence.patient
    if isinstance(record, StagingTest):
        return record.episode.recurrence.patient
    if isinstance(record, RecurrenceSite):
        return record.recurrence.patient
    if isinstance(record, RestagingEpisode):
        return record.recurrence.patient
    return record.patient
