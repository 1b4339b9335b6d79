"""The "Log a contact" form: what happened, when, with whom, and who made the contact."""

import re
from datetime import datetime, time

from django import forms
from django.db.models import Q
from django.utils import timezone

from followup import choices as c
from followup.fields import DateField, Radios
from followup.forms import ActionForm, radios, required
from followup.models import Patient, User

from .models import ContactKind, ContactWith

YES_NO = [("yes", "Yes"), ("no", "No")]
TIME = re.compile(r"^(\d{1,2})[:.](\d{2})$")
TIME_MESSAGE = "Time must be a real time in the 24-hour clock, for example 14:30"


def yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class TimeField(forms.Field):
    """A time of day typed as HH:MM in the 24-hour clock (14:30; 9.05 is read as 09:05)."""

    def __init__(self, **kwargs):
        super().__init__(
            widget=forms.TextInput(
                attrs={"class": "nhsuk-input nhsuk-input--width-4", "inputmode": "numeric", "spellcheck": "false"}
            ),
            **kwargs,
        )

    def to_python(self, value):
        text = str(value or "").strip()
        if not text:
            return None
        found = TIME.match(text)
        if not found:
            raise forms.ValidationError(TIME_MESSAGE, code="invalid")
        hours, minutes = int(found.group(1)), int(found.group(2))
        if hours > 23 or minutes > 59:
            raise forms.ValidationError(TIME_MESSAGE, code="invalid")
        return time(hours, minutes)

    def prepare_value(self, value):
        return value.strftime("%H:%M") if isinstance(value, time) else value


class NurseChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return user.get_full_name() or user.username


class ContactForm(ActionForm):
    kind = radios(ContactKind.choices, label="Type of contact", missing="Select the type of contact")
    answered = forms.ChoiceField(
        choices=YES_NO,
        widget=Radios(),
        label="Was the call answered?",
        required=False,
    )
    message_left = forms.ChoiceField(
        choices=YES_NO,
        widget=Radios(),
        label="Was a message left?",
        required=False,
        help_text="For example on an answerphone or with someone at the number.",
    )
    contacted_on = DateField(
        "Date of the contact", missing="Enter the date of the contact", today_button=True, example="past"
    )
    contacted_time = TimeField(
        label="Time",
        help_text="In the 24-hour clock, for example 14:30",
        error_messages=required("Enter the time of the contact, for example 14:30"),
    )
    with_whom = radios(ContactWith.choices, label="With whom", missing="Select who the contact was with")
    summary = forms.CharField(
        label="Summary",
        help_text="What was said or done, in plain words.",
        widget=forms.Textarea(attrs={"rows": 4, "class": "nhsuk-textarea"}),
        error_messages=required("Enter a summary of the contact"),
    )
    outcome = forms.CharField(
        label="Outcome (optional)",
        help_text="What happens next, for example: will phone again tomorrow morning.",
        widget=forms.Textarea(attrs={"rows": 3, "class": "nhsuk-textarea"}),
        required=False,
    )
    by = NurseChoiceField(
        queryset=User.objects.none(),
        label="Who made or took the contact",
        empty_label=None,
        error_messages=required("Select who made or took the contact"),
    )

    # The questions of a call made: shown under "Telephone call made" (conditional reveal).
    call_fields = ("answered", "message_left")

    def __init__(self, *args, patient: Patient, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.patient = patient
        # The nurses of the patient's team, and the signed-in user (an admin may log a contact too).
        team = Q(team_id=patient.team_id, role=c.Role.NURSE, is_active=True)
        self.fields["by"].queryset = User.objects.filter(team | Q(pk=user.pk)).order_by("first_name", "last_name")
        if patient.messages_may_be_left is False:
            self.fields["message_left"].help_text = "This patient has asked that no messages are left."

    def clean(self):
        cleaned = super().clean()
        on, at = cleaned.get("contacted_on"), cleaned.get("contacted_time")
        if on is not None and at is not None:
            cleaned["contacted_at"] = timezone.make_aware(datetime.combine(on, at))
        if cleaned.get("kind") == ContactKind.PHONE_OUT:
            answered = yes_no(cleaned.get("answered", ""))
            if answered is None:
                self.add_error("answered", "Select whether the call was answered")
            elif answered is False and yes_no(cleaned.get("message_left", "")) is None:
                self.add_error("message_left", "Select whether a message was left")
            cleaned["answered_value"] = answered
            cleaned["message_left_value"] = answered is False and yes_no(cleaned.get("message_left", "")) is True
        else:
            # The call questions belong to a call made only: whatever else was ticked under them is dropped.
            cleaned["answered_value"], cleaned["message_left_value"] = None, False
        return cleaned
