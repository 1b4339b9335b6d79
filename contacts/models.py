"""The contact log: every call, clinic contact, letter, email and MDT discussion with or about a patient."""

from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from followup.dates import DateRule
from followup.models import ClinicalRecord, Patient, RecordManager
from followup.models.base import _choice_constraint
from followup.scope import TeamScopedQuerySet


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


# The date of a contact is a date something happened (followup/dates.py): not before 1900, not
# before the patient's birth, not in the future; the time of a contact today not in the future either.
CONTACT_DATE = DateRule("contacted_at", "The date of the contact", happened=True)


def contact_words(kind: str, answered: bool | None, message_left: bool, on: date | None = None) -> str:
    """A contact as a worklist row says it: "phoned, no answer, message left"; with ``on``,
    the day after the verb: "phoned 28 Nov, no answer"."""
    day = f" {on.day} {on:%b}" if on is not None else ""
    if on is not None and on.year != timezone.localdate().year:
        day += f" {on.year}"
    if kind == ContactKind.PHONE_OUT:
        result = "answered" if answered else "no answer, message left" if message_left else "no answer"
        return f"phoned{day}, {result}"
    verb = {
        ContactKind.PHONE_IN: "call received",
        ContactKind.CLINIC: "seen in clinic",
        ContactKind.LETTER: "letter sent",
        ContactKind.EMAIL: "email",
        ContactKind.MDT: "discussed at MDT",
    }.get(kind, str(kind))
    return f"{verb}{day}"


# A clock a minute apart between the nurse's phone and the server is no error.
FUTURE_SLACK = timedelta(minutes=1)


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
        at = timezone.localtime(self.contacted_at) if self.contacted_at else None
        return f"{self.get_kind_display()}, {at:%-d %b %Y %H:%M}" if at else self.get_kind_display()

    @property
    def in_words(self) -> str:
        """The contact as a worklist row says it: "phoned, no answer, message left"."""
        return contact_words(self.kind, self.answered, self.message_left)

    @property
    def result_words(self) -> str:
        """A call made: "answered", "no answer", "no answer, message left"; "" for other contacts."""
        if self.kind != ContactKind.PHONE_OUT:
            return ""
        return self.in_words.removeprefix("phoned, ")

    def clean(self):
        """The date and time are plausible (followup/dates.py): checked when they are entered or changed."""
        super().clean()
        if self.contacted_at is None or (not self._state.adding and not self._contacted_at_changed()):
            return
        at = timezone.localtime(self.contacted_at)
        today = timezone.localdate()
        born = self.patient.date_of_birth if self.patient_id else None
        message = CONTACT_DATE.error(at.date(), born=born, today=today)
        if message:
            raise ValidationError({"contacted_at": ValidationError(message, code="date")})
        if at > timezone.localtime() + FUTURE_SLACK:
            raise ValidationError(
                {"contacted_at": ValidationError("The time of the contact cannot be in the future.", code="time")}
            )

    def _contacted_at_changed(self) -> bool:
        loaded = Contact.all_objects.filter(pk=self.pk).values_list("contacted_at", flat=True).first()
        return loaded != self.contacted_at


LAST_CONTACT_FIELDS = ("contacted_at", "kind", "answered", "message_left")


def with_last_contact(queryset, patient: str = "patient_id"):
    """Rows of a worklist annotated with their patient's most recent contact (not entered in error):
    ``last_contact_contacted_at``, ``_kind``, ``_answered``, ``_message_left`` (None when there is
    none). ``patient`` is the path from the row to its patient's id. Correlated subqueries on the
    contacts' (patient, -contacted_at) index, in the page's one query: PostgreSQL works them out for
    the rows of the page only, after the sort and LIMIT."""
    latest = Contact.objects.filter(patient_id=OuterRef(patient)).order_by("-contacted_at", "-pk")
    return queryset.annotate(
        **{f"last_contact_{name}": Subquery(latest.values(name)[:1]) for name in LAST_CONTACT_FIELDS}
    )


def last_contact_words(row) -> str:
    """ "Last contact: phoned 28 Nov, no answer" for a row annotated by with_last_contact(); "" for none."""
    kind = getattr(row, "last_contact_kind", None)
    if not kind:
        return ""
    on = timezone.localtime(row.last_contact_contacted_at).date()
    return "Last contact: " + contact_words(kind, row.last_contact_answered, row.last_contact_message_left, on)
