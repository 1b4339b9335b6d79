"""Forms of the API clients' pages (admins only): what an admin types, checked beside each field."""

from django import forms

from followup.models import Team

SEND, READ = "send", "read"
MAY_CHOICES = [
    (SEND, "Send results (HL7v2 ORU^R01 or FHIR DiagnosticReport)"),
    (READ, "Read records (the FHIR read API)"),
]


class ClientPermissionsForm(forms.Form):
    """The teams a client serves and what it may do: for editing a registered client."""

    teams = forms.ModelMultipleChoiceField(
        queryset=Team.objects.order_by("name"),
        widget=forms.CheckboxSelectMultiple,
        label="Teams",
        help_text="It sees only these teams' patients: results it sends are matched to them, its reads return them.",
        error_messages={"required": "Choose the teams whose patients it may see."},
    )
    may = forms.MultipleChoiceField(
        choices=MAY_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        label="What it may do",
        error_messages={"required": "Choose what it may do: send results, read records, or both."},
    )

    @classmethod
    def initial_for(cls, client) -> dict:
        may = [value for value, allowed in ((SEND, client.can_send), (READ, client.can_read)) if allowed]
        return {"teams": list(client.teams.all()), "may": may}

    @property
    def can_send(self) -> bool:
        return SEND in self.cleaned_data["may"]

    @property
    def can_read(self) -> bool:
        return READ in self.cleaned_data["may"]


class ClientRegisterForm(ClientPermissionsForm):
    name = forms.CharField(
        label="System name",
        max_length=120,
        help_text="As the hospital knows it, for example North RIS or Pathology integration engine.",
        error_messages={"required": "Enter the system's name."},
    )

    field_order = ["name", "teams", "may"]

    def clean_name(self):
        return self.cleaned_data["name"].strip()


class ClientRevokeForm(forms.Form):
    reason = forms.CharField(
        label="Why is it being revoked?",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        help_text="For example: the system was replaced, or the token may have been seen by someone else.",
        error_messages={"required": "Give a reason for revoking."},
    )
