"""Letterheads and issued letters: the PDF as sent, stored once and never changed."""

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from followup.display import show_date
from followup.models import ClinicalRecord, FollowUpItem, Patient, RecordManager, StagingTest, Team
from followup.models.base import _choice_constraint, history_actor
from followup.scope import TeamScopedQuerySet

from .choices import GP_KINDS, RESULT_KINDS, LetterKind, Recipient


class Letterhead(models.Model):
    """What a team's letters print at the top and the bottom. Reference data, kept by admins in the admin site."""

    team = models.OneToOneField(Team, on_delete=models.PROTECT, related_name="letterhead")
    unit_name = models.CharField("unit name", max_length=120, help_text="As the letters' heading shows it.")
    address_line_1 = models.CharField("address line 1", max_length=120)
    address_line_2 = models.CharField("address line 2", max_length=120, blank=True)
    address_line_3 = models.CharField("address line 3", max_length=120, blank=True)
    town = models.CharField("town or city", max_length=80)
    postcode = models.CharField(max_length=8)
    phone = models.CharField("breast care nurses' phone", max_length=20)
    acute_oncology_phone = models.CharField("acute oncology phone", max_length=20)
    email = models.EmailField(blank=True)
    signature_name = models.CharField("signature: name", max_length=120, help_text="e.g. The Breast Care Nurses")
    signature_role = models.CharField("signature: role", max_length=200, blank=True)

    history = HistoricalRecords(get_user=history_actor)

    class Meta:
        ordering = ["team__name"]

    def __str__(self) -> str:
        return f"{self.unit_name} ({self.team})"

    @property
    def address_lines(self) -> list[str]:
        lines = (self.address_line_1, self.address_line_2, self.address_line_3, self.town, self.postcode)
        return [line for line in lines if line]


class LetterQuerySet(TeamScopedQuerySet):
    def live(self):
        return self.filter(patient__entered_in_error=False)

    def for_patient_page(self):
        """Newest first, with who issued and who marked in error (not the PDF's bytes: LetterPDF)."""
        return self.select_related("issued_by", "error_marked_by").order_by("-issued_at", "-pk")


def pdf_digest(pdf: bytes) -> str:
    return hashlib.sha256(pdf).hexdigest()


class Letter(ClinicalRecord):
    """An issued letter: to whom, about what, who issued it and when, and its PDF's SHA-256 and size.

    The PDF's bytes are a LetterPDF of their own (no copy in every history row, none loaded by the
    patient page). Digest and size are written once: Letter.clean() refuses a change, and on both
    databases a trigger refuses an UPDATE that changes them (migration 0001)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="letters")
    kind = models.CharField("letter", max_length=20, choices=LetterKind.choices)
    recipient = models.CharField(max_length=10, choices=Recipient.choices)
    addressee = models.CharField("sent to", max_length=200, help_text="The name the letter was addressed to.")
    followup_item = models.ForeignKey(
        FollowUpItem, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="result"
    )
    staging_test = models.ForeignKey(
        StagingTest, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="staging result"
    )
    extra_paragraph = models.TextField("added paragraph", blank=True)
    issued_at = models.DateTimeField("issued")
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="issued by"
    )
    # The letter contact recorded when it was issued (contacts.services.contact_record).
    contact = models.OneToOneField("contacts.Contact", on_delete=models.PROTECT, related_name="letter")
    sha256 = models.CharField("SHA-256", max_length=64, editable=False)
    size = models.PositiveIntegerField("size in bytes", editable=False)

    objects = RecordManager.from_queryset(LetterQuerySet)()
    # Those entered in error too, scoped alike: a wrong letter stays listed and downloadable.
    all_objects = models.Manager.from_queryset(LetterQuerySet)()

    class Meta:
        ordering = ["-issued_at", "-pk"]
        indexes = [models.Index(fields=["patient", "-issued_at"], name="letters_patient_latest")]
        constraints = [
            *ClinicalRecord.Meta.constraints,
            _choice_constraint("letter", "kind", LetterKind),
            _choice_constraint("letter", "recipient", Recipient),
            models.CheckConstraint(
                condition=(Q(kind__in=GP_KINDS) & Q(recipient=Recipient.GP))
                | (~Q(kind__in=GP_KINDS) & Q(recipient=Recipient.PATIENT)),
                name="letters_letter_recipient_fits_kind",
                violation_error_message="A letter to the GP goes to the GP practice; the others to the patient.",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind__in=RESULT_KINDS)
                    & (
                        Q(followup_item__isnull=False, staging_test__isnull=True)
                        | Q(followup_item__isnull=True, staging_test__isnull=False)
                    )
                )
                | (~Q(kind__in=RESULT_KINDS) & Q(followup_item__isnull=True, staging_test__isnull=True)),
                name="letters_letter_result_only_for_result_letters",
                violation_error_message="A result letter is about one result; other letters about none.",
            ),
            models.CheckConstraint(
                condition=Q(sha256__regex=r"^[0-9a-f]{64}$") & Q(size__gt=0),
                name="letters_letter_pdf_digest",
                violation_error_message="An issued letter needs its PDF's SHA-256 and size.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}, issued {show_date(self.issued_at)}"

    @classmethod
    def from_db(cls, db, field_names, values):
        letter = super().from_db(db, field_names, values)
        letter._issued_digest = letter.__dict__.get("sha256")  # what was stored, to refuse a change
        return letter

    def clean(self) -> None:
        issued = getattr(self, "_issued_digest", None)
        if issued is not None and issued != self.sha256:
            raise ValidationError("An issued letter cannot be changed: issue a new letter instead.")


class LetterPDF(models.Model):
    """The bytes of an issued letter's PDF, exactly as issued. Written once by letters.services.letter_issue;
    never updated or deleted (triggers refuse both, migration 0001); Letter.sha256 is their digest."""

    letter = models.OneToOneField(Letter, on_delete=models.PROTECT, primary_key=True, related_name="document")
    pdf = models.BinaryField("PDF", editable=False)

    class Meta:
        verbose_name = "letter PDF"

    def __str__(self) -> str:
        return f"PDF of letter {self.letter_id}"
