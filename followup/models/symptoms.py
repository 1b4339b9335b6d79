"""Symptom reports and their triage."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from .. import choices as c
from ..display import show_date
from ..querysets import (
    SymptomReportQuerySet,
)
from .base import ClinicalRecord, RecordManager, _birth_date_of_patient, _choice_constraint, date_errors
from .patients import Patient


class SymptomReport(ClinicalRecord):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="symptom_reports")
    reported_on = models.DateField()
    onset_on = models.DateField(null=True, blank=True)
    area = models.CharField(max_length=12, choices=c.SymptomArea.choices)
    description = models.TextField()
    red_flag = models.CharField(max_length=20, choices=c.RedFlag.choices, blank=True)
    # Who told us: a nurse typing up a call, or the patient on the self-report page (selfreport/).
    source = models.CharField(max_length=10, choices=c.ReportSource.choices, default=c.ReportSource.STAFF)
    lasted = models.CharField("how long", max_length=15, choices=c.SymptomDuration.choices, blank=True)
    worsening = models.CharField("getting worse", max_length=10, choices=c.Worsening.choices, blank=True)
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
            _choice_constraint("symptomreport", "source", c.ReportSource),
            _choice_constraint("symptomreport", "lasted", c.SymptomDuration, blank=True),
            _choice_constraint("symptomreport", "worsening", c.Worsening, blank=True),
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
