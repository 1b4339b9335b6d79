"""The caseload import: the dry run writes nothing, the import is all or nothing, a re-import changes
nothing; CSV and XLSX; admins only; the management command."""

import csv
import io
from datetime import date, datetime

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from followup import choices as c
from followup import imports
from followup.models import FollowUpItem, Patient, PrimaryDiagnosis, Team
from followup.nhs import format_nhs_number, nhs_number_error, nhs_numbers_in_test_range

from .factories import FollowUpItemFactory, PatientFactory, PrimaryDiagnosisFactory, UserFactory

# Beyond the numbers PatientFactory hands out, so no factory patient shares one by chance.
NHS = nhs_numbers_in_test_range(2010)[2000:]
HEADERS = [column.header for column in imports.COLUMNS]
NEXT_YEAR = timezone.localdate().year + 1


def url(name):
    return reverse(f"followup:{name}")


def body(response) -> str:
    return response.content.decode()


def streamed(response) -> str:
    return b"".join(response.streaming_content).decode()


def row(nhs: str, **cells) -> dict:
    """One line of the file, by column key; a new patient of the nurse "alex" unless told otherwise."""
    line = {
        "nhs_number": format_nhs_number(nhs),
        "given_name": "Ada",
        "family_name": "Lovelace",
        "date_of_birth": "17/05/1960",
        "sex": "Female",
        "named_nurse": "alex",
    }
    return line | cells


def csv_bytes(rows: list[dict], headers=HEADERS) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    by_header = {column.header: column.key for column in imports.COLUMNS}
    for line in rows:
        writer.writerow([line.get(by_header.get(header, header), "") for header in headers])
    return buffer.getvalue().encode()


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADERS)
    for line in rows:
        sheet.append(line)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, content: bytes, team, name="caseload.csv"):
    return client.post(url("import_upload"), {"team": team.pk, "file": SimpleUploadedFile(name, content)})


def confirm(client, checked):
    return client.post(url("import_confirm"), {"token": checked.context["token"]})


def summaries(plan) -> list[tuple]:
    return [(r.number, r.nhs_display, r.name, r.summary, r.changes, r.errors) for r in plan.rows]


def snapshot() -> list[tuple]:
    """Every patient, primary and item with its version and last change: what a no-op must leave alone."""
    return [
        (model.__name__, *values)
        for model in (Patient, PrimaryDiagnosis, FollowUpItem)
        for values in model.all_objects.order_by("pk").values_list("pk", "version", "updated_at")
    ]


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.CASELOAD_IMPORT_DIR = str(tmp_path / "uploads")
    return tmp_path / "uploads"


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def byron(team, nurse):
    """Already registered: the file changes her hospital number."""
    return PatientFactory(
        team=team,
        named_nurse=nurse,
        nhs_number=NHS[0],
        hospital_number="H1",
        given_name="Ada",
        family_name="Byron",
        date_of_birth=date(1960, 5, 17),
    )


@pytest.fixture
def caseload(byron) -> bytes:
    """Row 2 updates Byron's hospital number, row 3 is new with a primary and a next mammogram, row 4 is new."""
    return csv_bytes(
        [
            row(NHS[0], family_name="Byron", hospital_number="H2"),
            row(
                NHS[1],
                given_name="Mary",
                family_name="Somerville",
                date_of_birth="1970-12-26",
                follow_up_model="PIFU",
                laterality="right",
                diagnosed_on="01/03/2022",
                histology="nst",
                er_status="Positive",
                pr_status="neg",
                her2_status="NEGATIVE",
                next_kind="Mammogram",
                next_due_on=f"01/03/{NEXT_YEAR}",
            ),
            row(NHS[2], given_name="Grace", family_name="Hopper", sex="F"),
        ]
    )


# The dry run ----------------------------------------------------------------------


def test_import_dry_run_writes_nothing(admin_client, team, byron, caseload, upload_dir):
    before = snapshot()
    response = upload(admin_client, caseload, team)
    assert response.status_code == 200
    assert summaries(response.context["plan"]) == [
        (2, format_nhs_number(NHS[0]), "BYRON, Ada", "Update", ["Hospital number: H1 → H2"], []),
        (
            3,
            format_nhs_number(NHS[1]),
            "SOMERVILLE, Mary",
            f"Create, with primary diagnosis and next mammogram due 1 Mar {NEXT_YEAR}",
            [],
            [],
        ),
        (4, format_nhs_number(NHS[2]), "HOPPER, Grace", "Create", [], []),
    ]
    page = body(response)
    assert "3 rows: 2 to create, 1 to update, 0 unchanged, 0 with errors." in page
    assert "Import 3 rows</button>" in page
    assert "caseload.csv into North Breast Unit. Nothing has been saved yet." in page
    # The database is as it was; only the upload waits, on the server, for the confirmation.
    assert snapshot() == before
    assert list(Patient.objects.values_list("family_name", "hospital_number")) == [("Byron", "H1")]
    assert [path.name for path in upload_dir.iterdir()] == [f"{response.context['token']}.upload"]


def test_import_dry_run_lists_every_error_in_words(admin_client, team, nurse, upload_dir):
    UserFactory(username="sam", team=team, role=c.Role.CLINICIAN)
    content = csv_bytes(
        [
            row(NHS[0]),
            row("943 476 5918"),
            row("", family_name="Nobody"),
            row(NHS[1], named_nurse="sam", date_of_birth="31/02/1960", sex="Woman"),
            row(NHS[2], date_of_birth="17/05/60", laterality="Left", next_due_on="01/01/2030"),
            row(NHS[3], next_kind="Scan", diagnosed_on=f"01/01/{NEXT_YEAR}"),
        ]
    )
    response = upload(admin_client, content, team)
    plan = response.context["plan"]
    assert summaries(plan) == [
        (2, format_nhs_number(NHS[0]), "LOVELACE, Ada", "Create", [], []),
        (
            3,
            "943 476 5918",
            "LOVELACE, Ada",
            "Not imported",
            [],
            ["NHS number: This NHS number is not valid: check the digits (its check digit does not match)."],
        ),
        (4, "", "NOBODY, Ada", "Not imported", [], ["NHS number is missing: rows are matched on it."]),
        (
            5,
            format_nhs_number(NHS[1]),
            "LOVELACE, Ada",
            "Not imported",
            [],
            [
                'Date of birth: "31/02/1960" is not a date. Use dd/mm/yyyy, for example 17/05/1960.',
                'Sex: "Woman" is not one of: Female, Male, Indeterminate, Not known.',
                'Named nurse: "sam" is not the username of an active nurse in North Breast Unit.',
            ],
        ),
        (
            6,
            format_nhs_number(NHS[2]),
            "LOVELACE, Ada",
            "Not imported",
            [],
            [
                'Date of birth: "17/05/60" is not a date. Use dd/mm/yyyy, for example 17/05/1960.',
                "Date diagnosed is missing: a primary diagnosis needs it.",
                "Next follow-up is missing: say what is due.",
            ],
        ),
        (
            7,
            format_nhs_number(NHS[3]),
            "LOVELACE, Ada",
            "Not imported",
            [],
            [
                'Next follow-up: "Scan" is not one of: Mammogram, Clinic review, Telephone review, Bloods, '
                "Endocrine therapy review, Other.",
                "Date diagnosed: The date of diagnosis cannot be in the future.",
            ],
        ),
    ]
    page = body(response)
    assert "6 rows: 1 to create, 0 to update, 0 unchanged, 5 with errors." in page
    assert '<a href="#row-4">Row 4: NHS number is missing: rows are matched on it.</a>' in page
    assert 'id="import-confirm"' not in page
    assert "caseload_import" not in admin_client.session
    assert not upload_dir.exists() or list(upload_dir.iterdir()) == []
    # Nothing waits to be confirmed, so a confirmation posted anyway finds nothing to import.
    assert admin_client.post(url("import_confirm"), {"token": "made-up"}).status_code == 404
    assert Patient.objects.count() == 0


def test_import_checks_rows_against_other_records(admin_client, team, nurse, other_nurse):
    PatientFactory(team=other_nurse.team, named_nurse=other_nurse, nhs_number=NHS[0])
    PatientFactory(team=team, named_nurse=nurse, nhs_number=NHS[1], hospital_number="H9")
    PatientFactory(
        team=team,
        named_nurse=nurse,
        nhs_number=NHS[2],
        given_name="Ada",
        family_name="Lovelace",
        status=c.PatientStatus.DISCHARGED,
        discharged_on=date(2024, 1, 5),
        discharge_reason="Completed follow-up.",
    )
    content = csv_bytes(
        [
            row(NHS[0]),
            row(NHS[3], hospital_number="H9"),
            row(NHS[2], next_kind="Clinic review", next_due_on="2030-01-01"),
            row(NHS[4], named_nurse="jo"),
            row(NHS[4]),
        ]
    )
    plan = upload(admin_client, content, team).context["plan"]
    assert [(r.number, r.errors) for r in plan.rows] == [
        (2, ["This patient is registered with South Breast Unit: an import cannot move them between teams."]),
        (
            3,
            [
                "Hospital number H9 belongs to another patient in North Breast Unit "
                f"(NHS number {format_nhs_number(NHS[1])}).",
            ],
        ),
        (4, ["A discharged patient cannot be given new follow-up: leave Next follow-up empty."]),
        (5, ['Named nurse: "jo" is not the username of an active nurse in North Breast Unit.']),
        (6, ["The same NHS number is on row 5."]),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("17/05/1960", date(1960, 5, 17)),
        ("7/5/1960", date(1960, 5, 7)),
        ("1960-05-17", date(1960, 5, 17)),
        (datetime(1960, 5, 17, 0, 0), date(1960, 5, 17)),
        (date(1960, 5, 17), date(1960, 5, 17)),
    ],
)
def test_import_dates_are_uk_or_iso_or_date_cells(value, expected):
    assert imports.parse_date(value) == expected


@pytest.mark.parametrize("value", ["31/02/1960", "17/05/60", "17-05-1960", "1960/05/17", "05/17/1960", "May 1960"])
def test_import_dates_in_other_forms_are_refused(value):
    with pytest.raises(ValueError):
        imports.parse_date(value)


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("caseload.csv", b"", "The submitted file is empty."),
        ("caseload.csv", b"\r\n\r\n", "The file is empty."),
        ("caseload.csv", csv_bytes([]), "The file has column headings but no rows."),
        (
            "caseload.csv",
            csv_bytes([row(NHS[0])], headers=[*HEADERS, "Date of death"]),
            'Unknown column: "Date of death". Use the template\'s.',
        ),
        (
            "caseload.csv",
            csv_bytes([row(NHS[0])], headers=HEADERS[:4]),
            "Missing columns: Date of birth, Sex, Named nurse.",
        ),
        ("caseload.xlsx", b"PK\x03\x04 not really a workbook", "The file is not a readable XLSX workbook."),
        ("caseload.txt", csv_bytes([row(NHS[0])]), "Choose a CSV or XLSX file."),
    ],
)
def test_import_of_an_unreadable_file_says_why_beside_the_file_field(admin_client, team, name, content, error):
    response = upload(admin_client, content, team, name=name)
    assert response.context["form"].errors["file"] == [error]
    assert "There is a problem" in body(response)
    assert "caseload_import" not in admin_client.session


# The import ----------------------------------------------------------------------


def test_import_confirm_writes_every_row_and_shows_progress(admin_client, admin_user, team, nurse, byron, caseload):
    checked = upload(admin_client, caseload, team)
    response = confirm(admin_client, checked)
    assert response.status_code == 200 and response.streaming
    page = streamed(response)
    assert "<li>1 of 3 rows processed</li>\n<li>2 of 3 rows processed</li>\n<li>3 of 3 rows processed</li>" in page
    assert "Import complete" in page and "2 created, 1 updated, 0 unchanged." in page

    assert list(Patient.objects.order_by("nhs_number").values_list("nhs_number", "family_name", "version")) == [
        (NHS[0], "Byron", 2),
        (NHS[1], "Somerville", 1),
        (NHS[2], "Hopper", 1),
    ]
    mary = Patient.objects.get(nhs_number=NHS[1])
    assert (mary.date_of_birth, mary.sex, mary.team, mary.named_nurse, mary.follow_up_model, mary.created_by) == (
        date(1970, 12, 26),
        c.Sex.FEMALE,
        team,
        nurse,
        c.FollowUpModel.PIFU,
        admin_user,
    )
    assert list(PrimaryDiagnosis.objects.values_list("patient", "laterality", "diagnosed_on", "histology")) == [
        (mary.pk, c.Laterality.RIGHT, date(2022, 3, 1), c.Histology.NST)
    ]
    assert list(PrimaryDiagnosis.objects.values_list("er_status", "pr_status", "her2_status")) == [
        (c.ReceptorStatus.POSITIVE, c.ReceptorStatus.NEGATIVE, c.ReceptorStatus.NEGATIVE)
    ]
    assert list(FollowUpItem.objects.values_list("patient", "kind", "due_on", "status", "notes", "created_by")) == [
        (
            mary.pk,
            c.FollowUpKind.MAMMOGRAM,
            date(NEXT_YEAR, 3, 1),
            c.FollowUpStatus.DUE,
            imports.ITEM_NOTE,
            admin_user.pk,
        )
    ]
    byron.refresh_from_db()
    assert (byron.family_name, byron.hospital_number, byron.updated_by) == ("Byron", "H2", admin_user)
    assert "caseload_import" not in admin_client.session


def test_import_a_failing_row_rolls_back_the_whole_import(team, nurse, admin_user):
    plan = imports.build_plan(csv_bytes([row(NHS[0]), row(NHS[1], hospital_number="H2"), row(NHS[2])]), team=team)
    assert plan.counts == {"create": 3, "update": 0, "unchanged": 0, "skipped": 0, "errors": 0}
    # Between the check and the import, someone registers the last row's patient.
    PatientFactory(team=team, named_nurse=nurse, nhs_number=NHS[2], family_name="Quick")
    with pytest.raises(ValidationError) as refused:
        imports.import_all(plan, by=admin_user)
    assert refused.value.messages == [
        f"Row 4 ({format_nhs_number(NHS[2])}): A patient with this NHS number already exists."
    ]
    # Rows 2 and 3 were written before row 4 failed: undone with it.
    assert list(Patient.objects.values_list("family_name", flat=True)) == ["Quick"]


def test_import_refused_mid_way_on_the_page_writes_nothing(admin_client, team, nurse, caseload, byron):
    checked = upload(admin_client, caseload, team)
    response = confirm(admin_client, checked)
    # The import runs as the page streams: registered meanwhile, row 4 is then refused.
    PatientFactory(team=team, named_nurse=nurse, nhs_number=NHS[2], family_name="Quick", hospital_number="Q1")
    page = streamed(response)
    assert "Nothing was imported" in page
    assert f"Row 4 ({format_nhs_number(NHS[2])}): A patient with this NHS number already exists." in page
    assert "Import complete" not in page
    byron.refresh_from_db()
    assert (byron.family_name, byron.version) == ("Byron", 1)
    assert sorted(Patient.objects.values_list("family_name", flat=True)) == ["Byron", "Quick"]
    assert PrimaryDiagnosis.objects.count() == FollowUpItem.objects.count() == 0


def test_import_rows_with_errors_cannot_be_imported(team, nurse, admin_user):
    plan = imports.build_plan(csv_bytes([row(NHS[0]), row("123")]), team=team)
    with pytest.raises(ValidationError) as refused:
        imports.import_all(plan, by=admin_user)
    assert refused.value.messages == ["1 row has errors: nothing was imported."]
    assert Patient.objects.count() == 0


def test_import_confirm_checks_again_and_shows_what_changed_since(admin_client, team, nurse, byron, caseload):
    checked = upload(admin_client, caseload, team)
    # Meanwhile a nurse corrects Byron's record to what the file says: the plan the admin saw is stale.
    Patient.objects.filter(pk=byron.pk).update(hospital_number="H2", version=2)
    response = confirm(admin_client, checked)
    assert not response.streaming
    assert "The records changed since you checked this file, so nothing was imported." in body(response)
    assert summaries(response.context["plan"])[0] == (2, format_nhs_number(NHS[0]), "BYRON, Ada", "No change", [], [])
    assert Patient.objects.count() == 1
    # Confirming what is shown now imports it.
    page = streamed(confirm(admin_client, response))
    assert "2 created, 0 updated, 1 unchanged." in page
    assert Patient.objects.count() == 3


def test_import_reimport_is_a_no_op(admin_client, team, byron, caseload, upload_dir):
    streamed(confirm(admin_client, upload(admin_client, caseload, team)))
    before = snapshot()
    assert len(before) == 5  # 3 patients, 1 primary, 1 item

    again = upload(admin_client, caseload, team)
    assert [r.summary for r in again.context["plan"].rows] == ["No change"] * 3
    page = body(again)
    assert "3 rows: 0 to create, 0 to update, 3 unchanged, 0 with errors." in page
    assert "Nothing to import: every row is already recorded as it is in the file." in page
    assert 'id="import-confirm"' not in page
    assert list(upload_dir.iterdir()) == []
    assert imports.import_all(again.context["plan"], by=byron.named_nurse) == 0
    assert snapshot() == before


def test_import_adds_a_primary_or_next_item_only_when_not_already_recorded(team, nurse, admin_user, byron):
    PrimaryDiagnosisFactory(patient=byron, diagnosed_on=date(2021, 6, 1))
    FollowUpItemFactory(patient=byron, kind=c.FollowUpKind.MAMMOGRAM, due_on=date(NEXT_YEAR, 6, 1))
    same = row(NHS[0], family_name="Byron", hospital_number="H1", diagnosed_on="01/06/2021")
    same |= {"next_kind": "mammogram", "next_due_on": f"01/06/{NEXT_YEAR}"}
    plan = imports.build_plan(csv_bytes([same]), team=team)
    assert [r.summary for r in plan.rows] == ["No change"]

    later = same | {"diagnosed_on": "01/07/2021", "next_due_on": f"01/07/{NEXT_YEAR}"}
    plan = imports.build_plan(csv_bytes([later]), team=team)
    assert [(r.summary, r.changes) for r in plan.rows] == [
        (
            "Update",
            ["Add a primary diagnosis, diagnosed 1 Jul 2021", f"Add the next mammogram, due 1 Jul {NEXT_YEAR}"],
        )
    ]
    assert imports.import_all(plan, by=admin_user) == 1
    byron.refresh_from_db()
    assert byron.version == 1  # her details did not change
    assert list(byron.primaries.values_list("diagnosed_on", flat=True)) == [date(2021, 6, 1), date(2021, 7, 1)]
    assert list(byron.followup_items.values_list("due_on", flat=True)) == [date(NEXT_YEAR, 6, 1), date(NEXT_YEAR, 7, 1)]


def test_import_changes_the_named_nurse_within_the_team(team, nurse, admin_user, byron):
    priya = UserFactory(username="Priya", team=team, role=c.Role.NURSE)
    plan = imports.build_plan(csv_bytes([row(NHS[0], family_name="Byron", named_nurse="priya")]), team=team)
    assert [(r.summary, r.changes) for r in plan.rows] == [("Update", [f"Named nurse: {nurse} → {priya}"])]
    imports.import_all(plan, by=admin_user)
    byron.refresh_from_db()
    assert (byron.named_nurse, byron.version, byron.updated_by) == (priya, 2, admin_user)


def test_import_reads_xlsx_date_cells_numbers_and_labels(admin_client, team, nurse):
    content = xlsx_bytes(
        [
            # NHS number typed as a number, dates as date cells, codes and labels in any case.
            [int(NHS[0]), 123456, "Ada", "Lovelace", datetime(1960, 5, 17), "f", "ALEX", "clinic-led"]
            + ["LEFT", datetime(2022, 3, 1), "Invasive lobular carcinoma", "pos", "POS", "neg"]
            + ["Clinic review", datetime(NEXT_YEAR, 1, 15)],
            [None] * len(HEADERS),  # an empty row is skipped, but keeps its place in the numbering
            [format_nhs_number(NHS[1]), None, "Grace", "Hopper", "09/12/1956", "Female", "alex"],
        ]
    )
    checked = upload(admin_client, content, team, name="caseload.xlsx")
    assert summaries(checked.context["plan"]) == [
        (
            2,
            format_nhs_number(NHS[0]),
            "LOVELACE, Ada",
            f"Create, with primary diagnosis and next clinic review due 15 Jan {NEXT_YEAR}",
            [],
            [],
        ),
        (4, format_nhs_number(NHS[1]), "HOPPER, Grace", "Create", [], []),
    ]
    streamed(confirm(admin_client, checked))
    ada = Patient.objects.get(nhs_number=NHS[0])
    assert (ada.hospital_number, ada.date_of_birth, ada.sex, ada.named_nurse) == (
        "123456",
        date(1960, 5, 17),
        c.Sex.FEMALE,
        nurse,
    )
    assert list(ada.primaries.values_list("laterality", "histology", "er_status", "pr_status", "her2_status")) == [
        (c.Laterality.LEFT, c.Histology.LOBULAR, "pos", "pos", "neg")
    ]
    assert list(ada.followup_items.values_list("kind", "due_on")) == [
        (c.FollowUpKind.CLINIC_REVIEW, date(NEXT_YEAR, 1, 15))
    ]


def test_import_of_the_same_rows_from_xlsx_after_csv_changes_nothing(team, nurse, admin_user):
    csv_row = row(NHS[0], hospital_number="77", diagnosed_on="01/03/2022", laterality="Left")
    imports.import_all(imports.build_plan(csv_bytes([csv_row]), team=team), by=admin_user)
    before = snapshot()
    workbook_row = [int(NHS[0]), 77, "Ada", "Lovelace", datetime(1960, 5, 17), "Female", "alex", None]
    workbook_row += ["L", datetime(2022, 3, 1)]
    plan = imports.build_plan(xlsx_bytes([workbook_row]), team=team)
    assert [r.summary for r in plan.rows] == ["No change"]
    assert imports.import_all(plan, by=admin_user) == 0
    assert snapshot() == before


@pytest.mark.parametrize("rows", [1, 3])
def test_import_check_query_count_is_constant(team, nurse, rows, django_assert_num_queries):
    for number in NHS[:rows]:
        PatientFactory(team=team, named_nurse=nurse, nhs_number=number)
    content = csv_bytes([row(number, hospital_number=f"X{number}") for number in NHS[:rows]])
    # nurses of the team, patients by NHS number, their primaries, their open items, hospital numbers
    with django_assert_num_queries(5):
        imports.build_plan(content, team=team)


# The template ---------------------------------------------------------------------


def test_import_template_is_a_csv_of_the_headings_and_an_example_row(admin_client):
    response = admin_client.get(url("import_template"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="caseload-import-template.csv"'
    headers, example = list(csv.reader(io.StringIO(body(response))))
    assert headers == HEADERS
    # A valid number of the 999 test range, which no person holds; the importer skips it.
    assert example[0] == "999 999 9980" == format_nhs_number(imports.EXAMPLE_NHS_NUMBER)
    assert nhs_number_error(imports.EXAMPLE_NHS_NUMBER) is None


# Access: admins only (403); an upload waiting in another session is unknown (404) --------


@pytest.fixture
def clinician(team):
    return UserFactory(username="sam", team=team, role=c.Role.CLINICIAN)


@pytest.mark.parametrize("persona", ["nurse", "clinician"])
def test_import_is_403_for_nurses_and_clinicians(client, request, persona, team, caseload, byron):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(url("import_upload")).status_code == 403
    assert upload(client, caseload, team).status_code == 403
    assert client.post(url("import_confirm"), {"token": "anything"}).status_code == 403
    assert client.get(url("import_template")).status_code == 403
    assert list(Patient.objects.all()) == [byron]


def test_import_needs_a_signed_in_user(client):
    response = client.get(url("import_upload"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_import_confirm_of_an_upload_not_in_this_session_is_404(admin_client, admin_user, team, caseload, byron):
    checked = upload(admin_client, caseload, team)
    other_admin = Client()
    other_admin.force_login(UserFactory(username="kim", team=None, role=c.Role.ADMIN))
    response = confirm(other_admin, checked)
    assert response.status_code == 404
    assert "This upload is not waiting to be imported" in body(response)
    assert Patient.objects.count() == 1

    streamed(confirm(admin_client, checked))
    assert Patient.objects.count() == 3
    # Confirmed once: the same token is unknown from now on.
    assert confirm(admin_client, checked).status_code == 404
    assert Patient.objects.count() == 3


def test_import_confirm_refuses_a_kept_file_that_changed_on_the_server(admin_client, team, caseload, upload_dir):
    checked = upload(admin_client, caseload, team)
    (upload_dir / f"{checked.context['token']}.upload").write_bytes(caseload.replace(b"Grace", b"Eve"))
    assert confirm(admin_client, checked).status_code == 404
    assert Patient.objects.count() == 1
    assert list(upload_dir.iterdir()) == []


# The management command -----------------------------------------------------------


@pytest.fixture
def caseload_file(tmp_path, caseload):
    path = tmp_path / "caseload.csv"
    path.write_bytes(caseload)
    return path


def test_import_command_dry_run_says_what_would_change_and_writes_nothing(caseload_file, byron):
    before = snapshot()
    out = io.StringIO()
    call_command("import_caseload", caseload_file, "--team", "north", "--dry-run", "-v", "2", stdout=out)
    assert out.getvalue().splitlines() == [
        f"Row     2  {format_nhs_number(NHS[0])}  BYRON, Ada: Update",
        "            Hospital number: H1 → H2",
        f"Row     3  {format_nhs_number(NHS[1])}  SOMERVILLE, Mary: Create, with primary diagnosis and next "
        f"mammogram due 1 Mar {NEXT_YEAR}",
        f"Row     4  {format_nhs_number(NHS[2])}  HOPPER, Grace: Create",
        "3 rows for North Breast Unit: 2 to create, 1 to update, 0 unchanged, 0 with errors.",
        "Dry run: nothing written.",
    ]
    assert snapshot() == before


def test_import_command_imports_with_progress_then_changes_nothing_the_second_time(caseload_file, admin_user, byron):
    out = io.StringIO()
    call_command("import_caseload", caseload_file, "--team", "north", "--by", "chris", stdout=out)
    assert out.getvalue().splitlines() == [
        f"Row     2  {format_nhs_number(NHS[0])}  BYRON, Ada: Update",
        "            Hospital number: H1 → H2",
        "3 rows for North Breast Unit: 2 to create, 1 to update, 0 unchanged, 0 with errors.",
        "  1/3 rows processed",
        "  2/3 rows processed",
        "  3/3 rows processed",
        "Imported: 2 created, 1 updated, 0 unchanged.",
    ]
    assert Patient.objects.count() == 3
    before = snapshot()
    quiet = io.StringIO()
    call_command("import_caseload", caseload_file, "--team", "north", "--by", "chris", "-v", "0", stdout=quiet)
    assert quiet.getvalue() == ""
    assert snapshot() == before


def test_import_command_with_a_bad_row_imports_nothing(tmp_path, team, nurse, admin_user):
    path = tmp_path / "caseload.csv"
    path.write_bytes(csv_bytes([row(NHS[0]), row(NHS[1], named_nurse="nobody")]))
    err = io.StringIO()
    with pytest.raises(CommandError, match=r"^1 row has errors: nothing imported\.$"):
        call_command("import_caseload", path, "--team", "north", "--by", "chris", stdout=io.StringIO(), stderr=err)
    assert err.getvalue().splitlines() == [
        f'Row 3 ({format_nhs_number(NHS[1])}): Named nurse: "nobody" is not the username of an active nurse in '
        "North Breast Unit."
    ]
    assert Patient.objects.count() == 0


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        (["--team", "nowhere", "--dry-run"], 'No team with the code "nowhere".'),
        (["--team", "north"], "Say who is importing with --by USERNAME: an active admin."),
        (["--team", "north", "--by", "alex"], "Say who is importing with --by USERNAME: an active admin."),
    ],
)
def test_import_command_refuses_without_a_team_or_an_admin(caseload_file, nurse, arguments, error):
    with pytest.raises(CommandError) as refused:
        call_command("import_caseload", caseload_file, *arguments, stdout=io.StringIO())
    assert str(refused.value) == error
    assert Patient.objects.count() == 1


# Identity: rows match on NHS number, and the rest of the identity must agree (issue 12, item 1) -----------------


def identity_error(patient_name: str, born: str) -> str:
    return f"NHS number {format_nhs_number(NHS[0])} belongs to {patient_name}, born {born}: check the number."


@pytest.mark.parametrize(
    "cells",
    [
        {"family_name": "Example", "date_of_birth": "17/05/1960"},
        {"family_name": "Anderson", "date_of_birth": "17/05/1960"},
        {"family_name": "Example", "date_of_birth": "04/03/1943"},
    ],
    ids=["family-name-and-birth-date", "birth-date", "family-name"],
)
def test_import_row_whose_nhs_number_belongs_to_another_person_is_an_error(admin_client, team, nurse, cells):
    anne = PatientFactory(
        team=team,
        named_nurse=nurse,
        nhs_number=NHS[0],
        given_name="Anne",
        family_name="Anderson",
        date_of_birth=date(1943, 3, 4),
    )
    before = snapshot()
    response = upload(admin_client, csv_bytes([row(NHS[0], given_name="Anne", **cells)]), team)
    plan = response.context["plan"]
    error = identity_error("ANDERSON, Anne", "4 Mar 1943")
    assert [(r.number, r.summary, r.changes, r.errors) for r in plan.rows] == [(2, "Not imported", [], [error])]
    page = body(response)
    assert f'<a href="#row-2">Row 2: {error}</a>' in page
    assert 'id="import-confirm"' not in page
    assert "caseload_import" not in admin_client.session
    assert snapshot() == before
    anne.refresh_from_db()
    assert (anne.family_name, anne.given_name, anne.date_of_birth, anne.version) == (
        "Anderson",
        "Anne",
        date(1943, 3, 4),
        1,
    )


@pytest.mark.parametrize(
    ("cells", "error"),
    [
        (
            {"given_name": "Augusta"},
            f"NHS number {format_nhs_number(NHS[0])} belongs to BYRON, Ada, born 17 May 1960, whose first name is "
            'not "Augusta": check the row. A first name is changed only on the patient\'s own page.',
        ),
        (
            {"sex": "Male"},
            f"NHS number {format_nhs_number(NHS[0])} belongs to BYRON, Ada, born 17 May 1960, recorded as female, "
            "not male: check the row. Sex is changed only on the patient's own page.",
        ),
    ],
    ids=["first-name", "sex"],
)
def test_import_row_with_another_first_name_or_sex_is_an_error_and_changes_nothing(
    team, admin_user, byron, cells, error
):
    plan = imports.build_plan(csv_bytes([row(NHS[0], family_name="Byron", hospital_number="H2", **cells)]), team=team)
    assert [(r.summary, r.changes, r.errors) for r in plan.rows] == [("Not imported", [], [error])]
    with pytest.raises(ValidationError):
        imports.import_all(plan, by=admin_user)
    byron.refresh_from_db()
    assert (byron.given_name, byron.sex, byron.hospital_number, byron.version) == ("Ada", c.Sex.FEMALE, "H1", 1)


def test_import_compares_identity_ignoring_case_and_spaces_and_never_rewrites_it(team, nurse, admin_user):
    patient = PatientFactory(
        team=team,
        named_nurse=nurse,
        nhs_number=NHS[0],
        hospital_number="H1",
        given_name="Mary Ann",
        family_name="Lloyd George",
        date_of_birth=date(1960, 5, 17),
    )
    line = row(NHS[0], given_name=" MARY  ANN ", family_name="lloyd   george", sex="f", hospital_number="H1")
    plan = imports.build_plan(csv_bytes([line]), team=team)
    assert [(r.summary, r.changes, r.errors) for r in plan.rows] == [("No change", [], [])]

    plan = imports.build_plan(csv_bytes([line | {"hospital_number": "H2"}]), team=team)
    assert [(r.summary, r.changes, r.errors) for r in plan.rows] == [("Update", ["Hospital number: H1 → H2"], [])]
    assert imports.import_all(plan, by=admin_user) == 1
    patient.refresh_from_db()
    # The record keeps its own spelling of the name: only the hospital number came from the file.
    assert (patient.given_name, patient.family_name, patient.hospital_number, patient.version) == (
        "Mary Ann",
        "Lloyd George",
        "H2",
        2,
    )


def test_import_dry_run_shows_each_changed_field_as_was_and_will_be_in_words(admin_client, team, nurse, byron):
    UserFactory(username="priya", first_name="Priya", last_name="Shah", team=team, role=c.Role.NURSE)
    nurse.first_name, nurse.last_name = "Alex", "Morgan"
    nurse.save()
    line = row(NHS[0], family_name="Byron", hospital_number="H2", named_nurse="priya", follow_up_model="pifu")
    line |= {"diagnosed_on": "01/07/2021", "laterality": "L", "next_kind": "mammogram", "next_due_on": "2030-07-01"}
    response = upload(admin_client, csv_bytes([line]), team)
    changes = [
        "Hospital number: H1 → H2",
        "Named nurse: Alex Morgan → Priya Shah",
        "Follow-up model: Clinic-led → Patient-initiated follow-up",
        "Add a primary diagnosis, diagnosed 1 Jul 2021",
        "Add the next mammogram, due 1 Jul 2030",
    ]
    assert [(r.summary, r.changes) for r in response.context["plan"].rows] == [("Update", changes)]
    page = body(response)
    assert "".join(f"<li>{change}</li>" for change in changes) in page
    assert "Import 1 row</button>" in page
    byron.refresh_from_db()
    assert (byron.hospital_number, byron.named_nurse, byron.version) == ("H1", nurse, 1)


def test_import_command_dry_run_shows_was_and_will_be_too(tmp_path, team, nurse, byron):
    UserFactory(username="priya", first_name="Priya", last_name="Shah", team=team, role=c.Role.NURSE)
    nurse.first_name, nurse.last_name = "Alex", "Morgan"
    nurse.save()
    path = tmp_path / "caseload.csv"
    path.write_bytes(
        csv_bytes([row(NHS[0], family_name="Byron", named_nurse="priya", hospital_number="H1"), row(NHS[1])])
    )
    out = io.StringIO()
    call_command("import_caseload", path, "--team", "north", "--dry-run", stdout=out)
    assert out.getvalue().splitlines() == [
        f"Row     2  {format_nhs_number(NHS[0])}  BYRON, Ada: Update",
        "            Named nurse: Alex Morgan → Priya Shah",
        "2 rows for North Breast Unit: 1 to create, 1 to update, 0 unchanged, 0 with errors.",
        "Dry run: nothing written.",
    ]
    byron.refresh_from_db()
    assert byron.named_nurse == nurse


def test_import_command_dry_run_refuses_a_row_whose_nhs_number_belongs_to_another_person(tmp_path, team, byron):
    path = tmp_path / "caseload.csv"
    path.write_bytes(csv_bytes([row(NHS[0], family_name="Example", date_of_birth="01/01/1970")]))
    err = io.StringIO()
    with pytest.raises(CommandError, match=r"^1 row has errors: nothing imported\.$"):
        call_command("import_caseload", path, "--team", "north", "--dry-run", stdout=io.StringIO(), stderr=err)
    assert err.getvalue().splitlines() == [
        f"Row 2 ({format_nhs_number(NHS[0])}): {identity_error('BYRON, Ada', '17 May 1960')}"
    ]


# The template's example row: skipped by the importer, so it can never touch a record --------------------------


def test_import_template_as_downloaded_dry_runs_clean_on_the_demo_data_and_changes_nothing(admin_client, admin_user):
    call_command("seed_demo", "--patients", "20", stdout=io.StringIO())
    north = Team.objects.get(code="north")
    before = snapshot()
    template = admin_client.get(url("import_template")).content
    example = list(csv.reader(io.StringIO(template.decode())))[1]
    assert example[0] == format_nhs_number(imports.EXAMPLE_NHS_NUMBER)

    response = upload(admin_client, template, north, name="caseload-import-template.csv")
    plan = response.context["plan"]
    assert [(r.number, r.nhs_display, r.name, r.summary, r.errors) for r in plan.rows] == [
        (2, format_nhs_number(imports.EXAMPLE_NHS_NUMBER), "EXAMPLE, Ada", "Example row skipped", [])
    ]
    page = body(response)
    assert "1 row: 0 to create, 0 to update, 0 unchanged, 0 with errors, 1 example row skipped." in page
    assert "Nothing to import: the file holds only the template's example row." in page
    assert 'id="import-confirm"' not in page
    assert imports.import_all(plan, by=admin_user) == 0
    assert snapshot() == before

    # Every value of the example is one the demo accepts: the same row under a new number would be created.
    fresh = template.replace(example[0].encode(), format_nhs_number(NHS[0]).encode())
    assert [(r.summary, r.errors) for r in imports.build_plan(fresh, team=north).rows] == [
        (f"Create, with primary diagnosis and next mammogram due 1 Mar {NEXT_YEAR}", [])
    ]


def test_import_template_example_row_never_touches_a_patient_even_one_with_its_number(team, nurse, admin_user):
    holder = PatientFactory(team=team, named_nurse=nurse, nhs_number=imports.EXAMPLE_NHS_NUMBER, family_name="Real")
    before = snapshot()
    content = imports.template_csv().encode() + csv_bytes([row(NHS[0])]).split(b"\n", 1)[1]
    plan = imports.build_plan(content, team=team)
    assert [(r.number, r.summary, r.errors) for r in plan.rows] == [
        (2, "Example row skipped", []),
        (3, "Create", []),
    ]
    assert imports.import_all(plan, by=admin_user) == 1
    assert list(Patient.objects.order_by("pk").values_list("nhs_number", "family_name")) == [
        (imports.EXAMPLE_NHS_NUMBER, "Real"),
        (NHS[0], "Lovelace"),
    ]
    assert [line for line in snapshot() if line[0] == "Patient" and line[1] == holder.pk] == [
        line for line in before if line[0] == "Patient" and line[1] == holder.pk
    ]


# The pages, as a person reads them --------------------------------------------------------------------------------


def test_import_pages_sit_under_patients_in_the_header_with_a_back_link_for_small_screens(admin_client, team, nurse):
    page = body(admin_client.get(url("import_upload")))
    current = '<a class="nhsuk-header__navigation-link" href="/patients/" aria-current="true">'
    assert current in page
    assert 'aria-current="true"' not in page.replace(current, "")
    assert '<a class="nhsuk-back-link" href="/patients/">Back to Patients</a>' in page

    checked = body(upload(admin_client, csv_bytes([row(NHS[0])]), team))
    assert current in checked
    assert '<a class="nhsuk-back-link" href="/import/">Back to Import a caseload</a>' in checked


def test_import_check_shows_each_rows_errors_in_what_happens_for_narrow_screens_too(admin_client, team, byron):
    response = upload(admin_client, csv_bytes([row(NHS[0], family_name="Example"), row(NHS[1])]), team)
    page = body(response)
    # Four columns, each cell labelled for the stacked layout of a phone.
    assert page.count('<th class="nhsuk-table__header" scope="col">') == 4
    assert page.count('<span class="nhsuk-table-responsive__heading" aria-hidden="true">What happens </span>') == 2
    error = identity_error("BYRON, Ada", "17 May 1960")
    assert (
        f'Not imported<ul class="nhsuk-list nhsuk-error-message nhsuk-u-margin-bottom-0"><li>{error}</li></ul>' in page
    )


def test_import_of_one_row_and_the_example_says_so_in_words(admin_client, team, nurse):
    content = imports.template_csv().encode() + csv_bytes([row(NHS[0])]).split(b"\n", 1)[1]
    page = streamed(confirm(admin_client, upload(admin_client, content, team)))
    assert "Keep this page open until it says the import is complete" in page
    assert "<li>1 of 1 row processed</li>" in page
    assert "1 created, 0 updated, 0 unchanged, 1 example row skipped." in page
