"""The caseload import carries the contact details and the GP practice: read as the change page reads
them, a GP practice only by the ODS code of one already in the tracker (never created from a file)."""

from datetime import datetime

import pytest

from followup import choices as c
from followup import imports
from followup.models import GPPractice, Patient
from followup.nhs import format_nhs_number

from .factories import GPPracticeFactory, PatientFactory
from .test_import import HEADERS, NHS, admin_client, confirm, csv_bytes, row, snapshot, streamed, upload, xlsx_bytes

__all__ = ["admin_client"]  # the fixture, shared with the import's own tests

CONTACT = {
    "address_line_1": "12 Imaginary Road",
    "address_line_2": "Flat 2",
    "town": "Testville",
    "postcode": "zz99 3vz",
    "phone_mobile": "+44 7700 900123",
    "phone_home": "01632960456",
    "email": "ada@example.com",
    "preferred_contact": "Home phone",
    "messages_may_be_left": "no",
    "next_of_kin_name": "Grace Hopper",
    "next_of_kin_relationship": "Daughter",
    "next_of_kin_phone": "07700 900999",
    "interpreter_language": "Polish",
    "accessible_information": "Large print",
    "gp_practice": "y90042",
}


@pytest.fixture
def practice(db):
    return GPPracticeFactory(ods_code="Y90042", name="Imaginary Road Surgery")


def stored(patient: Patient) -> tuple:
    return (
        patient.address_lines,
        patient.phone_mobile,
        patient.phone_home,
        patient.email,
        patient.preferred_contact,
        patient.messages_may_be_left,
        (patient.next_of_kin_name, patient.next_of_kin_relationship, patient.next_of_kin_phone),
        (patient.interpreter_needed, patient.interpreter_language),
        patient.accessible_information,
        patient.gp_practice,
    )


def expected(practice) -> tuple:
    return (
        ["12 Imaginary Road", "Flat 2", "Testville", "ZZ99 3VZ"],
        "07700 900123",
        "01632 960456",
        "ada@example.com",
        c.ContactPreference.HOME,
        False,
        ("Grace Hopper", "Daughter", "07700 900999"),
        (True, "Polish"),
        "Large print",
        practice,
    )


def test_template_carries_the_contact_columns_and_its_example_is_skipped():
    headers, example = imports.template_rows()
    for header in ("Postcode", "Mobile phone", "Home phone", "Messages may be left", "Interpreter language"):
        assert header in headers
    assert headers[-1] == "GP ODS code" and example[-1] == "Y90001"  # the demo's first test practice
    assert len(headers) == len(imports.COLUMNS) == 31


def test_import_from_csv_creates_patients_with_their_contact_details(admin_client, team, nurse, practice):
    checked = upload(admin_client, csv_bytes([row(NHS[0], **CONTACT)]), team)
    assert [(r.summary, r.errors) for r in checked.context["plan"].rows] == [("Create", [])]
    streamed(confirm(admin_client, checked))
    assert stored(Patient.objects.get(nhs_number=NHS[0])) == expected(practice)


def test_import_from_xlsx_reads_phone_numbers_a_spreadsheet_took_for_numbers(admin_client, team, nurse, practice):
    by_header = {column.header: column.key for column in imports.COLUMNS}
    cells = row(NHS[0], **CONTACT) | {"phone_mobile": 7700900123, "date_of_birth": datetime(1960, 5, 17)}
    content = xlsx_bytes([[cells.get(by_header[header]) for header in HEADERS]])
    checked = upload(admin_client, content, team, name="caseload.xlsx")
    assert [(r.summary, r.errors) for r in checked.context["plan"].rows] == [("Create", [])]
    streamed(confirm(admin_client, checked))
    assert stored(Patient.objects.get(nhs_number=NHS[0])) == expected(practice)


def test_an_unknown_ods_code_is_a_row_error_and_no_practice_is_created(team, nurse, practice):
    content = csv_bytes([row(NHS[0], gp_practice="Y12345"), row(NHS[1], given_name="Grace", gp_practice="Y90042")])
    plan = imports.build_plan(content, team=team)
    assert [(r.number, r.summary, r.errors) for r in plan.rows] == [
        (
            2,
            "Not imported",
            ["GP ODS code: No GP practice has the ODS code Y12345. Ask an admin to add it, then import again."],
        ),
        (3, "Create", []),
    ]
    assert not plan.can_import
    assert list(GPPractice.objects.values_list("ods_code", flat=True)) == ["Y90042"]


def test_contact_cells_that_are_not_what_they_say_are_row_errors(team, nurse):
    content = csv_bytes(
        [row(NHS[0], postcode="LS1", phone_home="12345", messages_may_be_left="maybe", preferred_contact="Pigeon")]
    )
    [checked] = imports.build_plan(content, team=team).rows
    assert checked.errors == [
        'Postcode: "LS1" is not a UK postcode. Enter a full UK postcode, like LS1 4AB.',
        'Home phone: "12345" is not a UK phone number. Enter a UK phone number, like 07700 900123 or 0113 496 0123.',
        'Preferred contact: "Pigeon" is not one of: Mobile phone, Home phone, Email, Letter.',
        'Messages may be left: "maybe" is not Yes or No (leave it empty if not asked).',
    ]


def test_import_updates_an_existing_patients_contact_details_in_words_then_changes_nothing(
    team, nurse, admin_user, practice
):
    ada = PatientFactory(
        team=team,
        named_nurse=nurse,
        nhs_number=NHS[0],
        given_name="Ada",
        family_name="Lovelace",
        date_of_birth=datetime(1960, 5, 17).date(),
        phone_home="01632 960000",
    )
    content = csv_bytes([row(NHS[0], phone_mobile="07700900123", messages_may_be_left="Yes", gp_practice="Y90042")])
    plan = imports.build_plan(content, team=team)
    assert [(r.summary, r.changes, r.errors) for r in plan.rows] == [
        (
            "Update",
            [
                "Mobile phone: not recorded → 07700 900123",
                "Messages may be left: not asked → Yes",
                "GP ODS code: not recorded → Imaginary Road Surgery (Y90042)",
            ],
            [],
        )
    ]
    assert imports.import_all(plan, by=admin_user) == 1
    ada.refresh_from_db()
    assert (ada.phone_mobile, ada.phone_home, ada.messages_may_be_left, ada.gp_practice) == (
        "07700 900123",
        "01632 960000",  # an empty cell leaves what is recorded
        True,
        practice,
    )
    assert (ada.version, ada.updated_by) == (2, admin_user)
    before = snapshot()
    again = imports.build_plan(content, team=team)
    assert [r.summary for r in again.rows] == ["No change"]
    assert imports.import_all(again, by=admin_user) == 0
    assert snapshot() == before


def test_an_interpreter_language_means_an_interpreter_is_needed(team, nurse, admin_user):
    ada = PatientFactory(team=team, named_nurse=nurse, nhs_number=NHS[0], given_name="Ada", family_name="Lovelace")
    cells = row(NHS[0], interpreter_language="Urdu") | {
        "date_of_birth": ada.date_of_birth.strftime("%d/%m/%Y"),
        "sex": ada.get_sex_display(),
    }
    plan = imports.build_plan(csv_bytes([cells]), team=team)
    assert [(r.summary, r.changes, r.errors) for r in plan.rows] == [
        ("Update", ["Interpreter language: not recorded → Urdu"], [])
    ]
    imports.import_all(plan, by=admin_user)
    ada.refresh_from_db()
    assert (ada.interpreter_needed, ada.interpreter_language) == (True, "Urdu")
    assert format_nhs_number(ada.nhs_number)


@pytest.mark.parametrize("rows", [1, 3])
def test_import_check_with_gp_codes_query_count_is_constant(team, nurse, practice, rows, django_assert_num_queries):
    content = csv_bytes([row(number, gp_practice="Y90042") for number in NHS[:rows]])
    # nurses of the team, the practices the file names, patients by NHS number (no existing patient:
    # no primaries or items to read), hospital numbers not asked for (none in the file)
    with django_assert_num_queries(3):
        plan = imports.build_plan(content, team=team)
    assert [r.summary for r in plan.rows] == ["Create"] * rows
