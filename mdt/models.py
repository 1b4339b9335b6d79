"""The discussion of a recurrence at the breast multidisciplinary team (MDT) meeting."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from followup import choices as fc
from followup import dates
from followup.display import show_date
from followup.models import ClinicalRecord, Patient, RecordManager, Recurrence
from followup.models.base import _birth_date_of_patient, _choice_constraint
from followup.scope import TeamScopedQuerySet

from .choices import MDTOutcome

# The meeting happened: not in the future, not before the patient was born (followup/dates.py).
MEETING_RULE = dates.DateRule("meeting_on", "The meeting date", happened=True)


class MDTDiscussionQuerySet(TeamScopedQuerySet):
    def live(self):
        """Discussions that count: not entered in error (default manager), of a live recurrence and patient."""
        return self.filter(recurrence__entered_in_error=False, patient__entered_in_error=False)

    def for_patient_page(self):
        """With who recorded and who marked in error: what the patient page and timeline show."""
        return self.select_related("created_by", "error_marked_by")


class MDTDiscussion(ClinicalRecord):
    """A recurrence discussed at an MDT meeting: the date, the coded outcome, the plan, who attended."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="mdt_discussions")
    recurrence = models.ForeignKey(Recurrence, on_delete=models.PROTECT, related_name="mdt_discussions")
    meeting_on = models.DateField("meeting date")
    outcome = models.CharField(max_length=20, choices=MDTOutcome.choices)
    plan = models.TextField("outcome and plan")
    attendees = models.TextField("who attended")

    objects = RecordManager.from_queryset(MDTDiscussionQuerySet)()

    class Meta:
        verbose_name = "MDT discussion"
        ordering = ["meeting_on", "pk"]
        constraints = [
            *ClinicalRecord.Meta.constraints,
            _choice_constraint("mdtdiscussion", "outcome", MDTOutcome),
            models.CheckConstraint(
                condition=~Q(plan=""),
                name="mdt_mdtdiscussion_plan_recorded",
                violation_error_message="Record the MDT's outcome and plan.",
            ),
            models.CheckConstraint(
                condition=~Q(attendees=""),
                name="mdt_mdtdiscussion_attendees_recorded",
                violation_error_message="Record who attended the MDT meeting.",
            ),
        ]
        indexes = [models.Index(fields=["recurrence", "meeting_on"], name="mdt_discussion_recurrence")]

    def __str__(self) -> str:
        # Own fields only: the history page names every version of the row with this.
        return f"MDT meeting of {show_date(self.meeting_on)}: {self.get_outcome_display()}"

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if self.recurrence_id and self.patient_id and self.recurrence.patient_id != self.patient_id:
            errors["recurrence"] = ["The recurrence belongs to another patient."]
        if self.meeting_on and dates.changed(self, "meeting_on"):
            message = MEETING_RULE.error(self.meeting_on, born=_birth_date_of_patient(self), today=timezone.localdate())
            if not message and self.recurrence_id and self.meeting_on < self.recurrence.diagnosed_on:
                message = (
                    "The meeting date cannot be before the recurrence was clinically agreed "
                    f"({show_date(self.recurrence.diagnosed_on)})."
                )
            if message:
                errors["meeting_on"] = [message]
        if errors:
            raise ValidationError(errors)


def live_discussion_of(recurrence_path: str = "pk") -> Exists:
    """A live MDT discussion of the recurrence at ``recurrence_path`` (an OuterRef)."""
    return Exists(MDTDiscussion.objects.filter(recurrence=OuterRef(recurrence_path)))


def not_discussed_at_mdt():
    """Failsafe "Recurrence not yet discussed at MDT": suspected or confirmed recurrences (not refuted,
    not entered in error) of live, active patients, with no MDT discussion (entered in error ones do
    not count). Oldest first."""
    return (
        Recurrence.objects.not_refuted()
        .filter(patient__status__in=fc.ACTIVE_PATIENT_STATUSES)
        .filter(~live_discussion_of())
        .order_by("diagnosed_on", "pk")
    )
