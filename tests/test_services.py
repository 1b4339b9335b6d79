from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from followup import choices as c
from followup import services
from followup.models import FollowUpItem, Patient, Recurrence, RecurrenceSite, RestagingEpisode, StagingTest
from followup.services import SiteEntry

from .factories import (
    FollowUpItemFactory,
    FollowUpProtocolFactory,
    PrimaryDiagnosisFactory,
    ProtocolStepFactory,
)

TODAY = timezone.localdate()


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2024, 11, 15), 2, date(2025, 1, 15)),
        (date(2024, 3, 1), 60, date(2029, 3, 1)),
        (date(2024, 3, 1), 0, date(2024, 3, 1)),
    ],
)
def test_add_months_clamps_to_month_end(start, months, expected):
    assert services.add_months(start, months) == expected


# Protocol assignment ----------------------------------------------------------


@pytest.fixture
def protocol(db):
    protocol = FollowUpProtocolFactory(name="Standard")
    ProtocolStepFactory(
        protocol=protocol, kind=c.FollowUpKind.MAMMOGRAM, start_months=12, interval_months=12, occurrences=5
    )
    ProtocolStepFactory(
        protocol=protocol, kind=c.FollowUpKind.CLINIC_REVIEW, start_months=3, interval_months=None, occurrences=1
    )
    return protocol


def test_protocol_assign_generates_the_schedule(patient, nurse, protocol):
    created = services.protocol_assign(patient=patient, protocol=protocol, start_on=date(2025, 1, 31), by=nurse)

    items = list(FollowUpItem.objects.filter(patient=patient).values_list("kind", "due_on", "status"))
    assert items == [
        (c.FollowUpKind.CLINIC_REVIEW, date(2025, 4, 30), c.FollowUpStatus.DUE),
        (c.FollowUpKind.MAMMOGRAM, date(2026, 1, 31), c.FollowUpStatus.DUE),
        (c.FollowUpKind.MAMMOGRAM, date(2027, 1, 31), c.FollowUpStatus.DUE),
        (c.FollowUpKind.MAMMOGRAM, date(2028, 1, 31), c.FollowUpStatus.DUE),
        (c.FollowUpKind.MAMMOGRAM, date(2029, 1, 31), c.FollowUpStatus.DUE),
        (c.FollowUpKind.MAMMOGRAM, date(2030, 1, 31), c.FollowUpStatus.DUE),
    ]
    assert len(created) == 6
    patient.refresh_from_db()
    assert (patient.protocol, patient.protocol_start_on, patient.version) == (protocol, date(2025, 1, 31), 2)
    assert {item.created_by for item in created} == {nurse}


def test_protocol_assign_is_idempotent_and_keeps_what_was_done(patient, nurse, protocol):
    services.protocol_assign(patient=patient, protocol=protocol, start_on=date(2025, 1, 31), by=nurse)
    review = FollowUpItem.objects.get(patient=patient, kind=c.FollowUpKind.CLINIC_REVIEW)
    review.status, review.done_on = c.FollowUpStatus.DONE, date(2025, 5, 2)
    review.save()
    mammogram = FollowUpItem.objects.filter(patient=patient, kind=c.FollowUpKind.MAMMOGRAM).first()
    services.record_mark_entered_in_error(record=mammogram, reason="Duplicate booking", by=nurse)

    again = services.protocol_assign(patient=patient, protocol=protocol, start_on=date(2025, 1, 31), by=nurse)

    assert again == []
    assert FollowUpItem.all_objects.filter(patient=patient).count() == 6
    assert FollowUpItem.objects.get(pk=review.pk).status == c.FollowUpStatus.DONE


def test_protocol_assign_refuses_a_discharged_patient(patient, nurse, protocol):
    patient.status, patient.discharged_on, patient.discharge_reason = c.PatientStatus.DISCHARGED, TODAY, "Moved away"
    patient.save()
    with pytest.raises(ValidationError, match="discharged patient"):
        services.protocol_assign(patient=patient, protocol=protocol, start_on=TODAY, by=nurse)
    assert FollowUpItem.objects.filter(patient=patient).count() == 0


# Recording recurrences --------------------------------------------------------


def test_regional_recurrence_opens_its_restaging_episode(patient, nurse, settings):
    settings.RESTAGING_TARGET_DAYS = 21
    on = TODAY - timedelta(days=3)
    recurrence = services.recurrence_record(
        patient=patient,
        metastatic_type=c.MetastaticType.REGIONAL,
        sites=[SiteEntry(c.Site.AXILLARY_NODES)],
        diagnosed_on=on,
        by=nurse,
    )
    episode = RestagingEpisode.objects.get(recurrence=recurrence)
    assert (episode.opened_on, episode.target_on, episode.outcome) == (on, on + timedelta(days=21), "open")
    assert list(recurrence.sites.values_list("site", "metastatic_type")) == [("axillary_nodes", "02")]
    assert list(RestagingEpisode.objects.incomplete()) == [episode]
    patient.refresh_from_db()
    assert patient.status == c.PatientStatus.SURVEILLANCE


def test_distant_recurrence_opens_no_episode_and_sets_the_patient_status(patient, nurse):
    recurrence = services.recurrence_record(
        patient=patient,
        metastatic_type=c.MetastaticType.DISTANT,
        sites=[SiteEntry(c.Site.BONE), SiteEntry(c.Site.OTHER, "Adrenal")],
        diagnosed_on=TODAY,
        by=nurse,
    )
    assert RestagingEpisode.objects.filter(recurrence=recurrence).count() == 0
    assert [(s.site, s.cosd_site, str(s)) for s in recurrence.sites.all()] == [
        ("bone", "10", "Bone"),
        ("other", "98", "Adrenal"),
    ]
    patient.refresh_from_db()
    assert (patient.status, patient.version) == (c.PatientStatus.SECONDARY, 2)


def test_a_site_that_does_not_fit_the_type_is_refused(patient, nurse):
    with pytest.raises(ValidationError) as excinfo:
        services.recurrence_record(
            patient=patient,
            metastatic_type=c.MetastaticType.LOCAL,
            sites=[SiteEntry(c.Site.CHEST_WALL), SiteEntry(c.Site.LIVER)],
            diagnosed_on=TODAY,
            by=nurse,
        )
    assert excinfo.value.message_dict == {"sites": ["Not a site of a local recurrence: Liver."]}
    assert Recurrence.all_objects.count() == 0


def test_recurrence_record_rolls_back_when_a_later_step_fails(patient, nurse):
    # The recurrence row is written first; the second site (other, undescribed) fails after it.
    with pytest.raises(ValidationError):
        services.recurrence_record(
            patient=patient,
            metastatic_type=c.MetastaticType.DISTANT,
            sites=[SiteEntry(c.Site.LIVER), SiteEntry(c.Site.OTHER)],
            diagnosed_on=TODAY,
            by=nurse,
        )
    assert (Recurrence.all_objects.count(), RecurrenceSite.all_objects.count()) == (0, 0)
    patient.refresh_from_db()
    assert (patient.status, patient.version) == (c.PatientStatus.SURVEILLANCE, 1)


def test_recurrence_needs_a_site_and_a_past_date(patient, nurse):
    with pytest.raises(ValidationError) as excinfo:
        services.recurrence_record(
            patient=patient, metastatic_type=c.MetastaticType.LOCAL, sites=[], diagnosed_on=TODAY, by=nurse
        )
    assert "Record at least one site" in excinfo.value.message_dict["sites"][0]
    with pytest.raises(ValidationError) as excinfo:
        services.recurrence_record(
            patient=patient,
            metastatic_type=c.MetastaticType.LOCAL,
            sites=[SiteEntry(c.Site.SCAR)],
            diagnosed_on=TODAY + timedelta(days=1),
            by=nurse,
        )
    assert excinfo.value.message_dict["diagnosed_on"] == ["The date clinically agreed cannot be in the future."]
    assert RestagingEpisode.all_objects.count() == 0


def test_recurrence_cannot_link_another_patients_primary(patient, nurse):
    someone_else = PrimaryDiagnosisFactory()
    with pytest.raises(ValidationError) as excinfo:
        services.recurrence_record(
            patient=patient,
            metastatic_type=c.MetastaticType.LOCAL,
            sites=[SiteEntry(c.Site.SCAR)],
            diagnosed_on=TODAY,
            primary=someone_else,
            by=nurse,
        )
    assert excinfo.value.message_dict["primary"] == ["The primary diagnosis belongs to another patient."]


def test_a_change_without_a_user_is_refused(patient):
    with pytest.raises(ValidationError, match="without a signed-in user"):
        services.recurrence_record(
            patient=patient,
            metastatic_type=c.MetastaticType.LOCAL,
            sites=[SiteEntry(c.Site.SCAR)],
            diagnosed_on=TODAY,
            by=None,
        )


# Restaging outcome ------------------------------------------------------------


@pytest.fixture
def episode(patient, nurse):
    recurrence = services.recurrence_record(
        patient=patient,
        metastatic_type=c.MetastaticType.REGIONAL,
        sites=[SiteEntry(c.Site.AXILLARY_NODES)],
        diagnosed_on=TODAY - timedelta(days=20),
        by=nurse,
    )
    return recurrence.restaging


def _request(episode, nurse, modality, **kwargs):
    return services.staging_test_request(
        episode=episode, modality=modality, requested_on=episode.opened_on, by=nurse, **kwargs
    )


def _result(test, nurse, result, sites=()):
    return services.staging_test_record_result(
        test=test,
        performed_on=TODAY - timedelta(days=5),
        reported_on=TODAY - timedelta(days=4),
        result=result,
        sites=sites,
        by=nurse,
    )


def _outcome(episode):
    episode.refresh_from_db()
    return episode.outcome, episode.closed_on


def test_episode_stays_open_until_every_clear_result_is_acknowledged(episode, nurse):
    ct = _request(episode, nurse, c.StagingModality.CT_CAP)
    bone = _request(episode, nurse, c.StagingModality.BONE_SCAN)
    assert _outcome(episode) == ("open", None)
    _result(ct, nurse, c.StagingResult.CLEAR)
    _result(bone, nurse, c.StagingResult.CLEAR)
    services.staging_test_acknowledge(test=ct, by=nurse)
    assert _outcome(episode) == ("open", None)

    services.staging_test_acknowledge(test=bone, by=nurse)

    assert _outcome(episode) == ("no_distant", TODAY)
    assert list(RestagingEpisode.objects.incomplete()) == []


def test_clear_results_without_ct_or_pet_ct_do_not_close_the_episode(episode, nurse):
    bloods = _request(episode, nurse, c.StagingModality.BLOODS)
    _result(bloods, nurse, c.StagingResult.CLEAR)
    services.staging_test_acknowledge(test=bloods, by=nurse)
    assert _outcome(episode) == ("open", None)


def test_distant_disease_in_any_result_closes_the_episode_as_distant(episode, nurse):
    ct = _request(episode, nurse, c.StagingModality.CT_CAP)
    _request(episode, nurse, c.StagingModality.BONE_SCAN)  # still outstanding
    _result(ct, nurse, c.StagingResult.DISTANT, sites=[SiteEntry(c.Site.LIVER)])

    assert _outcome(episode) == ("distant", TODAY - timedelta(days=4))
    assert list(StagingTest.objects.distant_not_recorded()) == [ct]


def test_equivocal_result_keeps_the_episode_open_until_a_further_test_settles_it(episode, nurse):
    ct = _request(episode, nurse, c.StagingModality.CT_CAP)
    _result(ct, nurse, c.StagingResult.EQUIVOCAL)
    services.staging_test_acknowledge(test=ct, by=nurse)
    assert _outcome(episode) == ("equivocal", None)
    assert list(RestagingEpisode.objects.incomplete()) == [episode]

    pet = _request(episode, nurse, c.StagingModality.PET_CT, follow_up_of=ct)
    assert _outcome(episode) == ("open", None)
    _result(pet, nurse, c.StagingResult.CLEAR)
    services.staging_test_acknowledge(test=pet, by=nurse)

    assert _outcome(episode) == ("no_distant", TODAY)


def test_a_cancelled_test_does_not_hold_the_episode_open(episode, nurse):
    ct = _request(episode, nurse, c.StagingModality.CT_CAP)
    bone = _request(episode, nurse, c.StagingModality.BONE_SCAN)
    _result(ct, nurse, c.StagingResult.CLEAR)
    services.staging_test_acknowledge(test=ct, by=nurse)
    bone.cancelled_on, bone.cancel_reason = TODAY, "Patient declined"
    bone.save()
    services.restaging_refresh(episode=episode, by=nurse)
    assert _outcome(episode)[0] == "no_distant"


def test_a_new_result_must_be_acknowledged_again(episode, nurse):
    ct = _request(episode, nurse, c.StagingModality.CT_CAP)
    _result(ct, nurse, c.StagingResult.CLEAR)
    services.staging_test_acknowledge(test=ct, by=nurse)
    assert _outcome(episode)[0] == "no_distant"

    _result(ct, nurse, c.StagingResult.EQUIVOCAL)  # addendum to the report

    ct.refresh_from_db()
    assert (ct.acknowledged_at, _outcome(episode)) == (None, ("equivocal", None))


def test_distant_result_needs_its_sites(episode, nurse):
    ct = _request(episode, nurse, c.StagingModality.CT_CAP)
    with pytest.raises(ValidationError) as excinfo:
        _result(ct, nurse, c.StagingResult.DISTANT, sites=[])
    assert "at least one site" in excinfo.value.message_dict["sites"][0]
    with pytest.raises(ValidationError, match="distant"):
        _result(ct, nurse, c.StagingResult.DISTANT, sites=[SiteEntry(c.Site.AXILLARY_NODES)])
    ct.refresh_from_db()
    assert ct.result == ""


def test_recording_secondary_cancer_from_a_result_links_the_two(episode, nurse, patient):
    ct = _request(episode, nurse, c.StagingModality.CT_CAP)
    _result(ct, nurse, c.StagingResult.DISTANT, sites=[SiteEntry(c.Site.LIVER), SiteEntry(c.Site.BONE)])

    distant = services.distant_recurrence_record_from_test(test=ct, by=nurse)

    ct.refresh_from_db()
    patient.refresh_from_db()
    assert ct.distant_recurrence == distant
    assert (distant.metastatic_type, distant.status, distant.diagnosed_on) == ("03", "confirmed", ct.reported_on)
    assert sorted(distant.sites.values_list("site", flat=True)) == ["bone", "liver"]
    assert list(StagingTest.objects.distant_not_recorded()) == []
    assert patient.status == c.PatientStatus.SECONDARY
    with pytest.raises(ValidationError, match="already recorded"):
        services.distant_recurrence_record_from_test(test=ct, by=nurse)
    assert Recurrence.objects.filter(metastatic_type=c.MetastaticType.DISTANT).count() == 1


def test_recording_from_a_clear_result_is_refused(episode, nurse):
    ct = _request(episode, nurse, c.StagingModality.CT_CAP)
    _result(ct, nurse, c.StagingResult.CLEAR)
    with pytest.raises(ValidationError, match="does not show distant disease"):
        services.distant_recurrence_record_from_test(test=ct, by=nurse)


# Entered in error -------------------------------------------------------------


def test_entered_in_error_leaves_the_lists_and_stays_in_the_database(nurse, patient):
    item = FollowUpItemFactory(patient=patient, due_on=TODAY - timedelta(days=100))
    assert list(FollowUpItem.objects.overdue(today=TODAY)) == [item]

    services.record_mark_entered_in_error(record=item, reason="Booked for the wrong patient", by=nurse)

    assert list(FollowUpItem.objects.overdue(today=TODAY)) == []
    kept = FollowUpItem.all_objects.get(pk=item.pk)
    assert (kept.entered_in_error, kept.error_reason, kept.error_marked_by, kept.version) == (
        True,
        "Booked for the wrong patient",
        nurse,
        2,
    )
    with pytest.raises(ValidationError):
        services.record_mark_entered_in_error(record=kept, reason="again", by=nurse)
    with pytest.raises(ValidationError):
        services.record_mark_entered_in_error(record=FollowUpItemFactory(patient=patient), reason="  ", by=nurse)


def test_a_staging_test_entered_in_error_no_longer_counts(episode, nurse):
    ct = _request(episode, nurse, c.StagingModality.CT_CAP)
    _result(ct, nurse, c.StagingResult.DISTANT, sites=[SiteEntry(c.Site.LUNG)])
    assert _outcome(episode)[0] == "distant"

    services.record_mark_entered_in_error(record=ct, reason="Report belonged to another patient", by=nurse)

    assert _outcome(episode) == ("open", None)
    assert list(StagingTest.objects.distant_not_recorded()) == []


def test_patient_create_validates_the_nhs_number(nurse):
    with pytest.raises(ValidationError) as excinfo:
        services.patient_create(
            by=nurse,
            nhs_number="9434765918",
            given_name="Ann",
            family_name="Lee",
            date_of_birth=date(1970, 1, 1),
            sex=c.Sex.FEMALE,
            team=nurse.team,
            named_nurse=nurse,
        )
    assert "check digit does not match" in excinfo.value.message_dict["nhs_number"][0]
    assert Patient.all_objects.count() == 0


def test_only_a_local_or_regional_recurrence_has_a_restaging_episode(patient, nurse):
    distant = services.recurrence_record(
        patient=patient,
        metastatic_type=c.MetastaticType.DISTANT,
        sites=[SiteEntry(c.Site.LUNG)],
        diagnosed_on=TODAY,
        by=nurse,
    )
    episode = RestagingEpisode(recurrence=distant, opened_on=TODAY, target_on=TODAY, created_by=nurse, updated_by=nurse)
    with pytest.raises(ValidationError, match="Only a local or regional recurrence is restaged"):
        episode.full_clean()
