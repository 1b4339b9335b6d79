"""Tasks: set, done (recording a contact when the user says so), cancelled, handed to someone else."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from contacts.models import ContactKind, ContactWith
from contacts.services import contact_record
from followup import choices as c
from followup.models import Patient, User
from followup.services import lock, save_record

from .models import Task, TaskStatus

NOT_A_TEAM_NURSE = "Choose a nurse of this patient's team, or the team as a whole."


def task_assignees(patient: Patient):
    """Who a task of this patient may be assigned to: the active nurses of the patient's team."""
    return User.objects.filter(role=c.Role.NURSE, is_active=True, team_id=patient.team_id)


def _check_assignee(patient: Patient, assigned_to: User | None) -> None:
    if assigned_to is not None and not task_assignees(patient).filter(pk=assigned_to.pk).exists():
        raise ValidationError({"assigned_to": NOT_A_TEAM_NURSE})


def _require_open(task: Task) -> None:
    if task.status != TaskStatus.OPEN:
        raise ValidationError(f"This task is already {task.get_status_display().lower()}.")


@transaction.atomic
def task_create(*, patient: Patient, description: str, due_on: date, by: User, assigned_to: User | None = None) -> Task:
    """A task for a nurse of the patient's team, or (``assigned_to`` None) for the team as a whole."""
    if not description.strip():
        raise ValidationError({"description": "Say what needs doing."})
    _check_assignee(patient, assigned_to)
    task = Task(
        patient=patient, description=description.strip(), due_on=due_on, assigned_to=assigned_to, team=patient.team
    )
    save_record(task, by)
    return task


@transaction.atomic
def task_complete(
    *,
    task: Task,
    by: User,
    expected_version: int | None,
    record_contact: bool,
    contact_kind: str = "",
    with_whom: str = ContactWith.PATIENT,
    answered: bool | None = None,
    message_left: bool = False,
    summary: str = "",
    outcome: str = "",
) -> Task:
    """Done, now, by ``by``. With ``record_contact`` the contact it took is recorded in the contact
    log (contacts.services.contact_record) in the same transaction: both are saved, or neither."""
    task = lock(task, expected_version=expected_version)
    _require_open(task)
    now = timezone.now()
    if record_contact:
        errors = {}
        if not contact_kind:
            errors["contact_kind"] = "Select the type of contact"
        if not summary.strip():
            errors["summary"] = "Enter a summary of the contact"
        if contact_kind == ContactKind.PHONE_OUT and answered is None:
            errors["answered"] = "Select whether the call was answered"
        if errors:
            raise ValidationError(errors)
        task.contact = contact_record(
            patient=task.patient,
            kind=contact_kind,
            contacted_at=now,
            by=by,
            summary=summary.strip(),
            outcome=outcome.strip(),
            with_whom=with_whom or ContactWith.PATIENT,
            answered=answered,
            message_left=bool(message_left and contact_kind == ContactKind.PHONE_OUT and answered is False),
        )
    task.status, task.done_at, task.done_by = TaskStatus.DONE, now, by
    save_record(task, by)
    return task


@transaction.atomic
def task_cancel(*, task: Task, reason: str, by: User, expected_version: int | None) -> Task:
    task = lock(task, expected_version=expected_version)
    _require_open(task)
    if not reason.strip():
        raise ValidationError({"reason": "Enter the reason for cancelling"})
    task.status, task.cancel_reason = TaskStatus.CANCELLED, reason.strip()
    save_record(task, by)
    return task


@transaction.atomic
def task_reassign(*, task: Task, assigned_to: User | None, by: User, expected_version: int | None) -> Task:
    """To another nurse of the patient's team, or (None) to the team as a whole."""
    task = lock(task, expected_version=expected_version)
    _require_open(task)
    _check_assignee(task.patient, assigned_to)
    if assigned_to == task.assigned_to:
        raise ValidationError({"assigned_to": f"This task is already assigned to {task.for_whom}."})
    task.assigned_to = assigned_to
    save_record(task, by)
    return task
