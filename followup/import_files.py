"""Reading an uploaded caseload file (CSV or XLSX) within limits, so that no file can exhaust a server.

A workbook is a zip of XML parts, and a few hundred kilobytes of it can unpack to gigabytes: openpyxl,
even read-only, would then hold a worker for minutes or take gigabytes of memory. So nothing parses a
file until it has passed, in this order, each check below, every one cheap and bounded:

1. its size as uploaded;
2. for a workbook, the zip's own directory: how many parts, their unpacked sizes (zipfile never unpacks
   more than a part declares), and how tightly each is packed;
3. a streaming pass of expat (the parser openpyxl's ElementTree uses) over every part, keeping nothing:
   sheets, rows (by number, as a spreadsheet shows them), cells per row and their columns, and every
   other element are counted against the limits; a document type declaration (which Excel never
   writes) is refused, and so is a big sheet without a size record (openpyxl would read it whole).

Only then does openpyxl read the first sheet, read-only, and never past the row and column limits. A CSV
is read row by row against the same row and column limits. The limits are in the README ("Importing a
caseload"); the rows and cells a file yields are for ``imports.read_table()`` to interpret.
"""

import csv
import io
import re
import struct
import zipfile
from collections.abc import Iterator, Sequence
from xml.parsers import expat

from django.core.exceptions import ValidationError

MAX_FILE_BYTES = 5 * 1024 * 1024  # as uploaded (10,000 rows of the template: ~0.7 MB as XLSX, ~2 MB as CSV)
MAX_ROWS = 10_000  # of patients, below the headings: a file may go up to row MAX_ROWS + 1
MAX_COLUMNS = 50  # cells in a row, and the last column a cell may be in (the template has 31)
MAX_SHEETS = 20  # in a workbook; only the first is read
MAX_PARTS = 1_000  # files inside a workbook (Excel writes about 10)
MAX_UNPACKED_BYTES = 40 * 1024 * 1024  # all parts of a workbook, unpacked (10,000 rows of the template: ~9 MB)
MAX_PACKING_RATIO = 100  # unpacked to packed size of a part over 1 MB (spreadsheets: about 15; zip bombs: 1,000)
RATIO_CHECKED_FROM_BYTES = 1024 * 1024
MAX_ELEMENTS = 1_000_000  # XML elements in all parts (10,000 rows of the template: ~500,000)
MAX_ROW_ELEMENTS = 1_000  # XML elements inside one row: its cells, values and any rich text
MAX_FORMATTING_ELEMENTS = 20_000  # XML elements outside the cells and the shared strings: styles, merges, ...
# openpyxl reads a sheet with no size record (a <dimension> before its cells) in full when it opens the workbook,
# even read-only, once for every sheet entry that names it. Every spreadsheet program writes one.
MAX_ELEMENTS_UNSIZED_SHEET = 10_000

_MB = 1024 * 1024
_SPLIT_IT = "Save the caseload sheet on its own as a new workbook or as CSV"
_TOO_MANY_ROWS = (
    f"The file has more than {MAX_ROWS + 1:,} rows (the headings and {MAX_ROWS:,} patients): split it and import "
    "each part. Empty rows count if they hold anything, formatting included: delete any below the last patient."
)
_CELL_COLUMN = re.compile(r"\$?([A-Za-z]{1,3})")


class ImportFileError(ValidationError):
    """The file as a whole cannot be read (format, columns, size): no row is looked at."""


def _unreadable() -> ImportFileError:
    return ImportFileError("The file is not a readable XLSX workbook.")


def _too_many_columns(row: int) -> ImportFileError:
    return ImportFileError(
        f"Row {row:,} has more than {MAX_COLUMNS} columns: delete the columns after the last heading."
    )


def file_rows(content: bytes) -> Iterator[Sequence]:
    """The rows of a CSV file, or of a workbook's first sheet, as cells, numbered from 1 by their position.

    Raises ImportFileError, with what to do, for a file over a limit or unreadable.
    """
    if len(content) > MAX_FILE_BYTES:
        raise ImportFileError(file_too_large_message())
    if content[:4] == b"PK\x03\x04":
        yield from _xlsx_rows(content)
    else:
        yield from _csv_rows(content)


def file_too_large_message() -> str:
    return f"The file is larger than {MAX_FILE_BYTES // _MB} MB: split it and import each part."


# CSV ----------------------------------------------------------------------------------------------------------


def _csv_rows(content: bytes) -> Iterator[list]:
    for encoding in ("utf-8-sig", "cp1252"):  # Excel's "CSV UTF-8", then its plain "CSV" on Windows
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileError("The file cannot be read as text. Save it as CSV UTF-8 and upload it again.")
    try:
        for number, cells in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            if number > MAX_ROWS + 1:
                raise ImportFileError(_TOO_MANY_ROWS)
            if len(cells) > MAX_COLUMNS:
                raise _too_many_columns(number)
            yield cells
    except csv.Error as exc:
        raise ImportFileError(f"The file is not a readable CSV file ({exc}).") from exc


# XLSX ---------------------------------------------------------------------------------------------------------


def _xlsx_rows(content: bytes) -> Iterator[tuple]:
    check_workbook(content)
    from openpyxl import load_workbook

    # Anything a broken or hostile workbook makes openpyxl raise is the file's fault, said as such.
    try:
        # Read only: rows stream from the file instead of the whole workbook sitting in memory.
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:
        raise _unreadable() from exc
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some writers record wrong dimensions, which would cut rows off
        # The limits bound what openpyxl builds (it pads every row out to max_col); the check above has
        # refused anything beyond them, so nothing is cut off here.
        yield from sheet.iter_rows(max_row=MAX_ROWS + 1, max_col=MAX_COLUMNS, values_only=True)
    except Exception as exc:
        raise _unreadable() from exc
    finally:
        workbook.close()


def check_workbook(content: bytes) -> None:
    """Refuse a workbook over any limit before openpyxl opens it (see the module's docstring)."""
    parts = _zip_entry_count(content)
    if parts is None:
        raise _unreadable()
    if parts > MAX_PARTS:
        raise ImportFileError(f"The workbook holds more than {MAX_PARTS:,} parts: it was not read. {_SPLIT_IT}.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise _unreadable() from exc
    with archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
        if sum(info.file_size for info in infos) > MAX_UNPACKED_BYTES:
            raise ImportFileError(
                f"The workbook unpacks to more than {MAX_UNPACKED_BYTES // _MB} MB, more than a caseload needs: "
                f"it was not read. {_SPLIT_IT}, or split it."
            )
        for info in infos:
            if info.file_size > RATIO_CHECKED_FROM_BYTES and info.file_size > MAX_PACKING_RATIO * info.compress_size:
                raise ImportFileError(
                    "The workbook is packed far more tightly than a spreadsheet would be: it was not read. "
                    "Save it again from your spreadsheet program, or save the caseload sheet as CSV."
                )
        counter = _ElementCounter()
        for info in infos:
            counter.scan(archive, info)


_CENTRAL_ENTRY = struct.Struct("<4s24x3H12x")  # signature; name, extra and comment lengths (46 bytes in all)


def _zip_entry_count(content: bytes) -> int | None:
    """How many parts the zip's central directory lists (at most MAX_PARTS + 1 are counted), read before
    zipfile builds an object for each.

    Counted as zipfile reads them: entry after entry, over the directory's size in bytes, which sits just
    before the end record. The count the end record announces is not used: zipfile never reads it, so a
    file could announce one part and list a hundred thousand.
    """
    end = content.rfind(b"PK\x05\x06", max(0, len(content) - 22 - 0xFFFF))
    if end < 0 or len(content) < end + 22:
        return None
    announced, size = struct.unpack_from("<HL", content, end + 10)
    if announced == 0xFFFF or size == 0xFFFFFFFF:
        return MAX_PARTS + 1  # a zip64 archive: over the limit too
    position, stop = end - size, end
    if position < 0:
        return None
    count = 0
    while position < stop and count <= MAX_PARTS:
        if position + _CENTRAL_ENTRY.size > stop:
            return None
        signature, name, extra, comment = _CENTRAL_ENTRY.unpack_from(content, position)
        if signature != b"PK\x01\x02":
            return None
        position += _CENTRAL_ENTRY.size + name + extra + comment
        count += 1
    return count


class _ElementCounter:
    """Counts the elements of every part as expat streams through it, refusing at the first limit passed.

    Names are compared without their namespace prefix, so no prefix or namespace hides a row or a cell;
    anything that looks like one is counted as one.
    """

    def __init__(self):
        self.elements = self.formatting = self.sheets = 0
        self.in_cells = self.in_strings = self.in_row = False
        self.row = self.row_elements = self.cells = self.column = 0

    def scan(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
        parser = expat.ParserCreate()
        parser.StartDoctypeDeclHandler = self._refuse_declarations
        parser.EntityDeclHandler = self._refuse_declarations
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        self.in_cells = self.in_strings = self.in_row = self.sized = self.unsized = False
        self.part_elements = 0
        try:
            with archive.open(info) as stream:
                while chunk := stream.read(256 * 1024):
                    parser.Parse(chunk, False)
                parser.Parse(b"", True)
        except expat.ExpatError:
            # Not XML (an image, say) or broken XML: openpyxl reads XML with the same expat, so it could never
            # get further into this part than the count has.
            return
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
            raise _unreadable() from exc

    def _refuse_declarations(self, *args) -> None:
        raise _unreadable()

    def _start(self, name: str, attributes: dict) -> None:
        name = name.rpartition(":")[2]
        self.elements += 1
        self.part_elements += 1
        if self.unsized and self.part_elements > MAX_ELEMENTS_UNSIZED_SHEET:
            raise ImportFileError(
                "A sheet of the workbook does not record its size, as spreadsheet programs do: it was not read. "
                "Open the file in your spreadsheet program and save it again, or save the caseload sheet as CSV."
            )
        if self.elements > MAX_ELEMENTS:
            raise ImportFileError(
                f"The workbook holds more than {MAX_ELEMENTS:,} cells, strings and other pieces, more than a caseload "
                f"needs: it was not read. {_SPLIT_IT}, or split it."
            )
        if name == "row":
            self._row(attributes.get("r"))
        elif self.in_row:
            self.row_elements += 1
            if self.row_elements > MAX_ROW_ELEMENTS:
                raise ImportFileError(
                    f"Row {self.row:,} holds more than a caseload row needs (over {MAX_ROW_ELEMENTS:,} pieces of "
                    "formatting or text): save the file again as CSV and import that."
                )
            if name == "c":
                self._cell(attributes.get("r"))
        elif not self.in_strings:
            self.formatting += 1
            if self.formatting > MAX_FORMATTING_ELEMENTS:
                raise ImportFileError(
                    "The workbook holds more formatting than a caseload needs (over "
                    f"{MAX_FORMATTING_ELEMENTS:,} styles, merged cells and the like): save the caseload sheet as CSV, "
                    "or copy its cells into a new workbook."
                )
        if name == "sheet":
            self.sheets += 1
            if self.sheets > MAX_SHEETS:
                raise ImportFileError(
                    f"The workbook has more than {MAX_SHEETS} sheets: save the caseload sheet on its own as a new "
                    "workbook or as CSV."
                )
        elif name == "sheetData":
            self.in_cells, self.row = True, 0
            self.unsized = not self.sized
        elif name == "sst":
            self.in_strings = True

    def _end(self, name: str) -> None:
        name = name.rpartition(":")[2]
        if name == "row":
            self.in_row = False
        elif name == "sheetData":
            self.in_cells = False
        elif name == "sst":
            self.in_strings = False
        elif name == "dimension" and not self.in_cells:
            self.sized = True

    def _row(self, number: str | None) -> None:
        # As openpyxl numbers rows: by their r attribute, else one after the row before.
        if number is None:
            self.row += 1
        else:
            try:
                value = float(number)
            except ValueError:
                raise _unreadable() from None
            if not value.is_integer():
                raise _unreadable()
            self.row = int(value)
        if self.row > MAX_ROWS + 1:
            raise ImportFileError(_TOO_MANY_ROWS)
        self.in_row, self.row_elements, self.cells, self.column = True, 0, 0, 0

    def _cell(self, reference: str | None) -> None:
        # As openpyxl places cells: by the column of their r attribute, else one after the cell before.
        match = _CELL_COLUMN.match(reference or "")
        if match:
            self.column = 0
            for letter in match.group(1).upper():
                self.column = self.column * 26 + ord(letter) - ord("A") + 1
        else:
            self.column += 1
        self.cells += 1
        if self.cells > MAX_COLUMNS or self.column > MAX_COLUMNS:
            raise _too_many_columns(self.row)
