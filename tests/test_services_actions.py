"""Issue 4's actions at the service layer: what the database holds after each, and which lists move."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from followup import choices as c
from followup import services
from followup.models import FollowUpItem, Patient, Recurrence, RestagingEpisode, StagingTest, SymptomReport
from followup.services import ConflictError, SiteEntry

from .factories import FollowUpItemFactory, PatientFactory, UserFactory

TODAY = timezone.localdate()


def days(n):
    return TODAY + timedelta(days=n)


@pytest.fixture
def colleague(nurse):
    return UserFactory(username="priya", team=nurse.team, role=c.Role.NURSE)


# Optimistic concurrency ---------------------------------------------------------


def test_second_editor_is_refused_and_the_first_change_kept(patient, nurse, colleague):
    opened_by_both = patient.version
    services.patient_update(patient=patient, by=colleague, expected_version=opened_by_both, given_name="Janet")

    with pytest.raises(ConflictError) as excinfo:
        services.patient_update(patient=patient, by=nurse, expected_version=opened_by_both, given_name="Joan")

    assert excinfo.value.current.given_name == "Janet"
    assert "changed this record" in excinfo.value.messages[0]
    saved = Patient.objects.get(pk=patient.pk)
    assert (saved.given_name, saved.updated_by, saved.version) == ("Janet", colleague, opened_by_both + 1)


def test_conflict_on_an_item_leaves_it_as_the_other_user_saved_it(patient, nurse, colleague):
    item = FollowUpItemFactory(patient=patient, due_on=days(-30))
    services.followup_item_book(item=item, booked_for=days(5), by=colleague, expected_version=1)
    with pytest.raises(ConflictError):
        services.followup_item_record_done(
            item=item, done_on=TODAY, result=c.ImagingOutcome.NORMAL, by=nurse, expected_version=1
        )
    saved = FollowUpItem.objects.get(pk=item.pk)
    assert (saved.status, saved.booked_for, saved.result) == ("booked", days(5), "")


def test_patient_update_refuses_fields_with_their_own_actions(patient, nurse):
    with pytest.raises(ValueError, match="status"):
        services.patient_update(patient=patient, by=nurse, expected_version=1, status=c.PatientStatus.DECEASED)


# Patients -----------------------------------------------------------------------


def test_caseload_hand_over_moves_every_patient_and_stamps_the_change(nurse, colleague, admin_user):
    mine = PatientFactory.create_batch(3, team=nurse.team, named_nurse=nurse)
    theirs = PatientFactory(team=nurse.team, named_nurse=colleague)

    moved = services.caseload_hand_over(from_nurse=nurse, to_nurse=colleague, by=admin_user)

    assert moved == 3
    rows = Patient.objects.filter(pk__in=[p.pk for p in mine]).values_list("named_nurse", "updated_by", "version")
    assert sorted(rows) == [(colleague.pk, admin_user.pk, 2)] * 3
    assert Patient.objects.get(pk=theirs.pk).version == 1


def test_caseload_hand_over_stays_inside_the_team(nurse, other_nurse, admin_user):
    PatientFactory(team=nurse.team, named_nurse=nurse)
    with pytest.raises(ValidationError) as excinfo:
        services.caseload_hand_over(from_nurse=nurse, to_nurse=other_nurse, by=admin_user)
    assert "same team" in excinfo.value.message_dict["to_nurse"][0]
    with pytest.raises(ValidationError):
        services.caseload_hand_over(from_nurse=nurse, to_nurse=nurse, by=admin_user)
    assert Patient.objects.filter(named_nurse=nurse).count() == 1


def test_discharge_cancels_open_items_and_takes_the_patient_off_the_lists(patient, nurse):
    due = FollowUpItemFactory(patient=patient, due_on=days(-30))
    done = FollowUpItemFactory(
        patient=patient, due_on=days(-300), status=c.FollowUpStatus.DONE, done_on=days(-299), result="02"
    )

    services.patient_discharge(
        patient=patient, discharged_on=TODAY, reason="Completed 5 years; GP informed", by=nurse, expected_version=1
    )

    patient.refresh_from_db()
    assert (patient.status, patient.discharged_on) == ("discharged", TODAY)
    cancelled = FollowUpItem.objects.get(pk=due.pk)
    assert (cancelled.status, cancelled.cancel_reason) == (
        "cancelled",
        "Patient discharged: Completed 5 years; GP informed",
    )
    assert FollowUpItem.objects.get(pk=done.pk).status == "done"
    assert list(FollowUpItem.objects.overdue(today=TODAY)) == []
    assert list(Patient.objects.without_next_follow_up()) == []
    with pytest.raises(ValidationError, match="discharged patient"):
        services.followup_item_add(patient=patient, kind=c.FollowUpKind.MAMMOGRAM, due_on=days(10), by=nurse)


def test_discharge_date_cannot_be_in_the_future(patient, nurse):
    with pytest.raises(ValidationError) as excinfo:
        services.patient_discharge(patient=patient, discharged_on=days(1), reason="x", by=nurse, expected_version=1)
    assert excinfo.value.message_dict == {"discharged_on": ["The discharge date cannot be in the future."]}
    assert Patient.objects.get(pk=patient.pk).status == "surveillance"


def test_recording_a_death(patient, nurse):
    FollowUpItemFactory(patient=patient, due_on=days(10))
    services.patient_record_death(patient=patient, date_of_death=days(-2), by=nurse, expected_version=1)
    patient.refresh_from_db()
    assert (patient.status, patient.date_of_death) == ("deceased", days(-2))
    assert list(FollowUpItem.objects.filter(patient=patient).values_list("status", "cancel_reason")) == [
        ("cancelled", "Patient died.")
    ]
    with pytest.raises(ValidationError, match="already recorded"):
        services.patient_record_death(patient=patient, date_of_death=days(-2), by=nurse, expected_version=None)


# Follow-up items ------------------------------------------------------------------


def test_book_done_and_acknowledge_move_an_item_through_the_lists(patient, nurse):
    item = FollowUpItemFactory(patient=patient, due_on=days(-30))
    assert list(FollowUpItem.objects.overdue(today=TODAY)) == [item]

    item = services.followup_item_book(item=item, booked_for=days(2), by=nurse, expected_version=1)
    assert list(FollowUpItem.objects.overdue(today=TODAY)) == [item]  # booked late is still late
    item = services.followup_item_record_done(
        item=item, done_on=TODAY, result=c.ImagingOutcome.ABNORMAL, by=nurse, expected_version=2
    )
    assert list(FollowUpItem.objects.overdue(today=TODAY)) == []
    assert list(FollowUpItem.objects.awaiting_acknowledgement()) == [item]

    item = services.result_acknowledge(item=item, by=nurse)
    again = services.result_acknowledge(item=item, by=nurse)

    assert list(FollowUpItem.objects.awaiting_acknowledgement()) == []
    assert (again.result_acknowledged_by, again.version) == (nurse, 4)


def test_record_done_needs_a_result_for_a_test_and_none_for_a_review(patient, nurse):
    mammogram = FollowUpItemFactory(patient=patient, kind=c.FollowUpKind.MAMMOGRAM)
    review = FollowUpItemFactory(patient=patient, kind=c.FollowUpKind.CLINIC_REVIEW)
    with pytest.raises(ValidationError) as excinfo:
        services.followup_item_record_done(item=mammogram, done_on=TODAY, by=nurse, expected_version=1)
    assert excinfo.value.message_dict == {
        "result": ["Record the result of the mammogram, or that it is not yet available."]
    }
    with pytest.raises(ValidationError):
        services.followup_item_record_done(item=review, done_on=TODAY, result="02", by=nurse, expected_version=1)
    done = services.followup_item_record_done(item=review, done_on=TODAY, by=nurse, expected_version=1)
    assert done.status == "done"
    with pytest.raises(ValidationError, match="already done"):
        services.followup_item_record_done(item=done, done_on=TODAY, by=nurse, expected_version=2)


def test_cancelling_the_last_open_item_puts_the_patient_on_no_next_follow_up(patient, nurse):
    item = FollowUpItemFactory(patient=patient, due_on=days(20))
    services.followup_item_cancel(item=item, reason="Moved to another trust", by=nurse, expected_version=1)
    assert list(Patient.objects.without_next_follow_up()) == [patient]
    assert services.has_next_follow_up(patient) is False
    services.followup_item_add(patient=patient, kind=c.FollowUpKind.CLINIC_REVIEW, due_on=days(30), by=nurse)
    assert list(Patient.objects.without_next_follow_up()) == []


def test_did_not_attend_and_past_bookings(patient, nurse):
    item = FollowUpItemFactory(patient=patient, due_on=days(-3))
    with pytest.raises(ValidationError) as excinfo:
        services.followup_item_book(item=item, booked_for=days(-1), by=nurse, expected_version=1)
    assert excinfo.value.message_dict == {"booked_for": ["The appointment date cannot be in the past."]}
    dna = services.followup_item_did_not_attend(item=item, by=nurse, expected_version=1)
    assert dna.status == "dna"
    assert list(Patient.objects.without_next_follow_up()) == [patient]


# Recurrences, restaging, secondary cancer -------------------------------------------


def test_regional_recurrence_requests_the_chosen_restaging_tests(patient, nurse):
    recurrence = services.recurrence_record(
        patient=patient,
        metastatic_type=c.MetastaticType.REGIONAL,
        sites=[SiteEntry(c.Site.AXILLARY_NODES)],
        diagnosed_on=days(-2),
        restaging_tests=[c.StagingModality.PET_CT, c.StagingModality.BLOODS, c.StagingModality.MRI_BRAIN],
        by=nurse,
    )
    tests = StagingTest.objects.filter(episode__recurrence=recurrence)
    assert sorted(tests.values_list("modality", flat=True)) == ["bloods", "mri_brain", "pet_ct"]
    assert set(tests.values_list("requested_on", flat=True)) == {days(-2)}
    assert list(RestagingEpisode.objects.incomplete()) == [recurrence.restaging]


def test_recurrence_with_a_bad_test_rolls_back_everything(patient, nurse):
    with pytest.raises(ValidationError):
        services.recurrence_record(
            patient=patient,
            metastatic_type=c.MetastaticType.LOCAL,
            sites=[SiteEntry(c.Site.SCAR)],
            diagnosed_on=TODAY,
            restaging_tests=[c.StagingModality.CT_CAP, "crystal_ball"],
            by=nurse,
        )
    assert (Recurrence.all_objects.count(), RestagingEpisode.all_objects.count(), StagingTest.all_objects.count()) == (
        0,
        0,
        0,
    )


def test_distant_recurrence_takes_no_restaging_tests(patient, nurse):
    with pytest.raises(ValidationError) as excinfo:
        services.recurrence_record(
            patient=patient,
            metastatic_type=c.MetastaticType.DISTANT,
            sites=[SiteEntry(c.Site.LIVER)],
            diagnosed_on=TODAY,
            restaging_tests=[c.StagingModality.CT_CAP],
            by=nurse,
        )
    assert "restaging_tests" in excinfo.value.message_dict


def test_refuting_the_only_distant_recurrence_restores_surveillance(patient, nurse):
    distant = services.recurrence_record(
        patient=patient,
        metastatic_type=c.MetastaticType.DISTANT,
        sites=[SiteEntry(c.Site.LUNG)],
        diagnosed_on=TODAY,
        by=nurse,
    )
    assert Patient.objects.get(pk=patient.pk).status == "secondary"
    services.recurrence_set_status(recurrence=distant, status=c.RecurrenceStatus.REFUTED, by=nurse, expected_version=1)
    assert Patient.objects.get(pk=patient.pk).status == "surveillance"
    services.recurrence_set_status(
        recurrence=distant, status=c.RecurrenceStatus.CONFIRMED, by=nurse, expected_version=2
    )
    assert Patient.objects.get(pk=patient.pk).status == "secondary"


def test_refuting_a_regional_recurrence_takes_it_off_restaging(patient, nurse):
    recurrence = services.recurrence_record(
        patient=patient,
        metastatic_type=c.MetastaticType.REGIONAL,
        sites=[SiteEntry(c.Site.AXILLARY_NODES)],
        diagnosed_on=TODAY,
        by=nurse,
    )
    services.recurrence_set_status(
        recurrence=recurrence, status=c.RecurrenceStatus.REFUTED, by=nurse, expected_version=1
    )
    assert list(RestagingEpisode.objects.incomplete()) == []
    with pytest.raises(ValidationError, match="already refuted"):
        services.recurrence_set_status(
            recurrence=recurrence, status=c.RecurrenceStatus.REFUTED, by=nurse, expected_version=2
        )


def _distant_result(patient, nurse):
    recurrence = services.recurrence_record(
        patient=patient,
        metastatic_type=c.MetastaticType.REGIONAL,
        sites=[SiteEntry(c.Site.AXILLARY_NODES)],
        diagnosed_on=days(-20),
        restaging_tests=[c.StagingModality.CT_CAP],
        by=nurse,
    )
    ct = recurrence.restaging.tests.get()
    return services.staging_test_record_result(
        test=ct,
        performed_on=TODAY,
        reported_on=TODAY,
        result=c.StagingResult.DISTANT,
        sites=[SiteEntry(c.Site.LIVER)],
        by=nurse,
    )


def test_secondary_cancer_entered_in_error_puts_the_result_back_on_the_list(patient, nurse):
    ct = _distant_result(patient, nurse)
    distant = services.distant_recurrence_record_from_test(test=ct, by=nurse)
    assert list(StagingTest.objects.distant_not_recorded()) == []
    assert Patient.objects.get(pk=patient.pk).status == "secondary"

    services.record_mark_entered_in_error(record=distant, reason="Recorded on the wrong scan", by=nurse)

    assert list(StagingTest.objects.distant_not_recorded()) == [ct]
    assert Patient.objects.get(pk=patient.pk).status == "surveillance"
    again = services.distant_recurrence_record_from_test(test=ct, by=nurse)
    assert StagingTest.objects.get(pk=ct.pk).distant_recurrence == again


def test_staging_result_dates_must_be_in_order(patient, nurse):
    recurrence = services.recurrence_record(
        patient=patient,
        metastatic_type=c.MetastaticType.LOCAL,
        sites=[SiteEntry(c.Site.CHEST_WALL)],
        diagnosed_on=days(-10),
        restaging_tests=[c.StagingModality.CT_CAP],
        by=nurse,
    )
    ct = recurrence.restaging.tests.get()
    with pytest.raises(ValidationError) as excinfo:
        services.staging_test_record_result(
            test=ct, performed_on=days(-1), reported_on=days(-3), result=c.StagingResult.CLEAR, by=nurse
        )
    assert excinfo.value.message_dict == {"reported_on": ["A test is reported on or after the date it was performed."]}
    with pytest.raises(ValidationError) as excinfo:
        services.staging_test_request(
            episode=recurrence.restaging, modality=c.StagingModality.BONE_SCAN, requested_on=days(-30), by=nurse
        )
    assert "before the recurrence" in excinfo.value.message_dict["requested_on"][0]


def test_cancelling_a_staging_test(patient, nurse):
    recurrence = services.recurrence_record(
        patient=patient,
        metastatic_type=c.MetastaticType.LOCAL,
        sites=[SiteEntry(c.Site.CHEST_WALL)],
        diagnosed_on=days(-10),
        restaging_tests=[c.StagingModality.CT_CAP, c.StagingModality.BONE_SCAN],
        by=nurse,
    )
    bone, ct = recurrence.restaging.tests.order_by("modality")  # bone_scan, ct_cap
    ct = services.staging_test_record_result(
        test=ct, performed_on=days(-5), reported_on=days(-4), result=c.StagingResult.CLEAR, by=nurse
    )
    services.staging_test_acknowledge(test=ct, by=nurse)
    assert RestagingEpisode.objects.get().outcome == "open"

    services.staging_test_cancel(test=bone, reason="Patient declined", by=nurse, expected_version=1)

    assert RestagingEpisode.objects.get().outcome == "no_distant"
    with pytest.raises(ValidationError, match="cannot be cancelled"):
        services.staging_test_cancel(test=ct, reason="x", by=nurse, expected_version=None)


# Symptoms -----------------------------------------------------------------------


def test_cord_compression_must_be_triaged_urgent(patient, nurse):
    report = services.symptom_report_record(
        patient=patient,
        reported_on=TODAY,
        area=c.SymptomArea.BONE,
        description="Back pain, legs weak since yesterday",
        red_flag=c.RedFlag.CORD_COMPRESSION,
        by=nurse,
    )
    assert list(SymptomReport.objects.awaiting_triage()) == [report]
    with pytest.raises(ValidationError, match="must be triaged as urgent"):
        services.symptom_report_triage(report=report, outcome=c.TriageOutcome.REASSURE, by=nurse, expected_version=1)
    assert SymptomReport.objects.get(pk=report.pk).triaged_at is None

    services.symptom_report_triage(report=report, outcome=c.TriageOutcome.URGENT, by=nurse, expected_version=1)

    assert list(SymptomReport.objects.awaiting_triage()) == []
    with pytest.raises(ValidationError, match="already been triaged"):
        services.symptom_report_triage(report=report, outcome=c.TriageOutcome.URGENT, by=nurse, expected_version=2)


def test_a_record_entered_in_error_cannot_be_changed(patient, nurse):
    item = FollowUpItemFactory(patient=patient)
    services.record_mark_entered_in_error(record=item, reason="Duplicate", by=nurse)
    with pytest.raises(ValidationError, match="entered in error"):
        services.followup_item_book(item=item, booked_for=days(3), by=nurse, expected_version=None)
