"""Downloads: the same rows in CSV and XLSX, formula-safe, logged, scoped, and flat in queries."""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from followup import choices as c
from followup.exports import (
    FORMULA_TRIGGERS,
    WRITTEN_AS_IS,
    ColumnBatches,
    as_text,
    csv_lines,
    neutralise,
    write_csv,
)
from followup.models import ExportLog, FollowUpItem, StagingTestSite
from followup.reports import LINE_LISTS, SUMMARIES
from followup.worklists import WORKLISTS

from .factories import (
    FollowUpItemFactory,
    PatientFactory,
    RecurrenceSiteFactory,
    RestagingEpisodeFactory,
    StagingTestFactory,
    SymptomReportFactory,
)

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
    assert log.filters == {
        "scope": "team North Breast Unit (north)",
        "nurse": "anyone",
        "period": f"from {days(-60).isoformat()}",
    }
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
    # The 10 digits, as the report downloads write them (issue 12).
    assert [r[1] for r in rows[1:]] == [late.patient.nhs_number]
    xlsx = xlsx_as_text(read_xlsx(client.get(url, {"kind": c.FollowUpKind.MAMMOGRAM, "export": "xlsx"})))
    assert len(xlsx) == 2 and xlsx[1][1] == late.patient.nhs_number


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


# Batches: the same file as writing each cell with as_text(), row by row ------------------


def cell_by_cell(headers, rows) -> str:
    """The CSV as it was written before batching: as_text() on every cell, one writerow() per row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([as_text(value) for value in row])
    return "\ufeff" + buffer.getvalue()


def joined(headers, rows, **kwargs) -> str:
    return "".join(csv_lines(headers, rows, **kwargs))


MIXED_HEADERS = ["Text", "Date", "When", "Amount", "Flag", "Number", "Note"]
# Columns that are clean in one batch of two and not in the next: formulas, dates and
# datetimes (summer and winter, aware and naive), None, booleans, numbers, empty text.
MIXED = [
    ("plain", date(2026, 1, 2), None, None, True, 7, "Smith"),
    ("a=b", date(2026, 1, 3), None, None, False, -2, ""),
    ("=1+1", date(2026, 1, 4), datetime(2026, 6, 1, 23, 30, tzinfo=UTC), Decimal("1.50"), None, 3.5, "-moved"),
    ("Smith, Jr", None, datetime(2026, 1, 1, 9, 5, tzinfo=UTC), Decimal("-2"), True, 0, 'say "hi"'),
    ("@SUM(A1)", date(2026, 1, 6), datetime(2026, 1, 1, 9, 5), None, False, 10**12, "\tcmd"),
    ("line\nbreak", date(2026, 1, 7), None, Decimal("0.1"), None, 1e20, "+44 7700"),
    ("", None, None, None, None, None, None),
]


@pytest.mark.parametrize("batch_size", [1, 2, 3, 1000])
def test_batched_csv_is_the_cell_by_cell_csv(batch_size):
    expected = cell_by_cell(MIXED_HEADERS, MIXED)
    assert joined(MIXED_HEADERS, MIXED, batch_size=batch_size) == expected
    assert joined(MIXED_HEADERS, iter(MIXED), batch_size=batch_size) == expected
    as_columns = ColumnBatches(
        [list(column) for column in zip(*MIXED[i : i + batch_size], strict=True)]
        for i in range(0, len(MIXED), batch_size)
    )
    assert joined(MIXED_HEADERS, as_columns) == expected


def test_batched_csv_cells_are_as_before():
    rows = list(csv.reader(io.StringIO(joined(MIXED_HEADERS, MIXED, batch_size=2).removeprefix("\ufeff"))))
    assert rows[0] == MIXED_HEADERS
    assert rows[1] == ["plain", "2026-01-02", "", "", "Yes", "7", "Smith"]
    # Local time: 23:30 UTC in June is 00:30 the next day in London; a naive time is left as it is.
    assert rows[3] == ["'=1+1", "2026-01-04", "2026-06-02T00:30", "1.50", "", "3.5", "'-moved"]
    assert rows[4] == ["Smith, Jr", "", "2026-01-01T09:05", "-2", "Yes", "0", 'say "hi"']
    assert rows[5] == ["'@SUM(A1)", "2026-01-06", "2026-01-01T09:05", "", "No", "1000000000000", "'\tcmd"]
    assert rows[6] == ["line\nbreak", "2026-01-07", "", "0.1", "", "1e+20", "'+44 7700"]
    assert rows[7] == [""] * 7


@pytest.mark.parametrize(
    "value", [None, 0, -2, 10**20, 3.5, -0.25, 1e20, float("nan"), Decimal("-1.50"), date(2026, 1, 2)]
)
def test_csv_writer_writes_the_types_left_to_it_as_as_text_would(value):
    assert type(value) in WRITTEN_AS_IS

    def line(cell):
        buffer = io.StringIO()
        csv.writer(buffer).writerow([cell, "x"])
        return buffer.getvalue()

    assert line(value) == line(as_text(value))


def test_booleans_and_datetimes_are_not_left_to_the_csv_writer():
    # A bool is an int and a datetime a date, but as_text() writes them its own way.
    assert not {bool, datetime} & WRITTEN_AS_IS


def test_ragged_rows_are_written_cell_by_cell():
    rows = [(1, "=a"), (2,), (), (3, "b", date(2026, 1, 2))]
    assert joined(["A", "B"], rows, batch_size=2) == cell_by_cell(["A", "B"], rows)


def test_row_count_is_returned_across_batches(tmp_path):
    pieces = csv_lines(MIXED_HEADERS, MIXED, batch_size=3)
    assert [next(pieces) for _ in range(4)][0].startswith("\ufeffText,Date")  # header, then 3 + 3 + 1 rows
    with pytest.raises(StopIteration) as end:
        next(pieces)
    assert end.value.value == len(MIXED)
    with open(tmp_path / "mixed.csv", "w", newline="", encoding="utf-8") as handle:
        assert write_csv(handle, MIXED_HEADERS, MIXED) == len(MIXED)
    with open(tmp_path / "mixed.csv", newline="", encoding="utf-8") as handle:
        assert handle.read() == cell_by_cell(MIXED_HEADERS, MIXED)


@pytest.fixture
def every_line_list(nurse, risky):
    """At least two rows in each line list, with empty and filled values, across more than one chunk."""
    FollowUpItemFactory(
        patient=risky,
        due_on=days(-5),
        status=c.FollowUpStatus.DONE,
        done_on=days(-4),
        result=c.ImagingOutcome.ABNORMAL,
        result_acknowledged_by=nurse,
        result_acknowledged_at=timezone.now(),
    )
    RecurrenceSiteFactory(recurrence__patient=risky, recurrence__diagnosed_on=days(-40))
    RecurrenceSiteFactory(
        recurrence__patient=risky,
        recurrence__diagnosed_on=days(-20),
        recurrence__metastatic_type=c.MetastaticType.DISTANT,
        site=c.Site.OTHER,
        other_site_text="=odd",
    )
    closed = RestagingEpisodeFactory(
        recurrence__patient=risky,
        recurrence__diagnosed_on=days(-60),
        outcome=c.RestagingOutcome.DISTANT,
        closed_on=days(-30),
    )
    RestagingEpisodeFactory(recurrence__patient=risky, recurrence__diagnosed_on=days(-3))
    test = StagingTestFactory(
        episode=closed, performed_on=days(-50), reported_on=days(-45), result=c.StagingResult.DISTANT
    )
    StagingTestSite.objects.create(test=test, site=c.Site.LIVER)
    StagingTestSite.objects.create(test=test, site=c.Site.BONE)
    StagingTestFactory(episode=closed)
    SymptomReportFactory(patient=risky, reported_on=days(-2), onset_on=days(-9))
    SymptomReportFactory(
        patient=risky,
        reported_on=days(-1),
        red_flag=c.RedFlag.CORD_COMPRESSION,
        triage_outcome=c.TriageOutcome.URGENT,
        triaged_by=nurse,
        triaged_at=timezone.now(),
    )


@pytest.mark.parametrize("slug", list(LINE_LISTS))
def test_line_list_rows_are_each_columns_value(every_line_list, slug):
    """rows() works a chunk a column at a time: the same cells as Col.value() on each values() row."""
    report = LINE_LISTS[slug]
    values = report.values(report.base())
    expected = [tuple(col.value(row) for col in report.columns) for row in values]
    assert len(expected) >= 2
    rows = report.rows(values, chunk_size=1)
    assert isinstance(rows, ColumnBatches)
    assert list(rows) == expected
    assert joined(report.headers, report.rows(values, chunk_size=1)) == cell_by_cell(report.headers, expected)


def test_a_download_of_several_chunks_is_the_cell_by_cell_file_and_logged(client, nurse):
    """4,500 rows: three chunks of the server-side cursor, each one piece of the stream."""
    patients = [
        PatientFactory(team=nurse.team, named_nurse=nurse, family_name=name, given_name=given)
        for name, given in [('=HYPERLINK("x")', "+Jane"), ("O'Brien", "Ann"), ("Smith, Jr", "-")]
    ]
    acknowledged = datetime(2026, 6, 1, 23, 30, tzinfo=UTC)

    def item(i):
        fields = {"patient": patients[i % 3], "kind": c.FollowUpKind.MAMMOGRAM, "due_on": days(-(i % 900))}
        if i % 7 == 0:
            fields.update(status=c.FollowUpStatus.CANCELLED, cancel_reason=["=cmd", "moved", "-x"][i % 3])
        elif i % 5 == 0:
            fields.update(
                status=c.FollowUpStatus.DONE,
                done_on=days(-(i % 900)),
                result=c.ImagingOutcome.NORMAL,
                result_recorded_on=days(-(i % 900)),
            )
            if i % 10 == 0:
                fields.update(result_acknowledged_by=nurse, result_acknowledged_at=acknowledged + timedelta(hours=i))
        return FollowUpItem(created_by=nurse, updated_by=nurse, **fields)

    FollowUpItem.objects.bulk_create([item(i) for i in range(4500)], batch_size=1000)
    report = LINE_LISTS["follow-up-items"]
    values = report.values(report.base().visible_to(nurse))
    expected = cell_by_cell(report.headers, [tuple(col.value(row) for col in report.columns) for row in values])

    client.force_login(nurse)
    pieces = list(line_list(client, "follow-up-items", "csv", nurse="all").streaming_content)

    assert len(pieces) == 1 + 3  # the header, then one piece a chunk of 2,000 rows
    assert b"".join(pieces).decode("utf-8") == expected
    log = ExportLog.objects.get()
    assert (log.rows, log.format) == (4500, "csv")


def test_formula_triggers_are_single_characters():
    # The CSV writer's check of a text column looks at each value's first character only.
    assert all(len(trigger) == 1 for trigger in FORMULA_TRIGGERS)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL session settings")
@pytest.mark.django_db
def test_export_session_reads_without_jit_and_with_the_c_timestamp_loader(nurse):
    """Inside an export's transaction: no JIT, timestamps read by psycopg's C loader; outside, as Django has them."""
    from django.db import transaction

    from followup.exports import export_session

    def reading():
        with connection.cursor() as cursor:
            cursor.execute("SHOW jit")
            jit = cursor.fetchone()[0]
            cursor.execute("SELECT now()")
            loader = type(cursor.cursor._tx.get_loader(1184, 0))  # timestamptz, text format
        return jit, loader

    _, django_loader = reading()
    with transaction.atomic(), export_session("default"):
        jit, loader = reading()
    assert jit == "off"
    assert loader is not django_loader and loader.__module__.startswith("psycopg_binary")
    assert reading()[1] is django_loader
