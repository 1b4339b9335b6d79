"""FilterSets for the worklists and the patient search. Every input passes one of these."""

from dataclasses import dataclass
from urllib.parse import urlencode

import django_filters
from django import forms
from django.http import QueryDict
from django.utils import timezone

from . import choices as c
from . import dates
from .display import show_date
from .fields import DateField, DateFromToRangeFilter, NHSMessagesMixin
from .models import Patient, Team, User

ANYONE = "all"

# The data-quality flags of PatientQuerySet.with_data_quality_flags(), as a person reads them.
DATA_QUALITY_PROBLEMS = [
    ("missing_nhs_number", "Missing NHS number"),
    ("invalid_nhs_number", "Invalid NHS number"),
    ("possible_duplicate", "Possible duplicate patient"),
    ("recurrence_without_site", "Recurrence without a site"),
    ("missing_laterality", "Primary without laterality"),
    ("missing_receptors", "Primary without receptor status"),
    ("missing_primary", "No primary diagnosis recorded"),
    ("implausible_date", "Implausible date"),
]


def date_range(field_name: str, label: str) -> DateFromToRangeFilter:
    """ "From" and "To", each an NHS.UK date input (followup/fields.py)."""
    return DateFromToRangeFilter(field_name=field_name, label=label)


def nurse_choices_for(user) -> list[tuple[str, str]]:
    """Named nurses the user may filter by: their team's, or everyone's for an admin."""
    nurses = User.objects.filter(role=c.Role.NURSE, is_active=True).select_related("team")
    if not user.is_admin_role:
        nurses = nurses.filter(team_id=user.team_id)
    return [(ANYONE, "Anyone"), *((str(n.pk), n.get_full_name() or n.username) for n in nurses)]


class FilterForm(NHSMessagesMixin, forms.Form):
    """A filter's form: the service manual's words for a choice that is not offered."""


@dataclass(frozen=True)
class ScopeTab:
    """One tab above a list: whose rows it shows (My caseload, Whole team; All teams or one team)."""

    label: str
    href: str
    current: bool


def _lower_first(words: str) -> str:
    """ "Recurrence type" -> "recurrence type"; "NHS number" stays as it is."""
    return words[:1].lower() + words[1:] if words[1:2].islower() else words


# Filters that scope the list (the tabs) rather than narrow it: the summary says them first.
SCOPE_FILTERS = ("nurse", "team")


class WorklistFilter(django_filters.FilterSet):
    """Named nurse (a nurse sees her own caseload first) and team, for any row with a patient.

    ``patient_prefix`` is the lookup from the row to its patient ("" for a patient row).
    """

    patient_prefix = "patient__"
    default_to_my_caseload = True

    class Meta:
        form = FilterForm

    nurse = django_filters.ChoiceFilter(label="Named nurse", method="filter_nurse", empty_label=None)
    team = django_filters.ModelChoiceFilter(
        label="Team", queryset=Team.objects.all(), method="filter_team", empty_label="All teams"
    )

    def __init__(self, data=None, *args, request=None, **kwargs):
        user = request.user
        data = data.copy() if data is not None else QueryDict(mutable=True)
        if not data.get("nurse"):
            mine = self.default_to_my_caseload and user.role == c.Role.NURSE
            data["nurse"] = str(user.pk) if mine else ANYONE
        super().__init__(data, *args, request=request, **kwargs)
        self.filters["nurse"].extra["choices"] = nurse_choices_for(user)
        self.teams: list[Team] = []
        if user.is_admin_role:
            # Read once, for the team filter's choices and the tabs (one query, as the select alone took).
            self.teams = list(Team.objects.all())
            # The select draws these (a ModelChoiceField's own choices would read the teams again).
            self.form.fields["team"].widget.choices = [
                ("", "All teams"),
                *((team.pk, team.name) for team in self.teams),
            ]
        else:
            del self.filters["team"]  # everyone else sees one team only

    def applied(self) -> dict:
        """Each filter as it chose the rows (validated, defaults filled in), for the export log.

        Call after is_valid(). A filter the user may not use (team, for a nurse) is not here at all.
        """
        applied = dict(self.form.cleaned_data)
        nurse = applied.get("nurse")
        if nurse == ANYONE:
            applied["nurse"] = "anyone"
        elif nurse:
            applied["nurse"] = f"{dict(self.filters['nurse'].extra['choices'])[nurse]} (user {nurse})"
        return applied

    def one_caseload(self) -> bool:
        """Do the rows belong to one named nurse (so a "Named nurse" column would say nothing)?"""
        return self.data.get("nurse") not in (None, "", ANYONE) and self.is_valid()

    def scope_tabs(self) -> list[ScopeTab]:
        """ "My caseload" and "Whole team" for a nurse; "All teams" and each team for an admin; none
        for someone with one scope only (a clinician sees the team). Each tab is a link (it works
        without JavaScript) keeping the other filters and the sort, from the first page."""
        request = self.request
        query = request.GET.copy()
        for name in ("page", "export", *SCOPE_FILTERS):
            query.pop(name, None)

        def link(**scope) -> str:
            tab = query.copy()
            for name, value in scope.items():
                tab[name] = value
            return f"{request.path}?{tab.urlencode()}" if tab else request.path

        return self._tabs(link)

    def clear_url(self) -> str:
        """ "Clear filters": the list in the scope of its tab, with no other filter."""
        path = self.request.path
        current = [
            tab for tab in self._tabs(lambda **scope: f"{path}?{urlencode(scope)}" if scope else path) if tab.current
        ]
        return current[0].href if current else path

    def _tabs(self, link) -> list[ScopeTab]:
        user = self.request.user
        if user.role == c.Role.NURSE:
            mine = self.data.get("nurse") == str(user.pk)
            return [ScopeTab("My caseload", link(), mine), ScopeTab("Whole team", link(nurse=ANYONE), not mine)]
        if user.is_admin_role:
            chosen = self.data.get("team") or ""
            return [
                ScopeTab("All teams", link(), chosen == ""),
                *(ScopeTab(team.name, link(team=str(team.pk)), chosen == str(team.pk)) for team in self.teams),
            ]
        return []

    def summary(self) -> str:
        """What the list shows, in words, for the line above the (collapsed) filters and for a
        printed copy: "Showing: Alex Morgan's caseload, due between 1 Nov 2026 and 30 Nov 2026, all
        kinds". Reads only what the form already holds (no query)."""
        self.is_valid()
        cleaned = self.form.cleaned_data
        words = [self._scope_words(cleaned)]
        for name, field in self.form.fields.items():
            if name not in SCOPE_FILTERS and name in cleaned:
                words.append(self._filter_words(field, cleaned[name]))
        return "Showing: " + ", ".join(word for word in words if word)

    def _scope_words(self, cleaned: dict) -> str:
        nurse, team = self.data.get("nurse"), cleaned.get("team")
        if nurse and nurse != ANYONE:
            name = dict(self.filters["nurse"].extra["choices"]).get(nurse)
            caseload = f"{name}'s caseload" if name else "one nurse's caseload"
            return f"{team}, {caseload}" if team else caseload
        if team:
            return str(team)
        return "all teams" if self.request.user.is_admin_role else "the whole team"

    @staticmethod
    def _filter_words(field: forms.Field, value) -> str:
        label = _lower_first(str(field.label or ""))
        if isinstance(value, slice):  # a date range
            stem = label.removesuffix(" between")
            start, stop = (show_date(value.start) if value.start else ""), (show_date(value.stop) if value.stop else "")
            if start and stop:
                return f"{stem} between {start} and {stop}"
            return f"{stem} from {start}" if start else (f"{stem} until {stop}" if stop else "")
        if isinstance(field, forms.BooleanField) or isinstance(field.widget, forms.CheckboxInput):
            return label if value else ""
        if isinstance(field, forms.ChoiceField):
            choices = {str(key): str(shown) for key, shown in field.choices}
            if value in (None, ""):
                return _lower_first(choices.get("", ""))  # "all kinds", "local and regional"
            return f"{label}: {choices.get(str(getattr(value, 'pk', value)), value)}"
        return f"{label}: {value}" if value not in (None, "") else ""

    def filter_nurse(self, queryset, name, value):
        if value == ANYONE:
            return queryset
        return queryset.filter(**{f"{self.patient_prefix}named_nurse_id": value})

    def filter_team(self, queryset, name, value):
        return queryset.filter(**{f"{self.patient_prefix}team": value}) if value else queryset


class FollowUpWorklistFilter(WorklistFilter):
    due = date_range("due_on", "Due between")
    kind = django_filters.ChoiceFilter(field_name="kind", choices=c.FollowUpKind.choices, empty_label="All kinds")


class FollowUpResultFilter(WorklistFilter):
    done = date_range("done_on", "Done between")
    kind = django_filters.ChoiceFilter(
        field_name="kind",
        choices=[(k.value, k.label) for k in c.RESULT_KINDS],
        empty_label="All kinds",
    )


class StagingTestFilter(WorklistFilter):
    patient_prefix = "episode__recurrence__patient__"

    reported = date_range("reported_on", "Reported between")
    modality = django_filters.ChoiceFilter(
        field_name="modality", choices=c.StagingModality.choices, empty_label="All tests"
    )


class RestagingFilter(WorklistFilter):
    patient_prefix = "recurrence__patient__"

    opened = date_range("opened_on", "Recurrence between")
    type = django_filters.ChoiceFilter(
        label="Recurrence type",
        field_name="recurrence__metastatic_type",
        choices=[(t.value, t.label) for t in c.RESTAGED_TYPES],
        empty_label="Local and regional",
    )


class SymptomFilter(WorklistFilter):
    reported = date_range("reported_on", "Reported between")
    area = django_filters.ChoiceFilter(field_name="area", choices=c.SymptomArea.choices, empty_label="All areas")
    red_flag = django_filters.BooleanFilter(
        label="Red flags only",
        method="filter_red_flag",
        widget=forms.CheckboxInput(attrs={"class": "nhsuk-checkboxes__input"}),
    )

    def filter_red_flag(self, queryset, name, value):
        return queryset.exclude(red_flag="") if value else queryset


class PatientWorklistFilter(WorklistFilter):
    patient_prefix = ""

    follow_up_model = django_filters.ChoiceFilter(
        field_name="follow_up_model",
        label="Follow-up model",
        choices=c.FollowUpModel.choices,
        empty_label="All follow-up models",
    )


class PifuEndingFilter(WorklistFilter):
    """Named nurse and team: every row is a PIFU patient, so no follow-up model to choose."""

    patient_prefix = ""


class DataQualityFilter(WorklistFilter):
    patient_prefix = ""

    problem = django_filters.ChoiceFilter(
        label="Problem",
        method="filter_problem",
        empty_label="Any problem",
        choices=DATA_QUALITY_PROBLEMS,
    )

    def filter_problem(self, queryset, name, value):
        return queryset.having_problem(value) if value else queryset


class PatientFilter(WorklistFilter):
    """The patient search: everyone in the team unless a nurse is chosen."""

    patient_prefix = ""
    default_to_my_caseload = False

    q = django_filters.CharFilter(
        label="NHS number, hospital number or name",
        method="filter_search",
        widget=forms.TextInput(attrs={"class": "nhsuk-input", "autocomplete": "off", "spellcheck": "false"}),
    )
    status = django_filters.ChoiceFilter(field_name="status", choices=c.PatientStatus.choices, empty_label="Any status")

    class Meta(WorklistFilter.Meta):
        model = Patient
        fields = []

    def filter_search(self, queryset, name, value):
        return queryset.search(value)


class ReportFilter(WorklistFilter):
    """Team, named nurse (anyone by default) and a date range, for a report."""

    default_to_my_caseload = False


def report_filter_for(line_list) -> type[ReportFilter]:
    """The FilterSet of one line list: its patient path and the date its range applies to."""
    return type(
        f"{line_list.slug.title().replace('-', '')}Filter",
        (ReportFilter,),
        {"patient_prefix": line_list.patient_prefix, "period": date_range(line_list.date_field, line_list.date_label)},
    )


class SummaryFilterForm(NHSMessagesMixin, forms.Form):
    """Team (admins) and months, for a summary."""

    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False, empty_label="All teams")
    start = DateField("From", name="From date", required=False, example="")
    end = DateField("To", name="To date", required=False, example="")

    def __init__(self, *args, user, uses_dates: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not user.is_admin_role:
            del self.fields["team"]
        if not uses_dates:
            del self.fields["start"], self.fields["end"]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            self.add_error("end", "The end of the period cannot be before its start.")
        today = timezone.localdate()
        for name in ("start", "end"):
            value = cleaned.get(name)
            if value and value > dates.latest_planned(today):
                self.add_error(name, f"This date is more than {dates.MAX_YEARS_AHEAD} years ahead: check the year.")
        return cleaned
