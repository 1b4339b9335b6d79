"""The worker's tasks: each a thin function calling a service (services.py). Run them with
``manage.py procrastinate worker`` (``make worker``; docs/operations.md).

SCHEDULES is the one place the periodic tasks are scheduled (cron, in UTC; the digest decides by
local time itself, so it needs no daylight-saving care).
"""

from datetime import UTC, datetime

from django.conf import settings
from django.utils import timezone
from procrastinate import JobContext, RetryStrategy
from procrastinate.contrib.django import app
from procrastinate.retry import RetryDecision

from followup import flags

from . import services
from .models import Alert

QUEUE = "alerts"  # sending: what a worker must run for alerts to go out
SCHEDULE_QUEUE = "alerts-schedule"  # the periodic tasks that raise alerts

SCHEDULES = {
    # Results waiting for acknowledgement past RESULT_ESCALATE_DAYS: once an hour, at seven past.
    "escalate_results": "7 * * * *",
    # The daily digest: checked every quarter hour; sent once ALERT_DIGEST_TIME (local) has passed.
    "send_digests": "*/15 * * * *",
    # Queued alerts whose job was lost: deferred again.
    "requeue_lost": "*/10 * * * *",
    # The patient flags the failsafe counts read, worked out again from scratch and compared (followup/flags.py):
    # nightly, at 02:30, when the wards are quiet (about 30 s at 100,000 patients).
    "check_patient_flags": "30 2 * * *",
}


class AlertRetry(RetryStrategy):
    """Bounded, backing off: ALERT_SEND_ATTEMPTS tries in all, waiting ALERT_RETRY_SECONDS, then twice
    that, and so on (read when a send fails, so the settings apply without a restart of the code)."""

    def get_retry_decision(self, *, exception, job) -> RetryDecision | None:
        # job.attempts: the tries before this one; this one failed too.
        if job.attempts + 1 >= settings.ALERT_SEND_ATTEMPTS:
            return None
        return RetryDecision(retry_in={"seconds": settings.ALERT_RETRY_SECONDS * 2**job.attempts})


@app.task(name="alerts.send", queue=QUEUE, retry=AlertRetry(), pass_context=True)
def send_alert(context: JobContext, alert_id: int) -> None:
    alert = Alert.objects.filter(pk=alert_id).first()
    if alert is not None:
        services.alert_deliver(alert=alert)


def _at(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


@app.periodic(cron=SCHEDULES["escalate_results"])
@app.task(name="alerts.escalate_results", queue=SCHEDULE_QUEUE, queueing_lock="alerts.escalate_results")
def escalate_results(timestamp: int) -> None:
    services.alerts_raise_unacknowledged_results(today=timezone.localdate(_at(timestamp)))


@app.periodic(cron=SCHEDULES["send_digests"])
@app.task(name="alerts.send_digests", queue=SCHEDULE_QUEUE, queueing_lock="alerts.send_digests")
def send_digests(timestamp: int) -> None:
    services.alerts_send_digests(now=_at(timestamp))


@app.periodic(cron=SCHEDULES["requeue_lost"])
@app.task(name="alerts.requeue_lost", queue=SCHEDULE_QUEUE, queueing_lock="alerts.requeue_lost")
def requeue_lost(timestamp: int) -> None:
    services.alerts_requeue_lost(now=timezone.now())


@app.periodic(cron=SCHEDULES["check_patient_flags"])
@app.task(name="alerts.check_patient_flags", queue=SCHEDULE_QUEUE, queueing_lock="alerts.check_patient_flags")
def check_patient_flags(timestamp: int) -> None:
    flags.check_and_repair()
