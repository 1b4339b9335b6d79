"""MDTDiscussion: the database's constraints, the model's rules, the record service, history, entered in error."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from followup import choices as c
from followup import services
from followup.history import patient_history
from mdt.choices import MDTOutcome
from mdt.models import MDTDiscussion, not_discussed_at_mdt
from mdt.services import mdt_discussion_record

from ..factories import PatientFactory, RecurrenceFactory
from .factories import MDTDiscussionFactory

TODAY = timezone.localdate()


def record(recurrence, by, **changes):
    fields = {
        "recurrence": recurrence,
        "meeting_on": TODAY,
        "outcome": MDTOutcome.RADIOTHERAPY,
        "plan": "Radiotherapy to the axilla.",
        "attendees": "Dr B Oncologist, CNS D Nurse",
        "by": by,
    } | changes
    return mdt_discussion_record(**fields)


@pytest.mark.parametrize(
    "changes",
    [{"outcome": "chemo"}, {"plan": ""}, {"attendees": ""}],
    ids=["outcome not a choice", "no plan", "no attendees"],
)
def test_the_database_refuses_an_incomplete_discussion(changes, patient):
    recurrence = RecurrenceFactory(patient=patient)
    with pytest.raises(IntegrityError), transaction.atomic():
        MDTDiscussionFactory(recurrence=recurrence, **changes)


def test_the_database_refuses_an_error_mark_without_reason(patient):
    discussion = MDTDiscussionFactory(recurrence=RecurrenceFactory(patient=patient))
    discussion.entered_in_error = True
    with pytest.raises(IntegrityError), transaction.atomic():
        discussion.save()


def test_record_service_stamps_who_and_when_and_leaves_the_list(nurse, patient):
    recurrence = RecurrenceFactory(patient=patient)
    assert list(not_discussed_at_mdt()) == [recurrence]
    discussion = record(recurrence, nurse)
    assert (discussion.patient, discussion.recurrence, discussion.created_by, discussion.version) == (
        patient,
        recurrence,
        nurse,
        1,
    )
    assert discussion.plan == "Radiotherapy to the axilla."
    assert list(not_discussed_at_mdt()) == []


def test_a_meeting_in_the_future_is_refused_beside_its_field(nurse, patient):
    recurrence = RecurrenceFactory(patient=patient)
    with pytest.raises(ValidationError) as refused:
        record(recurrence, nurse, meeting_on=TODAY + timedelta(days=1))
    assert refused.value.message_dict == {"meeting_on": ["The meeting date cannot be in the future."]}
    assert MDTDiscussion.objects.count() == 0


def test_a_meeting_before_the_recurrence_is_refused(nurse, patient):
    recurrence = RecurrenceFactory(patient=patient, diagnosed_on=TODAY - timedelta(days=10))
    with pytest.raises(ValidationError) as refused:
        record(recurrence, nurse, meeting_on=TODAY - timedelta(days=11))
    assert refused.value.message_dict["meeting_on"][0].startswith(
        "The meeting date cannot be before the recurrence was clinically agreed"
    )


def test_a_meeting_typed_with_a_slip_of_the_year_is_refused(nurse, patient):
    recurrence = RecurrenceFactory(patient=patient)
    with pytest.raises(ValidationError) as refused:
        record(recurrence, nurse, meeting_on=TODAY.replace(year=26))
    assert "check the year" in refused.value.message_dict["meeting_on"][0]


def test_the_recurrence_must_be_the_patients(nurse, patient):
    other = PatientFactory(team=patient.team, named_nurse=nurse)
    discussion = MDTDiscussion(
        patient=other,
        recurrence=RecurrenceFactory(patient=patient),
        meeting_on=TODAY,
        outcome=MDTOutcome.OTHER,
        plan="x",
        attendees="y",
    )
    with pytest.raises(ValidationError) as refused:
        services.save_record(discussion, nurse)
    assert refused.value.message_dict == {"recurrence": ["The recurrence belongs to another patient."]}


def test_a_recurrence_entered_in_error_cannot_be_discussed(nurse, priya, patient):
    recurrence = RecurrenceFactory(patient=patient)
    services.record_mark_entered_in_error(record=recurrence, reason="Wrong patient", by=priya)
    with pytest.raises(ValidationError):
        record(recurrence, nurse)


def test_history_and_entered_in_error(nurse, priya, patient):
    recurrence = RecurrenceFactory(patient=patient)
    discussion = record(recurrence, nurse)
    services.record_mark_entered_in_error(record=discussion, reason="Wrong meeting", by=priya)
    discussion = MDTDiscussion.all_objects.get(pk=discussion.pk)
    assert discussion.entered_in_error and discussion.error_marked_by == priya
    assert [h.history_type for h in discussion.history.order_by("history_date")] == ["+", "~"]
    changes = [change for change in patient_history(patient) if change.record.startswith("MDT discussion")]
    assert [change.kind for change in changes] == ["Marked entered in error", "Created"]
    assert ("Outcome", "–", "Radiotherapy") in changes[1].changes
    # Entered in error, it no longer counts: the recurrence is back on the list.
    assert list(not_discussed_at_mdt()) == [recurrence]


def test_the_old_date_of_a_discussion_does_not_block_marking_it_entered_in_error(nurse, priya, patient):
    """Only a date being entered is checked (followup/dates.py): a bad stored one can still be corrected."""
    recurrence = RecurrenceFactory(patient=patient, diagnosed_on=TODAY - timedelta(days=30))
    discussion = MDTDiscussionFactory(recurrence=recurrence, meeting_on=TODAY - timedelta(days=40))
    services.record_mark_entered_in_error(record=discussion, reason="Wrong date", by=priya)
    assert MDTDiscussion.objects.count() == 0


def test_refuted_recurrence_may_still_be_discussed(nurse, patient):
    recurrence = RecurrenceFactory(patient=patient, status=c.RecurrenceStatus.REFUTED)
    assert record(recurrence, nurse).recurrence == recurrence
