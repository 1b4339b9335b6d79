"""The MDT's forms: the NHS.UK date input and radios of followup/forms.py."""

from django import forms
from django.utils import timezone

from followup import dates
from followup.fields import DateField, NHSMessagesMixin
from followup.forms import ActionForm, date_field, radios, required

from .choices import MDTOutcome


class MDTDiscussionForm(ActionForm):
    meeting_on = date_field("Date of the MDT meeting", missing="Enter the date of the MDT meeting")
    outcome = radios(MDTOutcome.choices, label="MDT outcome", missing="Select the MDT outcome")
    plan = forms.CharField(
        label="Outcome and plan",
        help_text="As the MDT agreed it, e.g. 'CT-guided biopsy of the liver lesion, then rediscuss'.",
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages=required("Enter the outcome and plan the MDT agreed"),
    )
    attendees = forms.CharField(
        label="Who attended",
        help_text="The clinicians present, e.g. 'Mr A Surgeon (breast surgeon), Dr B Oncologist, CNS C Nurse'.",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages=required("Enter who attended the MDT meeting"),
    )


class MeetingDateForm(NHSMessagesMixin, forms.Form):
    """The meeting a list is prepared for (a GET form): today unless another date is given."""

    method = "get"

    meeting = DateField("Meeting date", required=False, example="future")

    def clean_meeting(self):
        value = self.cleaned_data.get("meeting")
        if value and (value < dates.EARLIEST or value > dates.latest_planned(timezone.localdate())):
            raise forms.ValidationError(
                f"The meeting date must be between {dates.day(dates.EARLIEST)} and "
                f"{dates.MAX_YEARS_AHEAD} years from now: check the year."
            )
        return value
