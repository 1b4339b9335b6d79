"""The contact log: every call, clinic contact, letter, email and MDT discussion with or about a patient."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from followup.models import ClinicalRecord, Patient, RecordManager
from followup.models.base import _choice_constraint
from followup.querysets import TeamScopedQuerySet


class ContactKind(models.TextChoices):
    PHONE_OUT = "phone_out", "Telephone call made"
    PHONE_IN = "phone_in", "Telephone call received"
    CLINIC = "clinic", "Clinic"
    LETTER = "letter", "Letter"
    EMAIL = "email", "Email"
    MDT = "mdt", "MDT discussion"


class ContactWith(models.TextChoices):
    PATIENT = "patient", "Patient"
    NEXT_OF_KIN = "next_of_kin", "Next of kin or carer"
    GP = "gp", "GP practice"
    OTHER = "other", "Someone else"


class ContactQuerySet(TeamScopedQuerySet):
    def live(self):
        return self.filter(patient__entered_in_error=False)

    def for_patient_page(self):
        """Newest first, with who made each contact."""
        return self.select_related("by").order_by("-contacted_at", "-pk")


class Contact(ClinicalRecord):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="contacts")
    kind = models.CharField("type of contact", max_length=10, choices=ContactKind.choices)
    contacted_at = models.DateTimeField("date and time")
    # The staff member who made or took the contact (not always the one who records it).
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="who")
    with_whom = models.CharField("with", max_length=12, choices=ContactWith.choices, default=ContactWith.PATIENT)
    # A call made: answered or not; unanswered: a message left or not.
    answered = models.BooleanField(null=True, blank=True)
    message_left = models.BooleanField(default=False)
    summary = models.TextField()
    outcome = models.TextField(blank=True)

    objects = RecordManager.from_queryset(ContactQuerySet)()

    class Meta:
        ordering = ["-contacted_at", "-pk"]
        indexes = [models.Index(fields=["patient", "-contacted_at"], name="contacts_patient_latest")]
        constraints = [
            *ClinicalRecord.Meta.constraints,
            _choice_constraint("contact", "kind", ContactKind),
            _choice_constraint("contact", "with_whom", ContactWith),
            models.CheckConstraint(
                condition=Q(kind=ContactKind.PHONE_OUT, answered__isnull=False)
                | (~Q(kind=ContactKind.PHONE_OUT) & Q(answered__isnull=True)),
                name="contacts_contact_answered_for_calls_made",
                violation_error_message="Say whether the call was answered.",
            ),
            models.CheckConstraint(
                condition=Q(message_left=False) | Q(kind=ContactKind.PHONE_OUT, answered=False),
                name="contacts_contact_message_only_when_unanswered",
                violation_error_message="A message is left only on a call that was not answered.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}, {self.contacted_at:%d %b %Y %H:%M}"

    @property
    def in_words(self) -> str:
        """The contact as a worklist row says it: "phoned, no answer, message left"."""
        if self.kind == ContactKind.PHONE_OUT:
            if self.answered:
                return "phoned, answered"
            return "phoned, no answer, message left" if self.message_left else "phoned, no answer"
        return {
            ContactKind.PHONE_IN: "call received",
            ContactKind.CLINIC: "seen in clinic",
            ContactKind.LETTER: "letter sent",
            ContactKind.EMAIL: "email",
            ContactKind.MDT: "discussed at MDT",
        }[self.kind]
