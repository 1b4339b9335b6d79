"""A patient's tasks in the patient's story (followup/timeline.py): set, done, cancelled."""

from django.urls import reverse
from django.utils import timezone

from followup.display import show_date
from followup.timeline import ErrorMark, Event

from .models import TaskStatus, due_in_words
from .tables import task_links


def _error_mark(task) -> ErrorMark | None:
    if not task.entered_in_error:
        return None
    by = task.error_marked_by
    return ErrorMark(by.get_full_name() or by.username, task.error_marked_at, task.error_reason)


def _who(user) -> str:
    return user.get_full_name() or user.username


def task_events(patient) -> list[Event]:
    """From the tasks for_patient_page() loaded (``all_tasks``, those entered in error too): no query."""
    today = timezone.localdate()
    events = []
    for task in patient.all_tasks:
        error = _error_mark(task)
        error_link = ("Entered in error", reverse("followup:entered_in_error", args=["task", task.pk]))
        set_on = timezone.localtime(task.created_at).date()
        tags = [(due_in_words(task, today), "red" if task.due_on < today else "white")] if task.is_open else []
        set_event = Event(
            set_on,
            f"Task set: {task.description}",
            f"For {task.for_whom}, due {show_date(task.due_on)}. Set by {_who(task.created_by)}.",
            tags,
            "task",
            links=[*(task_links(task) if task.is_open else []), error_link],
        )
        if error is not None:
            set_event.error, set_event.tags, set_event.links = error, [], []
        events.append(set_event)
        if error is not None:
            continue
        if task.status == TaskStatus.DONE:
            detail = f"Done by {_who(task.done_by)}."
            if task.contact is not None:
                detail += f" Contact recorded: {task.contact.in_words}."
            events.append(
                Event(
                    timezone.localtime(task.done_at).date(), f"Task done: {task}", detail, [("Done", "green")], "task"
                )
            )
        elif task.status == TaskStatus.CANCELLED:
            # A cancelled task changes no more: its last change is its cancelling.
            events.append(
                Event(
                    timezone.localtime(task.updated_at).date(),
                    f"Task cancelled: {task}",
                    task.cancel_reason,
                    [("Cancelled", "grey")],
                    "task",
                )
            )
    return events
