"""The forms of placing a result by hand (views_staff.py): each feeds one service of placing.py."""

from django import forms

from followup import choices as c
from followup.display import show_date
from followup.forms import ActionForm, radios, required
from followup.models import FollowUpItem, StagingTest
from followup.nhs import normalise_nhs_number


def target_key(target) -> str:
    return f"{'test' if isinstance(target, StagingTest) else 'item'}-{target.pk}"


def target_label(target) -> str:
    if isinstance(target, StagingTest):
        return f"{target.get_modality_display()} (restaging), requested {show_date(target.requested_on)}"
    item: FollowUpItem = target
    if item.status == c.FollowUpStatus.DONE:
        return f"{item.get_kind_display()}, done {show_date(item.done_on)}: result awaited"
    booked = f", booked for {show_date(item.booked_for)}" if item.booked_for else ""
    return f"{item.get_kind_display()}, due {show_date(item.due_on)}{booked}"


class FindPatientForm(ActionForm):
    """Which patient: by NHS number, among the patients the user may see (a GET form)."""

    nhs_number = forms.CharField(
        label="NHS number of the patient",
        max_length=20,
        error_messages=required("Enter the NHS number of the patient"),
        widget=forms.TextInput(attrs={"class": "nhsuk-input nhsuk-input--width-10", "inputmode": "numeric"}),
    )

    def clean_nhs_number(self):
        return normalise_nhs_number(self.cleaned_data["nhs_number"])


CHECKED_LABEL = "I have checked that this report is this patient's"


class MatchForm(ActionForm):
    target = radios([], label="Which test or follow-up item does the report answer?", missing="Select the test or item")
    checked = forms.BooleanField(required=False, label=CHECKED_LABEL)

    def __init__(self, *args, targets: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.targets = {target_key(target): target for target in targets}
        self.fields["target"].choices = [(key, target_label(target)) for key, target in self.targets.items()]

    def clean_target(self):
        return self.targets[self.cleaned_data["target"]]


class NewItemForm(ActionForm):
    kind = radios(
        [(kind.value, kind.label) for kind in c.RESULT_KINDS],
        label="Record it against a new follow-up item",
        missing="Select the kind of follow-up item",
    )
    checked = forms.BooleanField(required=False, label=CHECKED_LABEL)


class NotOursForm(ActionForm):
    reason = forms.CharField(
        label="Why is this result not ours?",
        help_text="For example: a patient of another hospital; sent to us by mistake. It leaves the list with "
        "your name and this reason.",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages=required("Enter why this result is not ours"),
    )


class AmendmentForm(ActionForm):
    """Nothing to enter: attach the amendment to the result its original was placed on."""
