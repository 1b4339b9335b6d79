"""Thin views: fetch through the user's access scope, filter through a FilterSet, render."""

import html

from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import strip_tags
from django.views.decorators.http import require_GET
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from contacts.sections import contact_section
from letters.patient_page import patient_section as letters_section
from mdt.patient_page import patient_section as mdt_patient_section
from selfreport.patient_page import code_section, with_personal_code
from tasks.views import task_section

from .. import charts
from ..audit import log_access
from ..choices import AccessAction, FollowUpModel, TriageOutcome
from ..filters import ANYONE, PatientFilter
from ..history import patient_history
from ..models import FollowUpItem, Patient, Recurrence, RestagingEpisode, StagingTest, SymptomReport
from ..navigation import came_from, patient_trail
from ..patient_tasks import TASKS, patient_rows, without_repeats
from ..tables import PatientTable
from ..timeline import patient_timeline
from ..worklists import WORKLISTS, dashboard_counts, overdue_by_nurse
from .actions_bulk import bulk_form
from .base import get_patient_for, is_htmx
from .reports import download_links, export, requested_format


@require_GET
def dashboard(request):
    user = request.user
    context = {
        "counts": dashboard_counts(user, today=timezone.localdate()),
        "show_mine": user.role == "nurse",
        # What the second column counts, as the worklist's tabs name it.
        "scope_label": "all teams" if user.is_admin_role else "whole team",
        "anyone": ANYONE,
    }
    return render(request, "followup/dashboard.html", context)


@require_GET
def dashboard_charts(request):
    """The dashboard's charts: drawn into the dashboard by htmx when they scroll into view (the counts
    above them come first), or a page of their own (without JavaScript, or opened from the link)."""
    today = timezone.localdate()
    user = request.user
    found = charts.dashboard_charts(user, today=today, overdue=overdue_by_nurse(user, today=today))
    template = "followup/includes/dashboard_charts.html" if is_htmx(request) else "followup/dashboard_charts.html"
    return render(request, template, {"charts": found})


@require_GET
def worklist_index(request):
    return render(request, "followup/worklist_index.html", {"worklists": WORKLISTS.values()})


class WorklistView(SingleTableMixin, FilterView):
    template_name = "followup/worklist.html"
    # The default paginator counts once; that count is the total shown on the page.
    table_pagination = {"per_page": 25}

    def dispatch(self, request, *args, **kwargs):
        self.worklist = WORKLISTS.get(kwargs["slug"])
        if self.worklist is None:
            raise Http404("No such worklist.")
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return self.worklist.for_user(self.request.user, today=timezone.localdate()).for_worklist()

    def get_filterset_class(self):
        return self.worklist.filterset

    def get_table_class(self):
        return self.worklist.table

    def get_table(self, **kwargs):
        table = super().get_table(**kwargs)
        if self.on_screen and self.filterset.one_caseload():
            table.columns.hide("named_nurse")  # every row is the same nurse's: the tabs and summary say whose
        return table

    def get(self, request, *args, **kwargs):
        fmt = requested_format(request)
        self.on_screen = True
        if fmt:
            filterset = self.get_filterset(self.get_filterset_class())
            if filterset.is_valid():
                self.on_screen = False  # a download keeps every column
                self.object_list = filterset.qs
                table = self.get_table()
                values = table.as_values(exclude_columns=("actions",))
                headers = next(values)
                # Cells as text: the table's tags and links are for the screen.
                rows = (tuple(html.unescape(strip_tags(v)) if isinstance(v, str) else v for v in row) for row in values)
                return export(
                    request,
                    report=f"worklist-{self.worklist.slug}",
                    title=self.worklist.title,
                    fmt=fmt,
                    headers=headers,
                    rows=lambda: rows,
                    text_columns=table.text_columns(exclude_columns=("actions",)),
                    filters=filterset.applied(),
                )
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            worklist=self.worklist,
            triage_outcomes=TriageOutcome.choices,
            downloads=download_links(self.request),
            scope_tabs=self.filterset.scope_tabs(),
            filter_summary=self.filterset.summary(),
            filter_clear_url=self.filterset.clear_url(),
            listed_at=timezone.now(),
            bulk=bulk_form(self.request, worklist=self.worklist),
            **kwargs,
        )


class PatientListView(SingleTableMixin, FilterView):
    template_name = "followup/patient_list.html"
    filterset_class = PatientFilter
    table_class = PatientTable
    table_pagination = {"per_page": 25}

    def get_queryset(self):
        return Patient.objects.visible_to(self.request.user).for_worklist()

    def get_context_data(self, **kwargs):
        return super().get_context_data(bulk=bulk_form(self.request), **kwargs)


@require_GET
def patient_history_view(request, pk):
    patient = get_patient_for(request.user, pk)
    log_access(request, action=AccessAction.VIEW_HISTORY, patient=patient, model=Patient, pk=patient.pk)
    context = {
        "patient": patient,
        "changes": patient_history(patient),
        "today": timezone.localdate(),
        "trail": patient_trail(patient),
    }
    return render(request, "followup/patient_history.html", context)


def _live(rows) -> list:
    """The rows not entered in error, of a list for_patient_page() loaded."""
    return [row for row in rows if not row.entered_in_error]


def _may_hold(worklist, page: Patient) -> bool:
    """Could this list hold a row of this patient? Not if the patient has no live row of
    the list's kind at all (the record loaded for the page tells): the patient page
    then skips that list's query (most patients have no recurrence and no symptom
    report: four of the nine lists)."""
    if worklist.slug not in TASKS:
        return False  # a list with its own section on the page (My tasks, Team tasks)
    if worklist.slug == "pifu-ending":  # only a patient on PIFU (most are not)
        return page.follow_up_model == FollowUpModel.PIFU
    model = worklist.model
    if model is SymptomReport:
        return bool(_live(page.all_symptom_reports))
    recurrences = _live(page.all_recurrences)
    if model is RestagingEpisode:
        return any(hasattr(recurrence, "restaging") for recurrence in recurrences)
    if model is StagingTest:
        return any(
            _live(recurrence.restaging.all_tests) for recurrence in recurrences if hasattr(recurrence, "restaging")
        )
    if model is FollowUpItem:
        return bool(_live(page.all_followup_items))
    if model is Recurrence:
        return bool(recurrences)
    return True


@require_GET
def patient_detail(request, pk):
    patient = get_patient_for(request.user, pk)
    log_access(request, action=AccessAction.VIEW_PATIENT, patient=patient, model=Patient, pk=patient.pk)
    today = timezone.localdate()
    # The personal-code card (selfreport/) comes in the patient's own query.
    page = with_personal_code(Patient.objects.for_patient_page()).get(pk=patient.pk)
    code_section(page)
    actions = []
    for worklist in WORKLISTS.values():
        if not _may_hold(worklist, page):
            continue
        rows = patient_rows(worklist, page, today=today)
        if rows:
            actions.append((worklist, rows))
    mdt = mdt_patient_section(page)  # before the timeline, which tells the discussions it loads
    letters = letters_section(page)  # before the timeline, which tells the letters it loads
    context = {
        "patient": page,
        "mdt": mdt,
        "letters": letters,
        "primaries": _live(page.all_primaries),
        "actions": without_repeats(actions),
        "timeline": patient_timeline(page),
        "tasks": task_section(page, today=today),
        "contact_log": contact_section(page),
        "today": today,
        # Back to the list the user came from (the worklist as filtered, the search), else Patients.
        "trail": came_from(request, referer=True) or patient_trail(page)[:1],
    }
    return render(request, "followup/patient_detail.html", context)
