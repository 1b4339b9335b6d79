"""The nightly check of the patient flags (alerts/tasks.py, followup/flags.py): what the worker runs."""

import logging

import pytest
from django.db import connection

from alerts import tasks
from followup import flags
from followup.models import Patient, PatientFlags

from .factories import PatientFactory, PrimaryDiagnosisFactory

pytestmark = pytest.mark.django_db


def test_the_nightly_task_logs_each_difference_and_writes_every_row_again(nurse, caplog):
    patient = PatientFactory(team=nurse.team, named_nurse=nurse)
    PrimaryDiagnosisFactory(patient=patient)
    assert not PatientFlags.objects.get(patient=patient).missing_nhs_number
    with connection.cursor() as cursor:  # raw SQL: past the model signals and the QuerySets' bulk writes
        cursor.execute("UPDATE followup_patient SET nhs_number = '' WHERE id = %s", [patient.pk])

    with caplog.at_level(logging.ERROR, logger="followup.flags"):
        tasks.check_patient_flags(timestamp=0)

    assert f"patient {patient.pk}: missing_nhs_number is False, the rules give True" in caplog.text
    assert "1 row written again" in caplog.text
    assert PatientFlags.objects.get(patient=patient).missing_nhs_number
    assert flags.differences() == []
    assert patient in Patient.objects.flagged_data_quality()


def test_the_nightly_task_is_quiet_when_the_flags_agree(nurse, caplog):
    PatientFactory(team=nurse.team, named_nurse=nurse)
    with caplog.at_level(logging.ERROR, logger="followup.flags"):
        tasks.check_patient_flags(timestamp=0)
    assert caplog.text == ""
