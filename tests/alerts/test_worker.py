"""The worker: alerts sent by a real worker (procrastinate's in-memory connector on any database, its real
PostgreSQL connector on PostgreSQL), one through a real SMTP server on loopback, retried after an SMTP
failure, failed after the last retry; the alert and its job in one transaction; the digest once per nurse
per day under concurrent runs; the sweep of lost jobs."""

import json
import threading
import time as clock
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, connections, transaction
from django.utils import timezone

from alerts import services
from alerts.models import Alert, AlertStatus
from tests.factories import UserFactory

from .conftest import TODAY, identifiers_in, on_postgresql, red_flag_report

transactional = pytest.mark.django_db(transaction=True)


def jobs() -> list[tuple]:
    """The worker's jobs for alerts (PostgreSQL): (task, args, status), oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT task_name, args, status FROM procrastinate_jobs WHERE task_name = 'alerts.send' ORDER BY id"
        )
        return [(task, json.loads(args), status) for task, args, status in cursor.fetchall()]


@pytest.fixture(autouse=True)
def no_jobs(transactional_db):
    """The worker's tables are not Django's (not flushed between transactional tests): emptied here."""

    def empty():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "TRUNCATE procrastinate_jobs, procrastinate_events, procrastinate_periodic_defers CASCADE"
                )

    empty()
    yield
    empty()


def sends(connector) -> list[str]:
    """The status of each send job the in-memory worker held (the periodic jobs it deferred left out)."""
    return [job["status"] for job in connector.jobs.values() if job["task_name"] == "alerts.send"]


# Through the worker (in memory, any database) ------------------------------------------------------------------


@transactional
def test_the_worker_sends_a_red_flag_alert_through_a_real_smtp_server(memory_worker, smtp_server, philippa):
    services.alert_red_flag_report(report=red_flag_report(philippa))
    memory_worker.run()
    assert [a.status for a in Alert.objects.order_by("pk")] == ["sent", "sent"]
    assert sorted(tuple(envelope.rcpt_tos) for envelope in smtp_server.received) == [
        ("alex.morgan@followup-test.invalid",),
        ("north.breast.unit@followup-test.invalid",),
    ]
    for envelope in smtp_server.received:
        text = envelope.content.decode()
        assert "Subject: Red flag: Possible spinal cord compression (North Breast Unit)" in text
        assert identifiers_in(text) == []


@transactional
def test_after_an_smtp_failure_the_worker_retries_and_the_alert_is_sent_with_two_attempts(
    memory_worker, smtp_server, philippa, team
):
    team.shared_inbox = ""
    team.save()
    smtp_server.refuse = 1  # "451 try again later" once, then accepted
    [alert] = services.alert_red_flag_report(report=red_flag_report(philippa))
    memory_worker.run()
    alert.refresh_from_db()
    assert (alert.status, alert.attempts) == (AlertStatus.SENT, 2)
    assert [(a.outcome, a.error) for a in alert.attempt_log.all()] == [
        ("failed", "SMTPDataError: (451, b'Requested action aborted: try again later')"),
        ("sent", ""),
    ]
    assert len(smtp_server.received) == 1
    assert sends(memory_worker) == ["succeeded"]


@transactional
def test_when_every_retry_fails_the_alert_ends_failed_and_the_job_too(memory_worker, smtp_server, philippa, team):
    team.shared_inbox = ""
    team.save()
    smtp_server.refuse = 10
    [alert] = services.alert_red_flag_report(report=red_flag_report(philippa))  # ALERT_SEND_ATTEMPTS 3 here
    memory_worker.run()
    alert.refresh_from_db()
    assert (alert.status, alert.attempts, alert.sent_at) == (AlertStatus.FAILED, 3, None)
    assert alert.last_error == "SMTPDataError: (451, b'Requested action aborted: try again later')"
    assert [a.outcome for a in alert.attempt_log.all()] == ["failed", "failed", "failed"]
    assert sends(memory_worker) == ["failed"]
    assert smtp_server.received == []


# The real worker, on PostgreSQL ----------------------------------------------------------------------------------


@on_postgresql
@transactional
def test_the_alert_and_its_job_are_one_transaction(philippa):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.alert_red_flag_report(report=red_flag_report(philippa))
        assert len(jobs()) == 2  # deferred through Django's connection, inside the transaction
        raise RuntimeError("the report fails")
    assert (Alert.objects.count(), jobs()) == (0, [])
    alerts = services.alert_red_flag_report(report=red_flag_report(philippa))
    assert jobs() == [("alerts.send", {"alert_id": alert.pk}, "todo") for alert in alerts]


@on_postgresql
@transactional
def test_a_real_worker_drains_the_queue(postgresql_worker, philippa, nurse, lead):
    from .conftest import escalated_result

    services.alert_red_flag_report(report=red_flag_report(philippa))
    escalated_result(philippa)
    services.alerts_raise_unacknowledged_results(today=TODAY)
    services.alert_digest(nurse=nurse, today=TODAY)
    assert [status for _, _, status in jobs()] == ["todo"] * 4
    postgresql_worker()
    assert set(Alert.objects.values_list("status", flat=True)) == {"sent"}
    assert sorted(m.subject.split(" (")[0].split(":")[0] for m in mail.outbox) == [
        "Red flag",
        "Red flag",
        "Result not acknowledged for 20 days",
        f"Your follow-up lists for {TODAY:%-d %b %Y}",
    ]
    assert [status for _, _, status in jobs()] == ["succeeded"] * 4


def _in_thread(target, results, index):
    def run():
        try:
            results[index] = target()
        except Exception as exc:  # reported by the test, not lost in the thread
            results[index] = exc
        finally:
            connections.close_all()

    return threading.Thread(target=run)


@on_postgresql
@transactional
def test_the_digest_goes_once_per_nurse_per_day_with_two_concurrent_runs(settings, nurse):
    """Two workers running the digest at the same moment: one alert per nurse, one job each."""
    others = [UserFactory(team=nurse.team, email=f"nurse{n}@followup-test.invalid") for n in range(4)]
    now = timezone.make_aware(timezone.datetime.combine(TODAY, settings.ALERT_DIGEST_AT))
    start = threading.Barrier(2)
    results = [None, None]

    def run():
        start.wait()
        return services.alerts_send_digests(now=now)

    threads = [_in_thread(run, results, n) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 5, results
    keys = sorted(Alert.objects.values_list("dedupe_key", flat=True))
    assert keys == sorted(f"digest:{user.pk}:{TODAY}" for user in [nurse, *others])
    assert len(jobs()) == 5


@on_postgresql
@transactional
def test_a_digest_raised_while_another_is_uncommitted_waits_and_is_refused(nurse):
    """The race the unique key settles: worker A has inserted the digest but not committed; worker B, not
    seeing it, inserts the same key, waits on A's row, and is refused when A commits: one digest, one job."""
    a_inserted, a_commit = threading.Event(), threading.Event()
    results = [None, None]

    def worker_a():
        with transaction.atomic():
            alert = services.alert_digest(nurse=nurse, today=TODAY)
            a_inserted.set()
            a_commit.wait(10)
        return alert

    def worker_b():
        a_inserted.wait(10)
        return services.alert_digest(nurse=nurse, today=TODAY)

    threads = [_in_thread(worker_a, results, 0), _in_thread(worker_b, results, 1)]
    for thread in threads:
        thread.start()
    a_inserted.wait(10)
    clock.sleep(1)  # B has computed the counts and waits on A's row
    assert threads[1].is_alive()
    a_commit.set()
    for thread in threads:
        thread.join()
    assert isinstance(results[0], Alert) and results[1] is None, results
    assert Alert.objects.count() == 1
    assert jobs() == [("alerts.send", {"alert_id": results[0].pk}, "todo")]


@on_postgresql
@transactional
def test_the_sweep_defers_again_a_queued_alert_whose_job_was_lost(settings, philippa, team):
    team.shared_inbox = ""
    team.save()
    [alert] = services.alert_red_flag_report(report=red_flag_report(philippa))
    later = timezone.now() + timedelta(minutes=settings.ALERT_REQUEUE_MINUTES + 1)
    assert services.alerts_requeue_lost(now=timezone.now()) == 0  # not lost yet
    assert services.alerts_requeue_lost(now=later) == 0  # its job still waits: the queueing lock keeps one
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs")  # lost: a restore, a job deleted by hand
    assert services.alerts_requeue_lost(now=later) == 1
    assert jobs() == [("alerts.send", {"alert_id": alert.pk}, "todo")]


@on_postgresql
@transactional
def test_the_attempt_log_cannot_be_changed_on_postgresql(philippa):
    from django.db import DatabaseError

    [alert, _] = services.alert_red_flag_report(report=red_flag_report(philippa))
    services.alert_deliver(alert=alert)
    attempt = alert.attempt_log.get()
    for statement in ("UPDATE alerts_alertattempt SET error = 'x'", "DELETE FROM alerts_alertattempt"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert alert.attempt_log.get() == attempt


@on_postgresql
@transactional
def test_a_real_worker_retries_after_an_smtp_refusal_and_sends(postgresql_worker, smtp_server, philippa, team):
    team.shared_inbox = ""
    team.save()
    smtp_server.refuse = 1
    [alert] = services.alert_red_flag_report(report=red_flag_report(philippa))
    postgresql_worker()
    alert.refresh_from_db()
    assert (alert.status, alert.attempts, [a.outcome for a in alert.attempt_log.all()]) == (
        AlertStatus.SENT, 2, ["failed", "sent"],
    )  # fmt: skip
    assert [tuple(envelope.rcpt_tos) for envelope in smtp_server.received] == [("alex.morgan@followup-test.invalid",)]
    assert jobs() == [("alerts.send", {"alert_id": alert.pk}, "succeeded")]
