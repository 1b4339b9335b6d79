"""Alerts: the one place an alert is raised, sent, and escalated.

An alert is recorded and its send job deferred in the same transaction (the worker's jobs live in the
same PostgreSQL, through Django's connection: procrastinate's Django connector), so an alert is
never lost: if the transaction rolls back, neither exists; if it commits, both do. The worker then
sends it (``alert_deliver``), retrying with a growing wait; a periodic sweep defers again any queued
alert whose job was lost.

Emails carry no patient-identifiable data: what happened, how many, and a link (SITE_URL + path).
"""

import logging
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, connections, transaction
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone
from procrastinate.contrib.django import app as worker_app
from procrastinate.contrib.django.django_connector import DjangoConnector
from procrastinate.exceptions import AlreadyEnqueued

from followup import choices as c
from followup.display import show_date
from followup.models import FollowUpItem, StagingTest, SymptomReport, Team, User
from followup.worklists import WORKLISTS

from .models import Alert, AlertAttempt, AlertKind, AlertStatus, AttemptOutcome

logger = logging.getLogger(__name__)

SIGN_OFF = "This email has no patient details by design: open the link and sign in to see who it is about."


class AlertNotSent(Exception):
    """The email backend refused or failed: the worker retries (tasks.py)."""


def site_link(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


# Raising and deferring -------------------------------------------------------------------------------------------


def worker_available() -> bool:
    """Can a send job be deferred now? Not on the SQLite default: the worker's tables need PostgreSQL.
    There the alert is recorded and waits, queued, until a worker on PostgreSQL runs (README)."""
    connector = worker_app.connector
    if not isinstance(connector, DjangoConnector):
        return True  # a connector of its own (the worker's, or the in-memory one of the tests)
    return connections[connector.alias].vendor == "postgresql"


def alert_defer(*, alert: Alert) -> bool:
    """Defer the job that sends the alert, in the caller's transaction; False when a job for it is
    waiting already (its queueing lock) or no worker can run here."""
    from . import tasks  # tasks.py imports this module

    if not worker_available():
        return False
    try:
        with transaction.atomic():  # a savepoint: a refused duplicate leaves the caller's transaction usable
            tasks.send_alert.configure(queueing_lock=f"alert-{alert.pk}").defer(alert_id=alert.pk)
    except AlreadyEnqueued:
        return False
    return True


def address_error(address: str) -> str:
    """Why an alert cannot be sent to this address ("" when it can): none, or not an email address."""
    if not address:
        return "No address"
    try:
        validate_email(address)
    except ValidationError:
        return f"Not a valid email address: {address!r}. Correct it in the admin site"
    return ""


@transaction.atomic
def alert_raise(
    *,
    kind: str,
    team: Team,
    address: str,
    subject: str,
    body: str,
    path: str,
    dedupe_key: str,
    recipient: User | None = None,
    counts: dict | None = None,
    error: str = "",
) -> Alert | None:
    """Record an alert and defer its send, or do nothing if one with this dedupe key exists (None).

    An alert that cannot be sent (``error``, given by the caller when there is nobody to send it to, or an
    address that is not an email address) is recorded failed at once, with one failed attempt saying why:
    it is on the Alerts page under Failed, never an exception that would roll back the caller's work."""
    if Alert.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    error = error or address_error(address)
    alert = Alert(
        kind=kind,
        team=team,
        recipient=recipient,
        address=address[: Alert._meta.get_field("address").max_length],
        subject=subject,
        body=f"{body}\n\n{site_link(path)}\n\n{SIGN_OFF}\n",
        link=site_link(path),
        dedupe_key=dedupe_key,
        counts=counts or {},
    )
    now = timezone.now()
    if error:
        alert.status, alert.attempts, alert.last_error, alert.last_attempt_at = AlertStatus.FAILED, 1, error, now
    # The key's uniqueness is the database's to settle (below): another worker may commit the same alert
    # between the check above and the insert. A failed alert keeps the address it could not use.
    alert.full_clean(exclude=["dedupe_key", "address"] if error else ["dedupe_key"])
    try:
        # Another worker raising the same alert at the same moment: the unique key refuses the second.
        with transaction.atomic():
            alert.save()
    except IntegrityError:
        return None
    if error:
        AlertAttempt.objects.create(alert=alert, at=now, outcome=AttemptOutcome.FAILED, error=error)
        logger.error("Alert %s (%s) cannot be sent: %s", alert.pk, dedupe_key, error)
    else:
        alert_defer(alert=alert)
    return alert


# Sending -----------------------------------------------------------------------------------------------------------


def alert_deliver(*, alert: Alert) -> Alert:
    """Send a queued alert by email and record the attempt. On failure record the error and raise
    AlertNotSent, for the worker to retry; the attempt that reaches ALERT_SEND_ATTEMPTS marks the
    alert failed (it stays on the Alerts page). A sent or failed alert is left as it is.

    The alert's row is locked while it is sent: two workers holding a job for the same alert (one
    deferred again by the sweep) send it once."""
    failure: Exception | None = None
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert.pk)
        if alert.status != AlertStatus.QUEUED:
            return alert
        now = timezone.now()
        message = EmailMessage(
            subject=alert.subject,
            body=alert.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[alert.address],
            headers={"X-Followup-Alert": alert.kind},
        )
        try:
            message.send(fail_silently=False)
        except Exception as exc:  # any failure of the backend: SMTP, DNS, socket, TLS
            failure = exc
            error = f"{type(exc).__name__}: {exc}"[:2000]
            alert.attempts += 1
            alert.last_error = error
            if alert.attempts >= settings.ALERT_SEND_ATTEMPTS:
                alert.status = AlertStatus.FAILED
            AlertAttempt.objects.create(alert=alert, at=now, outcome=AttemptOutcome.FAILED, error=error)
        else:
            alert.attempts += 1
            alert.status = AlertStatus.SENT
            alert.sent_at = now
            AlertAttempt.objects.create(alert=alert, at=now, outcome=AttemptOutcome.SENT)
        alert.last_attempt_at = now
        alert.full_clean()
        alert.save(update_fields=["attempts", "last_error", "status", "sent_at", "last_attempt_at"])
    if failure is not None:
        if alert.status == AlertStatus.FAILED:
            logger.error("Alert %s failed after %s attempts: %s", alert.pk, alert.attempts, alert.last_error)
        raise AlertNotSent(alert.last_error) from failure
    return alert


def alerts_requeue_lost(*, now: datetime) -> int:
    """Defer again every queued alert with no attempt for ALERT_REQUEUE_MINUTES (its job was lost:
    a database restored, a job deleted by hand). A job still waiting keeps its place (queueing lock)."""
    deferred = 0
    for alert in Alert.objects.lost(now=now).order_by("pk"):
        with transaction.atomic():
            deferred += alert_defer(alert=alert)
    return deferred


# The three alerts --------------------------------------------------------------------------------------------------


NO_RED_FLAG_ADDRESS = "No address: the team has no shared inbox or lead and the named nurse has no email"
NO_RESULT_ADDRESS = "No address: the team has no lead with an email and no shared inbox"


def _lead(team: Team) -> User | None:
    lead = team.lead
    return lead if lead is not None and lead.is_active and lead.email else None


def alert_red_flag_report(*, report: SymptomReport) -> list[Alert]:
    """Alert the team's shared inbox and the named nurse about a patient's red-flag report, at once
    (two alerts); with neither a valid address, the team lead; with nobody at all, an alert recorded
    failed (NO_RED_FLAG_ADDRESS) for the Alerts page. An address that is not an email address is a
    failed alert too (alert_raise).

    Called inside the transaction that records the report: if it rolls back, so do the alerts. It never
    raises: each alert is raised in a savepoint, and a failure to raise one is logged, so the patient's
    report is saved whatever happens to its email (it is first on Symptoms to triage)."""
    if not report.red_flag:
        return []
    patient = report.patient
    team = patient.team
    subject = f"Red flag: {report.get_red_flag_display().split(' (')[0]} ({team.name})"
    body = (
        f"The patient reported symptoms with a red flag for a patient of {team.name} on "
        f"{show_date(report.reported_on)}:\n{report.get_red_flag_display()}.\n\n"
        "It is first on Symptoms to triage. Triage it now."
    )
    path = reverse("followup:patient_detail", args=[patient.pk])
    # (address, recipient, dedupe key suffix)
    to = []
    if team.shared_inbox:
        to.append((team.shared_inbox, None, "inbox"))
    nurse = patient.named_nurse
    if nurse is not None and nurse.is_active and nurse.email:
        to.append((nurse.email, nurse, f"nurse:{nurse.pk}"))
    if all(address_error(address) for address, _, _ in to) and (lead := _lead(team)) is not None:
        to.append((lead.email, lead, f"lead:{lead.pk}"))
    error = "" if to else NO_RED_FLAG_ADDRESS
    raised = []
    for address, recipient, suffix in to or [("", None, "no-address")]:
        try:
            raised.append(
                alert_raise(
                    kind=AlertKind.RED_FLAG,
                    team=team,
                    address=address,
                    recipient=recipient,
                    subject=subject,
                    body=body,
                    path=path,
                    dedupe_key=f"red-flag:{report.pk}:{suffix}",
                    error=error,
                )  # fmt: skip
            )
        except Exception:  # alert_raise is a savepoint: the report's transaction goes on
            logger.exception("Red-flag report %s: the alert to %s could not be raised", report.pk, suffix)
    return [alert for alert in raised if alert is not None]


def _result_key(model: str) -> Concat:
    return Concat(Value(f"result:{model}:"), Cast(OuterRef("pk"), CharField()))


def _not_alerted(queryset, model: str):
    return queryset.filter(~Exists(Alert.objects.filter(dedupe_key=_result_key(model))))


def _lead_or_inbox(team: Team) -> tuple[str, User | None]:
    lead = _lead(team)
    if lead is not None:
        return lead.email, lead
    return team.shared_inbox, None


def alert_result_unacknowledged(*, result: FollowUpItem | StagingTest, today: date) -> Alert | None:
    """Escalate one result waiting for acknowledgement to the team lead, else the shared inbox; once per
    result; with neither, an alert recorded failed (NO_RESULT_ADDRESS). ``result`` with its patient's
    team and lead loaded (escalated_results() rows, below)."""
    if isinstance(result, FollowUpItem):
        patient = result.patient
        model, name, since = "followupitem", result.get_kind_display(), result.result_recorded_on
    else:
        patient = result.episode.recurrence.patient
        model, name, since = "stagingtest", f"Restaging {result.get_modality_display()}", result.reported_on
    team = patient.team
    address, lead = _lead_or_inbox(team)
    days = (today - since).days
    body = (
        f"A {name.lower()} result of a patient of {team.name} has waited {days} days to be acknowledged "
        f"(recorded {show_date(since)}; escalated after {settings.RESULT_ESCALATE_DAYS} days). "
        f"The result: {result.get_result_display()}.\n\nAcknowledge it, or ask the clinician responsible to."
    )
    return alert_raise(
        kind=AlertKind.RESULT_UNACKNOWLEDGED,
        team=team,
        address=address,
        recipient=lead,
        subject=f"Result not acknowledged for {days} days ({team.name})",
        body=body,
        path=reverse("followup:patient_detail", args=[patient.pk]),
        dedupe_key=f"result:{model}:{result.pk}",
        error="" if address else NO_RESULT_ADDRESS,  # recorded failed, on the Alerts page
    )


def escalated_results_not_alerted(*, today: date) -> list:
    """Results waiting for acknowledgement over RESULT_ESCALATE_DAYS (the results lists' escalated rows:
    querysets.escalated_results) with no alert yet, follow-up results then staging results."""
    items = _not_alerted(FollowUpItem.objects.escalated_results(today=today), "followupitem")
    tests = _not_alerted(StagingTest.objects.escalated_results(today=today), "stagingtest")
    return [
        *items.select_related("patient__team__lead"),
        *tests.select_related("episode__recurrence__patient__team__lead"),
    ]


def alerts_raise_unacknowledged_results(*, today: date) -> int:
    """One alert per escalated result not alerted yet (periodic: tasks.py)."""
    raised = 0
    for result in escalated_results_not_alerted(today=today):
        try:  # one result's failure does not stop the others' (alert_raise is a savepoint)
            raised += alert_result_unacknowledged(result=result, today=today) is not None
        except Exception:
            logger.exception("Result %s %s: the escalation alert could not be raised", type(result).__name__, result.pk)
    return raised


def digest_key(nurse: User, day: date) -> str:
    return f"digest:{nurse.pk}:{day.isoformat()}"


def _change(now: int, before: int | None) -> str:
    if before is None:
        return "new on the digest"
    if now == before:
        return "no change since yesterday"
    return f"{abs(now - before)} {'more' if now > before else 'fewer'} than yesterday"


def digest_counts(nurse: User, *, today: date) -> dict[str, int]:
    """Each failsafe list's count for the nurse's caseload, read from the worklists' registry
    (followup/worklists.py): a list added there appears here by itself. One query a list."""
    return {
        slug: worklist.for_user(nurse, today=today).filter(**{worklist.mine_lookup: nurse}).count()
        for slug, worklist in WORKLISTS.items()
    }


def alert_digest(*, nurse: User, today: date) -> Alert | None:
    """The nurse's daily digest: each list's count for her caseload and the change since yesterday's
    digest (its counts are stored on its row). Once per nurse per day (the dedupe key)."""
    key = digest_key(nurse, today)
    if Alert.objects.filter(dedupe_key=key).exists():
        return None
    counts = digest_counts(nurse, today=today)
    yesterday = Alert.objects.filter(dedupe_key=digest_key(nurse, today - timedelta(days=1))).first()
    before = yesterday.counts if yesterday else {}
    lines = []
    for slug, worklist in WORKLISTS.items():
        lines.append(
            f"{worklist.title}: {counts[slug]} ({_change(counts[slug], before.get(slug))})\n"
            f"  {site_link(reverse('followup:worklist', args=[slug]))}"
        )
    body = (
        f"Your lists for {show_date(today)}, your own caseload only (the number on each list, and the change "
        f"in each count since yesterday's digest):\n\n" + "\n".join(lines) + "\n\nAll your worklists:"
    )
    return alert_raise(
        kind=AlertKind.DIGEST,
        team=nurse.team,
        address=nurse.email,
        recipient=nurse,
        subject=f"Your follow-up lists for {show_date(today)}",
        body=body,
        path=reverse("followup:worklists"),
        dedupe_key=key,
        counts=counts,
    )


def digest_nurses():
    """Who gets a digest: active nurses of a team, with an email address."""
    return (
        User.objects.filter(role=c.Role.NURSE, is_active=True, team__isnull=False)
        .exclude(email="")
        .select_related("team")
        .order_by("pk")
    )


def alerts_send_digests(*, now: datetime) -> int:
    """Each nurse's digest for today, once ALERT_DIGEST_TIME (local time) has passed and until it is
    sent: run every few minutes, so a worker that was down at that time sends it when it is back."""
    local = timezone.localtime(now)
    if local.time() < settings.ALERT_DIGEST_AT:
        return 0
    today = local.date()
    sent = Alert.objects.filter(kind=AlertKind.DIGEST, dedupe_key=OuterRef("key"))
    nurses = digest_nurses().annotate(key=Concat(Value("digest:"), Cast("pk", CharField()), Value(f":{today}")))
    raised = 0
    for nurse in nurses.filter(~Exists(sent)):
        # Each nurse's digest in a savepoint: one that fails (logged, tried again next run) does not stop the
        # later nurses'. An address that is not an email address is a failed alert (alert_raise), not tried again.
        try:
            with transaction.atomic():
                raised += alert_digest(nurse=nurse, today=today) is not None
        except Exception:
            logger.exception("Nurse %s: the digest could not be raised", nurse.pk)
    return raised
