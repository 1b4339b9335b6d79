"""Issue 17: the patient flags table (followup/flags.py) stays equal to the rules after every change.

The property test is in tests/test_flags_property.py; the cases here pin down the parts the table keeps in
its own way: the date window read against today, possible duplicates across patients, writes that bypass
the signals (check_patient_flags), batched(), and bulk refreshes in chunks."""

import io
from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from followup import flags, services
from followup.models import (
    OpenItemDue,
    Patient,
    SymptomReport,
)

from .factories import (
    FollowUpItemFactory,
    PatientFactory,
    PrimaryDiagnosisFactory,
    SymptomReportFactory,
)
from .test_flags_property import BORN, OTHER_BORN, TODAY, days, ids, stored  # the property test's

pytestmark = pytest.mark.django_db


def write_behind_the_flags(model, pk: int, field: str, value) -> None:
    """Change one column in raw SQL, as a script or a restore could: no signal, no refresh."""
    name = connection.ops.quote_name
    table, column = name(model._meta.db_table), name(model._meta.get_field(field).column)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, pk])  # noqa: S608 (names from the model)


# 2. The date window ----------------------------------------------------------------------------------


def test_a_report_dated_in_the_future_is_implausible_until_that_day(patient):
    PrimaryDiagnosisFactory(patient=patient)
    report = SymptomReportFactory(patient=patient, reported_on=days(-3))
    assert ids(Patient.objects.flagged_data_quality()) == set()
    # The services refuse a future date: a row holding one came in another way (an old import, a slip in SQL).
    write_behind_the_flags(SymptomReport, report.pk, "reported_on", days(10))
    assert flags.differences() != []  # the table is behind until refreshed
    assert flags.refresh([patient.pk]) == 1

    row = stored(patient)
    assert (row.implausible_always, row.implausible_until, row.problem) == (False, days(10), False)
    assert flags.differences() == []
    for today, flagged in [(TODAY, True), (days(9), True), (days(10), False), (days(11), False)]:
        by_table = ids(Patient.objects.flagged_data_quality(today=today).having_problem("implausible_date"))
        assert by_table == ({patient.pk} if flagged else set()), today
        assert ids(Patient.objects.flagged_data_quality(today=today)) == by_table
        assert flags.differences(today=today if flagged else TODAY) == []
    # The rule, evaluated on the later day, agrees with the table read on that day.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timezone, "localdate", lambda *args, **kwargs: days(11))
        assert ids(Patient.objects.data_quality_problems()) == set()
        assert flags.differences(today=days(11)) == []
        patch.setattr(timezone, "localdate", lambda *args, **kwargs: days(9))
        assert ids(Patient.objects.data_quality_problems().having_problem("implausible_date")) == {patient.pk}


def test_a_living_patient_becomes_implausible_after_their_120th_birthday(nurse):
    old = PatientFactory(team=nurse.team, named_nurse=nurse, date_of_birth=date(1906, 12, 10))
    PrimaryDiagnosisFactory(patient=old, diagnosed_on=date(1990, 1, 1))
    row = stored(old)
    assert (row.implausible_always, row.implausible_after, row.problem) == (False, date(2026, 12, 10), False)
    assert ids(Patient.objects.flagged_data_quality(today=date(2026, 12, 9))) == set()
    assert ids(Patient.objects.flagged_data_quality(today=date(2026, 12, 10))) == set()  # aged 120 that day
    assert ids(Patient.objects.flagged_data_quality(today=date(2026, 12, 11))) == {old.pk}
    for day in (date(2026, 12, 9), date(2026, 12, 11)):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(timezone, "localdate", lambda *args, day=day, **kwargs: day)
            rule = ids(Patient.objects.data_quality_problems().having_problem("implausible_date"))
        assert rule == ids(Patient.objects.flagged_data_quality(today=day).having_problem("implausible_date")), day

    # Her death recorded: the age is judged at death, and the window closes.
    services.patient_record_death(patient=old, date_of_death=date(2020, 5, 1), by=nurse, expected_version=None)
    assert stored(old).implausible_after is None
    assert ids(Patient.objects.flagged_data_quality(today=date(2030, 1, 1))) == set()
    assert flags.differences(today=date(2030, 1, 1)) == []


def test_differences_on_another_day_compare_the_rules_on_that_day_too(patient):
    PrimaryDiagnosisFactory(patient=patient)
    report = SymptomReportFactory(patient=patient, reported_on=days(-3))
    write_behind_the_flags(SymptomReport, report.pk, "reported_on", days(10))
    flags.refresh([patient.pk])
    assert flags.differences(today=days(11)) == []


# 3. Possible duplicates across patients ---------------------------------------------------------------


def test_renaming_one_patient_flags_and_clears_the_other(nurse):
    a = PatientFactory(team=nurse.team, named_nurse=nurse, family_name="Okoro", given_name="Ada", date_of_birth=BORN)
    b = PatientFactory(team=nurse.team, named_nurse=nurse, family_name="Bello", given_name="Amy", date_of_birth=BORN)
    for p in (a, b):
        PrimaryDiagnosisFactory(patient=p)
    assert ids(Patient.objects.flagged_data_quality()) == set()

    def rename(**fields):
        current = Patient.objects.get(pk=b.pk)
        services.patient_update(patient=current, by=nurse, expected_version=current.version, **fields)

    rename(family_name="OKORO")
    assert ids(Patient.objects.flagged_data_quality().having_problem("possible_duplicate")) == {a.pk, b.pk}
    assert stored(a).problem and stored(b).problem
    rename(family_name="Bello")
    assert ids(Patient.objects.flagged_data_quality()) == set()
    assert not stored(a).possible_duplicate
    assert flags.differences() == []

    # The date of birth: moving onto A's date makes the pair, moving away clears A too.
    rename(family_name="Okoro", date_of_birth=OTHER_BORN)
    assert ids(Patient.objects.flagged_data_quality()) == set()
    rename(date_of_birth=BORN)
    assert ids(Patient.objects.flagged_data_quality()) == {a.pk, b.pk}
    rename(date_of_birth=OTHER_BORN)
    assert ids(Patient.objects.flagged_data_quality()) == set()
    assert not stored(a).possible_duplicate
    rename(date_of_birth=BORN)
    assert stored(a).possible_duplicate
    # A duplicate marked entered in error: the one left is no longer a possible duplicate.
    services.record_mark_entered_in_error(record=Patient.objects.get(pk=b.pk), reason="Registered twice", by=nurse)
    assert ids(Patient.objects.flagged_data_quality()) == set()
    assert not stored(a).possible_duplicate
    assert flags.differences() == []


def test_a_new_patient_instance_saved_with_another_date_of_birth_clears_its_twin(nurse):
    a = PatientFactory(team=nurse.team, named_nurse=nurse, family_name="Okoro", date_of_birth=BORN)
    b = PatientFactory(team=nurse.team, named_nurse=nurse, family_name="Okoro", date_of_birth=BORN)
    assert stored(a).possible_duplicate
    b.date_of_birth = OTHER_BORN
    b.save()  # an instance made in this process: the date of birth before is read from the database
    assert not stored(a).possible_duplicate
    b.date_of_birth = BORN
    b.save()
    assert stored(a).possible_duplicate and stored(b).possible_duplicate


# 4. A write behind the flags' back: check_patient_flags finds it, --fix repairs --------------------


def test_check_patient_flags_reports_a_write_that_bypassed_the_signals_and_fix_repairs_it(patient):
    PrimaryDiagnosisFactory(patient=patient)
    out = io.StringIO()
    call_command("check_patient_flags", stdout=out)
    assert "No differences" in out.getvalue()

    write_behind_the_flags(Patient, patient.pk, "nhs_number", "")
    found = flags.differences()
    assert {(d.patient_id, d.what, d.stored, d.expected) for d in found} >= {
        (patient.pk, "missing_nhs_number", False, True),
        (patient.pk, "problem", False, True),
        (patient.pk, "on the list data quality", False, True),  # the list read from the table misses her
    }
    assert {d.patient_id for d in found} == {patient.pk}
    out = io.StringIO()
    with pytest.raises(CommandError, match="difference"):
        call_command("check_patient_flags", stdout=out)
    assert f"patient {patient.pk}: missing_nhs_number is False, the rules give True" in out.getvalue()

    out = io.StringIO()
    call_command("check_patient_flags", "--fix", stdout=out)
    assert "Fixed: 1 row written again; 0 differences left." in out.getvalue()
    assert flags.differences() == []
    assert stored(patient).missing_nhs_number
    assert ids(Patient.objects.flagged_data_quality().having_problem("missing_nhs_number")) == {patient.pk}


# 5. batched() -------------------------------------------------------------------------------------


def _upserts(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith("INSERT") and "followup_patientflags" in q["sql"]]


def test_batched_refreshes_once_at_the_end(nurse):
    patients = PatientFactory.create_batch(3, team=nurse.team, named_nurse=nurse)
    with CaptureQueriesContext(connection) as inside, flags.batched():
        for p in patients:
            PrimaryDiagnosisFactory(patient=p)
            Patient.objects.filter(pk=p.pk).update(nhs_number="")
            assert flags.refresh([p.pk]) == 0  # gathered, not written
        assert _upserts(inside.captured_queries) == []
        assert all(not stored(p).missing_nhs_number and stored(p).missing_primary for p in patients)
    assert len(_upserts(inside.captured_queries)) == 1
    assert all(stored(p).missing_nhs_number and not stored(p).missing_primary for p in patients)
    assert flags.differences() == []


def test_batched_writes_nothing_when_the_block_raises(nurse):
    patient = PatientFactory(team=nurse.team, named_nurse=nurse)
    PrimaryDiagnosisFactory(patient=patient)
    with (
        CaptureQueriesContext(connection) as queries,
        pytest.raises(RuntimeError),
        transaction.atomic(),
        flags.batched(),
    ):
        services.patient_update(patient=patient, by=nurse, expected_version=patient.version, nhs_number="")
        raise RuntimeError("the import stops")
    assert _upserts(queries.captured_queries) == []
    assert not stored(patient).missing_nhs_number
    # Outside a batch again: refreshed at once.
    services.patient_update(patient=patient, by=nurse, expected_version=patient.version, nhs_number="")
    assert stored(patient).missing_nhs_number
    assert flags.differences() == []


# 6. Many patients at once: in chunks -------------------------------------------------------------------


def test_rows_worked_out_in_chunks_equal_rows_worked_out_at_once(nurse, monkeypatch):
    """The import, the demo data and migrate refresh thousands of patients at a time, CHUNK by CHUNK: every
    chunk's rows, open items due included, must be as one patient's refresh gives them."""
    patients = PatientFactory.create_batch(5, team=nurse.team, named_nurse=nurse)
    for n, patient in enumerate(patients):
        FollowUpItemFactory(patient=patient, due_on=date.today() + timedelta(days=n))
        SymptomReportFactory(patient=patient)
    at_once = flags.computed([p.pk for p in patients])
    monkeypatch.setattr(flags, "CHUNK", 2)
    in_chunks = flags.computed([p.pk for p in patients])

    def shown(rows):
        return {
            pk: (row.symptoms, row.team_id, sorted((d.open_due_on, d.items) for d in row.open_due))
            for pk, row in rows.items()
        }

    assert shown(in_chunks) == shown(at_once)
    assert all(len(row.open_due) == 1 and row.symptoms == 1 for row in in_chunks.values())
    assert flags.refresh([p.pk for p in patients]) == 5
    assert OpenItemDue.objects.filter(patient__in=patients).count() == 5
    assert flags.differences() == []


def test_the_check_finds_open_items_due_that_differ_and_fix_repairs_them(patient):
    FollowUpItemFactory(patient=patient, due_on=date.today() + timedelta(days=3))
    OpenItemDue.objects.filter(patient=patient).update(items=2)
    OpenItemDue.objects.create(
        patient=patient, team=patient.team, named_nurse=patient.named_nurse, open_due_on=date(2030, 1, 1), items=1
    )
    found = flags.differences()
    assert [(d.patient_id, d.what) for d in found] == [(patient.pk, "open items due")]
    day = (date.today() + timedelta(days=3)).isoformat()
    assert found[0].stored == f"2 due {day} (team {patient.team_id}, nurse {patient.named_nurse_id}); " + (
        f"1 due 2030-01-01 (team {patient.team_id}, nurse {patient.named_nurse_id})"
    )
    assert found[0].expected == f"1 due {day} (team {patient.team_id}, nurse {patient.named_nurse_id})"
    flags.repair(found)
    assert flags.differences() == []
