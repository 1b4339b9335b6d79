"""The task actions (ActionView: scoped fetch, 404 for another team, 403 for the read-only) and the
patient page's Tasks section."""

from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from followup.display import show_date
from followup.views.base import ActionView

from . import services
from .forms import TaskCancelForm, TaskDoneForm, TaskForm, TaskReassignForm
from .models import Task, due_in_words
from .tables import task_links


@dataclass
class TaskSection:
    """The patient page's Tasks section: open tasks (with who, when due, overdue in words), then the
    closed ones, collapsed."""

    open: list[tuple[Task, str, list[tuple[str, str]]]]  # (task, due in words, its actions)
    closed: list[Task]


def task_section(page, *, today: date) -> TaskSection:
    """From the tasks the patient page loaded (PatientQuerySet.for_patient_page: ``all_tasks``): no query."""
    live = [task for task in page.all_tasks if not task.entered_in_error]
    return TaskSection(
        open=[(task, due_in_words(task, today), task_links(task)) for task in live if task.is_open],
        closed=sorted((task for task in live if not task.is_open), key=lambda task: task.updated_at, reverse=True),
    )


class TaskAddView(ActionView):
    form_class = TaskForm
    title = "Add a task"
    submit_label = "Add the task"

    def get_form_kwargs(self):
        return {"patient": self.patient}

    def perform(self, form):
        data = form.cleaned_data
        task = services.task_create(
            patient=self.patient,
            description=data["description"],
            due_on=data["due_on"],
            assigned_to=data["assigned_to"],
            by=self.request.user,
        )
        return self.done(f"Task added for {task.for_whom}, due {show_date(task.due_on)}.")


class TaskActionView(ActionView):
    model = Task

    def record_summary(self):
        task = self.record
        return [
            ("What", task.description),
            ("Assigned to", task.assignee_name),
            ("Due", f"{show_date(task.due_on)} ({due_in_words(task, timezone.localdate())})"),
        ]


class TaskDoneView(TaskActionView):
    form_class = TaskDoneForm
    title = "Mark the task as done"
    submit_label = "Mark as done"

    def get_initial(self):
        return {**super().get_initial(), "summary": self.record.description, "with_whom": "patient"}

    def perform(self, form):
        data = form.cleaned_data
        task = services.task_complete(
            task=self.record,
            by=self.request.user,
            expected_version=data["version"],
            record_contact=data["record_contact"],
            contact_kind=data["contact_kind"],
            with_whom=data["with_whom"],
            answered=data["answered"],
            message_left=data["message_left"],
            summary=data["summary"],
            outcome=data["outcome"],
        )
        if task.contact_id:
            return self.done(f"Task done; contact recorded: {task.contact.in_words}.")
        return self.done("Task done.")


class TaskCancelView(TaskActionView):
    form_class = TaskCancelForm
    title = "Cancel the task"
    submit_label = "Cancel the task"
    conflict_fields = {"reason": "cancel_reason"}

    def perform(self, form):
        services.task_cancel(
            task=self.record,
            reason=form.cleaned_data["reason"],
            by=self.request.user,
            expected_version=form.cleaned_data["version"],
        )
        return self.done("Task cancelled.")


class TaskReassignView(TaskActionView):
    form_class = TaskReassignForm
    title = "Reassign the task"

    def get_initial(self):
        assigned = self.record.assigned_to_id
        return {**super().get_initial(), "assigned_to": str(assigned) if assigned else None}

    def get_form_kwargs(self):
        return {"task": self.record}

    def perform(self, form):
        task = services.task_reassign(
            task=self.record,
            assigned_to=form.cleaned_data["assigned_to"],
            by=self.request.user,
            expected_version=form.cleaned_data["version"],
        )
        return self.done(f"Task reassigned to {task.for_whom}.")
