"""Demo alerts: the teams' shared inboxes and leads (fictitious addresses of the reserved ``.invalid``
domain, never a real mailbox), and a few alerts already sent: yesterday's digest of the main nurse, a
red-flag report to the north team's inbox and nurse, a result escalated to the lead, one of them
failed once before it went. Raised through the real services (their words, their dedupe keys), then
given their sending history. Once only."""

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from followup.models import SymptomReport, Team, User

from . import services
from .models import Alert, AlertAttempt, AlertStatus, AttemptOutcome

DEMO_DOMAIN = "followup-demo.invalid"
LEADS = {"north": "clinician", "south": "nurse.okafor"}


def _at(day: date, hour: int, minute: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _sent(alert: Alert | None, at: datetime, *, failed_first: bool = False) -> None:
    if alert is None:
        return
    attempts = 1
    if failed_first:
        error = "SMTPServerDisconnected: Connection unexpectedly closed"
        AlertAttempt.objects.create(alert=alert, at=at, outcome=AttemptOutcome.FAILED, error=error)
        alert.last_error, attempts, at = error, 2, at + timedelta(minutes=1)
    AlertAttempt.objects.create(alert=alert, at=at, outcome=AttemptOutcome.SENT)
    alert.status, alert.attempts, alert.sent_at, alert.last_attempt_at = AlertStatus.SENT, attempts, at, at
    alert.created_at = at - timedelta(seconds=5) if not failed_first else at - timedelta(minutes=1, seconds=5)
    alert.save()


@transaction.atomic
def seed(*, today: date) -> None:
    for team in Team.objects.filter(code__in=LEADS):
        changed = []
        if not team.shared_inbox:
            team.shared_inbox = f"{team.code}.breast.unit@{DEMO_DOMAIN}"
            changed.append("shared_inbox")
        if team.lead_id is None:
            team.lead = User.objects.filter(username=LEADS[team.code]).first()
            changed.append("lead")
        if changed:
            team.save(update_fields=changed)
    if Alert.objects.exists():
        return
    nurse = User.objects.filter(username="nurse").first()
    if nurse is not None and nurse.email:
        _sent(services.alert_digest(nurse=nurse, today=today - timedelta(days=1)), _at(today - timedelta(days=1), 7, 0))
    report = (
        SymptomReport.objects.awaiting_triage()
        .filter(patient__team__code="north", patient__named_nurse=nurse)
        .exclude(red_flag="")
        .select_related("patient__team", "patient__named_nurse")
        .first()
    )
    if report is not None:
        inbox_alert, *nurse_alert = services.alert_red_flag_report(report=report)
        _sent(inbox_alert, _at(today, 8, 12), failed_first=True)
        _sent(nurse_alert[0] if nurse_alert else None, _at(today, 8, 12))
    results = [
        result
        for result in services.escalated_results_not_alerted(today=today)
        if getattr(result, "patient", None) is not None and result.patient.team.code == "north"
    ]
    if results:
        _sent(services.alert_result_unacknowledged(result=results[0], today=today), _at(today, 6, 7))
