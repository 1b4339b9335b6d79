"""Results that arrive by themselves, and the systems that send or read them.

- ApiClient: a sending or reading system (an integration engine, a RIS, a regional record),
  with the teams it may see and a bearer token stored hashed (tokens.py).
- ApiRequest: every API request, append-only: which client, what, the outcome.
- InboxMessage: every result message, stored raw before anything else; its body never changes.
  Where it went (matched to a staging test or follow-up item, unmatched with why, duplicate,
  rejected, not ours) is the inbox's own state, changed only by services.py.
- ExamCode: the code map (NICIP, local RIS codes, LOINC) from an exam or test code to our
  staging modality or follow-up kind, kept by admins.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from simple_history.models import HistoricalRecords

from followup import choices as c
from followup.models import FollowUpItem, Patient, StagingTest, Team
from followup.models.base import history_actor
from followup.scope import TeamScopedQuerySet


def _choice(model: str, field: str, choices, *, blank: bool = False) -> models.CheckConstraint:
    values = [v for v, _ in choices] + ([""] if blank else [])
    return models.CheckConstraint(
        condition=Q(**{f"{field}__in": values}),
        name=f"integration_{model}_{field}_valid",
        violation_error_message=f"Choose a valid {field.replace('_', ' ')}.",
    )


class ApiClientQuerySet(models.QuerySet):
    def for_admin_list(self, *, since):
        """Every client, with its teams (one prefetch) and ``requests_since``: its API requests since
        then (a subquery per client on the (client, at) index, not a join of the whole audit)."""
        counted = (
            ApiRequest.objects.filter(client=models.OuterRef("pk"), at__gte=since)
            .order_by()
            .values("client")
            .annotate(n=models.Count("pk"))
            .values("n")
        )
        return (
            self.annotate(requests_since=Coalesce(models.Subquery(counted), 0))
            .prefetch_related(models.Prefetch("teams", queryset=Team.objects.order_by("name")))
            .order_by("name")
        )


class ApiClient(models.Model):
    """A system that sends results or reads records: registered by an admin, never by itself."""

    name = models.CharField(max_length=120, unique=True)
    teams = models.ManyToManyField(Team, related_name="api_clients", help_text="The teams whose patients it may see.")
    can_send = models.BooleanField("may send results", default=False)
    can_read = models.BooleanField("may read records", default=False)
    # The account its results are recorded by in every history: role "interface", never signs in.
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_client")
    # The token's public part (finds the client) and the SHA-256 of the whole token (tokens.py).
    token_prefix = models.CharField(max_length=16, unique=True)
    token_hash = models.CharField(max_length=64)
    token_issued_at = models.DateTimeField(default=timezone.now)
    rate_limit_per_minute = models.PositiveIntegerField(
        "requests a minute", default=1200, help_text="More in any minute are refused with 429."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoke_reason = models.TextField("reason for revoking", blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiClientQuerySet.as_manager()
    history = HistoricalRecords(get_user=history_actor, excluded_fields=["token_hash", "last_used_at"])

    class Meta:
        verbose_name = "API client"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(can_send=True) | Q(can_read=True),
                name="integration_apiclient_sends_or_reads",
                violation_error_message="A client sends results, reads records, or both.",
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True, revoked_by__isnull=True, revoke_reason="")
                | (Q(revoked_at__isnull=False, revoked_by__isnull=False) & ~Q(revoke_reason="")),
                name="integration_apiclient_revoked_has_reason",
                violation_error_message="Revoking a client needs a reason, who and when.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApiAction(models.TextChoices):
    HL7_RESULT = "hl7-result", "HL7v2 result received"
    FHIR_RESULT = "fhir-result", "FHIR DiagnosticReport received"
    FHIR_READ = "fhir-read", "FHIR read"
    MLLP_RESULT = "mllp-result", "HL7v2 result received over MLLP"


class ApiOutcome(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    ERROR = "error", "Not understood"
    REFUSED = "refused", "Refused"
    RATE_LIMITED = "rate-limited", "Too many requests"
    TOO_LARGE = "too-large", "Too large"
    NOT_FOUND = "not-found", "Not found"


class ApiRequest(models.Model):
    """One API request, append-only: who (the client, or none for a token we do not know), what, the outcome."""

    client = models.ForeignKey(ApiClient, null=True, blank=True, on_delete=models.PROTECT, related_name="requests")
    at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=20, choices=ApiAction.choices)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    outcome = models.CharField(max_length=20, choices=ApiOutcome.choices)
    status_code = models.PositiveSmallIntegerField()
    detail = models.TextField(blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    message = models.ForeignKey(
        "InboxMessage", null=True, blank=True, on_delete=models.PROTECT, related_name="requests"
    )
    # The patients a read returned (their keys): who saw whose record.
    patient_ids = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = "API request"
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["client", "at"], name="integration_request_client_at")]
        constraints = [
            _choice("apirequest", "action", ApiAction.choices),
            _choice("apirequest", "outcome", ApiOutcome.choices),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.client or 'an unknown client'}: {self.get_outcome_display()}"


class MessageFormat(models.TextChoices):
    HL7V2 = "hl7v2", "HL7v2 ORU^R01"
    FHIR = "fhir", "FHIR R4 DiagnosticReport"


class MessageStatus(models.TextChoices):
    RECEIVED = "received", "Received, not yet read"
    MATCHED = "matched", "Matched"
    UNMATCHED = "unmatched", "Unmatched"
    DUPLICATE = "duplicate", "Duplicate"
    REJECTED = "rejected", "Rejected"
    NOT_OURS = "not-ours", "Not ours"


# Still to be placed by a person: the "Unmatched results" failsafe list. A message stuck as
# "received" (its processing failed half way) counts too: nothing leaves the list silently.
UNPLACED_STATUSES = (MessageStatus.UNMATCHED, MessageStatus.RECEIVED)
# Statuses that hold a message's control id: a second message with the same id is a duplicate.
HOLDS_CONTROL_ID = (MessageStatus.RECEIVED, MessageStatus.MATCHED, MessageStatus.UNMATCHED, MessageStatus.NOT_OURS)


class InboxMessageQuerySet(TeamScopedQuerySet):
    """Scope: a nurse sees the messages of the systems that serve her team; an admin all."""

    team_path = "client__teams"

    def unplaced(self):
        return self.filter(status__in=UNPLACED_STATUSES)

    def for_worklist(self):
        """Oldest first, with the client and the patient (when one was found) and her named nurse."""
        return self.select_related("client", "patient", "patient__named_nurse").order_by("received_at", "pk")


class InboxMessage(models.Model):
    """A result message as it arrived, and where it went. Its body, sender, format and time
    never change (on PostgreSQL a trigger refuses it); a message is never deleted."""

    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="messages")
    format = models.CharField(max_length=10, choices=MessageFormat.choices)
    received_at = models.DateTimeField(default=timezone.now)
    body = models.TextField()
    sha256 = models.CharField(max_length=64)
    # MSH-10, or the FHIR report's identifier with its status: a second message with the same is a duplicate.
    control_id = models.CharField(max_length=300, blank=True)
    # The report it carries (OBR-3 filler order number, or the FHIR identifier): what an amendment amends.
    report_id = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=MessageStatus.choices, default=MessageStatus.RECEIVED)
    reason = models.TextField("why", blank=True, help_text="Why it is unmatched, rejected or not ours.")
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="duplicates")
    # A corrected or amended report (OBR-25/OBX-11 "C", FHIR amended/corrected), and the report it amends.
    is_amendment = models.BooleanField(default=False)
    amends = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="amendments")

    # What it says, read once (hl7.py, fhir_in.py), as plain values.
    nhs_number = models.CharField(max_length=10, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    given_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    exam_code = models.CharField(max_length=40, blank=True)
    exam_system = models.CharField(max_length=40, blank=True)
    exam_name = models.CharField(max_length=200, blank=True)
    performed_on = models.DateField(null=True, blank=True)
    reported_on = models.DateField(null=True, blank=True)
    report_text = models.TextField(blank=True)
    # A coded conclusion (FHIR conclusionCode) read as our classification: it pre-fills, never decides.
    suggested_result = models.CharField(max_length=10, blank=True)

    # Where it went.
    patient = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    staging_test = models.ForeignKey(
        StagingTest, null=True, blank=True, on_delete=models.PROTECT, related_name="inbox_messages"
    )
    followup_item = models.ForeignKey(
        FollowUpItem, null=True, blank=True, on_delete=models.PROTECT, related_name="inbox_messages"
    )
    # Who placed it by hand (matched or "not ours"); empty when it matched by itself.
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField(null=True, blank=True)

    objects = InboxMessageQuerySet.as_manager()
    history = HistoricalRecords(get_user=history_actor, excluded_fields=["body"])

    class Meta:
        verbose_name = "inbox message"
        ordering = ["-received_at", "-pk"]
        indexes = [
            # The failsafe list: unplaced messages, oldest first.
            models.Index(
                fields=["received_at"], condition=Q(status__in=UNPLACED_STATUSES), name="integration_unplaced"
            ),
            models.Index(fields=["client", "report_id"], name="integration_client_report"),
        ]
        constraints = [
            _choice("inboxmessage", "format", MessageFormat.choices),
            _choice("inboxmessage", "status", MessageStatus.choices),
            _choice(
                "inboxmessage", "suggested_result", [*c.ImagingOutcome.choices, *c.StagingResult.choices], blank=True
            ),
            models.UniqueConstraint(
                fields=["client", "control_id"],
                condition=Q(status__in=HOLDS_CONTROL_ID) & ~Q(control_id=""),
                name="integration_inboxmessage_control_id_unique",
                violation_error_message="This message was received already.",
            ),
            models.CheckConstraint(
                condition=~Q(status=MessageStatus.MATCHED)
                | Q(staging_test__isnull=False, followup_item__isnull=True)
                | Q(staging_test__isnull=True, followup_item__isnull=False),
                name="integration_inboxmessage_matched_to_one",
                violation_error_message="A matched message answers one staging test or one follow-up item.",
            ),
            models.CheckConstraint(
                condition=Q(status=MessageStatus.MATCHED) | Q(staging_test__isnull=True, followup_item__isnull=True),
                name="integration_inboxmessage_only_matched_has_target",
                violation_error_message="Only a matched message answers a test or item.",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[MessageStatus.UNMATCHED, MessageStatus.REJECTED, MessageStatus.NOT_OURS])
                | ~Q(reason=""),
                name="integration_inboxmessage_says_why",
                violation_error_message="Say why the message is unmatched, rejected or not ours.",
            ),
            models.CheckConstraint(
                condition=~Q(status=MessageStatus.NOT_OURS) | Q(placed_by__isnull=False, placed_at__isnull=False),
                name="integration_inboxmessage_not_ours_by_a_person",
                violation_error_message="Only a person marks a message not ours.",
            ),
            models.CheckConstraint(
                condition=~Q(status=MessageStatus.DUPLICATE) | Q(duplicate_of__isnull=False),
                name="integration_inboxmessage_duplicate_of_one",
                violation_error_message="A duplicate names the message it repeats.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_format_display()} #{self.pk} from {self.client}: {self.get_status_display()}"

    @property
    def target(self):
        return self.staging_test or self.followup_item


class ExamCodeSystem(models.TextChoices):
    NICIP = "NICIP", "NICIP (National Interim Clinical Imaging Procedure)"
    LOCAL = "LOCAL", "Local (the hospital's RIS or laboratory codes)"
    LOINC = "LN", "LOINC"
    SNOMED = "SCT", "SNOMED CT"


class ExamCode(models.Model):
    """An exam or test code, and what it answers here: a staging modality, a follow-up kind, or both."""

    system = models.CharField(max_length=10, choices=ExamCodeSystem.choices)
    code = models.CharField(max_length=40)
    display = models.CharField(max_length=200)
    staging_modality = models.CharField(max_length=20, choices=c.StagingModality.choices, blank=True)
    followup_kind = models.CharField(max_length=20, choices=[(k.value, k.label) for k in c.RESULT_KINDS], blank=True)
    active = models.BooleanField(default=True)

    history = HistoricalRecords(get_user=history_actor)

    class Meta:
        verbose_name = "exam code"
        ordering = ["system", "code"]
        constraints = [
            _choice("examcode", "system", ExamCodeSystem.choices),
            _choice("examcode", "staging_modality", c.StagingModality.choices, blank=True),
            _choice("examcode", "followup_kind", [(k.value, k.label) for k in c.RESULT_KINDS], blank=True),
            models.UniqueConstraint(
                fields=["system", "code"],
                name="integration_examcode_unique",
                violation_error_message="This code is in the map already.",
            ),
            models.CheckConstraint(
                condition=~Q(staging_modality="", followup_kind=""),
                name="integration_examcode_maps_to_something",
                violation_error_message="Map the code to a staging test, a follow-up item, or both.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.system} {self.code}: {self.display}"
