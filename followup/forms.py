"""Forms for the clinical actions. Each feeds one service; the service has the last word."""

from django import forms
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from . import choices as c
from .audit import check_nhs_number_elsewhere
from .display import show_date
from .fields import ChosenValue, DateField, NHSMessagesMixin, Radios
from .models import FollowUpProtocol, Patient, PrimaryDiagnosis, Recurrence, StagingTest, User
from .nhs import nhs_number_error, normalise_nhs_number

CHECKBOXES = forms.CheckboxSelectMultiple
NOT_RECORDED = "Not recorded"
# A post without the version it started from: an old or broken page, never something the user typed.
VERSION_MESSAGES = {
    "required": "This page was sent without the record's version. Go back to the record and try again.",
    "invalid": "This page was sent without the record's version. Go back to the record and try again.",
}


def required(message: str) -> dict[str, str]:
    """A field's message when it is left empty: the service manual's words, one per field."""
    return {"required": message}


def date_field(
    label: str,
    *,
    missing: str = "",
    required: bool = True,
    help_text: str = "",
    happened: bool = True,
    example: str = "",
) -> DateField:
    """A date the user enters as day, month and year: never filled in with today (nothing completes a
    clinical action by default). A date something happened on gets a "Today" button
    (static/js/today.mjs) to fill it in with one press. Whether the date is plausible is the model's
    rule (followup/dates.py); its message comes back beside the field through the service."""
    return DateField(
        label,
        missing=missing,
        required=required,
        help_text=help_text,
        today_button=happened,
        example=example or ("past" if happened else "future"),
    )


def radios(choices, *, label: str, missing: str, hints: dict | None = None, **kwargs) -> forms.ChoiceField:
    return forms.ChoiceField(
        choices=choices, widget=Radios(hints=hints), label=label, error_messages=required(missing), **kwargs
    )


def not_recorded(choices) -> list[tuple[str, str]]:
    """An optional choice: "Not recorded" first, never Django's "---------"."""
    return [("", NOT_RECORDED), *[(value, label) for value, label in choices if value != ""]]


class ActionForm(NHSMessagesMixin, forms.Form):
    """A clinical action's form. It checks what it is given; the service and the model have the
    last word, and their refusals show beside the field they are about (views.base.apply_errors)."""


class VersionedForm(ActionForm):
    """Carries the version of the record the user started from (see services.lock)."""

    version = forms.IntegerField(widget=forms.HiddenInput, error_messages=VERSION_MESSAGES)


# Patients ---------------------------------------------------------------------


def _patient_links(patients) -> str:
    return format_html_join(
        ", ",
        '<a href="{}">{} {} ({})</a>',
        (
            (reverse("followup:patient_detail", args=[p.pk]), p.given_name, p.family_name.upper(), p.nhs_number_display)
            for p in patients
        ),
    )


class PatientForm(NHSMessagesMixin, forms.ModelForm):
    # Longer than the stored 10 digits: people type "943 476 5919"; clean_nhs_number() strips it.
    nhs_number = forms.CharField(
        label="NHS number",
        max_length=20,
        required=False,
        help_text="10 digits, for example 943 476 5919. Leave empty only if it is not known.",
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "spellcheck": "false", "class": "nhsuk-input nhsuk-input--width-10"}
        ),
        error_messages={"max_length": "Enter an NHS number with exactly 10 digits, for example 943 476 5919."},
    )
    date_of_birth = DateField("Date of birth", missing="Enter the patient's date of birth", example="birth")
    sex = radios(c.Sex.choices, label="Sex", missing="Select the patient's sex")
    named_nurse = forms.ModelChoiceField(
        queryset=User.objects.none(),
        label="Named nurse",
        empty_label="Choose a named nurse",
        error_messages=required("Select the named nurse"),
    )
    follow_up_model = radios(c.FollowUpModel.choices, label="Follow-up model", missing="Select the follow-up model")
    confirm_not_duplicate = forms.BooleanField(
        label="I have checked: this is a different person", required=False, widget=forms.CheckboxInput
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, error_messages=VERSION_MESSAGES)

    class Meta:
        model = Patient
        fields = [
            "nhs_number",
            "hospital_number",
            "given_name",
            "family_name",
            "date_of_birth",
            "sex",
            "team",
            "named_nurse",
            "follow_up_model",
        ]
        labels = {"given_name": "First name", "family_name": "Last name"}
        error_messages = {
            "given_name": required("Enter the patient's first name"),
            "family_name": required("Enter the patient's last name"),
            "team": required("Select the team"),
        }

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        nurses = User.objects.filter(role=c.Role.NURSE, is_active=True)
        if user.is_admin_role:
            self.fields["team"].queryset = self.fields["team"].queryset.all()
            self.fields["team"].empty_label = "Choose a team"
        else:
            del self.fields["team"]
            nurses = nurses.filter(team_id=user.team_id)
        self.fields["named_nurse"].queryset = nurses
        if self.instance.pk:
            # Team and named nurse change through their own actions (with access checks).
            self.fields.pop("team", None)
            self.fields.pop("named_nurse")
            # An edit without the version it started from could overwrite someone's change unseen.
            self.fields["version"].required = True
        # The duplicate question is asked only when clean() finds a possible duplicate.
        self.fields["confirm_not_duplicate"].widget = forms.HiddenInput()

    def clean_nhs_number(self):
        value = normalise_nhs_number(self.cleaned_data.get("nhs_number"))
        if not value:
            return ""
        error = nhs_number_error(value)
        if error:
            raise forms.ValidationError(error)
        existing = Patient.objects.filter(nhs_number=value).exclude(pk=self.instance.pk).first()
        if existing and Patient.objects.visible_to(self.user).filter(pk=existing.pk).exists():
            raise forms.ValidationError(
                format_html("A patient with this NHS number is already registered: {}.", _patient_links([existing]))
            )
        if value != self.instance.nhs_number:
            # Registered by another team, or free: telling which is a probe, so it is logged and limited.
            if self.instance.pk:
                page = reverse("followup:patient_edit", args=[self.instance.pk])
            else:
                page = reverse("followup:patient_create")
            check_nhs_number_elsewhere(user=self.user, path=page, nhs_number=value, registered=existing)
        return value

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None and not self.user.is_admin_role:
            self.instance.team = self.user.team
        family, born, sex = cleaned.get("family_name"), cleaned.get("date_of_birth"), cleaned.get("sex")
        if family and born and sex and not cleaned.get("confirm_not_duplicate"):
            similar = (
                Patient.objects.visible_to(self.user)
                .filter(family_name__iexact=family, date_of_birth=born, sex=sex)
                .exclude(pk=self.instance.pk)[:5]
            )
            if similar:
                self.fields["confirm_not_duplicate"].widget = forms.CheckboxInput()
                self.add_error(
                    "confirm_not_duplicate",
                    format_html(
                        "Possible duplicate: {} has the same last name, date of birth and sex. "
                        "Open that record, or tick this box if this is a different person.",
                        _patient_links(similar),
                    ),
                )
        return cleaned


# Contact details ------------------------------------------------------------------

NOT_ASKED = "not_asked"
YES_NO_NOT_ASKED = {"yes": True, "no": False, NOT_ASKED: None}


def _text(label: str, *, max_length: int, width: int = 0, help_text: str = "", **attrs) -> forms.CharField:
    css = f"nhsuk-input nhsuk-input--width-{width}" if width else "nhsuk-input"
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=False,
        help_text=help_text,
        widget=forms.TextInput(attrs={"class": css, **attrs}),
    )


def _phone(label: str) -> forms.CharField:
    return _text(label, max_length=20, width=20, help_text="", type="tel", autocomplete="off")


class PatientContactForm(VersionedForm):
    """How to reach the patient, and their GP practice. Postcode, phone numbers and the ODS code are
    read (and refused, beside the field) by services.patient_update_contact_details."""

    address_line_1 = _text("Address line 1", max_length=120)
    address_line_2 = _text("Address line 2 (optional)", max_length=120)
    town = _text("Town or city", max_length=80, width=20)
    postcode = _text("Postcode", max_length=10, width=10, autocomplete="off", spellcheck="false")
    phone_mobile = _phone("Mobile phone")
    phone_home = _phone("Home phone")
    email = forms.EmailField(
        label="Email address",
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"class": "nhsuk-input", "spellcheck": "false", "autocomplete": "off"}),
        error_messages={"invalid": "Enter an email address in the correct format, like name@example.com"},
    )
    preferred_contact = forms.ChoiceField(
        choices=[*c.ContactPreference.choices, ("", NOT_RECORDED)],
        label="Preferred way of contact",
        required=False,
        widget=Radios(),
    )
    messages_may_be_left = forms.TypedChoiceField(
        choices=[("yes", "Yes"), ("no", "No"), (NOT_ASKED, "Not asked")],
        coerce=YES_NO_NOT_ASKED.get,
        empty_value=None,
        label="May messages be left (voicemail, or with whoever answers)?",
        widget=Radios(divider_before=NOT_ASKED),
        error_messages=required("Select whether messages may be left, or 'Not asked'"),
    )
    next_of_kin_name = _text("Next of kin or carer: name", max_length=120)
    next_of_kin_relationship = _text(
        "Next of kin or carer: relationship",
        max_length=60,
        width=20,
        help_text="For example: daughter, husband, carer.",
    )
    next_of_kin_phone = _phone("Next of kin or carer: phone")
    interpreter_needed = forms.TypedChoiceField(
        choices=[("yes", "Yes"), ("no", "No")],
        coerce=YES_NO_NOT_ASKED.get,
        label="Is an interpreter needed?",
        widget=Radios(reveals={"yes": "interpreter_language"}),
        error_messages=required("Select whether an interpreter is needed"),
    )
    interpreter_language = _text(
        "Language", max_length=60, width=20, help_text="For example: Polish, British Sign Language."
    )
    accessible_information = _text(
        "Accessible information needs (optional)",
        max_length=200,
        help_text="For example: large print, easy read, braille.",
    )
    gp_ods_code = _text(
        "GP practice ODS code",
        max_length=10,
        width=10,
        help_text="The practice's code: a letter and 5 digits, for example Y90001. Leave empty if not known.",
        autocomplete="off",
        spellcheck="false",
    )

    @classmethod
    def initial_for(cls, patient: Patient) -> dict:
        initial = {name: getattr(patient, name) for name in cls.base_fields if hasattr(patient, name)}
        answers = {value: key for key, value in YES_NO_NOT_ASKED.items()}
        initial["messages_may_be_left"] = answers[patient.messages_may_be_left]
        initial["interpreter_needed"] = answers[patient.interpreter_needed]
        initial["gp_ods_code"] = patient.gp_practice.ods_code if patient.gp_practice_id else ""
        initial["version"] = patient.version
        return initial

    def clean_interpreter_language(self):
        return self.cleaned_data["interpreter_language"].strip()


LATERALITY_NOT_KNOWN = "unknown"


class PrimaryDiagnosisForm(NHSMessagesMixin, forms.ModelForm):
    # Asked, not preselected: "Not known" is an answer (stored blank, and on the data-quality list).
    laterality = forms.TypedChoiceField(
        choices=[*c.Laterality.choices, (LATERALITY_NOT_KNOWN, "Not known")],
        coerce=lambda value: "" if value == LATERALITY_NOT_KNOWN else value,
        widget=Radios(divider_before=LATERALITY_NOT_KNOWN),
        error_messages=required("Select the laterality, or 'Not known'"),
    )
    diagnosed_on = date_field("Date diagnosed", missing="Enter the date of diagnosis")
    endocrine_started_on = date_field("Date endocrine therapy started", required=False, happened=False, example="past")

    class Meta:
        model = PrimaryDiagnosis
        fields = [
            "laterality",
            "diagnosed_on",
            "histology",
            "grade",
            "er_status",
            "pr_status",
            "her2_status",
            "surgery",
            "axillary_surgery",
            "radiotherapy",
            "systemic_therapy",
            "endocrine_therapy",
            "endocrine_started_on",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Every other choice may be left unrecorded: said in words, never as "---------".
        for name in self.Meta.fields:
            field = self.fields[name]
            if isinstance(field, forms.TypedChoiceField) and isinstance(field.widget, forms.Select):
                field.choices = not_recorded(field.choices)


class AssignProtocolForm(ActionForm):
    protocol = forms.ModelChoiceField(
        queryset=FollowUpProtocol.objects.filter(active=True),
        label="Follow-up protocol",
        empty_label="Choose a protocol",
        error_messages=required("Select the follow-up protocol"),
    )
    protocol_start_on = date_field(
        "Schedule start date",
        missing="Enter the date the schedule starts",
        happened=False,
        example="past",
        help_text="Usually the end of primary treatment. Items are due from here.",
    )


class PifuPeriodForm(VersionedForm):
    """The period of patient-initiated follow-up; services.patient_set_pifu_period checks it (the end
    after the start, each date plausible) and says so beside the field."""

    pifu_starts_on = date_field(
        "PIFU starts",
        missing="Enter the date PIFU starts",
        happened=False,
        example="past",
        help_text="Usually the day routine follow-up ended.",
    )
    pifu_ends_on = date_field(
        "PIFU ends",
        missing="Enter the date PIFU ends",
        happened=False,
        help_text="Often five years from diagnosis. At the end the patient is discharged to the GP, "
        "with a letter to both.",
    )


class ReassignNurseForm(VersionedForm):
    named_nurse = forms.ModelChoiceField(
        queryset=User.objects.none(),
        empty_label="Choose a named nurse",
        label="New named nurse",
        error_messages=required("Select the new named nurse"),
    )

    def __init__(self, *args, patient: Patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["named_nurse"].queryset = User.objects.filter(
            role=c.Role.NURSE, is_active=True, team_id=patient.team_id
        ).exclude(pk=patient.named_nurse_id)


class HandOverForm(ActionForm):
    from_nurse = forms.ModelChoiceField(
        queryset=User.objects.filter(role=c.Role.NURSE),
        label="Hand over the caseload of",
        empty_label="Choose a nurse",
        error_messages=required("Select the nurse whose caseload you are handing over"),
    )
    to_nurse = forms.ModelChoiceField(
        queryset=User.objects.filter(role=c.Role.NURSE, is_active=True),
        label="To",
        empty_label="Choose a nurse",
        error_messages=required("Select the nurse who takes over the caseload"),
    )


class DischargeForm(VersionedForm):
    discharged_on = date_field("Discharge date", missing="Enter the discharge date")
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Reason for discharge",
        help_text="For example: completed 5-year follow-up, GP informed.",
        error_messages=required("Enter the reason for discharge"),
    )


class RecordDeathForm(VersionedForm):
    date_of_death = date_field("Date of death", missing="Enter the date of death")


# Follow-up items ----------------------------------------------------------------


class AddItemForm(ActionForm):
    kind = forms.ChoiceField(
        choices=[("", "Choose a type of follow-up"), *c.FollowUpKind.choices],
        label="Type of follow-up",
        error_messages=required("Select the type of follow-up"),
    )
    due_on = date_field("Due date", missing="Enter the date it is due", happened=False)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class BookItemForm(VersionedForm):
    booked_for = date_field("Appointment date", happened=False)


RESULT_NOT_YET_AVAILABLE = "awaited"


class RecordDoneForm(VersionedForm):
    """Done, with its result where the kind has one, or an explicit "Result not yet available"."""

    done_on = date_field("Date done", missing="Enter the date it was done")
    result = forms.ChoiceField(
        choices=[*c.CLASSIFIED_IMAGING_OUTCOMES, (RESULT_NOT_YET_AVAILABLE, "Result not yet available")],
        widget=Radios(divider_before=RESULT_NOT_YET_AVAILABLE),
        error_messages=required("Select the result, or 'Result not yet available'"),
        help_text="A result waits on 'Results to acknowledge' until a clinician reads it. "
        "A result not yet available waits on 'Results awaited' until you record it.",
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, item, **kwargs):
        super().__init__(*args, **kwargs)
        if item.kind not in c.RESULT_KINDS:
            del self.fields["result"]

    def clean(self):
        cleaned = super().clean()
        # "result" stays as chosen, so that a conflict page shows the user's entry in words; the
        # service takes the result itself (result_value) and whether it is awaited.
        chosen = cleaned.get("result", "")
        cleaned["result_awaited"] = chosen == RESULT_NOT_YET_AVAILABLE
        cleaned["result_value"] = "" if cleaned["result_awaited"] else chosen
        return cleaned


class RecordResultForm(VersionedForm):
    """The result of an item recorded done with its result not yet available."""

    result = radios(c.CLASSIFIED_IMAGING_OUTCOMES, label="Result", missing="Select the result")
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, item, **kwargs):
        super().__init__(*args, **kwargs)
        done = f" was done on {show_date(item.done_on)}" if item.done_on else ""
        self.fields["result"].help_text = (
            f"The {item.get_kind_display().lower()}{done}. "
            "Its result then waits on 'Results to acknowledge' until a clinician reads it."
        )


class ConfirmForm(VersionedForm):
    """A one-question action (did not attend, acknowledge): only the version travels."""


class CancelForm(VersionedForm):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Reason for cancelling",
        error_messages=required("Enter the reason for cancelling"),
    )


# Several records at once (views/actions_bulk.py) -----------------------------------

MAX_SELECTED = 100  # a list page shows 25 rows: a longer selection is no page of ours


class SelectedField(forms.Field):
    """The records ticked on a list: their ids, each once, in the order ticked."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        pks = []
        for raw in value or []:
            text = str(raw).strip()
            if not text.isdigit() or not 0 < int(text) < 2**31:
                raise forms.ValidationError("The selection was sent damaged. Go back to the list and select again.")
            if int(text) not in pks:
                pks.append(int(text))
        if len(pks) > MAX_SELECTED:
            raise forms.ValidationError(f"Select {MAX_SELECTED} or fewer at a time.")
        return pks

    def validate(self, value) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")


class SelectionForm(ActionForm):
    """The records ticked on a list; with ``versions``, also the version of each that the user read on
    the confirmation page (version_<pk>: a record changed since is refused)."""

    selected = SelectedField()

    def __init__(self, *args, missing: str = "Select at least one", versions: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["selected"].error_messages["required"] = missing
        if versions and self.is_bound:
            for raw in self.data.getlist("selected"):
                if str(raw).isdigit():
                    self.fields[f"version_{int(raw)}"] = forms.IntegerField(
                        widget=forms.HiddenInput, error_messages=VERSION_MESSAGES
                    )

    def versions(self) -> dict[int, int]:
        return {pk: self.cleaned_data[f"version_{pk}"] for pk in self.cleaned_data["selected"]}


class HandOverToForm(ActionForm):
    """The nurse who takes over the patients chosen on the list: an active nurse of their team."""

    to_nurse = forms.ModelChoiceField(
        queryset=User.objects.none(),
        label="Hand over to",
        empty_label="Choose a nurse",
        error_messages=required("Select the nurse who takes over these patients"),
    )

    def __init__(self, *args, team_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_nurse"].queryset = User.objects.filter(
            role=c.Role.NURSE, is_active=True, team_id=team_id
        ).order_by("last_name", "first_name", "pk")


# Recurrences and restaging ------------------------------------------------------

DISTANT_SITE_CHOICES = [(site, c.Site(site).label) for site in c.DISTANT_SITES]
RECURRENCE_TYPE_HINTS = {
    c.MetastaticType.LOCAL: "In the treated breast, its skin, the chest wall or the scar.",
    c.MetastaticType.REGIONAL: "In the lymph nodes of the armpit, behind the breast bone, "
    "or above or below the collarbone.",
    c.MetastaticType.DISTANT: "Anywhere else, for example bone, lung, liver or brain.",
}


def _site_entries(sites: list[str], other_text: str):
    from .services import SiteEntry

    return [SiteEntry(site, other_text.strip() if site == c.Site.OTHER else "") for site in sites]


def _check_sites(form: forms.Form, metastatic_type: str, entries) -> None:
    """The service's own rule (services.validate_sites), run early so every error shows at once."""
    from django.core.exceptions import ValidationError

    from .services import validate_sites

    try:
        validate_sites(metastatic_type, entries)
    except ValidationError as exc:
        for message in exc.message_dict.get("sites", []):
            form.add_error("sites", message)


class SitesMixin:
    def clean_other(self, cleaned):
        if c.Site.OTHER in cleaned.get("sites", []) and not cleaned.get("other_site_text", "").strip():
            self.add_error("other_site_text", "Describe the other site.")


class RecurrenceTypeForm(ActionForm):
    """The first step of recording a recurrence: its type decides the sites and the restaging asked next.

    A GET form (views.RecurrenceAddView), so that choosing it needs no JavaScript and saves nothing."""

    method = "get"
    submit_label = "Continue"

    # Sent with every answer, none included: a browser sends no radio that was left unchosen.
    step = forms.CharField(widget=forms.HiddenInput, initial="type", required=False)
    metastatic_type = radios(
        c.MetastaticType.choices,
        label="Type of recurrence",
        missing="Select the type of recurrence",
        hints=RECURRENCE_TYPE_HINTS,
    )


class RecurrenceForm(SitesMixin, ActionForm):
    """The second step: the type chosen (shown with a "Change" link), only that type's sites, and the
    restaging tests only for a local or regional recurrence, the standard set ticked."""

    metastatic_type = forms.ChoiceField(
        choices=c.MetastaticType.choices,
        label="Type of recurrence",
        widget=ChosenValue,
        error_messages=required("Select the type of recurrence"),
    )
    sites = forms.MultipleChoiceField(
        choices=[(site, c.Site(site).label) for site in c.SITE_INFO],
        widget=CHECKBOXES,
        label="Site of the recurrence",
        help_text="Select all that apply.",
        error_messages=required("Select where the recurrence is"),
    )
    other_site_text = forms.CharField(required=False, label="Other site", help_text="For 'Other site' only.")
    status = radios(
        [(s.value, s.label) for s in (c.RecurrenceStatus.SUSPECTED, c.RecurrenceStatus.CONFIRMED)],
        label="Status",
        missing="Select whether the recurrence is suspected or confirmed",
        initial=c.RecurrenceStatus.SUSPECTED,
    )
    diagnosed_on = date_field("Date clinically agreed", missing="Enter the date the recurrence was clinically agreed")
    primary = forms.ModelChoiceField(
        queryset=PrimaryDiagnosis.objects.none(),
        required=False,
        label="Original primary diagnosis",
        empty_label="Not recorded",
    )
    detection_method = forms.ChoiceField(choices=not_recorded(c.DetectionMethod.choices), required=False)
    basis_of_diagnosis = forms.ChoiceField(choices=not_recorded(c.BasisOfDiagnosis.choices), required=False)
    er_status = forms.ChoiceField(choices=not_recorded(c.ReceptorStatus.choices), required=False, label="ER status")
    pr_status = forms.ChoiceField(choices=not_recorded(c.ReceptorStatus.choices), required=False, label="PR status")
    her2_status = forms.ChoiceField(choices=not_recorded(c.ReceptorStatus.choices), required=False, label="HER2 status")
    lymphoedema = forms.BooleanField(required=False, label="Lymphoedema (arm swelling)")
    neurological_symptoms = forms.BooleanField(
        required=False, label="Neurological symptoms (MRI brain is then part of restaging)"
    )
    restaging_tests = forms.MultipleChoiceField(
        choices=c.StagingModality.choices,
        widget=CHECKBOXES,
        required=False,
        label="Restaging tests to request",
        help_text="The standard set is ticked. CT chest, abdomen and pelvis or PET-CT is required (NICE CG81).",
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, patient: Patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["primary"].queryset = PrimaryDiagnosis.objects.filter(patient=patient)
        kind = (self.data if self.is_bound else self.initial).get("metastatic_type")
        if kind not in c.MetastaticType.values:
            return  # nothing to tailor: the view asks for the type first
        change = f"{reverse('followup:recurrence_add', args=[patient.pk])}?change={kind}"
        self.fields["metastatic_type"].widget = ChosenValue(change_url=change)
        # Only this type's sites are offered; one posted for another type stays, to be refused in words.
        offered = c.sites_for_type(kind)
        posted = list(self.data.getlist("sites")) if self.is_bound else []
        offered += [site for site in posted if site in c.SITE_INFO and site not in offered]
        self.fields["sites"].choices = [(site, c.Site(site).label) for site in offered]
        if c.Site.OTHER not in offered:
            del self.fields["other_site_text"]  # only a distant recurrence has an "Other site" to describe
        if kind in c.RESTAGED_TYPES:
            self.fields["restaging_tests"].initial = list(c.STANDARD_RESTAGING_TESTS)
        else:
            del self.fields["restaging_tests"], self.fields["neurological_symptoms"]

    def clean(self):
        cleaned = super().clean()
        self.clean_other(cleaned)
        kind = cleaned.get("metastatic_type")
        tests = set(cleaned.get("restaging_tests", []))
        if kind in c.RESTAGED_TYPES:
            if not tests & set(c.RESTAGING_IMAGING):
                self.add_error("restaging_tests", "Request CT chest, abdomen and pelvis or PET-CT.")
            if cleaned.get("neurological_symptoms") and c.StagingModality.MRI_BRAIN not in tests:
                self.add_error("restaging_tests", "With neurological symptoms, request an MRI brain too.")
        else:
            cleaned["restaging_tests"] = []
        cleaned.setdefault("neurological_symptoms", False)
        cleaned["site_entries"] = _site_entries(cleaned.get("sites", []), cleaned.get("other_site_text", ""))
        if kind and cleaned.get("sites"):
            _check_sites(self, kind, cleaned["site_entries"])
        return cleaned


class RecurrenceStatusForm(VersionedForm):
    status = radios(
        [(s.value, s.label) for s in (c.RecurrenceStatus.CONFIRMED, c.RecurrenceStatus.REFUTED)],
        label="Status",
        missing="Select whether the recurrence is confirmed or refuted",
    )

    def __init__(self, *args, recurrence: Recurrence, **kwargs):
        super().__init__(*args, **kwargs)
        # Refuting offers to cancel the restaging tests still waiting for a result: one reason for all.
        self.outstanding = list(StagingTest.objects.outstanding().filter(episode__recurrence=recurrence))
        if not self.outstanding:
            return
        count = len(self.outstanding)
        names = "; ".join(test.get_modality_display() for test in self.outstanding)
        self.fields["outstanding_tests"] = radios(
            [("cancel", "Cancel them"), ("keep", "Keep them")],
            required=False,
            label="Outstanding restaging tests, if you refute it",
            missing="Choose whether to cancel the outstanding tests or keep them.",
            help_text=f"{count} restaging test{pluralize(count, ' is,s are')} still outstanding: {names}.",
        )
        self.fields["cancel_reason"] = forms.CharField(
            widget=forms.Textarea(attrs={"rows": 2}),
            required=False,
            label="Reason for cancelling them",
            help_text="One reason for all of them, for example: biopsy benign, not a recurrence.",
        )

    def clean(self):
        cleaned = super().clean()
        refuting = cleaned.get("status") == c.RecurrenceStatus.REFUTED
        choice = cleaned.get("outstanding_tests")
        if refuting and self.outstanding:
            if not choice:
                self.add_error("outstanding_tests", "Choose whether to cancel the outstanding tests or keep them.")
            elif choice == "cancel" and not cleaned.get("cancel_reason", "").strip():
                self.add_error("cancel_reason", "Give a reason for cancelling the tests.")
        cleaned["cancel_outstanding_tests"] = bool(refuting and self.outstanding and choice == "cancel")
        cleaned["cancel_reason"] = cleaned.get("cancel_reason", "") if cleaned["cancel_outstanding_tests"] else ""
        return cleaned


class StagingRequestForm(ActionForm):
    modality = forms.ChoiceField(
        choices=[("", "Choose a test"), *c.StagingModality.choices],
        label="Test to request",
        error_messages=required("Select the test to request"),
    )
    requested_on = date_field("Date requested", missing="Enter the date the test was requested")
    follow_up_of = forms.ModelChoiceField(
        queryset=StagingTest.objects.none(),
        required=False,
        label="To settle an equivocal result",
        empty_label="No: a new test",
    )

    def __init__(self, *args, episode, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["follow_up_of"].queryset = episode.tests.filter(result=c.StagingResult.EQUIVOCAL)


class StagingResultForm(SitesMixin, VersionedForm):
    performed_on = date_field("Date performed", missing="Enter the date the test was performed")
    reported_on = date_field("Date reported", missing="Enter the date the test was reported")
    result = radios(c.CLASSIFIED_STAGING_RESULTS, label="Result", missing="Select the result")
    sites = forms.MultipleChoiceField(
        choices=DISTANT_SITE_CHOICES,
        widget=CHECKBOXES,
        required=False,
        label="Distant disease found in",
        help_text="Only when distant disease is found.",
    )
    other_site_text = forms.CharField(required=False, label="Other site")
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Report summary")

    def clean(self):
        cleaned = super().clean()
        self.clean_other(cleaned)
        performed, reported = cleaned.get("performed_on"), cleaned.get("reported_on")
        if performed and reported and reported < performed:
            self.add_error("reported_on", "The report cannot come before the test was performed.")
        if cleaned.get("result") == c.StagingResult.DISTANT and not cleaned.get("sites"):
            self.add_error("sites", "Choose where distant disease was found (or 'Unknown site').")
        cleaned["site_entries"] = _site_entries(cleaned.get("sites", []), cleaned.get("other_site_text", ""))
        return cleaned


def _suggested_hint(choices, suggested: str, *, amended: bool) -> str:
    labels = dict(choices)
    if amended:
        return "The report was amended after it was first read: read it again and classify it."
    if suggested in labels:
        return f"Suggested by the sending system: {labels[suggested]}. Read the report and check it."
    return "Read the report, then choose what it shows. Acknowledging needs your classification."


class ClassifyStagingForm(SitesMixin, VersionedForm):
    """Classify and acknowledge a staging report that arrived by itself (views.StagingClassifyView)."""

    result = radios(c.CLASSIFIED_STAGING_RESULTS, label="What does the report show?", missing="Select the result")
    sites = forms.MultipleChoiceField(
        choices=DISTANT_SITE_CHOICES,
        widget=CHECKBOXES,
        required=False,
        label="Distant disease found in",
        help_text="Only when distant disease is found.",
    )
    other_site_text = forms.CharField(required=False, label="Other site")

    def __init__(self, *args, suggested: str = "", amended: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["result"].help_text = _suggested_hint(c.CLASSIFIED_STAGING_RESULTS, suggested, amended=amended)

    def clean(self):
        cleaned = super().clean()
        self.clean_other(cleaned)
        if cleaned.get("result") == c.StagingResult.DISTANT and not cleaned.get("sites"):
            self.add_error("sites", "Choose where distant disease was found (or 'Unknown site').")
        if cleaned.get("result") != c.StagingResult.DISTANT:
            cleaned["sites"] = []
        cleaned["site_entries"] = _site_entries(cleaned.get("sites", []), cleaned.get("other_site_text", ""))
        return cleaned


class ClassifyItemForm(VersionedForm):
    """Classify and acknowledge a follow-up report that arrived by itself (views.ItemClassifyView)."""

    result = radios(c.CLASSIFIED_IMAGING_OUTCOMES, label="What does the report show?", missing="Select the result")

    def __init__(self, *args, suggested: str = "", amended: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["result"].help_text = _suggested_hint(c.CLASSIFIED_IMAGING_OUTCOMES, suggested, amended=amended)


class DistantFromTestForm(SitesMixin, ActionForm):
    existing = forms.ModelChoiceField(
        queryset=Recurrence.objects.none(),
        required=False,
        label="Already recorded?",
        empty_label="No: record a new secondary breast cancer",
        help_text="If this patient's secondary breast cancer is already recorded, link this result to it.",
    )
    diagnosed_on = date_field("Date clinically agreed", required=False)
    sites = forms.MultipleChoiceField(
        choices=DISTANT_SITE_CHOICES, widget=CHECKBOXES, required=False, label="Site of the secondary breast cancer"
    )
    other_site_text = forms.CharField(required=False, label="Other site")
    status = radios(
        [(s.value, s.label) for s in (c.RecurrenceStatus.CONFIRMED, c.RecurrenceStatus.SUSPECTED)],
        label="Status",
        missing="Select whether it is confirmed or suspected",
        initial=c.RecurrenceStatus.CONFIRMED,
        required=False,  # not needed when linking to a recurrence already recorded
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, patient: Patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["existing"].queryset = Recurrence.objects.distant().filter(patient=patient)
        if not self.fields["existing"].queryset.exists():
            del self.fields["existing"]

    def clean(self):
        cleaned = super().clean()
        cleaned.setdefault("existing", None)
        if not cleaned["existing"]:
            if not cleaned.get("diagnosed_on") and "diagnosed_on" not in self.errors:
                self.add_error("diagnosed_on", "Enter the date the secondary breast cancer was clinically agreed")
            if not cleaned.get("sites"):
                self.add_error("sites", "Select where the secondary breast cancer is")
            cleaned["status"] = cleaned.get("status") or c.RecurrenceStatus.CONFIRMED
        self.clean_other(cleaned)
        cleaned["site_entries"] = _site_entries(cleaned.get("sites", []), cleaned.get("other_site_text", ""))
        return cleaned


# Symptoms ---------------------------------------------------------------------

RED_FLAG_QUESTIONS = [
    ("cord_compression", "Back pain with weak legs, numbness, or loss of bladder or bowel control?"),
    ("hypercalcaemia", "Sickness, thirst or confusion?"),
    ("neurological", "New weakness, or a change in vision, speech or behaviour?"),
]


class SymptomReportForm(ActionForm):
    reported_on = date_field("Date reported", missing="Enter the date the symptoms were reported")
    onset_on = date_field("Date symptoms started", required=False)
    area = radios(c.SymptomArea.choices, label="Where are the symptoms?", missing="Select where the symptoms are")
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), error_messages=required("Describe the symptoms")
    )
    cord_compression = forms.BooleanField(required=False, label=RED_FLAG_QUESTIONS[0][1])
    hypercalcaemia = forms.BooleanField(required=False, label=RED_FLAG_QUESTIONS[1][1])
    neurological = forms.BooleanField(required=False, label=RED_FLAG_QUESTIONS[2][1])

    def clean(self):
        cleaned = super().clean()
        onset, reported = cleaned.get("onset_on"), cleaned.get("reported_on")
        if onset and reported and onset > reported:
            self.add_error("onset_on", "Symptoms cannot start after they were reported.")
        # The most urgent red flag answered yes is the one recorded.
        cleaned["red_flag"] = next((flag for flag, _ in RED_FLAG_QUESTIONS if cleaned.get(flag)), "")
        return cleaned


class TriageForm(VersionedForm):
    outcome = radios(c.TriageOutcome.choices, label="Triage outcome", missing="Select the triage outcome")
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class EnteredInErrorForm(VersionedForm):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Why was this entered in error?",
        help_text="The record leaves every list but stays in the patient's history with this reason.",
        error_messages=required("Enter why this was entered in error"),
    )
