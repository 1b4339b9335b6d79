"""The letter a user chooses (kind, and for a result letter the result) and the paragraph they may add."""

from django import forms

from followup.fields import Radios
from followup.forms import ActionForm, VersionedForm, date_field, radios, required

from .choices import RESULT_KINDS, LetterKind
from .content import result_label, result_refusal

KIND_HINTS = {
    LetterKind.RESULT_PATIENT: "A follow-up or restaging result, written to the patient and copied to the GP.",
    LetterKind.RESULT_GP: "The same result, written to the GP and copied to the patient.",
    LetterKind.CARE_PLAN: "Check-up dates, symptoms to report, whom to call.",
    LetterKind.DISCHARGE_PATIENT: "Follow-up has ended; the GP looks after the patient from now.",
    LetterKind.DISCHARGE_GP: "Follow-up has ended: the patient is discharged to the GP.",
    LetterKind.PIFU: "Until when, what to report and how to get in touch.",
}


class LetterChoiceForm(ActionForm):
    """Which letter: a GET form (views.LetterWriteView), saving nothing. ``results``: the patient's
    results a letter can be about (content.results_for_letters), keyed "item-<pk>" / "test-<pk>"."""

    method = "get"
    submit_label = "Preview the letter"

    kind = radios(LetterKind.choices, label="Which letter?", missing="Select which letter to write", hints=KIND_HINTS)
    result = forms.ChoiceField(
        label="Which result? (for a result letter)",
        required=False,
        widget=Radios,
        error_messages=required("Select the result the letter is about"),
    )

    def __init__(self, *args, results: dict, refusal=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.results = results
        self.refusal = refusal  # kind -> why it cannot be written ("" if it can)
        self.fields["result"].choices = [(key, result_label(record)) for key, record in results.items()]
        if not results:
            self.fields["result"].help_text = "No result is recorded for this patient yet."

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind and self.refusal:
            message = self.refusal(kind)
            if message:
                self.add_error("kind", message)
        if kind in RESULT_KINDS and not data.get("result"):
            self.add_error("result", "Select the result the letter is about")
        elif kind and result_refusal(kind, self.results.get(data.get("result"))):
            self.add_error("result", result_refusal(kind, self.results.get(data.get("result"))))
        return data

    @property
    def chosen_result(self):
        key = self.cleaned_data.get("result") if self.cleaned_data.get("kind") in RESULT_KINDS else None
        return self.results.get(key) if key else None


class LetterIssueForm(LetterChoiceForm):
    """The preview's form: the letter chosen, posted again, with the paragraph the user may add."""

    method = "post"
    submit_label = "Issue the letter"

    extra_paragraph = forms.CharField(
        label="Add a paragraph (optional)",
        help_text="Written to the patient in plain English. Everything else comes from the record.",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # No maxlength in the page: a browser would cut the paragraph short without a word; the
        # message beside the box says how long it may be instead (NHSMessagesMixin).
        self.fields["extra_paragraph"].widget.attrs.pop("maxlength", None)


class PifuEndForm(VersionedForm):
    """End PIFU: the nurse confirms the day the patient is discharged to the GP (services.pifu_end)."""

    discharged_on = date_field(
        "Date of discharge",
        missing="Enter the date patient-initiated follow-up ends and the patient is discharged",
        help_text="The letters say the GP looks after the patient from this day.",
    )
