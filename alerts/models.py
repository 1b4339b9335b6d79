"""Alerts by email, and every attempt to send one.

- Alert: one email to one address (a nurse, a team lead, a team's shared inbox): what it says, its
  link into the tracker, and whether it went. One that cannot be sent (nobody to send it to, an
  address that is not an email address) is recorded failed at once, saying why. Raised and sent
  only through services.py; a unique dedupe key makes raising the same alert twice a no-op (a
  digest once per nurse per day, a result escalated once), however many workers run.
- AlertAttempt: every try at sending, append-only (on PostgreSQL a trigger refuses UPDATE, DELETE and
  TRUNCATE, as on the audit tables).

Emails carry no patient-identifiable data: what happened, how many, and a link. Nothing here holds a
patient's name, NHS number or date of birth.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from followup.models import Team


def _choice(model: str, field: str, choices) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__in": [value for value, _ in choices]}),
        name=f"alerts_{model}_{field}_valid",
        violation_error_message=f"Choose a valid {field.replace('_', ' ')}.",
    )


class AlertKind(models.TextChoices):
    RED_FLAG = "red_flag", "Red-flag symptom report"
    RESULT_UNACKNOWLEDGED = "result_unacknowledged", "Result not acknowledged"
    DIGEST = "digest", "Daily digest"


class AlertStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class AttemptOutcome(models.TextChoices):
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class AlertQuerySet(models.QuerySet):
    def for_admin_list(self):
        """Newest first, with the team and recipient each row names (one query for a page)."""
        return self.select_related("team", "recipient").order_by("-created_at", "-pk")

    def lost(self, *, now):
        """Queued alerts with no attempt (or none since) for ALERT_REQUEUE_MINUTES: their job was lost."""
        cutoff = now - timedelta(minutes=settings.ALERT_REQUEUE_MINUTES)
        return self.filter(status=AlertStatus.QUEUED).filter(
            Q(last_attempt_at__lt=cutoff) | Q(last_attempt_at__isnull=True, created_at__lt=cutoff)
        )


class Alert(models.Model):
    kind = models.CharField(max_length=30, choices=AlertKind.choices)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="alerts")
    # The person it is for; none for a team's shared inbox.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts"
    )
    address = models.EmailField("to", blank=True)  # blank only on a failed alert (the constraint below)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    link = models.CharField(max_length=500, help_text="Where in the tracker the email points.")
    # What makes this alert the same as another: "digest:<nurse>:<day>", "red-flag:<report>:inbox", ...
    dedupe_key = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=AlertStatus.choices, default=AlertStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # A digest's count of each worklist ({slug: count}): tomorrow's digest compares with it.
    counts = models.JSONField(default=dict, blank=True)

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="alerts_alert_status_created"),
            models.Index(fields=["-created_at", "-id"], name="alerts_alert_newest"),
        ]
        constraints = [
            _choice("alert", "kind", AlertKind.choices),
            _choice("alert", "status", AlertStatus.choices),
            models.UniqueConstraint(
                fields=["dedupe_key"],
                name="alerts_alert_dedupe_key_unique",
                violation_error_message="This alert was raised already.",
            ),
            # A failed alert may have no address: it failed for want of one (services.alert_raise).
            models.CheckConstraint(
                condition=~Q(dedupe_key="") & (~Q(address="") | Q(status=AlertStatus.FAILED)),
                name="alerts_alert_has_address_and_key",
                violation_error_message="An alert needs a dedupe key, and an address unless it failed for want of one.",
            ),
            models.CheckConstraint(
                condition=Q(status=AlertStatus.SENT, sent_at__isnull=False)
                | (~Q(status=AlertStatus.SENT) & Q(sent_at__isnull=True)),
                name="alerts_alert_sent_has_time",
                violation_error_message="A sent alert has the time it was sent, and only a sent one.",
            ),
            models.CheckConstraint(
                condition=~Q(status=AlertStatus.FAILED) | (Q(attempts__gt=0) & ~Q(last_error="")),
                name="alerts_alert_failed_says_why",
                violation_error_message="A failed alert was tried and says why it failed.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.address or 'no address'}: {self.get_status_display()}"


class AlertAttempt(models.Model):
    """One try at sending an alert, append-only."""

    alert = models.ForeignKey(Alert, on_delete=models.PROTECT, related_name="attempt_log")
    at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=10, choices=AttemptOutcome.choices)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            _choice("alertattempt", "outcome", AttemptOutcome.choices),
            models.CheckConstraint(
                condition=(Q(outcome=AttemptOutcome.FAILED) & ~Q(error=""))
                | (~Q(outcome=AttemptOutcome.FAILED) & Q(error="")),
                name="alerts_alertattempt_failure_has_error",
                violation_error_message="A failed attempt says why; a sent one has no error.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} at {self.at:%Y-%m-%d %H:%M}"
