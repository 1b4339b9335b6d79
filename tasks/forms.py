"""The forms of the task actions. Each feeds one service in services.py; the service has the last word."""

from django import forms

from contacts.models import ContactKind, ContactWith
from followup.fields import Radios
from followup.forms import ActionForm, VersionedForm, date_field, required

from .services import task_assignees

TEAM = "team"  # the assignee choice "the team as a whole"
YES_NO = [("yes", "Yes"), ("no", "No")]
# The kinds of contact a task done can record (an MDT discussion is recorded by the MDT pages).
TASK_CONTACT_KINDS = [(kind.value, kind.label) for kind in ContactKind if kind != ContactKind.MDT]


class AssigneeMixin:
    """ "Assigned to": a nurse of the patient's team, or the team as a whole (radios, one choice each)."""

    def set_assignees(self, patient, *, label: str):
        nurses = list(task_assignees(patient))
        self.assignees = {str(nurse.pk): nurse for nurse in nurses}
        field = self.fields["assigned_to"]
        field.label = label
        field.choices = [
            (TEAM, f"The team as a whole ({patient.team})"),
            *((str(nurse.pk), nurse.get_full_name() or nurse.username) for nurse in nurses),
        ]
        field.widget.divider_before = str(nurses[0].pk) if nurses else ""

    def clean_assigned_to(self):
        value = self.cleaned_data["assigned_to"]
        return None if value == TEAM else self.assignees[value]


def _assignee_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        widget=Radios(),
        help_text="A task for the team is on Team tasks for anyone to pick up. A nurse's task is on her My tasks too.",
        error_messages=required("Select who the task is for"),
    )


class TaskForm(AssigneeMixin, ActionForm):
    description = forms.CharField(
        label="What needs doing",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages=required("Enter what needs doing"),
    )
    due_on = date_field("Due date", missing="Enter the date it is due", happened=False)
    assigned_to = _assignee_field()

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_assignees(patient, label="Who is it for?")


class TaskReassignForm(AssigneeMixin, VersionedForm):
    assigned_to = _assignee_field()

    def __init__(self, *args, task, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_assignees(task.patient, label="Assign to")


class TaskDoneForm(VersionedForm):
    """Done now; with a contact for the contact log when the user says so (the summary starts as the task)."""

    record_contact = forms.ChoiceField(
        label="Record a contact in the contact log?",
        choices=YES_NO,
        widget=Radios(),
        help_text="For example the call you made to do this task.",
        error_messages=required("Select yes if you want to record a contact"),
    )
    contact_kind = forms.ChoiceField(
        label="Type of contact",
        choices=TASK_CONTACT_KINDS,
        widget=Radios(),
        required=False,
        help_text="If you record a contact.",
    )
    with_whom = forms.ChoiceField(label="With", choices=ContactWith.choices, widget=Radios(), required=False)
    answered = forms.ChoiceField(
        label="Was the call answered?",
        choices=YES_NO,
        widget=Radios(),
        required=False,
        help_text="Only for a telephone call made.",
    )
    message_left = forms.BooleanField(label="A message was left", required=False)
    summary = forms.CharField(
        label="Summary",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Of the contact, for the contact log. It starts as the task.",
    )
    outcome = forms.CharField(label="Outcome", widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def clean(self):
        cleaned = super().clean()
        cleaned["record_contact"] = cleaned.get("record_contact") == "yes"
        answered = cleaned.get("answered")
        cleaned["answered"] = None if not answered else answered == "yes"
        if cleaned["record_contact"] and not cleaned.get("with_whom"):
            cleaned["with_whom"] = ContactWith.PATIENT
        return cleaned


class TaskCancelForm(VersionedForm):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Reason for cancelling",
        error_messages=required("Enter the reason for cancelling"),
    )
