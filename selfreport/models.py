"""A patient's personal code for the self-report page, and every try to use one.

- PersonalCode: the SHA-256 of a code a nurse issued (never the code itself), who issued it and
  when; voided (who, when, why) when re-issued, on discharge or death, or by a nurse. One live code
  per patient (the database says so). History kept (simple_history), guarded like the others.
- CodeAttempt: every try on /report-symptoms/, append-only: when, the digest of the code AS
  ENTERED (whether or not it exists), the client address, whether it succeeded. The lock-out
  counts its failures per code and per address (services.locked_until).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from followup.models import Patient
from followup.models.base import history_actor


class VoidReason(models.TextChoices):
    REISSUED = "reissued", "A new code was issued"
    DISCHARGED = "discharged", "Discharged from follow-up"
    DIED = "died", "The patient died"
    BY_NURSE = "by_nurse", "Voided by a nurse"


class PersonalCodeQuerySet(models.QuerySet):
    def live(self):
        return self.filter(voided_at__isnull=True)


class PersonalCode(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="personal_codes")
    code_hash = models.CharField(max_length=64)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(default=timezone.now)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    void_reason = models.CharField(max_length=12, choices=VoidReason.choices, blank=True)

    objects = PersonalCodeQuerySet.as_manager()
    history = HistoricalRecords(get_user=history_actor)

    class Meta:
        ordering = ["-issued_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(voided_at__isnull=True),
                name="selfreport_personalcode_one_live_unique",
                violation_error_message="This patient already has a live personal code.",
            ),
            models.UniqueConstraint(
                fields=["code_hash"],
                name="selfreport_personalcode_code_hash_unique",
                violation_error_message="This code was issued before: issue another.",
            ),
            models.CheckConstraint(
                condition=Q(code_hash__regex=r"^[0-9a-f]{64}$"),
                name="selfreport_personalcode_code_hash_sha256",
                violation_error_message="A personal code is stored as its SHA-256 digest only.",
            ),
            models.CheckConstraint(
                condition=Q(void_reason__in=[*VoidReason.values, ""]),
                name="selfreport_personalcode_void_reason_valid",
                violation_error_message="Choose a valid void reason.",
            ),
            models.CheckConstraint(
                condition=Q(voided_at__isnull=True, voided_by__isnull=True, void_reason="")
                | (Q(voided_at__isnull=False, voided_by__isnull=False) & ~Q(void_reason="")),
                name="selfreport_personalcode_void_complete",
                violation_error_message="Voiding a code needs who, when and why.",
            ),
        ]

    def __str__(self) -> str:
        state = f"voided {self.voided_at:%d %b %Y}" if self.voided_at else "live"
        return f"Personal code issued {self.issued_at:%d %b %Y} ({state})"

    @property
    def is_live(self) -> bool:
        return self.voided_at is None


class CodeAttempt(models.Model):
    """One try on the self-report page, append-only (PostgreSQL triggers refuse changes)."""

    at = models.DateTimeField(default=timezone.now)
    # codes.digest() of what was typed: the key of the per-code lock-out, and no code in plain text.
    code_key = models.CharField(max_length=64)
    address = models.CharField("client address", max_length=64, blank=True)
    succeeded = models.BooleanField(default=False)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["code_key", "at"], name="selfreport_attempt_code_at"),
            models.Index(fields=["address", "at"], name="selfreport_attempt_addr_at"),
        ]

    def __str__(self) -> str:
        return f"{'Success' if self.succeeded else 'Failure'} at {self.at:%Y-%m-%d %H:%M} from {self.address or '?'}"
