"""What every model shares: teams and users, the clinical record's stamps, version and error mark."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .. import choices as c
from .. import dates
from ..scope import KeepsPatientFlags


class Team(models.Model):
    """A breast unit or clinic: the boundary of what its staff may see."""

    name = models.CharField(max_length=120, unique=True)
    code = models.SlugField(max_length=30, unique=True, help_text="Short code, e.g. 'north'.")
    # Where alerts go (alerts/): a red-flag self-report to the shared inbox, an unacknowledged result to the lead.
    shared_inbox = models.EmailField(
        "team's shared inbox", blank=True, help_text="Red-flag symptom reports are emailed here at once."
    )
    lead = models.ForeignKey(
        "followup.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="teams_led",
        verbose_name="team lead",
        help_text="Results left unacknowledged are escalated to the lead by email.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def history_actor(instance, request=None, **kwargs):
    """Who made this change: the service's user, else the signed-in user, else whoever the row says.

    Every clinical row has a non-null updated_by (stamped by services.record_stamp),
    so its history always names someone.
    """
    actor = getattr(instance, "_history_user", None)
    if actor is None and request is not None and getattr(request, "user", None) and request.user.is_authenticated:
        actor = request.user
    if actor is None and getattr(instance, "updated_by_id", None):
        actor = instance.updated_by
    return actor


class User(AbstractUser):
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="members")
    role = models.CharField(max_length=20, choices=c.Role.choices, default=c.Role.NURSE)
    # Links the account to single sign-on (accounts/sso.py): the value of the provider's claim named by
    # OIDC_USER_CLAIM for this person. Only an admin sets it; blank, the person cannot use single sign-on.
    sso_id = models.CharField(
        "single sign-on ID",
        max_length=255,
        blank=True,
        default="",
        help_text="Links this account to single sign-on: the person's ID at the identity provider (the value "
        "of its claim named by OIDC_USER_CLAIM, e.g. their CIS2 UUID or Entra object ID). Blank: password only.",
    )
    # Set when an admin resets the password: the next sign-in leads to choosing a new one (accounts/).
    must_change_password = models.BooleanField(
        "must choose a new password",
        default=False,
        help_text="Set when an admin resets the password: the person chooses a new one when they next log in.",
    )

    history = HistoricalRecords(get_user=history_actor, excluded_fields=["password", "last_login"])

    class Meta:
        ordering = ["last_name", "first_name", "username"]
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=c.Role.values),
                name="followup_user_role_valid",
                violation_error_message="Choose a valid role.",
            ),
            models.CheckConstraint(
                condition=Q(role__in=[c.Role.ADMIN, c.Role.INTERFACE]) | Q(is_superuser=True) | Q(team__isnull=False),
                name="followup_user_team_unless_admin",
                violation_error_message="Nurses and clinicians must belong to a team.",
            ),
            # An interface's account records what its messages did; it never signs in.
            models.CheckConstraint(
                condition=~Q(role=c.Role.INTERFACE) | Q(is_active=False, is_staff=False, is_superuser=False),
                name="followup_user_interface_never_signs_in",
                violation_error_message="An interface account cannot sign in.",
            ),
            # One person at the identity provider is one account here.
            models.UniqueConstraint(
                Lower("sso_id"),
                condition=~Q(sso_id=""),
                name="followup_user_sso_id_unique",
                violation_error_message="Another account already has this single sign-on ID.",
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_admin_role(self) -> bool:
        return self.role == c.Role.ADMIN or self.is_superuser


def _choice_constraint(model: str, field: str, choices: type[models.TextChoices], *, blank: bool = False):
    values = list(choices.values) + ([""] if blank else [])
    return models.CheckConstraint(
        condition=Q(**{f"{field}__in": values}),
        name=f"followup_{model}_{field}_valid",
        violation_error_message=f"Choose a valid {field.replace('_', ' ')}.",
    )


PARENT_IDS = ("patient_id", "recurrence_id", "episode_id")


class RecordManager(models.Manager):
    """The default manager of clinical rows: leaves out those entered in error."""

    def get_queryset(self):
        return super().get_queryset().filter(entered_in_error=False)


class ClinicalRecord(models.Model):
    """Who created and last changed a clinical row, its version, and its error mark."""

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Checked by services before a write, so a second editor cannot overwrite the first.
    version = models.PositiveIntegerField(default=1)
    entered_in_error = models.BooleanField(default=False)
    error_reason = models.TextField(blank=True)
    error_marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    error_marked_at = models.DateTimeField(null=True, blank=True)

    # Every row, entered in error too; its bulk writes keep the patient flags (scope.KeepsPatientFlags).
    all_objects = models.Manager.from_queryset(KeepsPatientFlags)()
    # Who changed what and when, before and after: one history table per clinical model.
    history = HistoricalRecords(inherit=True, get_user=history_actor)

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=Q(entered_in_error=False, error_marked_at__isnull=True)
                | (
                    Q(entered_in_error=True, error_marked_by__isnull=False, error_marked_at__isnull=False)
                    & ~Q(error_reason="")
                ),
                name="followup_%(class)s_error_mark_complete",
                violation_error_message="Marking a record entered in error needs a reason, who and when.",
            ),
        ]

    @classmethod
    def from_db(cls, db, field_names, values):
        record = super().from_db(db, field_names, values)
        dates.remember_dates(record)  # only dates entered or changed are checked (dates.changed)
        # The parent the row was loaded with: a row moved to another patient (the admin) refreshes the
        # flags of both (followup/flags.py).
        loaded = record.__dict__
        record._loaded_parents = {name: loaded[name] for name in PARENT_IDS if name in loaded}
        return record


def date_errors(record, *, born) -> dict[str, list[str]]:
    """The plausibility errors of a row's new or changed dates (followup/dates.py has the rules).

    ``born``: a callable giving the patient's date of birth, called only when a date changed.
    """
    rules = dates.changed_dates(record)
    if not rules:
        return {}
    return dates.record_errors(record, rules, born=born(), today=timezone.localdate())


def _birth_date_of_patient(record):
    """The date of birth of the row's patient, also of one not saved yet (the caseload import's dry run)."""
    if record.patient_id is None and not type(record)._meta.get_field("patient").is_cached(record):
        return None
    patient = record.patient
    return patient.date_of_birth if patient is not None else None
