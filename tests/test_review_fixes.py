"""Defects found in review, each shown fixed: what the lists, pages and database hold afterwards."""

import csv
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from followup import choices as c
from followup import services
from followup.models import Patient, Recurrence, RestagingEpisode, StagingTest
from followup.services import ConflictError, SiteEntry

from .factories import FollowUpProtocolFactory, PatientFactory, UserFactory

TODAY = timezone.localdate()


def days(n):
    return TODAY + timedelta(days=n)


def _regional_with_ct(patient, nurse, on=None):
    recurrence = services.recurrence_record(
        patient=patient,
        metastatic_type=c.MetastaticType.REGIONAL,
        sites=[SiteEntry(c.Site.AXILLARY_NODES)],
        diagnosed_on=on or days(-20),
        restaging_tests=[c.StagingModality.CT_CAP],
        by=nurse,
    )
    return recurrence, recurrence.restaging.tests.get()


def test_a_recurrence_after_discharge_brings_the_patient_back_onto_the_lists(patient, nurse):
    services.patient_discharge(
        patient=patient, discharged_on=days(-100), reason="Completed", by=nurse, expected_version=1
    )
    recurrence, _ = _regional_with_ct(patient, nurse)
    assert Patient.objects.get(pk=patient.pk).status == c.PatientStatus.SURVEILLANCE
    assert list(RestagingEpisode.objects.incomplete()) == [recurrence.restaging]


def test_a_distant_recurrence_after_discharge_is_secondary_cancer(patient, nurse):
    services.patient_discharge(
        patient=patient, discharged_on=days(-100), reason="Completed", by=nurse, expected_version=1
    )
    services.recurrence_record(
        patient=patient,
        metastatic_type=c.MetastaticType.DISTANT,
        sites=[SiteEntry(c.Site.BONE)],
        diagnosed_on=TODAY,
        by=nurse,
    )
    assert Patient.objects.get(pk=patient.pk).status == c.PatientStatus.SECONDARY


def test_discharge_is_refused_while_restaging_is_incomplete(patient, nurse):
    _regional_with_ct(patient, nurse)
    with pytest.raises(ValidationError, match="Restaging is still incomplete"):
        services.patient_discharge(patient=patient, discharged_on=TODAY, reason="x", by=nurse, expected_version=None)
    assert Patient.objects.get(pk=patient.pk).status == c.PatientStatus.SURVEILLANCE


def test_acknowledging_a_result_that_changed_since_it_was_read_is_refused(patient, nurse):
    colleague = UserFactory(team=nurse.team)
    _, ct = _regional_with_ct(patient, nurse)
    ct = services.staging_test_record_result(
        test=ct,
        performed_on=days(-5),
        reported_on=days(-4),
        result=c.StagingResult.DISTANT,
        sites=[SiteEntry(c.Site.LIVER)],
        by=nurse,
    )
    read_version = ct.version  # what the first nurse's worklist showed
    services.staging_test_record_result(
        test=ct, performed_on=days(-5), reported_on=days(-4), result=c.StagingResult.CLEAR, by=colleague
    )
    with pytest.raises(ConflictError):
        services.staging_test_acknowledge(test=ct, by=nurse, expected_version=read_version)
    saved = StagingTest.objects.get(pk=ct.pk)
    assert (saved.result, saved.acknowledged_at) == ("clear", None)
    assert RestagingEpisode.objects.get().outcome == c.RestagingOutcome.OPEN


def test_stale_acknowledgement_from_a_worklist_row_is_not_saved(client, patient, nurse):
    _, ct = _regional_with_ct(patient, nurse)
    ct = services.staging_test_record_result(
        test=ct, performed_on=days(-5), reported_on=days(-4), result=c.StagingResult.EQUIVOCAL, by=nurse
    )
    client.force_login(nurse)
    response = client.post(
        reverse("followup:staging_acknowledge", args=[ct.pk]), {"version": ct.version - 1}, HTTP_HX_REQUEST="true"
    )
    assert "after you opened it" in response.content.decode()
    assert StagingTest.objects.get(pk=ct.pk).acknowledged_at is None


def test_a_patient_without_a_primary_diagnosis_is_a_data_quality_problem(nurse):
    bare = PatientFactory(team=nurse.team, named_nurse=nurse)
    assert list(Patient.objects.data_quality_problems()) == [bare]
    assert Patient.objects.with_data_quality_flags().get(pk=bare.pk).missing_primary is True


def test_a_result_can_be_linked_to_secondary_cancer_already_recorded(client, patient, nurse):
    existing = services.recurrence_record(
        patient=patient,
        metastatic_type=c.MetastaticType.DISTANT,
        sites=[SiteEntry(c.Site.BONE)],
        diagnosed_on=days(-30),
        by=nurse,
    )
    _, ct = _regional_with_ct(patient, nurse, on=days(-25))
    ct = services.staging_test_record_result(
        test=ct,
        performed_on=days(-5),
        reported_on=days(-4),
        result=c.StagingResult.DISTANT,
        sites=[SiteEntry(c.Site.BONE)],
        by=nurse,
    )
    client.force_login(nurse)
    response = client.post(reverse("followup:secondary_from_test", args=[ct.pk]), {"existing": existing.pk})
    assert response.status_code == 302, response.context["form"].errors
    assert StagingTest.objects.get(pk=ct.pk).distant_recurrence == existing
    assert list(StagingTest.objects.distant_not_recorded()) == []
    assert Recurrence.objects.distant().count() == 1


def test_an_equivocal_ct_settled_by_another_test_lets_restaging_close(patient, nurse):
    recurrence, ct = _regional_with_ct(patient, nurse)
    ct = services.staging_test_record_result(
        test=ct, performed_on=days(-15), reported_on=days(-14), result=c.StagingResult.EQUIVOCAL, by=nurse
    )
    services.staging_test_acknowledge(test=ct, by=nurse)
    mri = services.staging_test_request(
        episode=recurrence.restaging,
        modality=c.StagingModality.MRI_SPINE,
        requested_on=days(-13),
        follow_up_of=ct,
        by=nurse,
    )
    mri = services.staging_test_record_result(
        test=mri, performed_on=days(-10), reported_on=days(-9), result=c.StagingResult.CLEAR, by=nurse
    )
    services.staging_test_acknowledge(test=mri, by=nurse)
    episode = RestagingEpisode.objects.get()
    assert (episode.outcome, episode.closed_on) == (c.RestagingOutcome.NO_DISTANT, TODAY)


def test_worklist_export_has_plain_text_not_html_entities(client, nurse):
    patient = PatientFactory(team=nurse.team, named_nurse=nurse, family_name="O'Brien", given_name="Mary-Ann & Co")
    client.force_login(nurse)
    response = client.get(reverse("followup:worklist", args=["data-quality"]), {"export": "csv"})
    rows = list(csv.reader(b"".join(response.streaming_content).decode("utf-8-sig").splitlines()))
    assert rows[1][0] == "O'BRIEN, Mary-Ann & Co"
    assert "No primary diagnosis recorded" in rows[1][-1]
    assert patient.pk


@pytest.mark.parametrize(
    ("name", "data", "field"),
    [
        ("protocol_assign", {"protocol_start_on": "9999-06-01"}, "protocol_start_on"),
        ("item_add", {"kind": "mammogram", "due_on": "2062-01-01"}, "due_on"),
    ],
)
def test_far_future_dates_are_refused_beside_the_field(client, nurse, patient, name, data, field):
    client.force_login(nurse)
    if name == "protocol_assign":
        data = data | {"protocol": FollowUpProtocolFactory().pk}
    response = client.post(reverse(f"followup:{name}", args=[patient.pk]), data)
    assert response.status_code == 200
    assert "more than 10 years ahead" in " ".join(response.context["form"].errors[field])


def test_far_future_report_period_is_refused_not_a_crash(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("followup:report_summary", args=["recurrences-by-month"]), {"end": "9999-12-31"})
    assert response.status_code == 200
    assert "more than 10 years ahead" in response.content.decode()
