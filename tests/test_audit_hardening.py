"""Audit and abuse (issue 12, item 5): what the logs say, what they refuse, and the limits on probing."""

import csv
import os
import secrets
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from axes.models import AccessLog as AxesAccessLog
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from followup import choices as c
from followup.models import AccessLog, ExportLog, FollowUpItem, Patient, StagingTestSite

from .factories import (
    FollowUpItemFactory,
    PatientFactory,
    PrimaryDiagnosisFactory,
    RecurrenceSiteFactory,
    StagingTestFactory,
    SymptomReportFactory,
    UserFactory,
)
from .test_action_views import error_beside, new_patient

TODAY = timezone.localdate()


def days(n):
    return TODAY + timedelta(days=n)


def drain(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# The export log records the filters as applied -----------------------------------------


def test_export_log_names_the_team_scope_and_ignores_a_team_a_nurse_cannot_pick(client, nurse, other_nurse):
    client.force_login(nurse)
    url = reverse("followup:report_line_list", args=["follow-up-items"])
    drain(client.get(url, {"export": "csv", "team": other_nurse.team.pk, "period_after": days(-30).isoformat()}))
    assert ExportLog.objects.get().filters == {
        "scope": "team North Breast Unit (north)",
        "nurse": "anyone",
        "period": f"from {days(-30).isoformat()}",
    }


def test_export_log_of_an_admin_names_the_team_picked(client, admin_user, other_nurse):
    client.force_login(admin_user)
    url = reverse("followup:report_line_list", args=["follow-up-items"])
    period = {"period_after": days(-30).isoformat(), "period_before": days(-1).isoformat()}
    drain(client.get(url, {"export": "xlsx", "team": other_nurse.team.pk, **period}))
    assert ExportLog.objects.get().filters == {
        "scope": "all teams",
        "team": "South Breast Unit (south)",
        "nurse": "anyone",
        "period": f"{days(-30).isoformat()} to {days(-1).isoformat()}",
    }


def test_worklist_download_log_says_it_was_the_nurses_own_caseload(client, nurse):
    FollowUpItemFactory(patient=PatientFactory(team=nurse.team, named_nurse=nurse), due_on=days(-60))
    client.force_login(nurse)
    url = reverse("followup:worklist", args=["overdue"])
    drain(client.get(url, {"export": "csv", "kind": c.FollowUpKind.MAMMOGRAM, "team": "999"}))
    log = ExportLog.objects.get()
    assert log.filters == {
        "scope": "team North Breast Unit (north)",
        "nurse": f"{nurse.get_full_name()} (user {nurse.pk})",
        "kind": "mammogram",
    }
    assert log.rows == 1


def test_summary_download_log_gives_the_default_period_when_none_was_asked_for(client, nurse):
    client.force_login(nurse)
    url = reverse("followup:report_summary", args=["recurrences-by-month"])
    drain(client.get(url, {"export": "csv", "team": "2"}))
    start = (TODAY.replace(day=1) - timedelta(days=330)).replace(day=1)
    assert ExportLog.objects.get().filters == {
        "scope": "team North Breast Unit (north)",
        "period": f"{start.isoformat()} to {TODAY.isoformat()} (default)",
    }


def test_summary_download_log_gives_the_period_asked_for(client, admin_user, team):
    client.force_login(admin_user)
    url = reverse("followup:report_summary", args=["recurrences-by-month"])
    asked = {"start": days(-90).isoformat(), "end": days(-10).isoformat(), "team": team.pk}
    drain(client.get(url, {"export": "csv", **asked}))
    assert ExportLog.objects.get().filters == {
        "scope": "all teams",
        "team": "North Breast Unit (north)",
        "period": f"{days(-90).isoformat()} to {days(-10).isoformat()}",
    }


def test_export_report_command_logs_the_user_given_with_by(admin_user, patient, tmp_path):
    FollowUpItemFactory(patient=patient, due_on=days(-10))
    out = tmp_path / "items.csv"
    call_command(
        "export_report", "follow-up-items", "--by", admin_user.username, "--team", "north", "-o", str(out), verbosity=0
    )
    log = ExportLog.objects.get()
    assert (log.user, log.via, log.rows) == (admin_user, "command", 1)
    assert log.filters == {"scope": "all teams", "team": "North Breast Unit (north)"}


def test_export_report_command_summary_logs_its_default_period(admin_user, tmp_path):
    out = tmp_path / "months.csv"
    call_command("export_report", "recurrences-by-month", "--by", admin_user.username, "-o", str(out), verbosity=0)
    start = TODAY.replace(month=1, day=1)
    assert ExportLog.objects.get().filters == {
        "scope": "all teams",
        "period": f"{start.isoformat()} to {TODAY.isoformat()} (default)",
    }


def test_export_report_command_has_the_access_of_the_user_given_with_by(nurse, patient, other_nurse, tmp_path):
    FollowUpItemFactory(patient=patient, due_on=days(-10))
    FollowUpItemFactory(patient=PatientFactory(team=other_nurse.team, named_nurse=other_nurse), due_on=days(-10))
    out = tmp_path / "items.csv"
    call_command("export_report", "follow-up-items", "--by", nurse.username, "-o", str(out), verbosity=0)
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert [row[0] for row in rows[1:]] == [patient.nhs_number]
    assert ExportLog.objects.get().filters == {"scope": "team North Breast Unit (north)"}
    with pytest.raises(CommandError, match="jo cannot export team north"):
        call_command("export_report", "follow-up-items", "--by", "jo", "--team", "north", "-o", str(out))


def test_export_report_command_needs_an_active_user_given_with_by(nurse, tmp_path):
    out = str(tmp_path / "x.csv")
    with pytest.raises(CommandError, match="--by"):
        call_command("export_report", "follow-up-items", "-o", out)
    with pytest.raises(CommandError, match="No active user 'nobody'"):
        call_command("export_report", "follow-up-items", "--by", "nobody", "-o", out)
    UserFactory(username="gone", team=nurse.team, is_active=False)
    with pytest.raises(CommandError, match="No active user 'gone'"):
        call_command("export_report", "follow-up-items", "--by", "gone", "-o", out)
    assert ExportLog.objects.count() == 0


# Reads in the admin site and refused requests are in the access log ---------------------


def access_rows(**filters) -> list[tuple]:
    fields = ("user__username", "patient", "action", "outcome", "object_type", "object_pk", "path")
    return list(AccessLog.objects.filter(**filters).order_by("pk").values_list(*fields))


def test_admin_change_page_of_a_patient_is_logged(client, admin_user, patient):
    client.force_login(admin_user)
    url = reverse("admin:followup_patient_change", args=[patient.pk])
    assert client.get(url).status_code == 200
    assert access_rows() == [
        ("chris", patient.pk, "view_in_admin", "viewed", "followup.patient", str(patient.pk), url),
    ]


@pytest.mark.parametrize(
    "make",
    [
        lambda patient: PrimaryDiagnosisFactory(patient=patient),
        lambda patient: FollowUpItemFactory(patient=patient),
        lambda patient: RecurrenceSiteFactory(recurrence__patient=patient),
        lambda patient: StagingTestFactory(episode__recurrence__patient=patient),
        lambda patient: StagingTestSite.objects.create(
            test=StagingTestFactory(episode__recurrence__patient=patient), site=c.Site.LIVER
        ),
        lambda patient: SymptomReportFactory(patient=patient),
    ],
    ids=["primary", "item", "recurrence-site", "staging-test", "staging-test-site", "symptom"],
)
def test_admin_change_page_of_a_clinical_row_is_logged_against_its_patient(make, client, admin_user, patient):
    row = make(patient)
    client.force_login(admin_user)
    url = reverse(f"admin:followup_{row._meta.model_name}_change", args=[row.pk])
    assert client.get(url).status_code == 200
    assert access_rows(object_type=row._meta.label_lower) == [
        ("chris", patient.pk, "view_in_admin", "viewed", row._meta.label_lower, str(row.pk), url),
    ]


def test_admin_change_page_of_a_missing_patient_is_logged_as_not_found(client, admin_user):
    client.force_login(admin_user)
    url = reverse("admin:followup_patient_change", args=[424242])
    client.get(url)
    assert access_rows() == [("chris", None, "view_in_admin", "not_found", "followup.patient", "424242", url)]


def test_a_refused_cross_team_patient_page_is_logged(client, other_nurse, patient):
    client.force_login(other_nurse)
    for name in ("patient_detail", "patient_history", "patient_edit"):
        assert client.get(reverse(f"followup:{name}", args=[patient.pk])).status_code == 404
    assert access_rows() == [
        ("jo", None, "request_record", "not_found", "followup.patient", str(patient.pk), url)
        for url in (
            f"/patients/{patient.pk}/",
            f"/patients/{patient.pk}/history/",
            f"/patients/{patient.pk}/edit/",
        )
    ]


def test_a_refused_cross_team_record_is_logged_with_what_was_asked_for(client, other_nurse, patient):
    item = FollowUpItemFactory(patient=patient, status=c.FollowUpStatus.DONE, done_on=days(-1), result="01")
    test = StagingTestFactory(episode__recurrence__patient=patient)
    client.force_login(other_nurse)
    urls = [
        reverse("followup:item_book", args=[item.pk]),
        reverse("followup:item_next_step", args=[item.pk]),
        reverse("followup:staging_result", args=[test.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 404
    assert client.post(urls[0], {"booked_for": days(3).isoformat()}).status_code == 404
    assert access_rows() == [
        ("jo", None, "request_record", "not_found", "followup.followupitem", str(item.pk), urls[0]),
        ("jo", None, "request_record", "not_found", "followup.followupitem", str(item.pk), urls[1]),
        ("jo", None, "request_record", "not_found", "followup.stagingtest", str(test.pk), urls[2]),
        ("jo", None, "request_record", "not_found", "followup.followupitem", str(item.pk), urls[0]),
    ]
    assert item.pk == FollowUpItem.objects.get(pk=item.pk).pk  # nothing else happened to it


def test_a_404_that_is_not_a_record_is_not_an_access_event(client, nurse):
    client.force_login(nurse)
    assert client.get(reverse("followup:worklist", args=["no-such-list"])).status_code == 404
    assert client.get("/no/such/page/").status_code == 404
    assert AccessLog.objects.count() == 0


def test_a_refused_request_costs_one_insert(client, other_nurse, patient, django_assert_num_queries):
    client.force_login(other_nurse)
    # session, user, the scoped fetch that finds nothing, the access-log INSERT
    with django_assert_num_queries(4):
        assert client.get(reverse("followup:patient_detail", args=[patient.pk])).status_code == 404


def test_access_log_in_the_admin_lists_refusals(client, admin_user, other_nurse, patient):
    client.force_login(other_nurse)
    client.get(reverse("followup:patient_detail", args=[patient.pk]))
    client.force_login(admin_user)
    response = client.get(reverse("admin:followup_accesslog_changelist"), {"outcome": "not_found"})
    page = response.content.decode()
    assert response.context["cl"].result_count == 1
    assert "Refused: not found" in page and f'<td class="field-asked_for">patient {patient.pk}</td>' in page


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL triggers")
def test_on_postgresql_refusal_rows_cannot_be_changed_or_deleted(client, other_nurse, patient):
    client.force_login(other_nurse)
    client.get(reverse("followup:patient_detail", args=[patient.pk]))
    for attempt in (
        lambda: AccessLog.objects.update(outcome="viewed"),
        lambda: AccessLog.objects.update(object_pk="1"),
        lambda: AccessLog.objects.update(patient=patient),
        lambda: AccessLog.objects.all().delete(),
    ):
        with pytest.raises(DatabaseError, match="cannot be changed or deleted"), transaction.atomic():
            attempt()
    assert access_rows()[0][:4] == ("jo", None, "request_record", "not_found")


# Login records are read-only in the admin; audit tables refuse TRUNCATE ----------------

AXES_MODELS = {
    "accessattempt": lambda: AccessAttempt.objects.create(
        username="alex", ip_address="10.0.0.1", user_agent="x", failures_since_start=3, attempt_time=timezone.now()
    ),
    "accesslog": lambda: AxesAccessLog.objects.create(username="alex", ip_address="10.0.0.1", user_agent="x"),
    "accessfailurelog": lambda: AccessFailureLog.objects.create(username="alex", ip_address="10.0.0.1", user_agent="x"),
}


@pytest.mark.parametrize("name", list(AXES_MODELS))
def test_login_records_can_be_listed_and_viewed_but_not_changed_or_deleted_in_the_admin(name, client, admin_user):
    row = AXES_MODELS[name]()
    client.force_login(admin_user)
    changelist = client.get(reverse(f"admin:axes_{name}_changelist"))
    assert changelist.status_code == 200
    assert changelist.context["action_form"] is None  # no "delete selected", no "clean up expired attempts"
    view = client.get(reverse(f"admin:axes_{name}_change", args=[row.pk]))
    assert view.status_code == 200 and not view.context["has_change_permission"]
    assert client.post(reverse(f"admin:axes_{name}_change", args=[row.pk]), {"username": "x"}).status_code == 403
    assert client.post(reverse(f"admin:axes_{name}_delete", args=[row.pk]), {"post": "yes"}).status_code == 403
    bulk = {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"}
    client.post(reverse(f"admin:axes_{name}_changelist"), bulk)
    assert type(row).objects.get(pk=row.pk).username == "alex"


def truncate_guarded_tables() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND t.tgtype & 32 = 32"  # TRIGGER_TYPE_TRUNCATE
        )
        return {name for (name,) in cursor.fetchall()}


def audit_tables() -> set[str]:
    # Every app's history tables (followup/migration_ops.py guards those of later apps).
    history = {model._meta.db_table for model in apps.get_models() if model.__name__.startswith("Historical")}
    return history | {
        "followup_accesslog",
        "followup_exportlog",
        "axes_accesslog",
        "axes_accessfailurelog",
        "integration_apirequest",
        "selfreport_codeattempt",
        "alerts_alertattempt",
        "accounts_securityevent",
    }


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL triggers")
def test_on_postgresql_every_audit_table_has_the_truncate_guard(db):
    assert truncate_guarded_tables() == audit_tables()
    # followup 12 (11 history), axes 2, contacts 1, GP practices 1, mdt 1, tasks 1, letters 2,
    # integration 4 (3 history and the API request log), selfreport 2 (the code's history and the attempt log),
    # alerts 1 (the attempt log), accounts 1 (the security events)
    assert len(audit_tables()) == 28


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL triggers")
def test_on_postgresql_audit_tables_cannot_be_truncated(patient, nurse, client):
    client.force_login(nurse)
    client.get(reverse("followup:patient_detail", args=[patient.pk]))
    with connection.cursor() as cursor:
        # The test's own inserts leave deferred foreign-key checks, which TRUNCATE would trip on first.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for table in sorted(audit_tables()) + ["followup_patient CASCADE"]:
        with (
            pytest.raises(DatabaseError, match="cannot be truncated"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(f"TRUNCATE {table}")
    assert AccessLog.objects.count() == 1
    assert Patient.history.filter(id=patient.pk).exists()


GRANT_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "grant-app-role.sql"


@pytest.fixture
def app_role(transactional_db):
    """The owner and app roles of docs/operations.md, made for this test (roles are server-wide:
    random names, dropped at the end), with scripts/grant-app-role.sql run as the docs say."""
    psql = shutil.which("psql") or pytest.skip("psql is not installed")
    owner, app = (f"followup_{kind}_test_{secrets.token_hex(4)}" for kind in ("owner", "app"))
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{owner}" NOLOGIN; CREATE ROLE "{app}" NOLOGIN')
    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    target = ["-h", db["HOST"] or "localhost", "-p", str(db["PORT"] or 5432), "-U", db["USER"], "-d", db["NAME"]]
    try:
        subprocess.run(
            [psql, "-X", "-q", *target, "-v", f"owner_role={owner}", "-v", f"app_role={app}", "-f", GRANT_SCRIPT],
            check=True,
            env=env,
            capture_output=True,
            timeout=60,
        )
        yield app
    finally:
        with connection.cursor() as cursor:
            for role in (app, owner):  # one at a time: both name the same default privileges
                cursor.execute(f'DROP OWNED BY "{role}"')
            cursor.execute(f'DROP ROLE "{app}"; DROP ROLE "{owner}"')


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL roles")
def test_on_postgresql_the_app_role_of_the_docs_runs_the_app_but_cannot_touch_the_audit_guards(
    app_role, client, nurse, patient
):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{app_role}"')
        client.force_login(nurse)
        assert client.get(reverse("followup:patient_detail", args=[patient.pk])).status_code == 200
        assert AccessLog.objects.filter(patient=patient).count() == 1
        for statement, refusal in (
            ("TRUNCATE followup_accesslog", "permission denied"),
            ("TRUNCATE followup_historicalpatient", "permission denied"),
            ("DROP TRIGGER followup_accesslog_no_truncate ON followup_accesslog", "must be owner"),
            ("ALTER TABLE followup_accesslog DISABLE TRIGGER ALL", "must be owner"),
            ("DELETE FROM followup_accesslog", "cannot be changed or deleted"),
        ):
            with pytest.raises(DatabaseError, match=refusal), transaction.atomic():
                cursor.execute(statement)
        cursor.execute("SELECT current_user")
        assert cursor.fetchone() == (app_role,)
    assert AccessLog.objects.filter(patient=patient).count() == 1


# An NHS number registered by another team: refused, logged, and limited per user ---------

ELSEWHERE = "A patient with this NHS number is already registered by another team. Contact an admin."


@pytest.fixture
def theirs(other_nurse):
    """Another team's patients: their NHS numbers are what a probe would fish for. (Numbers from
    beyond the factories' first 2,000 test numbers, so no factory-made patient holds them.)"""
    return [
        PatientFactory(team=other_nurse.team, named_nurse=other_nurse, nhs_number=number)
        for number in ("9434765919", "4010232137", "9990022038")
    ]


def register(client, nurse, nhs_number):
    return client.post(reverse("followup:patient_create"), new_patient(nurse, nhs_number=nhs_number))


def probe_rows() -> list[tuple]:
    fields = ("user__username", "patient", "action", "outcome", "nhs_number", "path")
    return list(AccessLog.objects.order_by("pk").values_list(*fields))


def test_registering_another_teams_nhs_number_is_refused_and_logged(client, nurse, theirs):
    client.force_login(nurse)
    response = register(client, nurse, "943 476 5919")
    assert error_beside(response, "nhs_number") == ELSEWHERE
    assert probe_rows() == [
        ("alex", theirs[0].pk, "check_nhs_number", "registered_elsewhere", "9434765919", "/patients/new/")
    ]
    assert Patient.objects.filter(team=nurse.team).count() == 0


def test_changing_a_patients_nhs_number_to_another_teams_is_refused_and_logged(client, nurse, patient, theirs):
    client.force_login(nurse)
    edit = reverse("followup:patient_edit", args=[patient.pk])
    data = new_patient(nurse, nhs_number="4010232137", version=patient.version)
    response = client.post(edit, data)
    assert error_beside(response, "nhs_number") == ELSEWHERE
    assert probe_rows() == [("alex", theirs[1].pk, "check_nhs_number", "registered_elsewhere", "4010232137", edit)]


def test_own_teams_duplicate_and_a_new_number_are_not_refusals(client, nurse, patient, theirs):
    client.force_login(nurse)
    assert error_beside(register(client, nurse, patient.nhs_number), "nhs_number").startswith(
        "A patient with this NHS number is already registered: "
    )
    assert register(client, nurse, "9990022046").status_code == 302
    assert AccessLog.objects.count() == 0


def test_nhs_number_check_pauses_after_the_limit_and_says_so_plainly(client, nurse, patient, theirs, settings):
    settings.REGISTERED_ELSEWHERE_LIMIT_PER_HOUR = 2
    client.force_login(nurse)
    for number in ("9434765919", "4010232137"):
        assert error_beside(register(client, nurse, number), "nhs_number") == ELSEWHERE
    first_refusal = AccessLog.objects.order_by("at").first().at
    resumes = timezone.localtime(first_refusal + timedelta(hours=1)).strftime("%H:%M")
    paused = (
        "You have entered 2 NHS numbers registered by another team in the last hour, so this check is paused "
        f"until {resumes}. Contact an admin to register this patient."
    )
    # Paused for every number, registered elsewhere or not at all: the message tells nothing about it.
    for number in ("9990022038", "9990022054"):
        assert error_beside(register(client, nurse, number), "nhs_number") == paused
    # A patient of one's own team is still found: the nurse can see them anyway.
    assert error_beside(register(client, nurse, patient.nhs_number), "nhs_number").startswith(
        "A patient with this NHS number is already registered: "
    )
    assert probe_rows() == [
        ("alex", theirs[0].pk, "check_nhs_number", "registered_elsewhere", "9434765919", "/patients/new/"),
        ("alex", theirs[1].pk, "check_nhs_number", "registered_elsewhere", "4010232137", "/patients/new/"),
        ("alex", None, "check_nhs_number", "check_paused", "9990022038", "/patients/new/"),
        ("alex", None, "check_nhs_number", "check_paused", "9990022054", "/patients/new/"),
    ]
    assert Patient.objects.filter(team=nurse.team).count() == 1


def test_nhs_number_check_counts_only_the_last_hour_and_only_this_user(client, nurse, theirs, settings):
    settings.REGISTERED_ELSEWHERE_LIMIT_PER_HOUR = 1
    colleague = UserFactory(username="priya", team=nurse.team)
    over_an_hour_ago = timezone.now() - timedelta(minutes=61)
    AccessLog.objects.create(
        user=nurse,
        patient=theirs[0],
        action="check_nhs_number",
        outcome="registered_elsewhere",
        nhs_number=theirs[0].nhs_number,
        path="/patients/new/",
        at=over_an_hour_ago,
    )
    client.force_login(nurse)
    assert error_beside(register(client, nurse, "4010232137"), "nhs_number") == ELSEWHERE
    client.force_login(colleague)
    assert error_beside(register(client, colleague, "9990022038"), "nhs_number") == ELSEWHERE
    assert [row[3] for row in probe_rows()] == ["registered_elsewhere"] * 3
