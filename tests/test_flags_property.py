"""Issue 17: the patient flags table and the kept counts (followup/flags.py) stay equal to the rules after
every change: a property test drives random sequences of real service calls (registering, renaming,
recording primaries, recurrences, items, results, staging results, symptom reports, triage, MDT
discussions, handovers, marks of entered in error) and compares the table with the rules after each."""

import contextlib
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from followup import choices as c
from followup import flags, services
from followup.models import (
    KEPT_COUNTS,
    FollowUpItem,
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
    RecurrenceFactory,
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


def test_the_story_reaches_every_kept_count(nurse):
    """The actions of the kept counts do move each of them (a guard against a vacuous property)."""
    reached = set()
    with transaction.atomic():
        story = Story(nurse)
        for action in [
            ("mammogram", 0, "result"),
            ("mammogram", 0, "awaited"),
            ("hand over", 0),
            ("recurrence", 1, "sites"),
            ("staging", 1, "distant"),
            ("symptom report", 2, -2),
        ]:
            story.do(action)
            for row in PatientFlags.objects.filter(patient__in=story.patients):
                reached |= {field for field in KEPT_COUNTS if getattr(row, field)}
        assert reached == set(KEPT_COUNTS)
        assert {p.named_nurse_id for p in PatientFlags.objects.filter(patient=story.patients[0])} == {
            story.colleague.pk
        }
        assert flags.differences() == []
