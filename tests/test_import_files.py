"""Upload exhaustion (issue 12, item 5): a caseload file over the limits is refused, with a clear message,
before anything parses it; a file just within them still imports."""

import io
import time
import tracemalloc
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from followup import import_files, imports
from followup.models import Patient
from followup.nhs import format_nhs_number, nhs_numbers_in_test_range

NHS = nhs_numbers_in_test_range(2010)[2000:]
HEADERS = [column.header for column in imports.COLUMNS]
MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = 'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"'
CONTENT_TYPES = (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
PATIENT = [format_nhs_number(NHS[0]), "", "Ada", "Lovelace", "17/05/1960", "Female", "alex"]
TOO_MANY_ROWS = (
    "The file has more than 10,001 rows (the headings and 10,000 patients): split it and import each part. "
    "Empty rows count if they hold anything, formatting included: delete any below the last patient."
)
UNPACKS_TOO_BIG = (
    "The workbook unpacks to more than 40 MB, more than a caseload needs: it was not read. "
    "Save the caseload sheet on its own as a new workbook or as CSV, or split it."
)


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.CASELOAD_IMPORT_DIR = str(tmp_path / "uploads")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def upload(client, content: bytes, team, name="caseload.xlsx"):
    return client.post(reverse("followup:import_upload"), {"team": team.pk, "file": SimpleUploadedFile(name, content)})


def column_letter(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def row_xml(values, *, number: int | None = None) -> str:
    """A sheet row of text cells, each with its reference when the row has a number."""
    cells = []
    for column, value in enumerate(values, start=1):
        reference = f' r="{column_letter(column)}{number}"' if number else ""
        cells.append(f'<c{reference} t="inlineStr"><is><t>{value}</t></is></c>')
    row_number = f' r="{number}"' if number else ""
    return f"<row{row_number}>{''.join(cells)}</row>"


HEADINGS = row_xml(HEADERS)


def workbook(
    rows: str = HEADINGS, *, sheets: int = 1, parts=(), tail: str = "", prologue: str = "", sized: bool = True
) -> bytes:
    """A minimal XLSX written part by part, as a hostile file would be; ``rows`` are the first sheet's.

    Like every spreadsheet program, it records the sheet's size (unless not ``sized``), if not truly.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr(
            "_rels/.rels",
            f'<Relationships {PACKAGE_RELS}><Relationship Id="rId1" Type="{RELS}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/workbook.xml",
            f'{prologue}<workbook {MAIN} xmlns:r="{RELS}"><sheets>'
            + "".join(f'<sheet name="S{n}" sheetId="{n}" r:id="rId1"/>' for n in range(1, sheets + 1))
            + "</sheets></workbook>",
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships {PACKAGE_RELS}><Relationship Id="rId1" Type="{RELS}/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>',
        )
        size = '<dimension ref="A1"/>' if sized else ""
        archive.writestr(
            "xl/worksheets/sheet1.xml", f"<worksheet {MAIN}>{size}<sheetData>{rows}</sheetData>{tail}</worksheet>"
        )
        for name, text in parts:
            archive.writestr(name, text)
    return buffer.getvalue()


def refusal(content: bytes) -> list[str]:
    with pytest.raises(imports.ImportFileError) as refused:
        imports.read_table(content)
    return refused.value.messages


# The bomb: hundreds of MB of rows, packed into a few hundred KB --------------------------------------------------


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """A valid workbook whose sheet unpacks to over 300 MB of rows that hold only spaces, packed into ~1.3 MB.

    Each row is empty once read, so a reader that skips empty rows and counts only the others reads them all.
    Written in pieces, so that building it takes little memory.
    """
    piece = (row_xml([" "] * 16) * 2000).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with zipfile.ZipFile(io.BytesIO(workbook())) as plain:
            for name in plain.namelist():
                if name != "xl/worksheets/sheet1.xml":
                    archive.writestr(name, plain.read(name))
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(f'<worksheet {MAIN}><dimension ref="A1:P2"/><sheetData>{HEADINGS}'.encode())
            for _ in range(300 * 1024 * 1024 // len(piece) + 1):
                sheet.write(piece)
            sheet.write(b"</sheetData></worksheet>")
    return buffer.getvalue()


def test_import_of_an_xlsx_bomb_is_refused_at_once_in_little_memory(bomb):
    sizes = {info.filename: info.file_size for info in zipfile.ZipFile(io.BytesIO(bomb)).infolist()}
    assert sizes["xl/worksheets/sheet1.xml"] > 300 * 1024 * 1024 and len(bomb) < 2 * 1024 * 1024

    tracemalloc.start()
    started = time.perf_counter()
    try:
        messages = refusal(bomb)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert messages == [UNPACKS_TOO_BIG]
    assert elapsed < 1.0
    assert peak < 100 * 1024 * 1024


def test_import_page_refuses_the_bomb_beside_the_file_field(admin_client, team, bomb):
    response = upload(admin_client, bomb, team)
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [UNPACKS_TOO_BIG]
    assert "caseload_import" not in admin_client.session


def test_import_command_refuses_the_bomb_too(tmp_path, team, bomb):
    path = tmp_path / "caseload.xlsx"
    path.write_bytes(bomb)
    with pytest.raises(CommandError) as refused:
        call_command("import_caseload", path, "--team", "north", "--dry-run", stdout=io.StringIO())
    assert str(refused.value) == UNPACKS_TOO_BIG


# Each limit, in words ---------------------------------------------------------------------------------------------

# Built when the test runs, not when it is collected.
OVER_THE_LIMITS = {
    "packed-too-tightly": (
        lambda: workbook(parts=[("xl/padding.xml", "<a>" + " " * 5_000_000 + "</a>")]),
        "The workbook is packed far more tightly than a spreadsheet would be: it was not read. "
        "Save it again from your spreadsheet program, or save the caseload sheet as CSV.",
    ),
    "parts": (
        lambda: workbook(parts=[(f"xl/media/image{n}.png", "x") for n in range(1000)]),
        "The workbook holds more than 1,000 parts: it was not read. "
        "Save the caseload sheet on its own as a new workbook or as CSV.",
    ),
    "sheets": (
        lambda: workbook(sheets=21),
        "The workbook has more than 20 sheets: save the caseload sheet on its own as a new workbook or as CSV.",
    ),
    "row-by-its-number": (lambda: workbook(HEADINGS + row_xml(PATIENT, number=10_002)), TOO_MANY_ROWS),
    "rows-counted": (lambda: workbook(HEADINGS + "<row/>" * 10_001), TOO_MANY_ROWS),
    "cells-in-a-row": (
        lambda: workbook(HEADINGS + "<row>" + "<c/>" * 51 + "</row>"),
        "Row 2 has more than 50 columns: delete the columns after the last heading.",
    ),
    "a-cell-beyond-the-last-column": (
        lambda: workbook(HEADINGS + '<row r="3"><c r="AY3" t="inlineStr"><is><t>x</t></is></c></row>'),
        "Row 3 has more than 50 columns: delete the columns after the last heading.",
    ),
    "pieces-in-a-row": (
        lambda: workbook(HEADINGS + '<row><c t="inlineStr"><is>' + "<r><t>a</t></r>" * 500 + "</is></c></row>"),
        "Row 2 holds more than a caseload row needs (over 1,000 pieces of formatting or text): "
        "save the file again as CSV and import that.",
    ),
    "formatting": (
        lambda: workbook(tail="<mergeCells>" + '<mergeCell ref="A1:B1"/>' * 20_000 + "</mergeCells>"),
        "The workbook holds more formatting than a caseload needs (over 20,000 styles, merged cells and the like): "
        "save the caseload sheet as CSV, or copy its cells into a new workbook.",
    ),
    "pieces-in-all": (
        lambda: workbook(
            parts=[("xl/sharedStrings.xml", f"<sst {MAIN}>" + "".join(f"<si><t>{n}</t></si>" for n in range(500_000)))]
        ),
        "The workbook holds more than 1,000,000 cells, strings and other pieces, more than a caseload needs: "
        "it was not read. Save the caseload sheet on its own as a new workbook or as CSV, or split it.",
    ),
    "a-big-sheet-without-its-size": (
        lambda: workbook(HEADINGS + row_xml(PATIENT) * 500, sized=False),
        "A sheet of the workbook does not record its size, as spreadsheet programs do: it was not read. "
        "Open the file in your spreadsheet program and save it again, or save the caseload sheet as CSV.",
    ),
    "document-type-declaration": (
        lambda: workbook(prologue='<!DOCTYPE workbook [<!ENTITY a "aaaaaaaaaa">]>'),
        "The file is not a readable XLSX workbook.",
    ),
}


@pytest.mark.parametrize("case", OVER_THE_LIMITS)
def test_import_of_a_workbook_over_a_limit_is_refused_in_words(case):
    build, message = OVER_THE_LIMITS[case]
    assert refusal(build()) == [message]


def csv_file(lines: list[list[str]]) -> bytes:
    return "".join(",".join(line) + "\r\n" for line in lines).encode()


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([HEADERS, *[[""]] * 10_000, PATIENT], TOO_MANY_ROWS),
        ([HEADERS, PATIENT + [""] * 44], "Row 2 has more than 50 columns: delete the columns after the last heading."),
    ],
    ids=["rows", "columns"],
)
def test_import_of_a_csv_over_a_limit_is_refused_in_words(lines, message):
    assert refusal(csv_file(lines)) == [message]


def test_import_of_a_file_over_the_size_limit_is_refused_beside_the_field_as_it_arrives(admin_client, team):
    content = csv_file([HEADERS, PATIENT]).ljust(5 * 1024 * 1024 + 1, b"\n")
    response = upload(admin_client, content, team, name="caseload.csv")
    assert response.status_code == 200
    assert response.context["form"].errors == {"file": ["The file is larger than 5 MB: split it and import each part."]}
    # The team chosen stays chosen; the file must be chosen again.
    assert f'<option value="{team.pk}" selected>' in response.content.decode()
    assert refusal(content) == ["The file is larger than 5 MB: split it and import each part."]
    assert Patient.objects.count() == 0


def test_import_command_refuses_a_file_over_the_size_limit(tmp_path, team):
    path = tmp_path / "caseload.csv"
    path.write_bytes(csv_file([HEADERS, PATIENT]).ljust(5 * 1024 * 1024 + 1, b"\n"))
    with pytest.raises(CommandError) as refused:
        call_command("import_caseload", path, "--team", "north", "--dry-run", stdout=io.StringIO())
    assert str(refused.value) == "The file is larger than 5 MB: split it and import each part."


# Within the limits -------------------------------------------------------------------------------------------------


def test_import_of_a_csv_at_every_limit_at_once_still_imports(admin_client, team, nurse):
    """5 MB exactly, row 10,001 and column 50: the patient in the last row is imported."""
    last = PATIENT + [""] * 42 + ["last column"]
    # Rows of spaces are empty rows, skipped: 9,999 of them, 50 cells each, to fill the file to 5 MB.
    spare = 5 * 1024 * 1024 - len(csv_file([HEADERS, *[[""] * 50] * 9_999, last]))
    each, rest = divmod(spare, 9_999)
    padding = [[" " * (each + (n < rest))] + [""] * 49 for n in range(9_999)]
    content = csv_file([HEADERS, *padding, last])
    assert (len(content), len(padding[0]), len(last)) == (5 * 1024 * 1024, 50, 50)
    checked = upload(admin_client, content, team, name="caseload.csv")
    assert [(row.number, row.summary, row.errors) for row in checked.context["plan"].rows] == [(10_001, "Create", [])]
    page = b"".join(
        admin_client.post(reverse("followup:import_confirm"), {"token": checked.context["token"]}).streaming_content
    )
    assert b"1 created, 0 updated, 0 unchanged." in page
    assert list(Patient.objects.values_list("nhs_number", "family_name")) == [(NHS[0], "Lovelace")]


def test_import_of_a_workbook_just_within_the_limits_still_imports(admin_client, team, nurse):
    """The last row it may have (10,001), a cell in the last column (50), 20 sheets: the patient imports."""
    last = row_xml(PATIENT, number=10_001).replace("</row>", '<c r="AX10001" t="inlineStr"><is><t>x</t></is></c></row>')
    content = workbook(HEADINGS + last, sheets=20)
    checked = upload(admin_client, content, team)
    assert [(row.number, row.summary, row.errors) for row in checked.context["plan"].rows] == [(10_001, "Create", [])]
    page = b"".join(
        admin_client.post(reverse("followup:import_confirm"), {"token": checked.context["token"]}).streaming_content
    )
    assert b"1 created, 0 updated, 0 unchanged." in page
    assert list(Patient.objects.values_list("nhs_number", "family_name")) == [(NHS[0], "Lovelace")]


def test_import_check_passes_a_full_caseload_of_the_template():
    """10,000 patients in every column of the template, as openpyxl writes them (~9 MB unpacked): not refused."""
    line = ["", "Ada", "Lovelace", "17/05/1960", "Female", "alex", "Clinic-led", "Left", "01/03/2022", "NST"]
    line += ["Positive", "Positive", "Negative", "Mammogram", "01/03/2030"]
    numbers = nhs_numbers_in_test_range(10_000)
    rows = "".join(
        row_xml([format_nhs_number(number), f"H{n:06d}", *line[1:]], number=n + 2) for n, number in enumerate(numbers)
    )
    content = workbook(HEADINGS + rows)
    sizes = [info.file_size for info in zipfile.ZipFile(io.BytesIO(content)).infolist()]
    assert 8 * 1024 * 1024 < sum(sizes) < 40 * 1024 * 1024
    assert import_files.check_workbook(content) is None


def test_import_upload_still_checks_the_csrf_token(admin_user, team, nurse):
    """The size limit is installed before the CSRF check reads the body; the check itself still runs."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    content = csv_file([HEADERS, PATIENT])
    response = upload(client, content, team, name="caseload.csv")
    assert response.status_code == 403
    page = client.get(reverse("followup:import_upload"))
    token = page.cookies["csrftoken"].value
    response = client.post(
        reverse("followup:import_upload"),
        {"team": team.pk, "file": SimpleUploadedFile("caseload.csv", content), "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 200
    assert [row.summary for row in response.context["plan"].rows] == ["Create"]
