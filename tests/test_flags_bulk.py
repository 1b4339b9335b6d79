"""Writes in bulk, which send no model signals, keep the patient flags too (querysets.KeepsPatientFlags)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from followup import choices as c
from followup.models import FollowUpItem, Patient, PatientFlags

from .factories import FollowUpItemFactory, PatientFactory, PrimaryDiagnosisFactory

pytestmark = pytest.mark.django_db


def _flags(patient) -> PatientFlags:
    return PatientFlags.objects.get(patient=patient)


@pytest.fixture
def lost(nurse):
    """An active patient with a primary and no follow-up item at all: on "No next follow-up"."""
    patient = PatientFactory(team=nurse.team, named_nurse=nurse)
    PrimaryDiagnosisFactory(patient=patient)
    assert _flags(patient).no_next_follow_up
    return patient


def test_bulk_create_of_items_takes_the_patient_off_no_next_follow_up(lost):
    today = timezone.localdate()
    item = FollowUpItem(patient=lost, kind=c.FollowUpKind.MAMMOGRAM, due_on=today + timedelta(days=90))
    item.created_by = item.updated_by = lost.created_by
    item.created_at = item.updated_at = timezone.now()
    FollowUpItem.objects.bulk_create([item])
    assert not _flags(lost).no_next_follow_up
    assert lost not in Patient.objects.flagged_without_next_follow_up()


def test_queryset_update_through_all_objects_keeps_the_flags(lost):
    # However the status changes (an import, the admin, a script through the ORM): the patient leaves the list.
    Patient.all_objects.filter(pk=lost.pk).update(
        status=c.PatientStatus.DISCHARGED, discharged_on=timezone.localdate(), discharge_reason="Moved away"
    )
    assert not _flags(lost).no_next_follow_up
    assert lost not in Patient.objects.flagged_without_next_follow_up()


def test_bulk_update_of_items_puts_the_patient_back_on_no_next_follow_up(nurse):
    patient = PatientFactory(team=nurse.team, named_nurse=nurse)
    PrimaryDiagnosisFactory(patient=patient)
    item = FollowUpItemFactory(patient=patient)
    assert not _flags(patient).no_next_follow_up
    item.status, item.cancel_reason = c.FollowUpStatus.CANCELLED, "Not needed"
    FollowUpItem.objects.bulk_update([item], ["status", "cancel_reason"])
    assert _flags(patient).no_next_follow_up


def test_update_of_a_name_clears_the_possible_duplicate_of_the_other(nurse):
    born = timezone.localdate().replace(year=1961)
    one = PatientFactory(
        team=nurse.team, named_nurse=nurse, family_name="Adeyemi", given_name="Ola", date_of_birth=born
    )
    two = PatientFactory(
        team=nurse.team, named_nurse=nurse, family_name="Adeyemi", given_name="Ola", date_of_birth=born
    )
    assert _flags(one).possible_duplicate and _flags(two).possible_duplicate
    Patient.objects.filter(pk=two.pk).update(family_name="Bello")
    assert not _flags(one).possible_duplicate and not _flags(two).possible_duplicate
