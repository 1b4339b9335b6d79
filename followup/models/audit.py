"""Logs of reads and exports: who saw or took what, and when."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .. import choices as c
from ..display import show_datetime
from .base import _choice_constraint
from .patients import Patient


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
