"""Recurrences (COSD non-primary cancer records), their restaging episodes and staging tests."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from .. import choices as c
from .. import dates
from ..display import show_date
from ..querysets import (
    RecurrenceQuerySet,
    RecurrenceSiteQuerySet,
    RestagingEpisodeQuerySet,
    StagingTestQuerySet,
)
from .base import ClinicalRecord, RecordManager, _birth_date_of_patient, _choice_constraint, date_errors
from .patients import Patient, PrimaryDiagnosis


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
    # A corrected or amended report replaced the one first read: it waits to be read again.
    report_amended = models.BooleanField("amended report", default=False)
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
                condition=Q(acknowledged_at__isnull=True) | ~Q(result=c.StagingResult.REPORTED),
                name="followup_stagingtest_acknowledged_is_classified",
                violation_error_message="Classify the result before acknowledging it.",
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
