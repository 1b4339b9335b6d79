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
from django.core.mail import EmailMessage
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
) -> Alert | None:
    """Record an alert and defer its send, or do nothing if one with this dedupe key exists (None)."""
    if Alert.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    alert = Alert(
        kind=kind,
        team=team,
        recipient=recipient,
        address=address,
        subject=subject,
        body=f"{body}\n\n{site_link(path)}\n\n{SIGN_OFF}\n",
        link=site_link(path),
        dedupe_key=dedupe_key,
        counts=counts or {},
    )
    # The key's uniqueness is the database's to settle (below): another worker may commit the same alert
    # between the check above and the insert.
    alert.full_clean(exclude=["dedupe_key"])
    try:
        # Another worker raising the same alert at the same moment: the unique key refuses the second.
        with transaction.atomic():
            alert.save()
    except IntegrityError:
        return None
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


def alert_red_flag_report(*, report: SymptomReport) -> list[Alert]:
    """Alert the team's shared inbox and the named nurse about a red-flag report, at once (two alerts).

    Called inside the transaction that records the report: if it rolls back, so do the alerts."""
    if not report.red_flag:
        return []
    patient = report.patient
    team = patient.team
    who = "The patient reported" if report.source == c.ReportSource.PATIENT else "Staff recorded"
    subject = f"Red flag: {report.get_red_flag_display().split(' (')[0]} ({team.name})"
    body = (
        f"{who} symptoms with a red flag for a patient of {team.name} on {show_date(report.reported_on)}:\n"
        f"{report.get_red_flag_display()}.\n\n"
        "It is first on Symptoms to triage. Triage it now."
    )
    path = reverse("followup:patient_detail", args=[patient.pk])
    raised = []
    if team.shared_inbox:
        raised.append(
            alert_raise(
                kind=AlertKind.RED_FLAG,
                team=team,
                address=team.shared_inbox,
                subject=subject,
                body=body,
                path=path,
                dedupe_key=f"red-flag:{report.pk}:inbox",
            )  # fmt: skip
        )
    nurse = patient.named_nurse
    if nurse is not None and nurse.is_active and nurse.email:
        raised.append(
            alert_raise(
                kind=AlertKind.RED_FLAG,
                team=team,
                address=nurse.email,
                recipient=nurse,
                subject=subject,
                body=body,
                path=path,
                dedupe_key=f"red-flag:{report.pk}:nurse:{nurse.pk}",
            )  # fmt: skip
        )
    if not raised:
        logger.warning("Red-flag report %s: no shared inbox and no named nurse's email to alert", report.pk)
    return [alert for alert in raised if alert is not None]


def _result_key(model: str) -> Concat:
    return Concat(Value(f"result:{model}:"), Cast(OuterRef("pk"), CharField()))


def _not_alerted(queryset, model: str):
    return queryset.filter(~Exists(Alert.objects.filter(dedupe_key=_result_key(model))))


def _lead_or_inbox(team: Team) -> tuple[str, User | None]:
    lead = team.lead
    if lead is not None and lead.is_active and lead.email:
        return lead.email, lead
    return team.shared_inbox, None


def alert_result_unacknowledged(*, result: FollowUpItem | StagingTest, today: date) -> Alert | None:
    """Escalate one result waiting for acknowledgement to the team lead, else the shared inbox; once per
    result. ``result`` with its patient's team and lead loaded (escalated_results() rows, below)."""
    if isinstance(result, FollowUpItem):
        patient = result.patient
        model, name, since = "followupitem", result.get_kind_display(), result.result_recorded_on
    else:
        patient = result.episode.recurrence.patient
        model, name, since = "stagingtest", f"Restaging {result.get_modality_display()}", result.reported_on
    team = patient.team
    address, lead = _lead_or_inbox(team)
    if not address:
        logger.warning("Result %s %s: team %s has no lead's email and no shared inbox", model, result.pk, team)
        return None
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
        raised += alert_result_unacknowledged(result=result, today=today) is not None
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
        f"since yesterday's digest):\n\n" + "\n".join(lines) + "\n\nAll your worklists:"
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
        raised += alert_digest(nurse=nurse, today=today) is not None
    return raised
