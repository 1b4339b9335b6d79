"""The Alerts pages (alerts/views.py): admins only (nurses and clinicians refused, of any team), every team's
alerts for an admin, what each page shows, the filters, query counts; read only in the Django admin."""

import pytest
from django.urls import reverse

from alerts import services
from alerts.models import Alert, AlertAttempt
from followup import choices as c
from followup.display import show_datetime
from tests import pages
from tests.factories import PatientFactory, TeamFactory, UserFactory
from tests.integration.test_clients import table_rows

from .conftest import red_flag_report

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    return reverse(f"alerts:{name}", args=args)


@pytest.fixture
def clinician(team):
    return UserFactory(username="sam", team=team, role=c.Role.CLINICIAN)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def red_flag_alerts(philippa):
    return services.alert_red_flag_report(report=red_flag_report(philippa))


def body(response) -> str:
    return response.content.decode()


def test_nurses_and_clinicians_are_refused_every_alerts_page(client, nurse, clinician, red_flag_alerts):
    for user in (nurse, clinician):
        client.force_login(user)
        for target in (url("alert_list"), url("alert_detail", red_flag_alerts[0].pk)):
            assert client.get(target).status_code == 403, (user, target)


def test_a_nurse_of_another_team_is_refused_before_anything_is_looked_up(client, other_nurse, red_flag_alerts):
    client.force_login(other_nurse)
    pk = red_flag_alerts[0].pk
    targets = [url("alert_list"), url("alert_detail", pk), url("alert_detail", pk + 100)]
    assert [client.get(target).status_code for target in targets] == [403, 403, 403]


def test_the_pages_are_read_only(admin_client, red_flag_alerts):
    alert = red_flag_alerts[0]
    for target in (url("alert_list"), url("alert_detail", alert.pk)):
        assert admin_client.post(target, {"status": "sent"}).status_code == 405
    alert.refresh_from_db()
    assert alert.status == "queued"


def test_an_admin_sees_every_teams_alerts_and_404_for_one_that_does_not_exist(
    admin_client, red_flag_alerts, other_nurse
):
    other = PatientFactory(team=other_nurse.team, named_nurse=other_nurse)
    other_nurse.email = "jo@followup-test.invalid"
    other_nurse.save()
    [south] = services.alert_red_flag_report(report=red_flag_report(other))
    rows = table_rows(body(admin_client.get(url("alert_list"))), "alerts")
    assert [row[1] for row in rows] == [
        "Red-flag symptom report South Breast Unit",
        "Red-flag symptom report North Breast Unit",
        "Red-flag symptom report North Breast Unit",
    ]
    assert admin_client.get(url("alert_detail", south.pk)).status_code == 200
    assert admin_client.get(url("alert_detail", south.pk + 100)).status_code == 404


def test_the_list_shows_what_to_whom_when_status_attempts_and_last_error(
    admin_client, settings, red_flag_alerts, nurse
):
    inbox, to_nurse = red_flag_alerts
    services.alert_deliver(alert=to_nurse)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    settings.ALERT_SEND_ATTEMPTS = 1
    with pytest.raises(services.AlertNotSent):
        services.alert_deliver(alert=inbox)
    inbox.refresh_from_db()
    to_nurse.refresh_from_db()
    html = body(admin_client.get(url("alert_list")))
    assert table_rows(html, "alerts") == [
        [show_datetime(to_nurse.created_at), "Red-flag symptom report North Breast Unit",
         "Alex Morgan, alex.morgan@followup-test.invalid", f"Sent {show_datetime(to_nurse.sent_at)}", "1", "None"],
        [show_datetime(inbox.created_at), "Red-flag symptom report North Breast Unit",
         "Shared inbox, north.breast.unit@followup-test.invalid", "Failed", "1", inbox.last_error],
    ]  # fmt: skip
    assert pages.links(pages.by_id(html, "alerts"))[0] == ("Red-flag symptom report", url("alert_detail", to_nurse.pk))


def test_the_list_filters_by_kind_and_status(admin_client, red_flag_alerts, nurse):
    services.alert_deliver(alert=red_flag_alerts[1])
    services.alert_digest(nurse=nurse, today=red_flag_alerts[0].created_at.date())

    def listed(query):
        return [
            row[1].split(" North")[0] for row in table_rows(body(admin_client.get(url("alert_list"), query)), "alerts")
        ]

    assert listed({"kind": "digest"}) == ["Daily digest"]
    assert listed({"kind": "red_flag", "status": "queued"}) == ["Red-flag symptom report"]
    html = body(admin_client.get(url("alert_list"), {"status": "failed"}))
    assert table_rows(html, "alerts") == [["No alert has been raised that matches these filters."]]


def test_an_alert_with_nobody_to_send_it_to_is_listed_under_failed(admin_client, team, philippa, nurse):
    team.shared_inbox = ""
    team.save()
    nurse.email = ""
    nurse.save()
    [alert] = services.alert_red_flag_report(report=red_flag_report(philippa))
    html = body(admin_client.get(url("alert_list"), {"status": "failed"}))
    assert table_rows(html, "alerts") == [
        [show_datetime(alert.created_at), "Red-flag symptom report North Breast Unit", "No address", "Failed", "1",
         "No address: the team has no shared inbox or lead and the named nurse has no email"],
    ]  # fmt: skip
    detail = admin_client.get(url("alert_detail", alert.pk))
    assert detail.status_code == 200
    assert "Red-flag symptom report to no address" in body(detail)


def test_the_list_with_no_alert_says_so(admin_client):
    assert table_rows(body(admin_client.get(url("alert_list"))), "alerts") == [["No alert has been raised."]]


@pytest.mark.parametrize("rows", [1, 3])
def test_the_list_query_count_is_constant(admin_client, nurse, rows, django_assert_num_queries):
    for n in range(rows):
        team = TeamFactory(shared_inbox=f"team{n}@followup-test.invalid")
        patient = PatientFactory(team=team, named_nurse=UserFactory(team=team, email=f"n{n}@followup-test.invalid"))
        services.alert_red_flag_report(report=red_flag_report(patient))
    # session, user, one page of alerts with their team and recipient (joined)
    with django_assert_num_queries(3):
        response = admin_client.get(url("alert_list"), {"kind": "red_flag"})
    assert len(table_rows(body(response), "alerts")) == 2 * rows


@pytest.mark.parametrize("rows", [1, 3])
def test_the_alert_page_query_count_is_constant(
    admin_client, settings, red_flag_alerts, rows, django_assert_num_queries
):
    alert = red_flag_alerts[0]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    settings.ALERT_SEND_ATTEMPTS = 5
    for _ in range(rows):
        with pytest.raises(services.AlertNotSent):
            services.alert_deliver(alert=alert)
    # session, user, the alert with its team and recipient, its attempts
    with django_assert_num_queries(4):
        response = admin_client.get(url("alert_detail", alert.pk))
    assert len(table_rows(body(response), "alert-attempts")) == rows


def test_the_alert_page_shows_the_email_and_its_attempts(admin_client, red_flag_alerts):
    alert = red_flag_alerts[1]
    services.alert_deliver(alert=alert)
    alert.refresh_from_db()
    html = body(admin_client.get(url("alert_detail", alert.pk)))
    assert pages.text(pages.by_id(html, "alert-body")) == " ".join(alert.body.split())
    attempt = AlertAttempt.objects.get(alert=alert)
    assert table_rows(html, "alert-attempts") == [[show_datetime(attempt.at), "Sent", "None"]]


def test_the_header_offers_alerts_to_admins_only_and_marks_its_pages(client, admin_user, nurse, red_flag_alerts):
    def menu(target):
        root = pages.parse(body(client.get(target)))
        nav = pages.find(root, lambda n: n[0] == "nav" and n[1].get("aria-label") == "Menu")[0]
        current = [pages.text(a) for a in pages.find(nav, lambda n: n[0] == "a" and n[1].get("aria-current"))]
        return [label for label, _ in pages.links(nav)], current

    client.force_login(nurse)
    assert "Alerts" not in menu("/")[0]
    client.force_login(admin_user)
    assert menu("/")[0] == ["Dashboard", "Worklists", "Patients", "Reports", "API clients", "Alerts", "Admin"]
    for target in (url("alert_list"), url("alert_detail", red_flag_alerts[0].pk)):
        assert menu(target)[1] == ["Alerts"], target


def test_the_django_admin_shows_alerts_read_only_to_the_admin_role_only(client, admin_user, red_flag_alerts):
    alert = red_flag_alerts[0]
    client.force_login(admin_user)
    assert client.get(reverse("admin:alerts_alert_changelist")).status_code == 200
    view = client.get(reverse("admin:alerts_alert_change", args=[alert.pk]))
    assert view.status_code == 200 and not view.context["has_change_permission"]
    assert client.post(reverse("admin:alerts_alert_change", args=[alert.pk]), {"status": "sent"}).status_code == 403
    assert client.post(reverse("admin:alerts_alert_delete", args=[alert.pk]), {"post": "yes"}).status_code == 403
    staff = UserFactory(username="staffnurse", role=c.Role.NURSE, is_staff=True)  # admin site, not the role
    client.force_login(staff)
    assert client.get(reverse("admin:alerts_alert_changelist")).status_code == 403
    assert Alert.objects.get(pk=alert.pk).status == "queued"
