"""Fixtures of the results interfaces: registered clients (with their tokens) and a patient with open tests."""

from datetime import timedelta

import pytest
from django.utils import timezone

from followup import choices as c
from integration.clients import client_register
from tests.factories import (
    FollowUpItemFactory,
    PatientFactory,
    RecurrenceFactory,
    RestagingEpisodeFactory,
    StagingTestFactory,
)


@pytest.fixture
def sender_and_token(team, admin_user):
    """A results system serving the first team: (client, its bearer token)."""
    return client_register(name="North RIS", teams=[team], can_send=True, can_read=False, by=admin_user)


@pytest.fixture
def sender(sender_and_token):
    return sender_and_token[0]


@pytest.fixture
def reader_and_token(team, admin_user):
    """A reading system (a regional record) of the first team: (client, its bearer token)."""
    return client_register(name="Regional record", teams=[team], can_send=False, can_read=True, by=admin_user)


@pytest.fixture
def patient_with_ct(nurse):
    """A patient (NHS 9434765919 style, from the factory) with a local recurrence whose restaging
    has a CT chest/abdomen/pelvis requested ten days ago: (patient, the CT)."""
    patient = PatientFactory(team=nurse.team, named_nurse=nurse, family_name="Whitfield")
    today = timezone.localdate()
    recurrence = RecurrenceFactory(
        patient=patient,
        metastatic_type=c.MetastaticType.LOCAL,
        diagnosed_on=today - timedelta(days=20),
        created_by=nurse,
        updated_by=nurse,
    )
    episode = RestagingEpisodeFactory(recurrence=recurrence)
    test = StagingTestFactory(
        episode=episode, modality=c.StagingModality.CT_CAP, requested_on=today - timedelta(days=10)
    )
    return patient, test


@pytest.fixture
def patient_with_mammogram(nurse):
    """A patient with a mammogram due in a week: (patient, the item)."""
    patient = PatientFactory(team=nurse.team, named_nurse=nurse, family_name="Okonjo")
    item = FollowUpItemFactory(
        patient=patient,
        kind=c.FollowUpKind.MAMMOGRAM,
        due_on=timezone.localdate() + timedelta(days=7),
        created_by=nurse,
        updated_by=nurse,
    )
    return patient, item
