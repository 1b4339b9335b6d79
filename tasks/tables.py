"""The tables of "My tasks" and "Team tasks", and the "Add a task" link of every worklist row."""

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html

from followup.display import show_date
from followup.models import patient_of
from followup.tables import (
    ROW_EXTRA_LINKS,
    ActionsColumn,
    DateColumn,
    NhsNumberColumn,
    NurseColumn,
    PatientColumn,
    WorklistTable,
    link_list,
    row_patient_name,
    tag,
    url_for,
)

from .models import due_in_words


def _today():
    return timezone.localdate()


def add_task_link(record) -> tuple[str, str]:
    """ "Add a task" for the patient of any worklist row (the row's patient is already loaded)."""
    return ("Add a task", url_for("tasks:task_add", patient_of(record).pk))


def task_links(task) -> list[tuple[str, str]]:
    """What an open task offers: done, cancel, reassign."""
    return [
        ("Done", url_for("tasks:task_done", task.pk)),
        ("Cancel", url_for("tasks:task_cancel", task.pk)),
        ("Reassign", url_for("tasks:task_reassign", task.pk)),
    ]


class TaskActionsColumn(ActionsColumn):
    def __init__(self):
        super().__init__("links")

    def render(self, record, table):
        page = self.page_of(table)
        if not page["may_act"]:
            return ""
        links = [*task_links(record), *(link(record) for link in ROW_EXTRA_LINKS)]
        return link_list(links, page, row_patient_name(record))


def due_tag(task, today) -> str:
    """The due date's words as a tag: overdue in red words, never colour only."""
    words = due_in_words(task, today)
    return tag(words, "red" if task.due_on < today else ("yellow" if task.due_on == today else "white"))


class TaskTable(WorklistTable):
    patient = PatientColumn()
    nhs_number = NhsNumberColumn(visible=False)
    named_nurse = NurseColumn()
    description = tables.Column(verbose_name="Task", orderable=False)
    assigned_to = tables.Column(
        verbose_name="Assigned to",
        empty_values=(),
        order_by=("assigned_to__last_name", "assigned_to__first_name"),
    )
    due_on = DateColumn(verbose_name="Due")
    # On screen beside the due date (render_due_on); in a download, a column of its own.
    due_in_words = tables.Column(verbose_name="Overdue", accessor="due_on", orderable=False, visible=False)
    actions = TaskActionsColumn()

    class Meta(WorklistTable.Meta):
        order_by = ("due_on",)
        empty_text = "No open tasks."
        sequence = ("patient", "nhs_number", "named_nurse", "description", "assigned_to", "due_on", "...")
        row_attrs = {"class": lambda record: "app-row--overdue" if record.due_on < _today() else ""}

    def render_description(self, value):
        return value if len(value) <= 120 else value[:117] + "..."

    def render_assigned_to(self, record):
        if record.assigned_to is None:
            return format_html("{}", "The team")
        return record.assignee_name

    def value_assigned_to(self, record):
        return record.assignee_name

    def render_due_on(self, record, value):
        return format_html("{}<br>{}", show_date(value), due_tag(record, _today()))

    def render_due_in_words(self, record):
        return due_in_words(record, _today())
