"""Issue 12, item 3: implausible dates are refused at the model, with the message beside the field;
rows already holding one are on the data-quality list; no export writes a date Excel cannot show."""

import csv
import html
import io
import re
from datetime import date, timedelta

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from followup import choices as c
from followup import services
from followup.dates import add_years
from followup.exports import write_xlsx
from followup.models import FollowUpItem, Patient, Recurrence, StagingTest
from followup.querysets import DATA_QUALITY_FLAGS
from followup.services import SiteEntry
from followup.worklists import WORKLISTS

from .factories import (
    FollowUpItemFactory,
    FollowUpProtocolFactory,
    PatientFactory,
    PrimaryDiagnosisFactory,
    RecurrenceFactory,
    RecurrenceSiteFactory,
    StagingTestFactory,
    SymptomReportFactory,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
BORN = date(1960, 5, 17)  # the factory patient's date of birth


def days(n):
    return TODAY + timedelta(days=n)


def refused(call) -> dict:
    with pytest.raises(ValidationError) as excinfo:
        call()
    return excinfo.value.message_dict


def register(nurse, **changes):
    fields = {
        "given_name": "Ada",
        "family_name": "Lovelace",
        "date_of_birth": date(1960, 5, 17),
        "sex": c.Sex.FEMALE,
        "team": nurse.team,
        "named_nurse": nurse,
    }
    return lambda: services.patient_create(by=nurse, **(fields | changes))


def error_beside(response, field) -> str:
    match = re.search(
        rf'<span class="nhsuk-error-message" id="id_{field}-error">(.*?)</span>\s*(?=<|$)', response.content.decode()
    )
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1)).replace("Error: ", "", 1)).strip() if match else ""


# Date of birth ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "message"),
    [
        (date(1, 3, 15), "The date of birth cannot be before 1 Jan 1900: check the year."),
        (date(1899, 12, 31), "The date of birth cannot be before 1 Jan 1900: check the year."),
        (TODAY + timedelta(days=1), "The date of birth cannot be in the future."),
        (add_years(TODAY, -121), "The date of birth gives an age over 120: check the year."),
    ],
)
def test_implausible_date_of_birth_is_refused_beside_the_field(nurse, born, message):
    assert refused(register(nurse, date_of_birth=born)) == {"date_of_birth": [message]}
    assert Patient.objects.count() == 0


def test_plausible_dates_of_birth_at_the_edges_are_accepted(nurse):
    services.patient_create(by=nurse, **_identity(nurse, "Aged120", add_years(TODAY, -120)))
    services.patient_create(by=nurse, **_identity(nurse, "Newborn", TODAY))
    # Aged 95 at death, though 121 had she lived: the age is at death.
    services.patient_create(
        by=nurse,
        **_identity(nurse, "Died", add_years(TODAY, -121)),
        status=c.PatientStatus.DECEASED,
        date_of_death=add_years(TODAY, -26),
    )
    assert sorted(Patient.objects.values_list("family_name", flat=True)) == ["Aged120", "Died", "Newborn"]


def _identity(nurse, family, born):
    return {
        "given_name": "Ada",
        "family_name": family,
        "date_of_birth": born,
        "sex": c.Sex.FEMALE,
        "team": nurse.team,
        "named_nurse": nurse,
    }


def test_date_of_birth_typed_as_year_27_is_refused_on_the_register_form(client, nurse):
    client.force_login(nurse)
    response = client.post(
        reverse("followup:patient_create"),
        {
            "given_name": "Ada",
            "family_name": "Lovelace",
            "date_of_birth": "0027-03-15",
            "sex": c.Sex.FEMALE,
            "named_nurse": nurse.pk,
            "follow_up_model": c.FollowUpModel.CLINIC,
        },
    )
    assert response.status_code == 200
    assert error_beside(response, "date_of_birth") == "The date of birth cannot be before 1 Jan 1900: check the year."
    assert Patient.objects.count() == 0


def test_date_of_birth_cannot_move_after_what_is_already_recorded(nurse, patient):
    PrimaryDiagnosisFactory(patient=patient, diagnosed_on=date(2019, 3, 12))
    errors = refused(
        lambda: services.patient_update(
            patient=patient, by=nurse, expected_version=patient.version, date_of_birth=date(2020, 1, 1)
        )
    )
    assert errors == {
        "date_of_birth": ["The date of birth cannot be after a date already recorded: primary diagnosis 12 Mar 2019."]
    }
    assert Patient.objects.get(pk=patient.pk).date_of_birth == BORN


# Clinical dates ---------------------------------------------------------------------------


def _staging_test(patient, nurse):
    recurrence = services.recurrence_record(
        patient=patient,
        metastatic_type=c.MetastaticType.REGIONAL,
        sites=[SiteEntry(c.Site.AXILLARY_NODES)],
        diagnosed_on=days(-30),
        restaging_tests=[c.StagingModality.CT_CAP],
        by=nurse,
    )
    return recurrence.restaging.tests.get()


def _actions(patient, nurse):
    """Each clinical date through the service that records it: name -> (call with the date, field)."""
    item = FollowUpItemFactory(patient=patient, kind=c.FollowUpKind.CLINIC_REVIEW, due_on=days(-10))
    return {
        "primary diagnosed": (
            lambda d: services.primary_record(patient=patient, by=nurse, diagnosed_on=d, laterality="L"),
            "diagnosed_on",
            "The date of diagnosis",
        ),
        "item due": (
            lambda d: services.followup_item_add(patient=patient, kind="mammogram", due_on=d, by=nurse),
            "due_on",
            "The due date",
        ),
        "item done": (
            lambda d: services.followup_item_record_done(item=item, done_on=d, by=nurse, expected_version=1),
            "done_on",
            "The date done",
        ),
        "recurrence": (
            lambda d: services.recurrence_record(
                patient=patient,
                metastatic_type=c.MetastaticType.DISTANT,
                sites=[SiteEntry(c.Site.BONE)],
                diagnosed_on=d,
                by=nurse,
            ),
            "diagnosed_on",
            "The date clinically agreed",
        ),
        "symptom reported": (
            lambda d: services.symptom_report_record(
                patient=patient, reported_on=d, area=c.SymptomArea.BONE, description="Back pain", by=nurse
            ),
            "reported_on",
            "The date reported",
        ),
        "symptom onset": (
            lambda d: services.symptom_report_record(
                patient=patient,
                reported_on=days(-1),
                onset_on=d,
                area=c.SymptomArea.BONE,
                description="Back pain",
                by=nurse,
            ),
            "onset_on",
            "The date symptoms started",
        ),
        "discharge": (
            lambda d: services.patient_discharge(
                patient=patient, discharged_on=d, reason="Completed", by=nurse, expected_version=None
            ),
            "discharged_on",
            "The discharge date",
        ),
        "death": (
            lambda d: services.patient_record_death(patient=patient, date_of_death=d, by=nurse, expected_version=None),
            "date_of_death",
            "The date of death",
        ),
    }


ACTIONS = [
    "primary diagnosed",
    "item due",
    "item done",
    "recurrence",
    "symptom reported",
    "symptom onset",
    "discharge",
    "death",
]


@pytest.mark.parametrize("action", ACTIONS)
def test_a_clinical_date_before_birth_is_refused_beside_the_field(nurse, patient, action):
    call, field, label = _actions(patient, nurse)[action]
    assert refused(lambda: call(date(1955, 6, 1))) == {
        field: [f"{label} cannot be before the date of birth (17 May 1960)."]
    }


@pytest.mark.parametrize("action", ACTIONS)
def test_a_clinical_date_before_1900_is_refused_beside_the_field(nurse, action):
    patient = PatientFactory(team=nurse.team, named_nurse=nurse, date_of_birth=date(1900, 1, 1))
    patient = Patient.objects.get(pk=patient.pk)
    call, field, label = _actions(patient, nurse)[action]
    assert refused(lambda: call(date(27, 3, 15))) == {field: [f"{label} cannot be before 1 Jan 1900: check the year."]}


@pytest.mark.parametrize("action", [action for action in ACTIONS if action != "item due"])  # a plan may be ahead
def test_a_past_clinical_date_in_the_future_is_refused(nurse, patient, action):
    call, field, label = _actions(patient, nurse)[action]
    assert refused(lambda: call(days(1))) == {field: [f"{label} cannot be in the future."]}


@pytest.mark.parametrize(
    ("name", "data", "field", "message"),
    [
        (
            "item_add",
            {"kind": "mammogram", "due_on": "0027-03-15"},
            "due_on",
            "The due date cannot be before 1 Jan 1900",
        ),
        ("item_add", {"kind": "mammogram", "due_on": "2062-01-01"}, "due_on", "The due date is more than 10 years"),
        (
            "protocol_assign",
            {"protocol_start_on": "9999-06-01"},
            "protocol_start_on",
            "The schedule start date is more than 10 years",
        ),
        (
            "protocol_assign",
            {"protocol_start_on": "1950-06-01"},
            "protocol_start_on",
            "The schedule start date cannot be before the",
        ),
    ],
)
def test_a_typing_slip_in_a_year_is_refused_beside_the_field_of_the_form(
    client, nurse, patient, name, data, field, message
):
    client.force_login(nurse)
    if name == "protocol_assign":
        data = data | {"protocol": FollowUpProtocolFactory().pk}
    response = client.post(reverse(f"followup:{name}", args=[patient.pk]), data)
    assert response.status_code == 200
    assert error_beside(response, field).startswith(message)
    assert FollowUpItem.objects.count() == 0


def test_a_recurrence_before_its_primary_diagnosis_is_refused(nurse, patient):
    primary = PrimaryDiagnosisFactory(patient=patient, diagnosed_on=date(2019, 3, 12))
    errors = refused(
        lambda: services.recurrence_record(
            patient=patient,
            primary=primary,
            metastatic_type=c.MetastaticType.LOCAL,
            sites=[SiteEntry(c.Site.CHEST_WALL)],
            diagnosed_on=date(2018, 1, 1),
            restaging_tests=[c.StagingModality.CT_CAP],
            by=nurse,
        )
    )
    assert errors == {"diagnosed_on": ["The recurrence cannot be before the primary diagnosis (12 Mar 2019)."]}
    assert Recurrence.all_objects.count() == 0


def test_a_recurrence_before_its_primary_is_refused_beside_the_field_of_the_form(client, nurse, patient):
    primary = PrimaryDiagnosisFactory(patient=patient, diagnosed_on=date(2019, 3, 12))
    client.force_login(nurse)
    response = client.post(
        reverse("followup:recurrence_add", args=[patient.pk]),
        {
            "metastatic_type": c.MetastaticType.DISTANT,
            "sites": [c.Site.BONE],
            "status": c.RecurrenceStatus.CONFIRMED,
            "diagnosed_on": "2018-01-01",
            "primary": primary.pk,
        },
    )
    assert (
        error_beside(response, "diagnosed_on") == "The recurrence cannot be before the primary diagnosis (12 Mar 2019)."
    )
    assert Recurrence.all_objects.count() == 0


def test_staging_dates_in_the_future_are_refused(nurse, patient):
    test = _staging_test(patient, nurse)

    def record(performed, reported):
        return lambda: services.staging_test_record_result(
            test=test, performed_on=performed, reported_on=reported, result=c.StagingResult.CLEAR, by=nurse
        )

    assert refused(record(days(-2), days(1))) == {"reported_on": ["The date reported cannot be in the future."]}
    assert refused(record(days(1), days(2))) == {
        "performed_on": ["The date performed cannot be in the future."],
        "reported_on": ["The date reported cannot be in the future."],
    }
    requested = refused(
        lambda: services.staging_test_request(
            episode=test.episode, modality=c.StagingModality.BONE_SCAN, requested_on=days(3), by=nurse
        )
    )
    assert requested == {"requested_on": ["The date requested cannot be in the future."]}
    assert StagingTest.objects.get(pk=test.pk).result == ""


def test_a_row_already_holding_an_implausible_date_can_still_be_acted_on(nurse, patient):
    """Only a date being entered or changed is checked: an old bad date must not block the
    actions that correct it (entered in error) or that keep patients safe (acknowledging)."""
    result = FollowUpItemFactory(
        patient=patient, due_on=date(27, 3, 15), status=c.FollowUpStatus.DONE, done_on=days(-2), result="02"
    )
    services.result_acknowledge(item=result, by=nurse)
    services.record_mark_entered_in_error(record=result, reason="Typed 27 for 2027", by=nurse)
    saved = FollowUpItem.all_objects.get(pk=result.pk)
    assert (saved.result_acknowledged_by, saved.entered_in_error, saved.due_on) == (nurse, True, date(27, 3, 15))


# Rows already holding implausible dates: the data-quality list ---------------------------------


def _bad_rows(nurse):
    """One patient per way a stored date can be implausible (saved with save(): no checks)."""
    mk = lambda **kw: PatientFactory(team=nurse.team, named_nurse=nurse, **kw)  # noqa: E731
    rows = {}
    rows["born in year 1"] = mk(date_of_birth=date(1, 1, 1))
    rows["born 1899"] = mk(date_of_birth=date(1899, 6, 1))
    rows["born tomorrow"] = mk(date_of_birth=days(1))
    rows["aged 121"] = mk(date_of_birth=add_years(TODAY, -121))
    p = rows["item due in year 27"] = mk()
    FollowUpItemFactory(patient=p, due_on=date(27, 3, 15))
    p = rows["item done before birth"] = mk()
    FollowUpItemFactory(
        patient=p,
        kind=c.FollowUpKind.CLINIC_REVIEW,
        status=c.FollowUpStatus.DONE,
        due_on=days(-5),
        done_on=date(1950, 1, 1),
    )
    p = rows["primary before birth"] = mk()
    PrimaryDiagnosisFactory(patient=p, diagnosed_on=date(1950, 1, 1))
    p = rows["recurrence before primary"] = mk()
    primary = PrimaryDiagnosisFactory(patient=p, diagnosed_on=date(2019, 3, 12))
    RecurrenceFactory(patient=p, primary=primary, diagnosed_on=date(2018, 1, 1))
    p = rows["test reported in the future"] = mk()
    StagingTestFactory(
        episode__recurrence__patient=p, performed_on=days(-1), reported_on=days(5), result=c.StagingResult.CLEAR
    )
    p = rows["symptom before birth"] = mk()
    SymptomReportFactory(patient=p, reported_on=date(1901, 1, 1))
    rows["aged 121 at death"] = mk(
        date_of_birth=date(1900, 1, 1), status=c.PatientStatus.DECEASED, date_of_death=date(2021, 1, 2)
    )
    return rows


def test_rows_with_implausible_dates_are_on_the_data_quality_list(client, nurse):
    bad = _bad_rows(nurse)
    fine = PatientFactory(team=nurse.team, named_nurse=nurse)
    PrimaryDiagnosisFactory(patient=fine)
    FollowUpItemFactory(patient=fine, due_on=days(300))
    hidden = PatientFactory(team=nurse.team, named_nurse=nurse)
    PrimaryDiagnosisFactory(patient=hidden)
    gone = FollowUpItemFactory(patient=hidden, due_on=date(27, 3, 15))
    services.record_mark_entered_in_error(record=gone, reason="Typed 27", by=nurse)
    expected = {p.pk for p in bad.values()}

    for per_row in (False, True):
        flagged = Patient.objects.data_quality_problems(per_row=per_row).having_problem("implausible_date")
        assert set(flagged.values_list("pk", flat=True)) == expected, per_row
    client.force_login(nurse)
    response = client.get(reverse("followup:worklist", args=["data-quality"]), {"problem": "implausible_date"})
    assert {row.record.pk for row in response.context["table"].paginated_rows} == expected
    assert "<li>Implausible date</li>" in response.content.decode()
    one = WORKLISTS["data-quality"].for_patient(bad["item due in year 27"], today=TODAY)
    assert [WORKLISTS["data-quality"].describe(row) for row in one] == [
        "No primary diagnosis recorded; Implausible date"
    ]
    assert "implausible_date" in DATA_QUALITY_FLAGS


def test_the_patient_page_says_which_dates_are_implausible(client, nurse):
    patient = PatientFactory(team=nurse.team, named_nurse=nurse, date_of_birth=date(1899, 6, 1))
    primary = PrimaryDiagnosisFactory(patient=patient, diagnosed_on=date(2019, 3, 12))
    FollowUpItemFactory(patient=patient, due_on=date(27, 3, 15))
    RecurrenceSiteFactory(
        recurrence__patient=patient, recurrence__primary=primary, recurrence__diagnosed_on=date(2018, 1, 1)
    )
    SymptomReportFactory(patient=patient, reported_on=days(-3), onset_on=date(25, 10, 1))
    client.force_login(nurse)
    response = client.get(reverse("followup:patient_detail", args=[patient.pk]))
    assert [row.text for row in dict(response.context["actions"])[WORKLISTS["data-quality"]]] == [
        "Implausible date",
        "Patient, 1 Jun 1899: The date of birth cannot be before 1 Jan 1900: check the year.",
        "Mammogram, 15 Mar 0027: The due date cannot be before 1 Jan 1900: check the year.",
        "Regional recurrence, 1 Jan 2018: The recurrence cannot be before the primary diagnosis (12 Mar 2019).",
        "Bone symptom report, 1 Oct 0025: The date symptoms started cannot be before 1 Jan 1900: check the year.",
    ]


def test_a_patient_who_died_aged_95_is_not_flagged_for_her_age(nurse):
    patient = PatientFactory(
        team=nurse.team,
        named_nurse=nurse,
        date_of_birth=date(1905, 1, 1),
        status=c.PatientStatus.DECEASED,
        date_of_death=date(2000, 1, 1),
    )
    PrimaryDiagnosisFactory(patient=patient, diagnosed_on=date(1990, 1, 1))
    assert list(Patient.objects.data_quality_problems().having_problem("implausible_date")) == []


# Exports -----------------------------------------------------------------------------------


def test_xlsx_writes_a_date_excel_cannot_show_as_text(tmp_path):
    path = tmp_path / "dates.xlsx"
    write_xlsx(path, ["Due"], [(date(27, 3, 15),), (date(1899, 12, 31),), (date(1900, 1, 1),)], title="Dates")
    cells = [row[0] for row in openpyxl.load_workbook(path).active.iter_rows(min_row=2)]
    assert [(cell.value, cell.data_type) for cell in cells[:2]] == [("0027-03-15", "s"), ("1899-12-31", "s")]
    assert (cells[2].value.date(), cells[2].number_format) == (date(1900, 1, 1), "yyyy-mm-dd")


def test_line_list_with_an_item_due_in_year_27_downloads_as_csv_and_xlsx(client, nurse, patient):
    FollowUpItemFactory(patient=patient, due_on=date(27, 3, 15))
    client.force_login(nurse)
    url = reverse("followup:report_line_list", args=["follow-up-items"])
    csv_rows = list(
        csv.reader(io.StringIO(b"".join(client.get(url, {"export": "csv"}).streaming_content).decode("utf-8-sig")))
    )
    due = csv_rows[0].index("Due")
    assert csv_rows[1][due] == "0027-03-15"
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(client.get(url, {"export": "xlsx"}).streaming_content))).active
    cell = list(sheet.iter_rows(min_row=2))[0][due]
    assert (cell.value, cell.data_type) == ("0027-03-15", "s")


def test_the_caseload_import_refuses_an_implausible_date_through_the_same_model_rules(nurse):
    from followup import imports

    from .test_import import NHS, csv_bytes, row

    lines = [row(NHS[0], date_of_birth="15/03/0027", named_nurse=nurse.username)]
    plan = imports.build_plan(csv_bytes(lines), team=nurse.team)
    assert [r.errors for r in plan.rows] == [
        ["Date of birth: The date of birth cannot be before 1 Jan 1900: check the year."]
    ]
