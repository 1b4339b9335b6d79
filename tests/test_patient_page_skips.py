"""Review (issue 8): the patient page never skips a list that holds one of the patient's rows."""

from datetime import date, timedelta

import pytest

from followup import choices as c
from followup import services
from followup.models import Patient
from followup.views.read import _may_hold
from followup.worklists import WORKLISTS

from .factories import (
    FollowUpItemFactory,
    PatientFactory,
    RecurrenceFactory,
    RestagingEpisodeFactory,
    StagingTestFactory,
    SymptomReportFactory,
)

pytestmark = pytest.mark.django_db


def test_skipped_lists_hold_no_row(nurse):
    today = date.today()
    mk = lambda: PatientFactory(team=nurse.team, named_nurse=nurse)  # noqa: E731
    patients = [mk() for _ in range(6)]
    p0, p1, p2, p3, p4, p5 = patients
    FollowUpItemFactory(patient=p0, due_on=today - timedelta(days=200))
    FollowUpItemFactory(
        patient=p0,
        due_on=today - timedelta(days=20),
        status=c.FollowUpStatus.DONE,
        done_on=today - timedelta(days=20),
        result=c.ImagingOutcome.ABNORMAL,
    )
    SymptomReportFactory(patient=p1, red_flag=c.RedFlag.CORD_COMPRESSION)
    RestagingEpisodeFactory(recurrence__patient=p2)  # episode without tests
    StagingTestFactory(
        episode__recurrence__patient=p3, result=c.StagingResult.DISTANT, reported_on=today, performed_on=today
    )
    # an entered-in-error episode on one recurrence, a live one on another
    eie = RestagingEpisodeFactory(recurrence__patient=p4)
    StagingTestFactory(episode=eie, result=c.StagingResult.DISTANT, reported_on=today, performed_on=today)
    services.record_mark_entered_in_error(record=eie, reason="Wrong", by=nurse)
    StagingTestFactory(
        episode__recurrence=RecurrenceFactory(patient=p4, metastatic_type=c.MetastaticType.LOCAL),
        result=c.StagingResult.DISTANT,
        reported_on=today,
        performed_on=today,
    )
    for patient in patients:
        page = Patient.objects.for_patient_page().get(pk=patient.pk)
        for worklist in WORKLISTS.values():
            rows = list(worklist.for_patient(page, today=today))
            if rows:
                assert _may_hold(worklist, page), (patient, worklist.slug)
