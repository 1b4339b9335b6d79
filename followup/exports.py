"""CSV and XLSX files from rows: streamed, formula-safe, logged.

Rows arrive as tuples of Python values (str, int, float, Decimal, date, datetime,
None). CSV is written row by row into a streaming response, so memory stays flat
however many rows; XLSX uses openpyxl's write-only mode into a temporary file.
"""

import csv
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime

from django.db import transaction
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from .db import report_db, reporting, reporting_active
from .models import ExportLog

# OWASP "CSV injection": a spreadsheet treats a cell starting with these as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(value):
    """Text that a spreadsheet would run as a formula gets a leading apostrophe.

    Numbers and dates are left as they are: a negative number is a number, not a formula.
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def as_text(value) -> str:
    """One cell for CSV: ISO dates and times, plain numbers, empty for None."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        # Local (Europe/London) time, like the XLSX cell: the two files must agree.
        local = timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
        return local.isoformat(timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(neutralise(value))


class _Echo:
    def write(self, value):
        return value


def csv_lines(headers: list[str], rows: Iterable[tuple]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # byte-order mark: Excel then reads UTF-8 names correctly
    yield writer.writerow(headers)
    for row in rows:
        yield writer.writerow([as_text(value) for value in row])


def write_csv(file, headers: list[str], rows: Iterable[tuple]) -> int:
    """Write to an open text file; returns the number of data rows."""
    written = 0

    def counting():
        nonlocal written
        for row in rows:
            written += 1
            yield row

    for line in csv_lines(headers, counting()):
        file.write(line)
    return written


def _xlsx_cell(sheet, value, text_columns: set[int], index: int):
    if isinstance(value, datetime):
        value = timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    cell = WriteOnlyCell(sheet, value=neutralise(value) if not isinstance(value, bool) else ("Yes" if value else "No"))
    if isinstance(value, datetime):
        cell.number_format = "yyyy-mm-dd hh:mm"
    elif isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"
    elif index in text_columns:
        cell.number_format = "@"  # text: an NHS number is an identifier, not a number
    return cell


def write_xlsx(
    path, headers: list[str], rows: Iterable[tuple], *, title: str, text_columns: set[int] = frozenset()
) -> int:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append(headers)
    count = 0
    for row in rows:
        sheet.append([_xlsx_cell(sheet, value, text_columns, i) for i, value in enumerate(row)])
        count += 1
    workbook.save(path)
    return count


def _counted(rows: Iterable[tuple], log: ExportLog) -> Iterator[tuple]:
    count = 0
    for row in rows:
        count += 1
        yield row
    log.rows = count
    log.finished_at = timezone.now()
    log.save(update_fields=["rows", "finished_at"])


def csv_response(
    *, filename: str, headers: list[str], rows: Callable[[], Iterable[tuple]], log: ExportLog
) -> StreamingHttpResponse:
    """Stream the CSV; rows() is called inside the generator's own transaction.

    PITFALLS.md: opening the transaction inside the generator keeps PostgreSQL's
    server-side cursor from being materialised whole before the first row.
    The stream runs after the view has returned, so it takes the view's
    `reporting()` with it, and its transaction is on the database it reads.
    """
    reporting_now = reporting_active()

    def stream():
        with reporting(reporting_now), transaction.atomic(using=report_db()):
            yield from csv_lines(headers, _counted(rows(), log))

    response = StreamingHttpResponse(stream(), content_type=CSV_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def xlsx_response(
    *,
    filename: str,
    title: str,
    headers: list[str],
    rows: Callable[[], Iterable[tuple]],
    log: ExportLog,
    text_columns: set[int] = frozenset(),
) -> FileResponse:
    handle = tempfile.NamedTemporaryFile(suffix=".xlsx")  # noqa: SIM115 (FileResponse closes it)
    with transaction.atomic(using=report_db()):
        write_xlsx(handle.name, headers, _counted(rows(), log), title=title, text_columns=text_columns)
    handle.seek(0)
    return FileResponse(handle, as_attachment=True, filename=f"{filename}.xlsx", content_type=XLSX_TYPE)


def start_log(*, user, report: str, fmt: str, filters: dict, via: str = "web") -> ExportLog:
    """Who exported which report, with which filters, when (rows filled in when done)."""
    clean = {key: value for key, value in filters.items() if value not in ("", None, [])}
    return ExportLog.objects.create(user=user, report=report, format=fmt, filters=clean, via=via)
