"""What the failsafe counts need to know of each patient that is costly to work out for a whole region on
every request: kept by followup.flags, in the same transaction as every change to the patient's record."""

from django.db import models
from django.db.models import Q

from .patients import Patient


class PatientFlags(models.Model):
    """One row per patient: the data-quality flags and "no next follow-up", as the rules of
    followup/querysets.py give them for this patient. Not a clinical record: derived, with no history of
    its own (the patient's records have theirs); ``manage.py check_patient_flags`` works every row out
    again from scratch and compares (``--fix`` repairs), nightly in the worker and in CI."""

    patient = models.OneToOneField(Patient, primary_key=True, on_delete=models.CASCADE, related_name="flags")
    missing_nhs_number = models.BooleanField(default=False)
    invalid_nhs_number = models.BooleanField(default=False)
    possible_duplicate = models.BooleanField(default=False)
    recurrence_without_site = models.BooleanField(default=False)
    missing_laterality = models.BooleanField(default=False)
    missing_receptors = models.BooleanField(default=False)
    missing_primary = models.BooleanField(default=False)
    # "Implausible date", whose rules depend on today (dates.implausible_window()): the part that does
    # not; the latest date that happened (implausible while it is in the future); a living patient's
    # MAX_AGE_YEARS-th birthday (implausible after it). dates.implausible_from_stored() reads the three.
    implausible_always = models.BooleanField(default=False)
    implausible_until = models.DateField(null=True, blank=True)
    implausible_after = models.DateField(null=True, blank=True)
    # Any of the flags above but the dated two: what the data-quality list is chosen by, with them. (No index:
    # one made no difference, the table is narrow and read whole in 6 ms at 100,000 patients.)
    problem = models.BooleanField(default=False)
    no_next_follow_up = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "patient flags"
        indexes = [
            models.Index(fields=["patient"], condition=Q(no_next_follow_up=True), name="followup_flags_no_next"),
            models.Index(fields=["implausible_until"], name="followup_flags_until"),
            models.Index(fields=["implausible_after"], name="followup_flags_after"),
        ]

    def __str__(self):
        return f"Flags of patient {self.patient_id}"
