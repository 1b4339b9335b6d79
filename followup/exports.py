"""CSV and XLSX files from rows: streamed, formula-safe, logged.

Rows arrive as tuples of Python values (str, int, float, Decimal, date, datetime,
None), or as `ColumnBatches`. CSV is written a batch of rows at a time into a streaming
response, so memory stays flat however many rows; XLSX uses openpyxl's write-only mode
into a temporary file.

A CSV cell is always what `as_text()` makes of its value. For speed a batch is
worked a column at a time, and a column whose values `csv.writer` already writes
exactly that way (numbers, dates, None, text that is no formula) is left to it.
"""

import csv
import tempfile
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import date, datetime, tzinfo
from decimal import Decimal
from itertools import islice, repeat
from operator import itemgetter

from django.db import connections, models, transaction
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from . import choices as c
from .db import report_db, reporting, reporting_active
from .models import ExportLog, Team

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


def local_time(value: datetime, zone: tzinfo | None = None) -> datetime:
    """A stored instant in local (Europe/London) time, as both files show it; a naive
    value is taken as local already."""
    if value.utcoffset() is None:
        return value
    return value.astimezone(zone or timezone.get_current_timezone())


def _local_minutes(value: datetime, zone: tzinfo) -> str:
    """A date and time as the CSV writes it: local time to the minute."""
    return local_time(value, zone).isoformat(timespec="minutes")[:16]  # YYYY-MM-DDTHH:MM, no offset


def _datetimes_as_text(column: Sequence, zone: tzinfo) -> list[str]:
    """as_text() of a column of datetimes and Nones, without its type tests per cell."""
    return ["" if value is None else _local_minutes(value, zone) for value in column]


def as_text(value, zone: tzinfo | None = None) -> str:
    """One cell for CSV: ISO dates and times, plain numbers, empty for None.

    ``zone`` is the current time zone, if the caller has looked it up already.
    """
    if value is None:
        return ""
    if isinstance(value, datetime):
        return _local_minutes(value, zone)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(neutralise(value))


# Types whose values csv.writer writes exactly as as_text() does (an empty cell for None,
# str() for a number or a date), so a column holding only these needs no work in Python.
# Exact types: a bool is an int and a datetime a date, but as_text() writes both its own way.
WRITTEN_AS_IS = frozenset({type(None), int, float, Decimal, date})
_TRIGGER_CHARACTERS = frozenset(FORMULA_TRIGGERS)  # each trigger is one character

BATCH_ROWS = 1000  # rows per piece of a streamed CSV: one write and one yield per batch


class ColumnBatches:
    """Rows that come a batch at a time as columns: one sequence of values per header, all of one length.

    Iterating gives the rows as tuples, like any rows; csv_lines() takes the columns
    as they are, which saves turning rows into columns and back.
    """

    def __init__(self, batches: Iterable[list[Sequence]]):
        self.batches = batches

    def __iter__(self) -> Iterator[tuple]:
        for columns in self.batches:
            yield from zip(*columns, strict=True)


_DATETIMES = frozenset({datetime, type(None)})


def _column_as_text(column: Sequence, zone: tzinfo) -> Sequence:
    """The column as the CSV writes it: as_text() of each value, where that changes anything."""
    kinds = set(map(type, column))
    if kinds <= WRITTEN_AS_IS:
        return column
    if kinds == {str} and _TRIGGER_CHARACTERS.isdisjoint(map(itemgetter(0), filter(None, column))):
        return column  # text, and no value starts with a formula trigger
    if kinds <= _DATETIMES:
        return _datetimes_as_text(column, zone)
    return list(map(as_text, column, repeat(zone)))


def _columns_as_text(columns: list[Sequence], zone: tzinfo) -> tuple[int, Iterable[Sequence]]:
    """A batch given as columns: its number of rows, and its rows with as_text() applied where it changes something."""
    columns = [_column_as_text(column, zone) for column in columns]
    return (len(columns[0]) if columns else 0), zip(*columns, strict=True)


def _batches_as_text(rows: Iterable[tuple], batch_size: int) -> Iterator[tuple[int, Iterable[Sequence]]]:
    """Each batch's number of rows and its rows as the CSV writes them, worked a column at a time."""
    zone = timezone.get_current_timezone()  # looked up once, not once a cell
    if isinstance(rows, ColumnBatches):
        for columns in rows.batches:
            yield _columns_as_text(columns, zone)
        return
    rows = iter(rows)
    while batch := list(islice(rows, batch_size)):
        widths = set(map(len, batch))
        if len(widths) == 1 and 0 not in widths:
            yield _columns_as_text(list(zip(*batch, strict=True)), zone)
        else:  # ragged or empty rows: cell by cell
            yield len(batch), [[as_text(value, zone) for value in row] for row in batch]


class _Pieces(list):
    """A file for csv.writer that keeps each line it is given, to be joined into one piece."""

    write = list.append

    def taken(self) -> str:
        text = "".join(self)
        self.clear()
        return text


def csv_lines(headers: list[str], rows: Iterable[tuple], *, batch_size: int = BATCH_ROWS) -> Generator[str, None, int]:
    """The CSV's text in pieces: byte-order mark and header, then one piece per batch of rows.

    The generator's return value (``count = yield from csv_lines(...)``) is the number of data rows.
    """
    pieces = _Pieces()
    writer = csv.writer(pieces)
    writer.writerow(headers)
    yield "\ufeff" + pieces.taken()  # byte-order mark: Excel then reads UTF-8 names correctly
    written = 0
    for count, lines in _batches_as_text(rows, batch_size):
        writer.writerows(lines)
        written += count
        yield pieces.taken()
    return written


def write_csv(file, headers: list[str], rows: Iterable[tuple]) -> int:
    """Write to an open text file; returns the number of data rows."""
    pieces = csv_lines(headers, rows)
    while True:
        try:
            file.write(next(pieces))
        except StopIteration as end:
            return end.value


# Excel's dates start on 1 Jan 1900: an earlier one has no serial number it can show.
EXCEL_EARLIEST = date(1900, 1, 1)


def _before_excel(value) -> bool:
    return (value.date() if isinstance(value, datetime) else value) < EXCEL_EARLIEST


def _xlsx_cell(sheet, value, text_columns: set[int], index: int):
    if isinstance(value, date) and _before_excel(value):
        # As text, as the CSV writes it ("0027-03-15"); the data-quality list flags the row.
        cell = WriteOnlyCell(sheet, value=as_text(value))
        cell.number_format = "@"
        return cell
    if isinstance(value, datetime):
        value = local_time(value).replace(tzinfo=None)  # a spreadsheet cell holds no time zone
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


def _c_timestamp_loader():
    """psycopg's C loader for timestamptz, where psycopg's C extension is installed."""
    try:
        import psycopg
        from psycopg.postgres import types
    except ImportError:  # SQLite-only installs
        return None
    return psycopg.adapters.get_loader(types["timestamptz"].oid, psycopg.pq.Format.TEXT)


_C_TIMESTAMPTZ = _c_timestamp_loader()


def _fast_timestamps(execute, sql, params, many, context):
    """Read timestamps with psycopg's C loader on this cursor.

    Django loads every timestamptz through a Python subclass of psycopg's loader
    (it sets the tzinfo again): a tenth of a million-row export's time. The C
    loader gives the same instant in the connection's time zone, which Django set
    to UTC; the CSV writes it in local time either way (as_text()).
    """
    context["cursor"].cursor.adapters.register_loader("timestamptz", _C_TIMESTAMPTZ)
    return execute(sql, params, many, context)


# PostgreSQL settings for the export's transaction (bench/export.py gives COPY the same).
EXPORT_SESSION = ("SET LOCAL jit = off",)


@contextmanager
def export_session(alias: str):
    """Inside the export's transaction on ``alias``: settings for one long streamed read.

    - No JIT: PostgreSQL compiles a query whose estimated cost is high (every row
      of a line list) before the first row, a few hundred ms for expressions this
      simple. Cursors are never parallel, so JIT is all cost here.
    - Timestamps read in C (_fast_timestamps()).
    """
    connection = connections[alias]
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        for statement in EXPORT_SESSION:
            cursor.execute(statement)
    with connection.execute_wrapper(_fast_timestamps) if _C_TIMESTAMPTZ else nullcontext():
        yield


def _finish(log: ExportLog, count: int) -> None:
    log.rows = count
    log.finished_at = timezone.now()
    log.save(update_fields=["rows", "finished_at"])


def _counted(rows: Iterable[tuple], log: ExportLog) -> Iterator[tuple]:
    count = 0
    for row in rows:
        count += 1
        yield row
    _finish(log, count)


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
        with reporting(reporting_now):
            alias = report_db()
            with transaction.atomic(using=alias), export_session(alias):
                count = yield from csv_lines(headers, rows())
                _finish(log, count)

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


# The export log ------------------------------------------------------------------


def team_label(team: Team) -> str:
    return f"{team.name} ({team.code})"


def scope_of(user) -> str:
    """The teams whose rows a download by this user can hold (TeamScopedQuerySet.visible_to())."""
    if user.is_admin_role:
        return "all teams"
    return f"team {team_label(user.team)}" if user.team_id else "no team"


def period_label(start: date | None, end: date | None, *, default: bool = False) -> str:
    if start and end:
        label = f"{start.isoformat()} to {end.isoformat()}"
    else:
        label = f"from {start.isoformat()}" if start else f"to {end.isoformat()}"
    return f"{label} (default)" if default else label


def _as_logged(value):
    """A filter's value after validation, as the export log keeps it (plain JSON)."""
    if isinstance(value, slice):  # a date range filter: whole days, as the user chose them
        start, end = (timezone.localdate(v) if isinstance(v, datetime) else v for v in (value.start, value.stop))
        return period_label(start, end) if start or end else None
    if isinstance(value, Team):
        return team_label(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value)
    return value


def start_log(*, user, report: str, fmt: str, filters: dict, via: str = c.ExportVia.WEB) -> ExportLog:
    """Who exported which report, when, and the rows they got: the team scope of ``user`` and each
    filter as applied (after validation and defaults, never the raw request); rows filled in when done."""
    applied = {"scope": scope_of(user)}
    for key, value in filters.items():
        value = _as_logged(value)
        if value not in ("", None, []):
            applied[key] = value
    return ExportLog.objects.create(user=user, report=report, format=fmt, filters=applied, via=via)
