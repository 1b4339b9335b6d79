"""Downloads: the same rows in CSV and XLSX, formula-safe, logged, scoped, and flat in queries."""

import csv
import io
from datetime import date, datetime, timedelta

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from followup import choices as c
from followup.exports import neutralise
from followup.models import ExportLog, FollowUpItem
from followup.reports import LINE_LISTS, SUMMARIES
from followup.worklists import WORKLISTS

from .factories import FollowUpItemFactory, PatientFactory, RecurrenceSiteFactory, SymptomReportFactory

TODAY = timezone.localdate()


def days(n):
    return TODAY + timedelta(days=n)


def read_csv(response) -> list[list[str]]:
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(content)))


def read_xlsx(response) -> list[list]:
    content = b"".join(response.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    return [list(row) for row in sheet.iter_rows()]


def xlsx_as_text(rows) -> list[list[str]]:
    """XLSX cells as the CSV writes them: ISO dates, empty for None."""

    def text(cell):
        value = cell.value
        if value is None:
            return ""
        if isinstance(value, datetime):
            return value.isoformat(timespec="minutes") if "hh:mm" in cell.number_format else value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        return str(value)

    return [[text(cell) for cell in row] for row in rows]


def line_list(client, slug, fmt=None, **params):
    if fmt:
        params["export"] = fmt
    return client.get(reverse("followup:report_line_list", args=[slug]), params)


@pytest.mark.parametrize("value", ["=1+1", "+44 7700", "-2", "@SUM(A1)", "\tcmd", "\rcmd"])
def test_formula_triggers_are_neutralised(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", [-2, 3.5, date(2026, 1, 2), "Smith", "", None, "a=b"])
def test_numbers_dates_and_plain_text_are_left_alone(value):
    assert neutralise(value) == value


@pytest.fixture
def risky(nurse):
    """A patient whose data starts with every formula trigger."""
    patient = PatientFactory(
        team=nurse.team,
        named_nurse=nurse,
        family_name='=HYPERLINK("http://x")',
        given_name="+Jane",
        hospital_number="@H1",
    )
    FollowUpItemFactory(patient=patient, due_on=days(-30), status=c.FollowUpStatus.CANCELLED, cancel_reason="-moved")
    FollowUpItemFactory(patient=patient, due_on=days(-3), status=c.FollowUpStatus.DONE, done_on=days(-1), result="02")
    return patient


def test_csv_and_xlsx_hold_the_same_rows(client, nurse, risky):
    client.force_login(nurse)
    csv_rows = read_csv(line_list(client, "follow-up-items", "csv"))
    xlsx_rows = read_xlsx(line_list(client, "follow-up-items", "xlsx"))

    assert csv_rows[0] == LINE_LISTS["follow-up-items"].headers
    assert xlsx_as_text(xlsx_rows) == csv_rows
    assert len(csv_rows) == 3
    first = dict(zip(csv_rows[0], csv_rows[1], strict=True))
    assert first["NHS number"] == risky.nhs_number
    assert first["Family name"] == '\'=HYPERLINK("http://x")'
    assert (first["Given name"], first["Hospital number"], first["Cancelled because"]) == ("'+Jane", "'@H1", "'-moved")
    assert first["Due"] == days(-30).isoformat()


def test_no_cell_starts_with_a_trigger_and_none_is_a_formula(client, nurse, risky):
    client.force_login(nurse)
    for row in read_csv(line_list(client, "follow-up-items", "csv"))[1:]:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row), row
    for row in read_xlsx(line_list(client, "follow-up-items", "xlsx")):
        for cell in row:
            assert cell.data_type != "f"
            assert not (isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@", "\t", "\r")))


def test_xlsx_keeps_nhs_numbers_as_text_and_dates_as_dates(client, nurse, risky):
    client.force_login(nurse)
    header, row = read_xlsx(line_list(client, "follow-up-items", "xlsx"))[:2]
    cells = dict(zip([h.value for h in header], row, strict=True))
    assert (cells["NHS number"].value, cells["NHS number"].data_type) == (risky.nhs_number, "s")
    assert cells["Due"].value.date() == days(-30)
    assert cells["Due"].number_format == "yyyy-mm-dd"


def test_every_export_is_logged(client, nurse, risky):
    client.force_login(nurse)
    read_csv(line_list(client, "follow-up-items", "csv", nurse="all", period_after=days(-60).isoformat()))
    log = ExportLog.objects.get()
    assert (log.user, log.report, log.format, log.rows, log.via) == (nurse, "follow-up-items", "csv", 2, "web")
    assert log.filters == {"nurse": "all", "period_after": days(-60).isoformat()}
    assert log.finished_at is not None


def test_export_of_filtered_rows_only(client, nurse, risky):
    client.force_login(nurse)
    rows = read_csv(line_list(client, "follow-up-items", "csv", period_after=days(-10).isoformat()))
    assert [row[rows[0].index("Status")] for row in rows[1:]] == ["Done"]


def test_worklist_download_is_exactly_the_filtered_list(client, nurse):
    client.force_login(nurse)
    late = FollowUpItemFactory(patient=PatientFactory(team=nurse.team, named_nurse=nurse), due_on=days(-60))
    FollowUpItemFactory(
        patient=PatientFactory(team=nurse.team, named_nurse=nurse), due_on=days(-30), kind=c.FollowUpKind.CLINIC_REVIEW
    )
    url = reverse("followup:worklist", args=["overdue"])
    rows = read_csv(client.get(url, {"kind": c.FollowUpKind.MAMMOGRAM, "export": "csv"}))
    assert rows[0][:5] == ["Patient", "NHS number", "Named nurse", "Follow-up", "Due"]
    assert "Action" not in rows[0]
    assert [r[1] for r in rows[1:]] == [late.patient.nhs_number_display]
    xlsx = xlsx_as_text(read_xlsx(client.get(url, {"kind": c.FollowUpKind.MAMMOGRAM, "export": "xlsx"})))
    assert len(xlsx) == 2 and xlsx[1][1] == late.patient.nhs_number_display


def test_bad_export_format_shows_the_page(client, nurse):
    client.force_login(nurse)
    response = line_list(client, "follow-up-items", "pdf")
    assert response.status_code == 200 and "text/html" in response["Content-Type"]
    assert ExportLog.objects.count() == 0


# Access: no export reaches another team's rows -------------------------------------


@pytest.fixture
def other_teams_patient(other_nurse):
    patient = PatientFactory(
        team=other_nurse.team, named_nurse=other_nurse, family_name="Faraway", nhs_number="9434765919"
    )
    FollowUpItemFactory(patient=patient, due_on=days(-60))
    FollowUpItemFactory(patient=patient, status=c.FollowUpStatus.DONE, done_on=days(-1), result="01")
    RecurrenceSiteFactory(recurrence__patient=patient)
    SymptomReportFactory(patient=patient)
    return patient


def test_no_export_gives_a_nurse_another_teams_rows(client, nurse, other_teams_patient):
    client.force_login(nurse)
    urls = [reverse("followup:report_line_list", args=[slug]) for slug in LINE_LISTS]
    urls += [reverse("followup:report_summary", args=[slug]) for slug in SUMMARIES]
    urls += [reverse("followup:worklist", args=[slug]) for slug in WORKLISTS]
    for url in urls:
        for fmt in ("csv", "xlsx"):
            response = client.get(url, {"export": fmt, "nurse": "all"})
            content = b"".join(response.streaming_content) if response.streaming else response.content
            if fmt == "xlsx":
                sheet = openpyxl.load_workbook(io.BytesIO(content)).active
                content = repr(list(sheet.values)).encode()
            assert b"Faraway" not in content and b"9434765919" not in content, (url, fmt)


def test_a_nurse_cannot_pick_another_team(client, nurse, other_teams_patient):
    client.force_login(nurse)
    response = line_list(client, "follow-up-items", "csv", team=other_teams_patient.team.pk)
    rows = read_csv(response)
    assert rows == [LINE_LISTS["follow-up-items"].headers]


# Scale: queries do not grow with the rows -------------------------------------------


def _export_query_count(client, fmt="csv"):
    with CaptureQueriesContext(connection) as queries:
        response = line_list(client, "follow-up-items", fmt, nurse="all")
        content = b"".join(response.streaming_content)
    return len(queries), content


@pytest.mark.django_db(transaction=True)
def test_export_of_50000_rows_runs_the_same_queries_as_of_3(client, nurse):
    patient = PatientFactory(team=nurse.team, named_nurse=nurse)
    client.force_login(nurse)
    FollowUpItem.objects.bulk_create(
        [
            FollowUpItem(patient=patient, kind="mammogram", due_on=days(-i % 3000), created_by=nurse, updated_by=nurse)
            for i in range(3)
        ]
    )
    small, _ = _export_query_count(client)
    FollowUpItem.objects.bulk_create(
        [
            FollowUpItem(patient=patient, kind="mammogram", due_on=days(-i % 3000), created_by=nurse, updated_by=nurse)
            for i in range(49_997)
        ],
        batch_size=5000,
    )
    large, content = _export_query_count(client)
    # session, user, nurse choices, log insert, the rows (one cursor), log update; plus the
    # transaction's savepoint statements where the database reports them.
    assert large == small
    assert content.count(b"\n") == 50_001
    assert ExportLog.objects.order_by("-pk").first().rows == 50_000
