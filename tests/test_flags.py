"""Issue 17: the patient flags table (followup/flags.py) stays equal to the rules after every change.

A property test drives random sequences of real service calls and compares the table with the rules
after each; the cases after it pin down the parts the table keeps in its own way: the date window read
against today, possible duplicates across patients, writes that bypass the signals (check_patient_flags),
and batched()."""

import contextlib
import io
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from followup import choices as c
from followup import flags, services
from followup.models import (
    FollowUpItem,
    OpenItemDue,
    Patient,
    PatientFlags,
    PrimaryDiagnosis,
    Recurrence,
    RecurrenceSite,
    RestagingEpisode,
    StagingTest,
    SymptomReport,
)
from followup.nhs import nhs_numbers_in_test_range
from followup.services import SiteEntry
from mdt.services import mdt_discussion_record

from .factories import (
    FollowUpItemFactory,
    PatientFactory,
    PrimaryDiagnosisFactory,
    RecurrenceFactory,
    SymptomReportFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
BORN = date(1961, 4, 2)
OTHER_BORN = date(1958, 9, 30)
# Numbers for the property test, away from the factories' (which start at the beginning of the range).
SPARE_NUMBERS = nhs_numbers_in_test_range(2000)[1500:]


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


def ids(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


def stored(patient) -> PatientFlags:
    return PatientFlags.objects.get(patient=patient)


def write_behind_the_flags(model, pk: int, field: str, value) -> None:
    """Change one column in raw SQL, as a script or a restore could: no signal, no refresh."""
    name = connection.ops.quote_name
    table, column = name(model._meta.db_table), name(model._meta.get_field(field).column)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, pk])  # noqa: S608 (names from the model)


# 1. Random sequences of service calls: the table equals the rules after each ---------------------------

PATIENTS = 3  # each example registers three patients, all born BORN, surnames apart

ACTIONS = st.one_of(
    st.tuples(st.just("register"), st.sampled_from(["Smith", "Jones"]), st.sampled_from([BORN, OTHER_BORN])),
    st.tuples(st.just("rename"), st.integers(0, PATIENTS - 1), st.sampled_from(["Smith", "SMITH", "Jones", "Khan"])),
    st.tuples(st.just("given name"), st.integers(0, PATIENTS - 1), st.sampled_from(["Jane", "joan", "Mary"])),
    st.tuples(st.just("born"), st.integers(0, PATIENTS - 1), st.sampled_from([BORN, OTHER_BORN])),
    st.tuples(st.just("nhs number"), st.integers(0, PATIENTS - 1), st.sampled_from(["", "spare"])),
    st.tuples(
        st.just("primary"),
        st.integers(0, PATIENTS - 1),
        st.sampled_from(["", c.Laterality.LEFT]),
        st.sampled_from(["", c.ReceptorStatus.POSITIVE]),
    ),
    st.tuples(st.just("recurrence"), st.integers(0, PATIENTS - 1), st.sampled_from(["sites", "no site", "distant"])),
    st.tuples(
        st.just("in error"),
        st.integers(0, PATIENTS - 1),
        st.sampled_from(["primary", "recurrence", "site", "item", "symptom report", "patient"]),
    ),
    st.tuples(st.just("item"), st.integers(0, PATIENTS - 1), st.sampled_from(["add", "done", "cancel"])),
    st.tuples(st.just("discharge"), st.integers(0, PATIENTS - 1)),
    st.tuples(st.just("death"), st.integers(0, PATIENTS - 1)),
    st.tuples(st.just("symptom report"), st.integers(0, PATIENTS - 1), st.integers(-400, 0)),
    # The kept counts (followup/flags.py, the dashboard): results, staging results, triage, MDT, the nurse.
    st.tuples(
        st.just("mammogram"), st.integers(0, PATIENTS - 1), st.sampled_from(["result", "awaited", "record", "read"])
    ),
    st.tuples(st.just("staging"), st.integers(0, PATIENTS - 1), st.sampled_from(["clear", "distant", "read"])),
    st.tuples(st.just("triage"), st.integers(0, PATIENTS - 1)),
    st.tuples(st.just("mdt"), st.integers(0, PATIENTS - 1)),
    st.tuples(st.just("hand over"), st.integers(0, PATIENTS - 1)),
)


class Story:
    """One example's patients and the service calls made on them."""

    def __init__(self, nurse):
        self.nurse = nurse
        self.colleague = UserFactory(team=nurse.team, role=c.Role.NURSE)
        self.numbers = iter(SPARE_NUMBERS)
        self.patients = [self.register(family, BORN) for family in ("Smith", "Jones", "Khan")]

    def register(self, family: str, born: date) -> Patient:
        return services.patient_create(
            by=self.nurse,
            nhs_number=next(self.numbers),
            given_name="Jane",
            family_name=family,
            date_of_birth=born,
            sex=c.Sex.FEMALE,
            team=self.nurse.team,
            named_nurse=self.nurse,
        )

    def patient(self, index: int) -> Patient:
        return Patient.all_objects.get(pk=self.patients[index].pk)

    def update(self, index: int, **fields) -> None:
        patient = self.patient(index)
        services.patient_update(patient=patient, by=self.nurse, expected_version=patient.version, **fields)

    def latest(self, model, index: int, path: str = "patient", **lookup):
        """The patient's newest live row of the model, else any patient's of this story."""
        rows = model.objects.filter(**lookup).order_by("-pk")
        mine = rows.filter(**{path: self.patients[index]}).first()
        return mine or rows.filter(**{f"{path}__in": self.patients}).first()

    def do(self, action: tuple) -> None:
        name, *args = action
        nurse = self.nurse
        if name == "register":
            self.patients.append(self.register(*args))
            return
        index = args[0]
        if name == "rename":
            self.update(index, family_name=args[1])
        elif name == "given name":
            self.update(index, given_name=args[1])
        elif name == "born":
            self.update(index, date_of_birth=args[1])
        elif name == "nhs number":
            self.update(index, nhs_number="" if args[1] == "" else next(self.numbers))
        elif name == "primary":
            laterality, receptor = args[1], args[2]
            services.primary_record(
                patient=self.patient(index),
                by=nurse,
                laterality=laterality,
                diagnosed_on=date(2021, 6, 1),
                histology=c.Histology.NST,
                er_status=receptor,
                pr_status=receptor,
                her2_status=c.ReceptorStatus.NEGATIVE,
            )
        elif name == "recurrence":
            kind = args[1]
            if kind == "no site":  # the services always record a site: an import or old row may not
                RecurrenceFactory(patient=self.patient(index), diagnosed_on=days(-20))
            else:
                metastatic_type = c.MetastaticType.DISTANT if kind == "distant" else c.MetastaticType.REGIONAL
                services.recurrence_record(
                    patient=self.patient(index),
                    metastatic_type=metastatic_type,
                    sites=[SiteEntry(c.sites_for_type(metastatic_type)[0])],
                    diagnosed_on=days(-15),
                    status=c.RecurrenceStatus.CONFIRMED,
                    by=nurse,
                )
        elif name == "in error":
            kind = args[1]
            if kind == "patient":
                record = self.patient(index)
            elif kind == "site":
                record = self.latest(RecurrenceSite, index, path="recurrence__patient")
            else:
                model = {
                    "primary": PrimaryDiagnosis,
                    "recurrence": Recurrence,
                    "item": FollowUpItem,
                    "symptom report": SymptomReport,
                }[kind]
                record = self.latest(model, index)
            if record is not None and not record.entered_in_error:
                services.record_mark_entered_in_error(record=record, reason="Wrong patient", by=nurse)
        elif name == "item":
            step = args[1]
            if step == "add":
                services.followup_item_add(
                    patient=self.patient(index), kind=c.FollowUpKind.CLINIC_REVIEW, due_on=days(30), by=nurse
                )
                return
            item = self.latest(FollowUpItem, index, status__in=c.OPEN_FOLLOWUP_STATUSES)
            if item is None:
                return
            if step == "done":
                services.followup_item_record_done(item=item, done_on=TODAY, by=nurse, expected_version=item.version)
            else:
                services.followup_item_cancel(item=item, reason="Not needed", by=nurse, expected_version=item.version)
        elif name == "discharge":
            services.patient_discharge(
                patient=self.patient(index),
                discharged_on=TODAY,
                reason="Five years clear",
                by=nurse,
                expected_version=None,
            )
        elif name == "death":
            services.patient_record_death(
                patient=self.patient(index), date_of_death=TODAY, by=nurse, expected_version=None
            )
        elif name == "symptom report":
            services.symptom_report_record(
                patient=self.patient(index),
                reported_on=days(args[1]),
                area=c.SymptomArea.BONE,
                description="Aching in the lower back.",
                by=nurse,
            )
        else:
            self.do_counted(name, index, *args[1:])

    def do_counted(self, name: str, index: int, *args) -> None:
        """The calls that change what the dashboard counts from the kept table."""
        nurse = self.nurse
        if name == "mammogram":
            step = args[0]
            if step in ("result", "awaited"):
                item = services.followup_item_add(
                    patient=self.patient(index), kind=c.FollowUpKind.MAMMOGRAM, due_on=days(-5), by=nurse
                )
                services.followup_item_record_done(
                    item=item,
                    done_on=TODAY,
                    by=nurse,
                    expected_version=None,
                    result=c.ImagingOutcome.ABNORMAL if step == "result" else "",
                    result_awaited=step == "awaited",
                )
            elif step == "record":
                item = self.latest(FollowUpItem, index, result_awaited=True, result="")
                if item is not None:
                    services.followup_item_record_result(
                        item=item, result=c.ImagingOutcome.NORMAL, by=nurse, expected_version=None
                    )
            else:
                item = self.latest(FollowUpItem, index, status=c.FollowUpStatus.DONE, result_acknowledged_at=None)
                if item is not None and item.result:
                    services.result_acknowledge(item=item, by=nurse)
        elif name == "staging":
            step = args[0]
            if step == "read":
                test = self.latest(StagingTest, index, path="episode__recurrence__patient", acknowledged_at=None)
                if test is not None and test.result:
                    services.staging_test_acknowledge(test=test, by=nurse)
                return
            test = self.latest(StagingTest, index, path="episode__recurrence__patient", result="")
            episode = self.latest(RestagingEpisode, index, path="recurrence__patient")
            if test is None and episode is not None:
                with contextlib.suppress(ValidationError):
                    test = services.staging_test_request(
                        episode=episode, modality=c.StagingModality.CT_CAP, requested_on=days(-3), by=nurse
                    )
            if test is not None:
                services.staging_test_record_result(
                    test=test,
                    performed_on=days(-2),
                    reported_on=days(-1),
                    result=step,
                    by=nurse,
                    sites=[SiteEntry(c.Site.LIVER)] if step == "distant" else (),
                )
        elif name == "triage":
            report = self.latest(SymptomReport, index, triaged_at=None)
            if report is not None:
                services.symptom_report_triage(
                    report=report, outcome=c.TriageOutcome.CLINIC_REVIEW, by=nurse, expected_version=None
                )
        elif name == "mdt":
            recurrence = self.latest(Recurrence, index)
            if recurrence is not None:
                mdt_discussion_record(
                    recurrence=recurrence,
                    meeting_on=TODAY,
                    outcome="investigation",
                    plan="Restage first.",
                    attendees="Surgeon, oncologist",
                    by=nurse,
                )
        elif name == "hand over":
            patient = self.patient(index)
            to = self.colleague if patient.named_nurse_id == nurse.pk else nurse
            services.patient_reassign_nurse(patient=patient, nurse=to, by=nurse, expected_version=None)


class Rollback(Exception):
    """Leaves the example's savepoint: every example starts from the same empty database."""


@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(ACTIONS, min_size=1, max_size=8))
# Sequences worth trying every run, beside the random ones.
@example([("rename", 1, "SMITH"), ("born", 1, OTHER_BORN), ("born", 0, OTHER_BORN), ("rename", 0, "Khan")])
@example([("recurrence", 0, "sites"), ("in error", 0, "site"), ("in error", 0, "recurrence")])
@example([("item", 0, "add"), ("item", 0, "done"), ("item", 1, "add"), ("discharge", 1), ("recurrence", 1, "sites")])
@example(
    [
        ("primary", 0, "", ""),
        ("primary", 0, c.Laterality.LEFT, c.ReceptorStatus.POSITIVE),
        ("in error", 0, "primary"),
        ("death", 2),
    ]
)
@example(
    [("symptom report", 0, -3), ("in error", 0, "symptom report"), ("rename", 2, "Jones"), ("in error", 1, "patient")]
)
@example(
    [("recurrence", 2, "distant"), ("in error", 2, "recurrence"), ("nhs number", 2, ""), ("register", "Jones", BORN)]
)
@example(
    [
        ("mammogram", 0, "result"),
        ("mammogram", 0, "awaited"),
        ("hand over", 0),
        ("mammogram", 0, "record"),
        ("mammogram", 0, "read"),
        ("recurrence", 1, "sites"),
        ("staging", 1, "distant"),
        ("mdt", 1),
        ("staging", 1, "read"),
        ("symptom report", 2, -2),
        ("triage", 2),
    ]
)
def test_the_table_equals_the_rules_after_every_service_call(nurse, actions):
    try:
        with transaction.atomic():
            story = Story(nurse)
            for action in actions:
                # A refusal (discharging a dead patient, restaging still open...) changes nothing: checked all the same.
                with contextlib.suppress(ValidationError):
                    story.do(action)
                found = flags.differences()
                assert found == [], f"after {action}: " + "; ".join(map(str, found))
            raise Rollback
    except Rollback:
        pass


def test_the_story_reaches_every_list(nurse):
    """The property test's actions do move the flags it checks (a guard against a vacuous property)."""
    with transaction.atomic():
        story = Story(nurse)
        smith, jones, khan = (p.pk for p in story.patients)
        assert ids(Patient.objects.flagged_data_quality()) == {smith, jones, khan}  # no primary yet
        assert ids(Patient.objects.flagged_without_next_follow_up()) == {smith, jones, khan}
        for action in [
            ("primary", 0, c.Laterality.LEFT, c.ReceptorStatus.POSITIVE),
            ("primary", 1, "", c.ReceptorStatus.POSITIVE),
            ("primary", 2, c.Laterality.LEFT, ""),
            ("rename", 1, "SMITH"),
            ("item", 0, "add"),
            ("recurrence", 2, "no site"),
            ("symptom report", 0, 0),
            ("nhs number", 0, ""),
        ]:
            story.do(action)
        assert stored(smith).possible_duplicate and stored(jones).possible_duplicate
        assert stored(jones).missing_laterality and not stored(smith).missing_laterality
        assert stored(khan).missing_receptors and stored(khan).recurrence_without_site
        assert stored(smith).missing_nhs_number
        assert ids(Patient.objects.flagged_without_next_follow_up()) == {jones, khan}
        story.do(("item", 0, "done"))
        story.do(("discharge", 1))
        assert ids(Patient.objects.flagged_without_next_follow_up()) == {smith, khan}
        assert flags.differences() == []


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
