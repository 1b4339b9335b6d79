import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from followup import choices as c
from followup import demo
from followup.models import (
    FollowUpItem,
    GPPractice,
    Patient,
    PrimaryDiagnosis,
    Recurrence,
    RestagingEpisode,
    StagingTest,
    SymptomReport,
    User,
)
from followup.uk import normalise_postcode

TODAY = timezone.localdate()


def failsafe_lists(user):
    """Every list of DOMAIN.md, as the given user would see it."""
    return {
        "overdue": FollowUpItem.objects.overdue(today=TODAY).visible_to(user),
        "escalated": FollowUpItem.objects.escalated(today=TODAY).visible_to(user),
        "due soon": FollowUpItem.objects.due_soon(today=TODAY).visible_to(user),
        "results to acknowledge": FollowUpItem.objects.awaiting_acknowledgement().visible_to(user),
        "results awaited": FollowUpItem.objects.results_awaited().visible_to(user),
        "staging results to acknowledge": StagingTest.objects.awaiting_acknowledgement().visible_to(user),
        "restaging incomplete": RestagingEpisode.objects.incomplete().visible_to(user),
        "distant disease not recorded": StagingTest.objects.distant_not_recorded().visible_to(user),
        "symptoms awaiting triage": SymptomReport.objects.awaiting_triage().visible_to(user),
        "no next follow-up": Patient.objects.without_next_follow_up().visible_to(user),
        "missing NHS number": Patient.objects.missing_nhs_number().visible_to(user),
        "invalid NHS number": Patient.objects.invalid_nhs_number().visible_to(user),
        "possible duplicates": Patient.objects.possible_duplicates().visible_to(user),
        "recurrence without site": Recurrence.objects.without_site().visible_to(user),
        "missing laterality": PrimaryDiagnosis.objects.missing_laterality().visible_to(user),
        "missing receptors": PrimaryDiagnosis.objects.missing_receptors().visible_to(user),
        "implausible date": Patient.objects.data_quality_problems().having_problem("implausible_date").visible_to(user),
        "PIFU ending": Patient.objects.pifu_ending(today=TODAY).visible_to(user),
    }


@pytest.fixture
def seeded(db):
    out = StringIO()
    call_command("seed_demo", patients=60, stdout=out)
    return out.getvalue()


def test_seed_demo_puts_someone_on_every_failsafe_list_of_the_demo_nurse(seeded):
    nurse = User.objects.get(username="nurse")
    empty = [name for name, queryset in failsafe_lists(nurse).items() if not queryset.exists()]
    assert empty == []
    red_flag_first = SymptomReport.objects.awaiting_triage().visible_to(nurse).first()
    assert red_flag_first.red_flag == c.RedFlag.CORD_COMPRESSION


def test_seed_demo_gives_pifu_patients_periods_some_ending_soon_and_one_ended_still_active(seeded):
    nurse = User.objects.get(username="nurse")
    pifu = Patient.objects.filter(follow_up_model=c.FollowUpModel.PIFU)
    assert pifu.exists()
    assert list(pifu.filter(pifu_ends_on__isnull=True)) == []
    ending = list(Patient.objects.pifu_ending(today=TODAY).visible_to(nurse))
    assert any(p.pifu_ends_on > TODAY for p in ending)
    ended = [p for p in ending if p.pifu_ends_on < TODAY]
    assert [p.status for p in ended] == [c.PatientStatus.SURVEILLANCE]


def test_seed_demo_prints_the_logins_and_creates_the_roles(seeded):
    assert "Created 60 demo patients" in seeded
    assert f"password for all: {demo.DEMO_PASSWORD}" in seeded
    roles = dict(User.objects.values_list("username", "role"))
    assert roles == {
        "nurse": "nurse",
        "nurse.shah": "nurse",
        "nurse.evans": "nurse",
        "nurse.okafor": "nurse",
        "clinician": "clinician",
        "admin": "admin",
        # The demo results system's account (integration/demo.py): it records what its messages do.
        "interface-demo-ris-radiology": "interface",
        # The patient's self-report page's account (selfreport/): the demo's patient reports are recorded by it.
        "patient-self-report": "interface",
    }
    assert User.objects.get(username="nurse").check_password(demo.DEMO_PASSWORD)


def test_seed_demo_uses_only_the_999_test_range(seeded):
    numbers = list(Patient.objects.exclude(nhs_number="").values_list("nhs_number", flat=True))
    # One demo patient has no NHS number, on purpose; one more is the self-report page's (selfreport/demo.py).
    assert len(numbers) == 59 + 1
    assert all(number.startswith("999") for number in numbers)


def test_seed_demo_rerun_adds_nothing(seeded):
    counts = (Patient.all_objects.count(), FollowUpItem.all_objects.count(), Recurrence.all_objects.count())
    out = StringIO()
    call_command("seed_demo", patients=60, stdout=out)
    assert "Created 0 demo patients" in out.getvalue()
    assert (Patient.all_objects.count(), FollowUpItem.all_objects.count(), Recurrence.all_objects.count()) == counts


def test_seed_demo_scales_up_by_adding_only_new_patients(seeded):
    generated = Patient.objects.filter(hospital_number__startswith="DEMO").order_by("hospital_number")
    first = list(generated.values_list("hospital_number", "nhs_number", "family_name"))
    call_command("seed_demo", patients=80, verbosity=0)
    after = list(generated.values_list("hospital_number", "nhs_number", "family_name"))
    assert len(after) == 80
    assert after[:60] == first


def test_seed_demo_is_deterministic(db):
    ref = demo.ensure_reference_data()
    ref.nhs_numbers = ["9990000019"] * 40

    def person(index):
        rows = demo.Rows()
        demo.PatientBuilder(index=index, seed=7, today=TODAY, ref=ref, rows=rows).build()
        p = rows.patients[0]
        return (
            p.given_name,
            p.family_name,
            p.date_of_birth,
            p.status,
            [(i.kind, i.due_on, i.status) for i in rows.items],
        )

    assert person(33) == person(33)
    assert person(33) != person(34)


def test_seed_demo_dry_run_writes_nothing(db):
    out = StringIO()
    call_command("seed_demo", patients=10, dry_run=True, stdout=out)
    assert "nothing written" in out.getvalue()
    assert (Patient.all_objects.count(), User.objects.count()) == (0, 0)


def test_seed_demo_fills_contact_details_with_fictitious_data_only(seeded):
    """Test GP practices (Y9 test codes, "ZZ99" pseudo-postcodes) and Ofcom's drama numbers only; a few
    patients need an interpreter or large print, or said no messages, so the demo shows each."""
    practices = list(GPPractice.objects.all())
    assert 10 <= len(practices) <= 20
    for practice in practices:
        assert re.fullmatch(r"Y9\d{4}", practice.ods_code), practice.ods_code
        assert practice.postcode.startswith("ZZ99 ") and normalise_postcode(practice.postcode) == practice.postcode
        assert re.fullmatch(r"01632 960\d{3}", practice.phone), practice.phone
        assert practice.town == demo.DEMO_TOWN
    patients = list(Patient.all_objects.filter(hospital_number__startswith="DEMO"))  # the generated ones
    for patient in patients:
        assert patient.postcode.startswith("ZZ99 ") and normalise_postcode(patient.postcode) == patient.postcode
        assert patient.town == demo.DEMO_TOWN and patient.address_line_1
        for number in (patient.phone_mobile, patient.next_of_kin_phone):
            assert number == "" or re.fullmatch(r"07700 900\d{3}", number), number
        assert patient.phone_home == "" or re.fullmatch(r"01632 960\d{3}", patient.phone_home)
        assert patient.phone_mobile or patient.phone_home, patient
        assert patient.email == "" or patient.email.endswith("@example.com")
        assert patient.interpreter_language == "" or patient.interpreter_needed
    assert len(patients) == 60

    def share(condition) -> int:
        return sum(1 for patient in patients if condition(patient))

    assert 30 <= share(lambda p: p.phone_mobile) < 60
    assert 2 <= share(lambda p: p.messages_may_be_left is False) <= 10
    assert share(lambda p: p.messages_may_be_left is None) >= 1
    assert 2 <= share(lambda p: p.interpreter_needed) <= 5
    assert share(lambda p: "Large print" in p.accessible_information) >= 1
    assert 20 <= share(lambda p: p.next_of_kin_name) < 60
    assert 1 <= share(lambda p: p.gp_practice_id is None) <= 3
    assert share(lambda p: p.preferred_contact == c.ContactPreference.LETTER) >= 1
    # The main demo nurse's caseload shows them too.
    mine = [p for p in patients if p.named_nurse.username == "nurse"]
    assert any(p.interpreter_needed for p in mine) and any(p.messages_may_be_left is False for p in mine)
