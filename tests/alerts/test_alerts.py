"""The three alerts through Django's locmem backend: their words, recipients and dedupe; the digest's counts
and change since yesterday; no patient-identifiable data in any email; sending, failing and retrying."""

from datetime import datetime, time, timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from alerts import services
from alerts.models import Alert, AlertAttempt, AlertKind, AlertStatus
from alerts.tasks import SCHEDULES, AlertRetry
from followup import choices as c
from followup.worklists import WORKLISTS
from tests.factories import FollowUpItemFactory, PatientFactory, StagingTestFactory, UserFactory

from .conftest import IDENTIFIERS, TODAY, deliver_all, email_text, escalated_result, red_flag_report

pytestmark = pytest.mark.django_db

SITE = "http://127.0.0.1:8000"


def local(day, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


# Red flag -----------------------------------------------------------------------------------------------------


def test_red_flag_report_alerts_the_shared_inbox_and_the_named_nurse_at_once(settings, philippa, nurse):
    settings.SITE_URL = SITE
    report = red_flag_report(philippa, reported_on=TODAY)
    alerts = services.alert_red_flag_report(report=report)
    assert [(a.kind, a.address, a.recipient, a.status) for a in alerts] == [
        (AlertKind.RED_FLAG, "north.breast.unit@followup-test.invalid", None, AlertStatus.QUEUED),
        (AlertKind.RED_FLAG, "alex.morgan@followup-test.invalid", nurse, AlertStatus.QUEUED),
    ]
    deliver_all()
    assert [m.to for m in mail.outbox] == [
        ["north.breast.unit@followup-test.invalid"],
        ["alex.morgan@followup-test.invalid"],
    ]
    message = mail.outbox[0]
    assert message.subject == "Red flag: Possible spinal cord compression (North Breast Unit)"
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert message.extra_headers == {"X-Followup-Alert": "red_flag"}
    assert message.body == (
        f"The patient reported symptoms with a red flag for a patient of North Breast Unit on {TODAY:%-d %b %Y}:\n"
        "Possible spinal cord compression (back pain with weak legs, numbness, or loss of bladder or bowel "
        "control).\n\nIt is first on Symptoms to triage. Triage it now.\n\n"
        f"{SITE}/patients/{philippa.pk}/\n\n"
        "This email has no patient details by design: open the link and sign in to see who it is about.\n"
    )
    assert Alert.objects.get(address=nurse.email).link == f"{SITE}/patients/{philippa.pk}/"


def test_red_flag_raised_twice_is_one_alert_each(philippa):
    report = red_flag_report(philippa)
    services.alert_red_flag_report(report=report)
    assert services.alert_red_flag_report(report=report) == []
    assert sorted(Alert.objects.values_list("dedupe_key", flat=True)) == [
        f"red-flag:{report.pk}:inbox",
        f"red-flag:{report.pk}:nurse:{philippa.named_nurse_id}",
    ]


def failed(alerts) -> list[tuple]:
    """Each alert as recorded, and its one attempt."""
    rows = []
    for alert in alerts:
        alert.refresh_from_db()
        [attempt] = alert.attempt_log.all()
        rows.append((alert.address, alert.recipient, alert.status, alert.attempts, alert.last_error, attempt.error))
    return rows


def test_red_flag_without_a_shared_inbox_or_nurse_email_alerts_whoever_there_is(team, philippa, nurse):
    team.shared_inbox = ""
    team.save()
    assert [a.address for a in services.alert_red_flag_report(report=red_flag_report(philippa))] == [nurse.email]
    nurse.email = ""
    nurse.save()
    # Nobody to email: the alert is recorded failed, saying why, on the Alerts page under Failed.
    report = red_flag_report(philippa)
    alerts = services.alert_red_flag_report(report=report)
    error = "No address: the team has no shared inbox or lead and the named nurse has no email"
    assert failed(alerts) == [("", None, AlertStatus.FAILED, 1, error, error)]
    assert alerts[0].dedupe_key == f"red-flag:{report.pk}:no-address"
    assert services.alert_red_flag_report(report=report) == []  # once
    deliver_all()
    assert [m.to for m in mail.outbox] == [["alex.morgan@followup-test.invalid"]]  # the first report's only


def test_red_flag_with_no_shared_inbox_and_no_nurse_email_goes_to_the_team_lead(team, philippa, nurse, lead):
    team.shared_inbox = ""
    team.save()
    nurse.is_active = False
    nurse.save()
    report = red_flag_report(philippa)
    [alert] = services.alert_red_flag_report(report=report)
    assert (alert.address, alert.recipient, alert.status) == (lead.email, lead, AlertStatus.QUEUED)
    assert alert.dedupe_key == f"red-flag:{report.pk}:lead:{lead.pk}"


def test_red_flag_with_invalid_addresses_is_recorded_failed_and_goes_to_the_lead(team, philippa, nurse, lead):
    team.shared_inbox = "north.breast.unit@@followup-test.invalid"  # stored before validation, or by hand
    team.save()
    nurse.email = "alex morgan"
    nurse.save()
    alerts = services.alert_red_flag_report(report=red_flag_report(philippa))
    assert [(a.address, a.recipient, a.status) for a in alerts] == [
        ("north.breast.unit@@followup-test.invalid", None, AlertStatus.FAILED),
        ("alex morgan", nurse, AlertStatus.FAILED),
        (lead.email, lead, AlertStatus.QUEUED),
    ]
    inbox_error = "Not a valid email address: 'north.breast.unit@@followup-test.invalid'. Correct it in the admin site"
    nurse_error = "Not a valid email address: 'alex morgan'. Correct it in the admin site"
    assert [row[4:] for row in failed(alerts[:2])] == [(inbox_error, inbox_error), (nurse_error, nurse_error)]
    deliver_all()
    assert [m.to for m in mail.outbox] == [[lead.email]]


def test_a_report_without_a_red_flag_raises_nothing(philippa):
    report = red_flag_report(philippa, red_flag="")
    assert services.alert_red_flag_report(report=report) == []
    assert Alert.objects.count() == 0


def test_red_flag_alert_rolls_back_with_the_report(philippa):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.alert_red_flag_report(report=red_flag_report(philippa))
        raise RuntimeError("the report's transaction fails")
    assert Alert.objects.count() == 0


# A result not acknowledged ------------------------------------------------------------------------------------


def test_an_escalated_result_alerts_the_team_lead_once(settings, philippa, lead):
    settings.SITE_URL = SITE
    item = escalated_result(philippa, days=15)  # RESULT_ESCALATE_DAYS is 14: waiting over it
    escalated_result(philippa, days=14)  # not yet escalated
    FollowUpItemFactory(patient=philippa, status=c.FollowUpStatus.DONE, done_on=TODAY - timedelta(days=30),
                        result=c.ImagingOutcome.NORMAL, result_recorded_on=TODAY - timedelta(days=30),
                        result_acknowledged_at=timezone.now(), result_acknowledged_by=lead)  # fmt: skip
    assert services.alerts_raise_unacknowledged_results(today=TODAY) == 1
    assert services.alerts_raise_unacknowledged_results(today=TODAY) == 0  # once per result
    deliver_all()
    [message] = mail.outbox
    assert message.to == ["sam.patel@followup-test.invalid"]
    assert message.subject == "Result not acknowledged for 15 days (North Breast Unit)"
    assert message.body.startswith(
        "A mammogram result of a patient of North Breast Unit has waited 15 days to be acknowledged (recorded "
        f"{TODAY - timedelta(days=15):%-d %b %Y}; escalated after 14 days). The result: Abnormal.\n\n"
        "Acknowledge it, or ask the clinician responsible to.\n\n"
        f"{SITE}/patients/{philippa.pk}/\n\n"
    )
    assert Alert.objects.get().dedupe_key == f"result:followupitem:{item.pk}"


def test_an_escalated_result_goes_to_the_shared_inbox_without_a_lead(philippa, team):
    escalated_result(philippa)
    assert team.lead is None
    services.alerts_raise_unacknowledged_results(today=TODAY)
    assert [(a.address, a.recipient) for a in Alert.objects.all()] == [
        ("north.breast.unit@followup-test.invalid", None)
    ]


def test_an_escalated_result_with_no_lead_or_shared_inbox_is_recorded_failed(philippa, team):
    team.shared_inbox = ""
    team.save()
    item = escalated_result(philippa)
    assert services.alerts_raise_unacknowledged_results(today=TODAY) == 1
    assert services.alerts_raise_unacknowledged_results(today=TODAY) == 0  # once per result
    alert = Alert.objects.get()
    error = "No address: the team has no lead with an email and no shared inbox"
    assert failed([alert]) == [("", None, AlertStatus.FAILED, 1, error, error)]
    assert (alert.kind, alert.dedupe_key) == (AlertKind.RESULT_UNACKNOWLEDGED, f"result:followupitem:{item.pk}")


def test_an_escalated_staging_result_alerts_too(philippa, lead):
    test = StagingTestFactory(
        episode__recurrence__patient=philippa, modality=c.StagingModality.CT_CAP, result=c.StagingResult.DISTANT,
        requested_on=TODAY - timedelta(days=30), performed_on=TODAY - timedelta(days=21),
        reported_on=TODAY - timedelta(days=20),
    )  # fmt: skip
    assert services.alerts_raise_unacknowledged_results(today=TODAY) == 1
    alert = Alert.objects.get()
    assert (alert.dedupe_key, alert.address) == (f"result:stagingtest:{test.pk}", lead.email)
    assert alert.subject == "Result not acknowledged for 20 days (North Breast Unit)"


def test_the_escalated_results_are_the_results_lists_escalated_rows(philippa, lead):
    """The alert reads the results list's own rule (querysets.escalated_results), the rule its "Escalated" mark
    shows: the same rows."""
    from followup.tables import result_escalated

    items = [escalated_result(philippa, days=days) for days in (13, 14, 15, 40)]
    listed = WORKLISTS["results"].rows(TODAY)
    marked = [item.pk for item in listed if result_escalated(item.result_recorded_on)]
    assert sorted(marked) == sorted(i.pk for i in services.escalated_results_not_alerted(today=TODAY))
    assert sorted(marked) == [items[2].pk, items[3].pk]


# The daily digest ---------------------------------------------------------------------------------------------


def test_the_digest_waits_for_its_time_then_goes_once_to_each_nurse_with_an_email(settings, nurse, philippa):
    settings.ALERT_DIGEST_AT = time(7, 0)
    UserFactory(username="priya", team=nurse.team, role=c.Role.NURSE, email="priya@followup-test.invalid")
    UserFactory(username="noemail", team=nurse.team, role=c.Role.NURSE, email="")
    UserFactory(username="gone", team=nurse.team, role=c.Role.NURSE, email="gone@followup-test.invalid",
                is_active=False)  # fmt: skip
    UserFactory(username="sam", team=nurse.team, role=c.Role.CLINICIAN, email="sam@followup-test.invalid")
    assert services.alerts_send_digests(now=local(TODAY, 6, 59)) == 0
    assert services.alerts_send_digests(now=local(TODAY, 7, 0)) == 2
    assert services.alerts_send_digests(now=local(TODAY, 7, 15)) == 0
    assert services.alerts_send_digests(now=local(TODAY, 22, 0)) == 0
    assert sorted(Alert.objects.values_list("address", flat=True)) == [
        "alex.morgan@followup-test.invalid",
        "priya@followup-test.invalid",
    ]
    assert services.alerts_send_digests(now=local(TODAY + timedelta(days=1), 7, 0)) == 2  # the next day's


def test_the_digest_counts_each_list_for_the_caseload_and_the_change_since_yesterday(settings, nurse, philippa):
    settings.SITE_URL = SITE
    yesterday = TODAY - timedelta(days=1)
    other = PatientFactory(team=nurse.team)  # another nurse's patient: not in Alex's counts
    FollowUpItemFactory(patient=other, due_on=TODAY - timedelta(days=60))
    FollowUpItemFactory(patient=philippa, due_on=TODAY - timedelta(days=60))
    services.alert_digest(nurse=nurse, today=yesterday)
    first = Alert.objects.get()
    assert first.counts == dict.fromkeys(WORKLISTS, 0) | {"overdue": 1, "data-quality": 1}
    FollowUpItemFactory(patient=philippa, due_on=TODAY - timedelta(days=50))
    escalated_result(philippa)
    services.alert_digest(nurse=nurse, today=TODAY)
    digest = Alert.objects.get(dedupe_key=f"digest:{nurse.pk}:{TODAY}")
    assert digest.counts["overdue"] == 2 and digest.counts["results"] == 1
    deliver_all()
    message = mail.outbox[-1]
    assert message.subject == f"Your follow-up lists for {TODAY:%-d %b %Y}"
    lines = message.body.splitlines()
    assert lines[0] == (
        f"Your lists for {TODAY:%-d %b %Y}, your own caseload only (the number on each list, and the change "
        "in each count since yesterday's digest):"
    )
    assert lines[2:6] == [
        "Overdue follow-up: 2 (1 more than yesterday)",
        f"  {SITE}/worklists/overdue/",
        "Due soon: 0 (no change since yesterday)",
        f"  {SITE}/worklists/due-soon/",
    ]
    # Every list of the registry, in its order, so a list added there appears by itself.
    titles = [line.split(":")[0] for line in lines[2 : 2 + 2 * len(WORKLISTS) : 2]]
    assert titles == [worklist.title for worklist in WORKLISTS.values()]


def test_a_nurse_with_an_invalid_address_does_not_stop_the_later_nurses_digests(settings, team, nurse):
    settings.ALERT_DIGEST_AT = time(7, 0)
    nurse.email = "alex.morgan@followup-test.invalid>"  # the first nurse (pk order): not an email address
    nurse.save()
    priya = UserFactory(username="priya", team=team, role=c.Role.NURSE, email="priya@followup-test.invalid")
    assert services.alerts_send_digests(now=local(TODAY, 7, 0)) == 2
    assert services.alerts_send_digests(now=local(TODAY, 7, 15)) == 0  # the failed one is not tried again
    error = "Not a valid email address: 'alex.morgan@followup-test.invalid>'. Correct it in the admin site"
    assert [(a.recipient, a.status, a.last_error) for a in Alert.objects.order_by("pk")] == [
        (nurse, AlertStatus.FAILED, error),
        (priya, AlertStatus.QUEUED, ""),
    ]
    deliver_all()
    assert [m.to for m in mail.outbox] == [["priya@followup-test.invalid"]]


def test_a_nurse_whose_digest_raises_does_not_stop_the_later_nurses(monkeypatch, settings, team, nurse, caplog):
    settings.ALERT_DIGEST_AT = time(7, 0)
    priya = UserFactory(username="priya", team=team, role=c.Role.NURSE, email="priya@followup-test.invalid")
    digest = services.alert_digest

    def failing_for_alex(*, nurse, today):
        if nurse.username == "alex":
            raise RuntimeError("a list's query failed")
        return digest(nurse=nurse, today=today)

    monkeypatch.setattr(services, "alert_digest", failing_for_alex)
    assert services.alerts_send_digests(now=local(TODAY, 7, 0)) == 1
    assert [a.recipient for a in Alert.objects.all()] == [priya]
    assert f"Nurse {nurse.pk}: the digest could not be raised" in caplog.text


def test_a_list_added_to_the_registry_appears_in_the_digest(monkeypatch, nurse):
    from followup import worklists

    extra = worklists.Worklist(
        "pifu-ending", "PIFU ending", "Test list.", lambda today: worklists.Patient.objects.active(),
        worklists.tables.NoNextFollowUpTable, worklists.filters.PatientWorklistFilter, noun="patient",
    )  # fmt: skip
    monkeypatch.setitem(worklists.WORKLISTS, "pifu-ending", extra)
    PatientFactory(team=nurse.team, named_nurse=nurse)
    alert = services.alert_digest(nurse=nurse, today=TODAY)
    assert alert.counts["pifu-ending"] == 1
    assert "PIFU ending: 1 (new on the digest)" in alert.body


# No patient-identifiable data ---------------------------------------------------------------------------------


def test_no_email_carries_patient_identifiable_data(philippa, nurse, lead):
    services.alert_red_flag_report(report=red_flag_report(philippa))
    escalated_result(philippa)
    services.alerts_raise_unacknowledged_results(today=TODAY)
    services.alert_digest(nurse=nurse, today=TODAY)
    deliver_all()
    kinds = sorted(Alert.objects.values_list("kind", flat=True))
    assert kinds == ["digest", "red_flag", "red_flag", "result_unacknowledged"]
    assert len(mail.outbox) == 4
    for message in mail.outbox:
        text = email_text(message)
        found = [identifier for identifier in IDENTIFIERS if identifier.lower() in text.lower()]
        assert found == [], (message.subject, found)
    stored = [f"{a.subject} {a.body} {a.link}" for a in Alert.objects.all()]
    assert [i for i in IDENTIFIERS for text in stored if i.lower() in text.lower()] == []


# Sending, failing, retrying -----------------------------------------------------------------------------------


def test_a_failed_send_is_recorded_and_raised_for_the_worker_to_retry(settings, philippa):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens
    [alert, _] = services.alert_red_flag_report(report=red_flag_report(philippa))
    with pytest.raises(services.AlertNotSent):
        services.alert_deliver(alert=alert)
    alert.refresh_from_db()
    assert (alert.status, alert.attempts, alert.sent_at) == (AlertStatus.QUEUED, 1, None)
    assert alert.last_error.startswith("ConnectionRefusedError")
    assert [(a.outcome, a.error) for a in alert.attempt_log.all()] == [("failed", alert.last_error)]


def test_the_last_attempt_marks_the_alert_failed_and_a_failed_alert_is_left_alone(settings, philippa):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    settings.ALERT_SEND_ATTEMPTS = 2
    [alert, _] = services.alert_red_flag_report(report=red_flag_report(philippa))
    for _ in range(2):
        with pytest.raises(services.AlertNotSent):
            services.alert_deliver(alert=alert)
    alert.refresh_from_db()
    assert (alert.status, alert.attempts) == (AlertStatus.FAILED, 2)
    assert services.alert_deliver(alert=alert).status == AlertStatus.FAILED  # not tried again
    assert AlertAttempt.objects.filter(alert=alert).count() == 2


def test_a_sent_alert_is_not_sent_again(philippa):
    [alert, _] = services.alert_red_flag_report(report=red_flag_report(philippa))
    services.alert_deliver(alert=alert)
    services.alert_deliver(alert=alert)
    assert len(mail.outbox) == 1
    alert.refresh_from_db()
    assert (alert.status, alert.attempts, [a.outcome for a in alert.attempt_log.all()]) == ("sent", 1, ["sent"])


def test_the_retry_is_bounded_and_backs_off(settings):
    settings.ALERT_SEND_ATTEMPTS, settings.ALERT_RETRY_SECONDS = 4, 60

    class Job:
        def __init__(self, attempts):
            self.attempts = attempts

    waits = []
    for attempts in range(5):
        decision = AlertRetry().get_retry_decision(exception=services.AlertNotSent("x"), job=Job(attempts))
        waits.append(None if decision is None else round((decision.retry_at - timezone.now()).total_seconds()))
    assert waits == [60, 120, 240, None, None]


def test_the_schedules_are_declared_once():
    from procrastinate.contrib.django import app

    periodic = {task.name: pt.cron for (_, _), pt in app.periodic_registry.periodic_tasks.items() for task in [pt.task]}
    assert periodic == {f"alerts.{name}": cron for name, cron in SCHEDULES.items()}


def test_on_sqlite_an_alert_waits_queued_with_no_job(philippa):
    from django.db import connection

    alerts = services.alert_red_flag_report(report=red_flag_report(philippa))
    assert services.worker_available() == (connection.vendor == "postgresql")
    assert {a.status for a in alerts} == {AlertStatus.QUEUED}
