"""The task services: who a task may be for, done with or without a contact, cancelled, reassigned."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from contacts.models import Contact
from followup import choices as c
from followup.services import ConflictError
from tasks import services
from tasks.models import Task, TaskStatus
from tests.factories import UserFactory

from .factories import TaskFactory


def soon():
    return timezone.localdate() + timedelta(days=2)


@pytest.fixture
def task(patient, priya):
    return TaskFactory(patient=patient, assigned_to=priya, description="Phone about the ultrasound result")


def test_task_create_for_a_nurse_of_the_team(patient, nurse, priya):
    task = services.task_create(
        patient=patient, description=" Chase the GP letter ", due_on=soon(), by=nurse, assigned_to=priya
    )
    assert (task.description, task.assigned_to, task.team, task.status) == (
        "Chase the GP letter",
        priya,
        patient.team,
        TaskStatus.OPEN,
    )
    assert (task.created_by, task.version) == (nurse, 1)
    assert task.history.count() == 1


def test_task_create_for_the_team_as_a_whole(patient, nurse):
    task = services.task_create(patient=patient, description="Book an interpreter", due_on=soon(), by=nurse)
    assert task.assigned_to is None and task.for_whom == "the team as a whole"


@pytest.mark.parametrize(
    "who",
    [
        "other_nurse",  # another team's nurse
        "clinician",  # the team's read-only clinician
        "inactive",  # a nurse who has left
    ],
)
def test_task_create_refuses_anyone_but_an_active_nurse_of_the_team(patient, nurse, other_nurse, who):
    assignee = {
        "other_nurse": other_nurse,
        "clinician": UserFactory(team=patient.team, role=c.Role.CLINICIAN),
        "inactive": UserFactory(team=patient.team, role=c.Role.NURSE, is_active=False),
    }[who]
    with pytest.raises(ValidationError) as refused:
        services.task_create(patient=patient, description="x", due_on=soon(), by=nurse, assigned_to=assignee)
    assert refused.value.message_dict == {"assigned_to": [services.NOT_A_TEAM_NURSE]}
    assert Task.all_objects.count() == 0


def test_task_create_refuses_an_empty_description(patient, nurse):
    with pytest.raises(ValidationError) as refused:
        services.task_create(patient=patient, description="  ", due_on=soon(), by=nurse)
    assert refused.value.message_dict == {"description": ["Say what needs doing."]}


def test_task_complete_without_a_contact_records_none(task, priya):
    done = services.task_complete(task=task, by=priya, expected_version=1, record_contact=False)
    assert (done.status, done.done_by, done.contact) == (TaskStatus.DONE, priya, None)
    assert done.done_at is not None
    assert Contact.all_objects.count() == 0


def test_task_complete_records_the_contact_when_asked(task, priya):
    done = services.task_complete(
        task=task,
        by=priya,
        expected_version=1,
        record_contact=True,
        contact_kind="phone_out",
        answered=False,
        message_left=True,
        summary="Phone about the ultrasound result",
        outcome="Will call back",
    )
    contact = Contact.objects.get()
    assert done.contact == contact
    assert (contact.patient, contact.kind, contact.by, contact.answered, contact.message_left) == (
        task.patient,
        "phone_out",
        priya,
        False,
        True,
    )
    assert (contact.summary, contact.outcome, contact.contacted_at) == (
        "Phone about the ultrasound result",
        "Will call back",
        done.done_at,
    )
    assert contact.in_words == "phoned, no answer, message left"


@pytest.mark.parametrize(
    "fields, errors",
    [
        ({}, {"contact_kind": ["Select the type of contact"]}),
        ({"contact_kind": "phone_out"}, {"answered": ["Select whether the call was answered"]}),
        ({"contact_kind": "clinic", "summary": " "}, {"summary": ["Enter a summary of the contact"]}),
    ],
)
def test_task_complete_refuses_an_incomplete_contact(task, priya, fields, errors):
    fields = {"summary": "Called", **fields}
    with pytest.raises(ValidationError) as refused:
        services.task_complete(task=task, by=priya, expected_version=1, record_contact=True, **fields)
    assert refused.value.message_dict == errors
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN and Contact.all_objects.count() == 0


def test_task_complete_is_atomic_when_the_contact_is_refused(task, priya):
    """The patient asked that no messages are left: the contact is refused, and the task stays open."""
    task.patient.messages_may_be_left = False
    task.patient.save(update_fields=["messages_may_be_left"])
    with pytest.raises(ValidationError) as refused:
        services.task_complete(
            task=task,
            by=priya,
            expected_version=1,
            record_contact=True,
            contact_kind="phone_out",
            answered=False,
            message_left=True,
            summary="Called",
        )
    assert list(refused.value.message_dict) == ["message_left"]
    task.refresh_from_db()
    assert (task.status, task.version, task.contact) == (TaskStatus.OPEN, 1, None)
    assert Contact.all_objects.count() == 0


def test_task_complete_is_atomic_when_the_task_cannot_be_saved(task, priya, monkeypatch):
    """A failure after the contact was written takes the contact back with it."""
    from tasks import services as task_services

    def broken(record, by):
        raise ValidationError("The database said no.")

    monkeypatch.setattr(task_services, "save_record", broken)
    with pytest.raises(ValidationError):
        task_services.task_complete(
            task=task, by=priya, expected_version=1, record_contact=True, contact_kind="clinic", summary="Seen"
        )
    assert Contact.all_objects.count() == 0
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_task_complete_twice_is_refused(task, priya):
    services.task_complete(task=task, by=priya, expected_version=1, record_contact=False)
    with pytest.raises(ValidationError) as refused:
        services.task_complete(task=task, by=priya, expected_version=None, record_contact=False)
    assert refused.value.messages == ["This task is already done."]


def test_task_complete_after_someone_else_changed_it_is_a_conflict(task, nurse, priya):
    services.task_reassign(task=task, assigned_to=nurse, by=nurse, expected_version=1)
    with pytest.raises(ConflictError):
        services.task_complete(task=task, by=priya, expected_version=1, record_contact=False)


def test_task_cancel_needs_a_reason(task, nurse):
    with pytest.raises(ValidationError) as refused:
        services.task_cancel(task=task, reason=" ", by=nurse, expected_version=1)
    assert refused.value.message_dict == {"reason": ["Enter the reason for cancelling"]}
    cancelled = services.task_cancel(task=task, reason="Done at clinic", by=nurse, expected_version=1)
    assert (cancelled.status, cancelled.cancel_reason) == (TaskStatus.CANCELLED, "Done at clinic")
    with pytest.raises(ValidationError):
        services.task_complete(task=cancelled, by=nurse, expected_version=None, record_contact=False)


def test_task_reassign_to_the_team_and_to_a_nurse(task, nurse):
    task = services.task_reassign(task=task, assigned_to=None, by=nurse, expected_version=1)
    assert task.assigned_to is None and task.version == 2
    task = services.task_reassign(task=task, assigned_to=nurse, by=nurse, expected_version=2)
    assert task.assigned_to == nurse


def test_task_reassign_refuses_the_same_assignee_and_another_teams_nurse(task, nurse, priya, other_nurse):
    with pytest.raises(ValidationError) as refused:
        services.task_reassign(task=task, assigned_to=priya, by=nurse, expected_version=1)
    assert refused.value.message_dict == {"assigned_to": ["This task is already assigned to Priya Shah."]}
    with pytest.raises(ValidationError) as refused:
        services.task_reassign(task=task, assigned_to=other_nurse, by=nurse, expected_version=1)
    assert refused.value.message_dict == {"assigned_to": [services.NOT_A_TEAM_NURSE]}


def test_a_task_entered_in_error_can_no_longer_be_done(task, nurse):
    from followup.services import record_mark_entered_in_error

    record_mark_entered_in_error(record=task, reason="Wrong patient", by=nurse, expected_version=1)
    with pytest.raises(ValidationError) as refused:
        services.task_complete(task=task, by=nurse, expected_version=None, record_contact=False)
    assert "entered in error" in refused.value.messages[0]
