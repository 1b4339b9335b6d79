"""The failsafe lists of DOMAIN.md, one QuerySet method each, at their edges."""

from datetime import timedelta

import pytest
from django.utils import timezone

from followup import choices as c
from followup import services
from followup.models import (
    FollowUpItem,
    Patient,
    PrimaryDiagnosis,
    Recurrence,
    RestagingEpisode,
    StagingTest,
    SymptomReport,
)
from followup.services import SiteEntry

from .factories import (
    FollowUpItemFactory,
    PatientFactory,
    PrimaryDiagnosisFactory,
    RecurrenceFactory,
    RecurrenceSiteFactory,
    RestagingEpisodeFactory,
    StagingTestFactory,
    SymptomReportFactory,
    UserFactory,
)

TODAY = timezone.localdate()


def days(n):
    return TODAY + timedelta(days=n)


@pytest.fixture(autouse=True)
def windows(settings):
    settings.FOLLOWUP_GRACE_DAYS = 14
    settings.FOLLOWUP_ESCALATE_DAYS = 42
    settings.FOLLOWUP_DUE_SOON_DAYS = 28


def test_overdue_due_soon_and_escalated_at_their_edges(patient):
    item = {n: FollowUpItemFactory(patient=patient, due_on=days(n)) for n in (-43, -42, -15, -14, -1, 0, 28, 29)}
    assert list(FollowUpItem.objects.overdue(today=TODAY)) == [item[-43], item[-42], item[-15]]
    assert list(FollowUpItem.objects.escalated(today=TODAY)) == [item[-43]]
    # Past due but inside the grace window, due today, and within the look-ahead.
    assert list(FollowUpItem.objects.due_soon(today=TODAY)) == [item[-14], item[-1], item[0], item[28]]


def test_overdue_leaves_out_done_cancelled_error_and_inactive_patients(patient, nurse):
    old = days(-60)
    FollowUpItemFactory(patient=patient, due_on=old, status=c.FollowUpStatus.DONE, done_on=days(-50), result="02")
    FollowUpItemFactory(patient=patient, due_on=old, status=c.FollowUpStatus.CANCELLED, cancel_reason="Moved")
    FollowUpItemFactory(patient=patient, due_on=old, status=c.FollowUpStatus.DID_NOT_ATTEND)
    wrong = FollowUpItemFactory(patient=patient, due_on=old)
    services.record_mark_entered_in_error(record=wrong, reason="Wrong patient", by=nurse)
    deceased = PatientFactory(
        team=patient.team, named_nurse=nurse, status=c.PatientStatus.DECEASED, date_of_death=days(-5)
    )
    FollowUpItemFactory(patient=deceased, due_on=old)
    booked = FollowUpItemFactory(patient=patient, due_on=old, status=c.FollowUpStatus.BOOKED, booked_for=days(-58))

    assert list(FollowUpItem.objects.overdue(today=TODAY)) == [booked]


def test_items_of_a_patient_entered_in_error_leave_every_list(patient, nurse):
    FollowUpItemFactory(patient=patient, due_on=days(-60))
    FollowUpItemFactory(patient=patient, due_on=days(3))
    SymptomReportFactory(patient=patient)
    services.record_mark_entered_in_error(record=patient, reason="Duplicate registration", by=nurse)

    assert list(FollowUpItem.objects.overdue(today=TODAY)) == []
    assert list(FollowUpItem.objects.due_soon(today=TODAY)) == []
    assert list(SymptomReport.objects.awaiting_triage()) == []
    assert list(Patient.objects.without_next_follow_up()) == []


def test_results_awaiting_acknowledgement(patient, nurse):
    done = {"status": c.FollowUpStatus.DONE, "done_on": days(-2)}
    unread = FollowUpItemFactory(patient=patient, result=c.ImagingOutcome.ABNORMAL, **done)
    FollowUpItemFactory(
        patient=patient,
        result=c.ImagingOutcome.NORMAL,
        result_acknowledged_by=nurse,
        result_acknowledged_at=timezone.now(),
        **done,
    )
    FollowUpItemFactory(patient=patient, kind=c.FollowUpKind.CLINIC_REVIEW, **done)  # no result to read
    test_unread = StagingTestFactory(
        performed_on=days(-5),
        reported_on=days(-4),
        result=c.StagingResult.CLEAR,
        episode__recurrence__patient=patient,
    )
    StagingTestFactory(
        performed_on=days(-5),
        reported_on=days(-4),
        result=c.StagingResult.CLEAR,
        acknowledged_by=nurse,
        acknowledged_at=timezone.now(),
        episode__recurrence__patient=patient,
    )
    assert list(FollowUpItem.objects.awaiting_acknowledgement()) == [unread]
    assert list(StagingTest.objects.awaiting_acknowledgement()) == [test_unread]


def test_restaging_incomplete_oldest_first_without_refuted_or_closed(patient, nurse):
    newer = RestagingEpisodeFactory(recurrence__patient=patient, recurrence__diagnosed_on=days(-5))
    older = RestagingEpisodeFactory(
        recurrence__patient=patient, recurrence__diagnosed_on=days(-40), outcome=c.RestagingOutcome.EQUIVOCAL
    )
    RestagingEpisodeFactory(
        recurrence__patient=patient,
        recurrence__diagnosed_on=days(-50),
        outcome=c.RestagingOutcome.NO_DISTANT,
        closed_on=days(-20),
    )
    RestagingEpisodeFactory(
        recurrence__patient=patient, recurrence__diagnosed_on=days(-30), recurrence__status=c.RecurrenceStatus.REFUTED
    )
    wrong = RestagingEpisodeFactory(recurrence__patient=patient, recurrence__diagnosed_on=days(-60))
    services.record_mark_entered_in_error(record=wrong.recurrence, reason="Wrong patient", by=nurse)

    assert list(RestagingEpisode.objects.incomplete()) == [older, newer]


def test_distant_disease_not_recorded(patient, nurse):
    reported = {"performed_on": days(-5), "reported_on": days(-4), "result": c.StagingResult.DISTANT}
    pending = StagingTestFactory(episode__recurrence__patient=patient, **reported)
    distant = RecurrenceFactory(patient=patient, metastatic_type=c.MetastaticType.DISTANT)
    StagingTestFactory(episode__recurrence__patient=patient, distant_recurrence=distant, **reported)
    StagingTestFactory(
        episode__recurrence__patient=patient, performed_on=days(-5), reported_on=days(-4), result=c.StagingResult.CLEAR
    )
    assert list(StagingTest.objects.distant_not_recorded()) == [pending]


def test_symptoms_awaiting_triage_red_flags_first(patient, nurse):
    older = SymptomReportFactory(patient=patient, reported_on=days(-3), area=c.SymptomArea.LUNG)
    urgent = SymptomReportFactory(patient=patient, reported_on=days(-1), red_flag=c.RedFlag.CORD_COMPRESSION)
    SymptomReportFactory(
        patient=patient, triage_outcome=c.TriageOutcome.REASSURE, triaged_by=nurse, triaged_at=timezone.now()
    )
    assert list(SymptomReport.objects.awaiting_triage()) == [urgent, older]


def test_patients_with_no_next_follow_up(nurse):
    lost = PatientFactory(team=nurse.team, named_nurse=nurse)
    FollowUpItemFactory(patient=lost, due_on=days(-300), status=c.FollowUpStatus.DONE, done_on=days(-300), result="02")
    followed = PatientFactory(team=nurse.team, named_nurse=nurse)
    FollowUpItemFactory(patient=followed, due_on=days(200))
    PatientFactory(
        team=nurse.team,
        named_nurse=nurse,
        status=c.PatientStatus.DISCHARGED,
        discharged_on=TODAY,
        discharge_reason="Completed follow-up",
    )
    only_error = PatientFactory(team=nurse.team, named_nurse=nurse)
    wrong = FollowUpItemFactory(patient=only_error, due_on=days(30))
    services.record_mark_entered_in_error(record=wrong, reason="Wrong patient", by=nurse)

    assert sorted(Patient.objects.without_next_follow_up(), key=lambda p: p.pk) == [lost, only_error]


def test_data_quality_nhs_numbers(nurse):
    good = PatientFactory(nhs_number="9434765919")
    missing = PatientFactory(nhs_number="")
    bad_check = PatientFactory(nhs_number="9434765918")
    repeated = PatientFactory(nhs_number="0000000000")
    check_ten = PatientFactory(nhs_number="9990000000")  # stem 999000000 has check digit 10: no valid number
    assert good.pk
    assert list(Patient.objects.missing_nhs_number()) == [missing]
    assert sorted(Patient.objects.invalid_nhs_number(), key=lambda p: p.pk) == [bad_check, repeated, check_ten]


def test_possible_duplicates(nurse):
    base = {"family_name": "Smith", "date_of_birth": TODAY.replace(year=1960), "sex": c.Sex.FEMALE}
    a = PatientFactory(given_name="Susan", **base)
    b = PatientFactory(given_name="susie", **{**base, "family_name": "SMITH"})
    PatientFactory(given_name="Mary", **base)  # different first name
    PatientFactory(given_name="Susan", **{**base, "sex": c.Sex.MALE})
    assert sorted(Patient.objects.possible_duplicates(), key=lambda p: p.pk) == [a, b]


def test_recurrence_without_site_and_primary_gaps(patient):
    no_site = RecurrenceFactory(patient=patient)
    RecurrenceSiteFactory(recurrence__patient=patient)
    RecurrenceFactory(patient=patient, status=c.RecurrenceStatus.REFUTED)
    assert list(Recurrence.objects.without_site()) == [no_site]

    no_side = PrimaryDiagnosisFactory(patient=patient, laterality="")
    no_pr = PrimaryDiagnosisFactory(patient=patient, pr_status="")
    PrimaryDiagnosisFactory(patient=patient, histology=c.Histology.DCIS, her2_status="")
    assert list(PrimaryDiagnosis.objects.missing_laterality()) == [no_side]
    assert list(PrimaryDiagnosis.objects.missing_receptors()) == [no_pr]


def test_visible_to_scopes_every_list_to_the_team(patient, nurse, other_nurse, admin_user):
    theirs = PatientFactory(team=other_nurse.team, named_nurse=other_nurse)
    mine = FollowUpItemFactory(patient=patient, due_on=days(-60))
    other = FollowUpItemFactory(patient=theirs, due_on=days(-60))
    episode = RestagingEpisodeFactory(recurrence__patient=theirs)
    clinician = UserFactory(team=patient.team, role=c.Role.CLINICIAN)

    assert list(Patient.objects.visible_to(nurse)) == [patient]
    assert list(Patient.objects.visible_to(clinician)) == [patient]
    assert list(FollowUpItem.objects.overdue(today=TODAY).visible_to(nurse)) == [mine]
    assert list(FollowUpItem.objects.overdue(today=TODAY).visible_to(other_nurse)) == [other]
    assert list(FollowUpItem.objects.overdue(today=TODAY).visible_to(admin_user)) == [mine, other]
    assert list(RestagingEpisode.objects.visible_to(nurse)) == []
    assert list(RestagingEpisode.objects.visible_to(other_nurse)) == [episode]


def test_search_by_nhs_number_hospital_number_and_name(nurse):
    jane = PatientFactory(nhs_number="9434765919", hospital_number="RX1234", given_name="Jane", family_name="Doe")
    PatientFactory(nhs_number="4010232137", hospital_number="RX9999", given_name="Ann", family_name="Other")
    for term in ("943 476 5919", "9434765919", "943-476-5919", "rx1234", "doe", "Jane Doe", "JANE"):
        assert list(Patient.objects.search(term)) == [jane], term
    assert list(Patient.objects.search("Jane Other")) == []


def test_distant_recurrences_leave_out_refuted_ones(patient, nurse):
    confirmed = services.recurrence_record(
        patient=patient,
        metastatic_type=c.MetastaticType.DISTANT,
        sites=[SiteEntry(c.Site.BONE)],
        diagnosed_on=TODAY,
        by=nurse,
    )
    RecurrenceFactory(patient=patient, metastatic_type=c.MetastaticType.DISTANT, status=c.RecurrenceStatus.REFUTED)
    RecurrenceFactory(patient=patient, metastatic_type=c.MetastaticType.LOCAL)
    assert list(Recurrence.objects.distant()) == [confirmed]
