"""Browser journeys of the caseload import's safety (issue 12, item 1): a file can never rewrite who a patient is.

Run them with: DATABASE_URL=postgres://postgres@127.0.0.1:5432/followup .venv/bin/pytest -m browser tests/e2e
"""

import csv
import io
import re
from datetime import date

import pytest
from playwright.sync_api import expect

from followup import imports
from followup.models import FollowUpItem, Patient, PrimaryDiagnosis

from ..factories import PatientFactory
from .helpers import log_in, path_is, row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADERS = [column.header for column in imports.COLUMNS]


def caseload(*lines: dict) -> bytes:
    """A CSV file as a spreadsheet program saves it, from rows given by column header."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HEADERS)
    writer.writeheader()
    writer.writerows(lines)
    return buffer.getvalue().encode()


def everything() -> list[tuple]:
    """Every patient, primary and item with its version and last change: what a refused file must leave alone."""
    return [
        (model.__name__, *values)
        for model in (Patient, PrimaryDiagnosis, FollowUpItem)
        for values in model.all_objects.order_by("pk").values_list("pk", "version", "updated_at")
    ]


@pytest.fixture
def anne(alex):
    return PatientFactory(
        nhs_number="9990000018",
        given_name="Anne",
        family_name="Anderson",
        date_of_birth=date(1943, 3, 4),
        hospital_number="H100018",
        team=alex.team,
        named_nurse=alex,
    )


def test_admin_uploads_a_row_with_another_persons_nhs_number_and_the_check_names_the_real_patient(
    page, alex, chris, anne
):
    before = everything()
    file = caseload(
        {
            "NHS number": "999 000 0018",
            "First name": "Ada",
            "Last name": "Example",
            "Date of birth": "17/05/1960",
            "Sex": "Female",
            "Named nurse": "alex",
            "Hospital number": "H555555",
        }
    )

    log_in(page, "chris")
    page.get_by_role("link", name="Patients", exact=True).first.click()
    page.get_by_role("link", name="Import a caseload").click()
    expect(page).to_have_url(path_is("/import/"))
    page.get_by_label("Import into").select_option(label="North Breast Unit")
    page.get_by_label("CSV or XLSX file").set_input_files(
        {"name": "caseload.csv", "mimeType": "text/csv", "buffer": file}
    )
    page.get_by_role("button", name="Check the file").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check the import")
    error = "NHS number 999 000 0018 belongs to ANDERSON, Anne, born 4 Mar 1943: check the number."
    summary = page.locator(".nhsuk-error-summary")
    expect(summary.get_by_role("heading")).to_have_text("1 row with errors: nothing can be imported yet")
    expect(summary.get_by_role("link")).to_have_text([f"Row 2: {error}"])
    expect(page.locator("#import-summary")).to_have_text("1 row: 0 to create, 0 to update, 0 unchanged, 1 with errors.")
    flagged = row(page, "999 000 0018")
    expect(flagged.locator("td")).to_have_text(
        ["2", "999 000 0018", "EXAMPLE, Ada", f"Not imported {error}"], use_inner_text=True
    )
    # Nothing can be confirmed: the page offers only a corrected upload.
    expect(page.locator("#import-confirm")).to_have_count(0)
    expect(page.get_by_role("link", name="Upload a corrected file")).to_be_visible()

    # The link in the error summary takes the keyboard to the row.
    summary.get_by_role("link").click()
    expect(page).to_have_url(path_is("/import/#row-2"))

    assert everything() == before
    anne.refresh_from_db()
    assert (anne.family_name, anne.given_name, anne.date_of_birth, anne.hospital_number, anne.version) == (
        "Anderson",
        "Anne",
        date(1943, 3, 4),
        "H100018",
        1,
    )


def test_admin_sees_was_and_will_be_and_the_import_changes_only_those_fields(page, alex, priya, chris, anne):
    file = caseload(
        {
            "NHS number": "999 000 0018",
            "First name": "ANNE",
            "Last name": " anderson ",
            "Date of birth": "1943-03-04",
            "Sex": "F",
            "Named nurse": "priya",
            "Hospital number": "H100019",
        }
    )
    log_in(page, "chris")
    page.goto("/import/")
    page.get_by_label("Import into").select_option(label="North Breast Unit")
    page.get_by_label("CSV or XLSX file").set_input_files(
        {"name": "caseload.csv", "mimeType": "text/csv", "buffer": file}
    )
    page.get_by_role("button", name="Check the file").click()

    expect(page.locator("#import-summary")).to_have_text("1 row: 0 to create, 1 to update, 0 unchanged, 0 with errors.")
    updated = row(page, "999 000 0018")
    expect(updated.locator("td").nth(3)).to_have_text(re.compile(r"^Update\s"), use_inner_text=True)
    expect(updated.locator("td").nth(3).locator("li")).to_have_text(
        ["Hospital number: H100018 → H100019", "Named nurse: Alex Morgan → Priya Shah"]
    )
    page.get_by_role("button", name="Import 1 row").click()
    expect(page.locator("#import-progress")).to_have_text("1 of 1 row processed")
    expect(page.locator("#import-succeeded")).to_contain_text("0 created, 1 updated, 0 unchanged.")

    anne.refresh_from_db()
    # The name keeps the record's spelling: identity is never taken from the file.
    assert (anne.family_name, anne.given_name, anne.hospital_number, anne.named_nurse, anne.updated_by) == (
        "Anderson",
        "Anne",
        "H100019",
        priya,
        chris,
    )


def test_admin_checks_the_downloaded_template_and_its_example_row_is_skipped(page, tmp_path, alex, chris, anne):
    before = everything()
    log_in(page, "chris")
    page.goto("/import/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the template (CSV)").click()
    assert download.value.suggested_filename == "caseload-import-template.csv"
    template = tmp_path / "caseload-import-template.csv"
    download.value.save_as(template)

    page.get_by_label("Import into").select_option(label="North Breast Unit")
    page.get_by_label("CSV or XLSX file").set_input_files(template)
    page.get_by_role("button", name="Check the file").click()

    expect(page.locator("#import-summary")).to_have_text(
        "1 row: 0 to create, 0 to update, 0 unchanged, 0 with errors, 1 example row skipped."
    )
    expect(row(page, "999 999 9980").locator("td").nth(3)).to_have_text("Example row skipped", use_inner_text=True)
    expect(page.locator("#import-nothing")).to_have_text(
        "Nothing to import: the file holds only the template's example row. "
        "Add your patients below it (or in its place) and upload the file again."
    )
    expect(page.locator("#import-confirm")).to_have_count(0)
    assert everything() == before
