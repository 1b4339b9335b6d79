"""Reports and exports read from a replica when there is one; everything else stays on the primary.

How a replica exists in tests: the test process never has DATABASE_REPLICA_URL
(pyproject.toml blanks it), so there is only "default". The `replica_alias`
fixture adds a "replica" alias pointing at the test database, as the test
runner does for an alias declared with TEST MIRROR (clinic/settings.py), and
the router looks the alias up when a query runs, so it takes effect at once.
It is class-scoped so that the alias exists before pytest-django checks the
test's `databases`. The replica reads through its own connection, which only
sees committed rows: hence `transaction=True`.
"""

import csv
import io
import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from followup.db import REPLICA, ReportingRouter, report_db, reporting, reporting_active
from followup.models import ExportLog, Patient

from .factories import FollowUpItemFactory, PatientFactory

ROOT = Path(__file__).resolve().parent.parent
TODAY = timezone.localdate()
router = ReportingRouter()


def statements(queries) -> list[str]:
    """Each captured query as its verb and first table, e.g. "SELECT followup_patient".

    Transaction control (BEGIN, COMMIT, savepoints) is left out; a server-side
    cursor's DECLARE counts as the SELECT it runs.
    """
    found = []
    for query in queries:
        sql = re.sub(r"^DECLARE .*? CURSOR (?:WITH HOLD )?FOR ", "", query["sql"])
        verb = sql.split(None, 1)[0].upper()
        if verb not in {"SELECT", "INSERT", "UPDATE", "DELETE"}:
            continue
        found.append(f"{verb} {_main_table(sql)}")
    return found


def _main_table(sql: str) -> str:
    """The statement's own table: the first FROM, INTO or UPDATE outside parentheses, so a subquery
    in the select list (a worklist row's last contact, contacts.models.with_last_contact()) is not it."""
    depth = 0
    for token in re.finditer(r'[()]|\b(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', sql):
        if token.group(0) == "(":
            depth += 1
        elif token.group(0) == ")":
            depth -= 1
        elif depth == 0:
            return token.group(1)
    return ""


def writes(found: list[str]) -> list[str]:
    return [s for s in found if not s.startswith("SELECT")]


@pytest.fixture(scope="class")
def replica_alias(django_db_setup):
    default = connections[DEFAULT_DB_ALIAS].settings_dict  # the test database, once it exists
    connections.settings[REPLICA] = {**default, "TEST": {**default["TEST"], "MIRROR": DEFAULT_DB_ALIAS}}
    yield
    replica = connections[REPLICA]
    replica.close()
    if replica.connection is not None:  # SQLite ignores close() on an in-memory database
        replica.connection.close()
    del connections[REPLICA]
    del connections.settings[REPLICA]


@pytest.fixture
def late(nurse):
    """A follow-up item on the nurse's caseload, 60 days overdue (committed: the replica sees it)."""
    return FollowUpItemFactory(patient=PatientFactory(team=nurse.team, named_nurse=nurse), due_on=TODAY - timedelta(60))


def fetch(client, url, **params):
    """GET, reading a streamed body to the end, as the server would after the view has returned."""
    response = client.get(url, params)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def on_each_database(client, url, **params):
    with CaptureQueriesContext(connection) as primary, CaptureQueriesContext(connections[REPLICA]) as replica:
        response, body = fetch(client, url, **params)
    return response, body, statements(primary.captured_queries), statements(replica.captured_queries)


LINE_LIST = reverse("followup:report_line_list", args=["follow-up-items"])
SUMMARY = reverse("followup:report_summary", args=["caseload"])
WORKLIST = reverse("followup:worklist", args=["overdue"])


@pytest.mark.usefixtures("replica_alias")
@pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA])
class TestWithAReplica:
    def test_router_reads_the_replica_only_inside_reporting(self):
        assert (router.db_for_read(Patient), report_db()) == (DEFAULT_DB_ALIAS, DEFAULT_DB_ALIAS)
        with reporting():
            assert (router.db_for_read(Patient), report_db()) == (REPLICA, REPLICA)
            assert router.db_for_write(Patient) == DEFAULT_DB_ALIAS
            with reporting(False):
                assert router.db_for_read(Patient) == DEFAULT_DB_ALIAS
            assert router.db_for_read(Patient) == REPLICA
        assert router.db_for_read(Patient) == DEFAULT_DB_ALIAS

    def test_line_list_page_reads_the_replica(self, client, nurse, late):
        client.force_login(nurse)
        response, body, primary, replica = on_each_database(client, LINE_LIST)
        assert response.status_code == 200
        assert late.patient.nhs_number_display in body.decode()
        # The primary: only the session and the signed-in user, read before the view.
        assert primary == ["SELECT django_session", "SELECT followup_user"]
        # The replica: the nurse filter's choices, the count, the page of rows.
        assert replica == ["SELECT followup_user", "SELECT followup_followupitem", "SELECT followup_followupitem"]
        assert not reporting_active()

    @pytest.mark.parametrize("fmt", ["csv", "xlsx"])
    def test_line_list_download_reads_the_replica_and_logs_on_the_primary(self, client, nurse, late, fmt):
        client.force_login(nurse)
        response, body, primary, replica = on_each_database(client, LINE_LIST, export=fmt)
        assert response.status_code == 200
        assert primary == [
            "SELECT django_session",
            "SELECT followup_user",
            "INSERT followup_exportlog",
            "UPDATE followup_exportlog",
        ]
        assert replica == ["SELECT followup_user", "SELECT followup_followupitem"]
        assert list(ExportLog.objects.values_list("report", "format", "rows")) == [("follow-up-items", fmt, 1)]

    def test_csv_stream_reads_the_replica_after_the_view_has_returned(self, client, nurse, late):
        client.force_login(nurse)
        response = client.get(LINE_LIST, {"export": "csv"})
        # The view is over and its reporting() with it; the rows are not read yet.
        assert not reporting_active()
        with CaptureQueriesContext(connection) as primary, CaptureQueriesContext(connections[REPLICA]) as replica:
            content = b"".join(response.streaming_content).decode("utf-8-sig")
        assert statements(replica.captured_queries) == ["SELECT followup_followupitem"]
        # PITFALLS.md: outside a transaction on its own connection PostgreSQL would hold the whole result first.
        assert not any("WITH HOLD" in q["sql"] for q in replica.captured_queries)
        # The stream's transaction is the replica's: the primary saw no BEGIN, only the log's row count.
        assert [q["sql"].split()[0] for q in primary.captured_queries] == ["UPDATE"]
        rows = list(csv.reader(io.StringIO(content)))
        assert [row[0] for row in rows[1:]] == [late.patient.nhs_number]
        assert not reporting_active()

    @pytest.mark.parametrize("fmt", [None, "csv"])
    def test_summary_reads_the_replica(self, client, nurse, late, fmt):
        client.force_login(nurse)
        params = {"export": fmt} if fmt else {}
        response, body, primary, replica = on_each_database(client, SUMMARY, **params)
        assert response.status_code == 200
        # The primary: the session and the user before the view, and the export log if a download.
        assert [s for s in primary if s.startswith("SELECT")] == ["SELECT django_session", "SELECT followup_user"]
        assert writes(primary) == (["INSERT followup_exportlog", "UPDATE followup_exportlog"] if fmt else [])
        # The replica: the summary's counts (one query per measure).
        assert "SELECT followup_patient" in replica
        assert writes(replica) == []

    @pytest.mark.parametrize("fmt", ["csv", "xlsx"])
    def test_worklist_download_rows_come_from_the_replica(self, client, nurse, late, fmt):
        client.force_login(nurse)
        response, body, primary, replica = on_each_database(client, WORKLIST, export=fmt)
        assert response.status_code == 200
        # Only the download's rows move; the filter and page handling before it stay on the primary.
        assert replica == ["SELECT followup_followupitem"]
        assert writes(primary) == ["INSERT followup_exportlog", "UPDATE followup_exportlog"]
        assert ExportLog.objects.get().rows == 1

    @pytest.mark.parametrize("page", ["worklist", "patient", "dashboard", "patients"])
    def test_screens_outside_reports_read_only_the_primary(self, client, nurse, late, page):
        url = {
            "worklist": WORKLIST,
            "patient": reverse("followup:patient_detail", args=[late.patient.pk]),
            "dashboard": reverse("followup:dashboard"),
            "patients": reverse("followup:patient_list"),
        }[page]
        client.force_login(nurse)
        response, body, primary, replica = on_each_database(client, url)
        assert response.status_code == 200
        assert page == "dashboard" or late.patient.nhs_number_display in body.decode()
        assert replica == []
        assert "SELECT followup_user" in primary

    def test_export_report_command_reads_the_replica_and_logs_on_the_primary(self, nurse, late, tmp_path):
        output = tmp_path / "items.csv"
        with CaptureQueriesContext(connection) as primary, CaptureQueriesContext(connections[REPLICA]) as replica:
            call_command(
                "export_report",
                "follow-up-items",
                "--by",
                nurse.username,
                "--team",
                nurse.team.code,
                "-o",
                str(output),
                verbosity=0,
            )
        assert statements(replica.captured_queries) == [
            "SELECT followup_user",
            "SELECT followup_team",
            "SELECT followup_followupitem",
        ]
        assert statements(primary.captured_queries) == ["INSERT followup_exportlog", "UPDATE followup_exportlog"]
        rows = list(csv.reader(io.StringIO(output.read_text(encoding="utf-8-sig"))))
        assert [row[0] for row in rows[1:]] == [late.patient.nhs_number]
        assert not reporting_active()


# Without a replica -------------------------------------------------------------------


def test_without_a_replica_there_is_no_replica_alias():
    assert list(connections) == [DEFAULT_DB_ALIAS]
    with reporting():
        assert (router.db_for_read(Patient), report_db()) == (DEFAULT_DB_ALIAS, DEFAULT_DB_ALIAS)


def test_without_a_replica_a_download_reads_and_writes_the_primary(client, nurse, late):
    client.force_login(nurse)
    with CaptureQueriesContext(connection) as primary:
        response, body = fetch(client, LINE_LIST, export="csv")
    assert statements(primary.captured_queries) == [
        "SELECT django_session",
        "SELECT followup_user",
        "SELECT followup_user",
        "INSERT followup_exportlog",
        "SELECT followup_followupitem",
        "UPDATE followup_exportlog",
    ]
    assert body.decode("utf-8-sig").count("\n") == 2


def test_writes_and_migrations_go_to_the_primary_only():
    with reporting():
        assert router.db_for_write(ExportLog) == DEFAULT_DB_ALIAS
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "followup") is True
    assert router.allow_migrate(REPLICA, "followup") is False
    assert router.allow_migrate(REPLICA, "sessions", model_name="session") is False
    assert router.allow_relation(object(), object()) is True


# The settings: DATABASE_REPLICA_URL, DISABLE_SERVER_SIDE_CURSORS ---------------------------


def database_settings(**env) -> dict:
    """DATABASES and DATABASE_ROUTERS as a fresh interpreter loads them from this environment."""
    ours = {
        "SECRET_KEY",
        "DEBUG",
        "DATABASE_URL",
        "DATABASE_REPLICA_URL",
        "DISABLE_SERVER_SIDE_CURSORS",
        "DATABASE_PARALLEL_WORKERS",
        "DATABASE_JIT",
        "DATABASE_RANDOM_PAGE_COST",
        "DATABASE_SESSION_SETTINGS",
    }
    clean = {k: v for k, v in os.environ.items() if k not in ours}
    clean.update({"SECRET_KEY": "x" * 50, **env})
    code = "import json, clinic.settings as s; print(json.dumps([s.DATABASES, s.DATABASE_ROUTERS], default=str))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    databases, routers = json.loads(result.stdout)
    return {"databases": databases, "routers": routers}


def test_replica_url_adds_a_replica_alias_that_tests_mirror():
    loaded = database_settings(
        DATABASE_URL="postgres://followup:secret@primary.example:5432/followup",
        DATABASE_REPLICA_URL="postgres://reader:secret@replica.example:5432/followup",
    )
    assert list(loaded["databases"]) == [DEFAULT_DB_ALIAS, REPLICA]
    replica = loaded["databases"][REPLICA]
    assert {key: replica[key] for key in ("ENGINE", "HOST", "PORT", "NAME", "USER", "TEST")} == {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": "replica.example",
        "PORT": 5432,
        "NAME": "followup",
        "USER": "reader",
        "TEST": {"MIRROR": DEFAULT_DB_ALIAS},
    }
    assert (replica["CONN_MAX_AGE"], replica["CONN_HEALTH_CHECKS"]) == (60, True)
    assert loaded["routers"] == ["followup.db.ReportingRouter"]


@pytest.mark.parametrize("value", [None, ""])
def test_no_replica_url_no_replica_alias(value):
    env = {} if value is None else {"DATABASE_REPLICA_URL": value}
    loaded = database_settings(DATABASE_URL="postgres://followup@primary.example:5432/followup", **env)
    assert list(loaded["databases"]) == [DEFAULT_DB_ALIAS]
    assert loaded["routers"] == ["followup.db.ReportingRouter"]


@pytest.mark.parametrize(("value", "expected"), [(None, False), ("0", False), ("1", True)])
def test_disable_server_side_cursors_from_the_environment(value, expected):
    env = {} if value is None else {"DISABLE_SERVER_SIDE_CURSORS": value}
    loaded = database_settings(
        DATABASE_URL="postgres://followup@pgbouncer.example:6432/followup",
        DATABASE_REPLICA_URL="postgres://reader@pgbouncer.example:6432/followup_replica",
        **env,
    )
    flags = [db["DISABLE_SERVER_SIDE_CURSORS"] for db in loaded["databases"].values()]
    assert flags == [expected, expected]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "-c jit=off -c random_page_cost=1.1"),
        ("", "-c jit=off -c random_page_cost=1.1"),
        ("0", "-c max_parallel_workers_per_gather=0 -c jit=off -c random_page_cost=1.1"),
        ("2", "-c max_parallel_workers_per_gather=2 -c jit=off -c random_page_cost=1.1"),
    ],
)
def test_parallel_workers_for_the_pages_from_the_environment(value, expected):
    """DATABASE_PARALLEL_WORKERS sets the primary's connections only; a replica keeps its server's setting."""
    env = {} if value is None else {"DATABASE_PARALLEL_WORKERS": value}
    loaded = database_settings(
        DATABASE_URL="postgres://followup@primary.example:5432/followup",
        DATABASE_REPLICA_URL="postgres://reader@replica.example:5432/followup",
        **env,
    )
    assert loaded["databases"][DEFAULT_DB_ALIAS].get("OPTIONS", {}).get("options") == expected
    assert "options" not in loaded["databases"][REPLICA].get("OPTIONS", {})


def test_parallel_workers_must_be_a_number():
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DATABASE_PARALLEL_WORKERS"}}
    clean.update(SECRET_KEY="x" * 50, DATABASE_URL="postgres://f@h/f", DATABASE_PARALLEL_WORKERS="none")
    result = subprocess.run(
        [sys.executable, "-c", "import clinic.settings"], cwd=ROOT, env=clean, capture_output=True, text=True
    )
    assert "DATABASE_PARALLEL_WORKERS must be a whole number" in result.stderr


def test_parallel_workers_keep_the_options_the_url_gave():
    loaded = database_settings(
        DATABASE_URL="postgres://followup@primary.example:5432/followup?options=-c%20statement_timeout%3D30000",
        DATABASE_PARALLEL_WORKERS="0",
    )
    options = loaded["databases"][DEFAULT_DB_ALIAS]["OPTIONS"]["options"]
    assert (
        options == "-c statement_timeout=30000 -c max_parallel_workers_per_gather=0 -c jit=off -c random_page_cost=1.1"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "-c jit=off -c random_page_cost=1.1"),
        ("0", "-c jit=off -c random_page_cost=1.1"),
        ("1", "-c random_page_cost=1.1"),
    ],
)
def test_postgresql_jit_is_off_unless_database_jit_is_set(value, expected):
    """JIT compiled millisecond queries for seconds (docs/performance.md): off for the primary's connections."""
    env = {} if value is None else {"DATABASE_JIT": value}
    loaded = database_settings(DATABASE_URL="postgres://followup@primary.example:5432/followup", **env)
    assert loaded["databases"][DEFAULT_DB_ALIAS].get("OPTIONS", {}).get("options") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "-c jit=off -c random_page_cost=1.1"), ("4", "-c jit=off -c random_page_cost=4.0"), ("", "-c jit=off")],
)
def test_random_page_cost_for_tables_in_memory_unless_set(value, expected):
    """1.1 by default (the tables fit in memory, docs/performance.md); empty: the server's own setting."""
    env = {} if value is None else {"DATABASE_RANDOM_PAGE_COST": value}
    loaded = database_settings(DATABASE_URL="postgres://followup@primary.example:5432/followup", **env)
    assert loaded["databases"][DEFAULT_DB_ALIAS]["OPTIONS"]["options"] == expected


def test_random_page_cost_must_be_a_number():
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DATABASE_RANDOM_PAGE_COST"}}
    clean.update(SECRET_KEY="x" * 50, DATABASE_URL="postgres://f@h/f", DATABASE_RANDOM_PAGE_COST="fast")
    code = "import clinic.settings"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True)
    assert result.returncode != 0
    assert "DATABASE_RANDOM_PAGE_COST must be a number above 0 (such as 1.1), not 'fast'." in result.stderr


def test_session_settings_can_be_left_to_the_database_for_a_pooler():
    """DATABASE_SESSION_SETTINGS=0: no startup options at all (pgbouncer refuses them), the URL's own kept."""
    loaded = database_settings(
        DATABASE_URL="postgres://followup@primary.example:5432/followup", DATABASE_SESSION_SETTINGS="0"
    )
    assert "options" not in loaded["databases"][DEFAULT_DB_ALIAS].get("OPTIONS", {})
