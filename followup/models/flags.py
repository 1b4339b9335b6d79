"""What the failsafe counts need to know of each patient that is costly to work out for a whole region on
every request: kept by followup.flags, in the same transaction as every change to the patient's record."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from ..scope import TeamScopedQuerySet
from .base import Team
from .patients import Patient

# The lists whose rows followup.flags counts for each patient (WORKLISTS' ``kept``): the field of each.
KEPT_COUNTS = (
    "results",
    "results_awaited",
    "staging_results",
    "restaging",
    "distant_not_recorded",
    "symptoms",
    "mdt_not_discussed",
)


class OpenItemDueQuerySet(TeamScopedQuerySet):
    team_path = "team"


class PatientFlagsQuerySet(TeamScopedQuerySet):
    team_path = "team"

    def on_a_kept_list(self, today):
        """Every row that can be on a list the dashboard counts from this table: ``counted`` (any count or
        flag but the dated part of "implausible date"), or a date implausible on ``today`` (the stored
        window): three indexes (followup_flags_counted, followup_flags_until, followup_flags_after)."""
        return self.filter(Q(counted=True) | Q(implausible_until__gt=today) | Q(implausible_after__lt=today))


class PatientFlags(models.Model):
    """One row per patient: the data-quality flags and "no next follow-up", as the rules of
    followup/querysets.py give them for this patient; how many rows of each list of KEPT_COUNTS are the
    patient's; and the patient's team and named nurse, for the dashboard to count a team's lists from
    this table alone (a patient entered in error counts nothing). Not a clinical record: derived, with no history of
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
    # Any of the flags above but the dated two: what the data-quality list is chosen by, with them (through
    # followup_flags_problem, followup_flags_always and the two date indexes: since the table holds the kept
    # counts too it is no longer read whole in a few ms).
    problem = models.BooleanField(default=False)
    no_next_follow_up = models.BooleanField(default=False)
    # The patient's, as stored on the patient: the dashboard's scope (visible_to) and "my caseload". NULL
    # (with the columns below at their database defaults) in a row written by code older than them, during a
    # rolling deploy: migrate and ``check_patient_flags --fix`` work such rows out again (fill_missing()).
    team = models.ForeignKey(Team, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    named_nurse = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    results = models.PositiveIntegerField(default=0, db_default=0)
    results_awaited = models.PositiveIntegerField(default=0, db_default=0)
    staging_results = models.PositiveIntegerField(default=0, db_default=0)
    restaging = models.PositiveIntegerField(default=0, db_default=0)
    distant_not_recorded = models.PositiveIntegerField(default=0, db_default=0)
    symptoms = models.PositiveIntegerField(default=0, db_default=0)
    mdt_not_discussed = models.PositiveIntegerField(default=0, db_default=0)
    # On any list the dashboard counts from here (but the dated part of "implausible date", read against
    # today): the dashboard reads these rows of a team through followup_flags_counted, and the few with a
    # dated flag through the two date indexes.
    counted = models.BooleanField(default=False, db_default=False)

    objects = PatientFlagsQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "patient flags"
        indexes = [
            models.Index(fields=["team"], condition=Q(counted=True), name="followup_flags_counted"),
            models.Index(fields=["patient"], condition=Q(no_next_follow_up=True), name="followup_flags_no_next"),
            models.Index(fields=["patient"], condition=Q(problem=True), name="followup_flags_problem"),
            models.Index(fields=["patient"], condition=Q(implausible_always=True), name="followup_flags_always"),
            models.Index(fields=["implausible_until"], name="followup_flags_until"),
            models.Index(fields=["implausible_after"], name="followup_flags_after"),
        ]

    def __str__(self):
        return f"Flags of patient {self.patient_id}"


class OpenItemDue(models.Model):
    """A patient's open items due on a day, as "Overdue" and "Due soon" count them (FollowUpItemQuerySet.
    open_due(): the open items of a live, active patient), with the patient's team and named nurse: the
    dashboard counts both lists from here with the lists' own rules over ``open_due_on`` (overdue_when(),
    due_soon_when()) through one index, without reading the patients. Kept by followup.flags with the
    patient's flags, in the same transaction; proved equal to the open items by ``check_patient_flags``.
    Derived: no history of its own."""

    # No constraint in the database: its check at commit would take a share lock on the patient's row while
    # the refresh holds its advisory lock, and wait for a transaction holding that row that waits for the
    # advisory lock (a deadlock). The rows are deleted with the patient's flags, by followup.flags.
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, db_constraint=False, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    named_nurse = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    open_due_on = models.DateField("due on")
    items = models.PositiveIntegerField("open items")

    objects = OpenItemDueQuerySet.as_manager()

    class Meta:
        verbose_name = "open items due"
        verbose_name_plural = "open items due"
        constraints = [
            models.UniqueConstraint(fields=["patient", "open_due_on"], name="followup_openitemdue_unique_day")
        ]
        indexes = [
            models.Index(
                fields=["team", "open_due_on"], include=["named_nurse", "items"], name="followup_open_due_team"
            ),
            models.Index(fields=["open_due_on"], include=["named_nurse", "items"], name="followup_open_due_day"),
        ]

    def __str__(self):
        return f"{self.items} open items of patient {self.patient_id} due {self.open_due_on}"
