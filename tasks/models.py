"""Tasks: something to do for a patient, by a named nurse of the team or by the team as a whole."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from followup.models import ClinicalRecord, Patient, RecordManager, Team
from followup.models.base import _choice_constraint
from followup.scope import TeamScopedQuerySet


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class TaskQuerySet(TeamScopedQuerySet):
    def live(self):
        return self.filter(patient__entered_in_error=False)

    def open(self):
        """Open tasks of live patients: what the task worklists hold."""
        return self.live().filter(status=TaskStatus.OPEN)

    def for_worklist(self):
        """Soonest due first, with the patient, the patient's named nurse and the assignee."""
        return self.select_related("patient", "patient__named_nurse", "assigned_to").order_by("due_on", "pk")

    def for_patient_page(self):
        """Every task of a patient (read through ``all_objects``: those entered in error too), with
        the users it names and the contact recorded when it was done."""
        return self.select_related("assigned_to", "created_by", "done_by", "contact", "error_marked_by").order_by(
            "due_on", "pk"
        )


class Task(ClinicalRecord):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="tasks")
    description = models.TextField("what")
    due_on = models.DateField("due")
    # Null: the task is the team's, for whoever picks it up.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
        verbose_name="assigned to",
    )
    # The patient's team when the task was set: whose queue it was put in.
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="tasks")
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    done_at = models.DateTimeField("done", null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancel_reason = models.TextField("reason for cancelling", blank=True)
    # The contact recorded when the task was done, if the user recorded one.
    contact = models.ForeignKey(
        "contacts.Contact", null=True, blank=True, on_delete=models.PROTECT, related_name="tasks"
    )

    # All rows, those entered in error too (the timeline and history show them), with the queryset's words.
    all_objects = models.Manager.from_queryset(TaskQuerySet)()
    objects = RecordManager.from_queryset(TaskQuerySet)()

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [
            models.Index(fields=["due_on"], name="tasks_open_due", condition=Q(status="open", entered_in_error=False)),
            models.Index(fields=["assigned_to", "due_on"], name="tasks_assignee_due"),
        ]
        constraints = [
            *ClinicalRecord.Meta.constraints,
            _choice_constraint("task", "status", TaskStatus),
            models.CheckConstraint(
                condition=~Q(description=""),
                name="tasks_task_description_given",
                violation_error_message="Say what the task is.",
            ),
            models.CheckConstraint(
                condition=Q(status=TaskStatus.DONE, done_at__isnull=False, done_by__isnull=False)
                | (~Q(status=TaskStatus.DONE) & Q(done_at__isnull=True, done_by__isnull=True)),
                name="tasks_task_done_when_and_by_whom",
                violation_error_message="A task done says when and by whom, and only a task done does.",
            ),
            models.CheckConstraint(
                condition=(Q(status=TaskStatus.CANCELLED) & ~Q(cancel_reason=""))
                | (~Q(status=TaskStatus.CANCELLED) & Q(cancel_reason="")),
                name="tasks_task_cancel_reason",
                violation_error_message="A cancelled task needs a reason, and only a cancelled task has one.",
            ),
            models.CheckConstraint(
                condition=Q(contact__isnull=True) | Q(status=TaskStatus.DONE),
                name="tasks_task_contact_only_when_done",
                violation_error_message="Only a task done records a contact.",
            ),
        ]

    def __str__(self) -> str:
        return self.description if len(self.description) <= 60 else f"{self.description[:57]}..."

    @property
    def is_open(self) -> bool:
        return self.status == TaskStatus.OPEN

    @property
    def assignee_name(self) -> str:
        """Who the task is for, in words: the nurse, or "The team"."""
        if self.assigned_to is None:
            return "The team"
        return self.assigned_to.get_full_name() or self.assigned_to.username

    @property
    def for_whom(self) -> str:
        """ "For ..." in a sentence: the nurse, or "the team as a whole"."""
        return "the team as a whole" if self.assigned_to is None else self.assignee_name


def due_in_words(task: Task, today) -> str:
    """An open task's due date in words, never colour only: "Overdue by 3 days", "Due today", "Due in 2 days"."""
    days = (task.due_on - today).days
    if days < 0:
        return f"Overdue by {-days} day{'s' if days != -1 else ''}"
    if days == 0:
        return "Due today"
    if days == 1:
        return "Due tomorrow"
    return f"Due in {days} days"
