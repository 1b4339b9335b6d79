"""Follow-up protocols and the items they schedule."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from .. import choices as c
from ..display import plural, show_date
from ..querysets import (
    ABNORMAL_RESULT,
    OPEN_DUE_ON,
    OPEN_ITEM,
    RESULT_AWAITED,
    UNACKNOWLEDGED_RESULT,
    WAITING_RESULT,
    FollowUpItemQuerySet,
    routine_result,
)
from .base import ClinicalRecord, RecordManager, _birth_date_of_patient, _choice_constraint, date_errors
from .patients import Patient


class FollowUpProtocol(models.Model):
    """A template that generates a patient's follow-up schedule."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    pifu_months = models.PositiveSmallIntegerField(
        "PIFU length (months)",
        null=True,
        blank=True,
        help_text="For a patient on patient-initiated follow-up: how long PIFU lasts from the protocol's start.",
    )

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
    # The report as it arrived from the hospital's system (integration/), for the clinician to read.
    report = models.TextField("report", blank=True)
    # A corrected or amended report replaced the one first read: it waits to be read again.
    report_amended = models.BooleanField("amended report", default=False)
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
            # Overdue and due soon, and their counts (the dashboard): the open items' due dates, with the
            # patient to join. An index on the expression (not a partial index on due_on, as before issue 17):
            # PostgreSQL keeps statistics of the expression, so it knows how few open items are overdue.
            # The columns the expression reads are included, so that a count reads the index alone.
            models.Index(
                OPEN_DUE_ON,
                F("patient"),
                include=["id", "status", "entered_in_error", "due_on"],
                name="followup_item_open_due_on",
            ),
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
            # ... and their counts (the dashboard): waiting results alone, with statistics of their own.
            models.Index(WAITING_RESULT, name="followup_item_unack_flag"),
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
            models.CheckConstraint(
                condition=Q(result_acknowledged_at__isnull=True) | ~Q(result=c.ImagingOutcome.REPORTED),
                name="followup_followupitem_acknowledged_is_classified",
                violation_error_message="Classify the result before acknowledging it.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} due {show_date(self.due_on)} ({self.get_status_display()})"

    def clean(self) -> None:
        errors = date_errors(self, born=lambda: _birth_date_of_patient(self))
        if errors:
            raise ValidationError(errors)
