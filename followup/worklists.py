"""The failsafe worklists: one definition each, used by the worklist pages, the
dashboard counts and the patient page, so the three can never disagree."""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.http import QueryDict
from django.urls import Resolver404, resolve
from django.utils import timezone

from integration import filters as integration_filters
from integration import tables as integration_tables
from integration import worklist as integration_worklist
from mdt import filters as mdt_filters
from mdt import tables as mdt_tables
from mdt import worklist as mdt_worklist
from tasks.filters import MyTaskFilter, TaskFilter
from tasks.models import Task
from tasks.tables import TaskTable

from . import filters, tables
from .display import show_date
from .models import FollowUpItem, OpenItemDue, Patient, PatientFlags, RestagingEpisode, StagingTest, SymptomReport
from .querysets import FollowUpItemQuerySet, kept_data_quality, kept_without_next_follow_up


def _result(row) -> str:
    when = row.done_on if isinstance(row, FollowUpItem) else row.reported_on
    name = row.get_kind_display() if isinstance(row, FollowUpItem) else row.get_modality_display()
    return f"{name}, {show_date(when)}: {row.get_result_display()}"


def _restaging(episode) -> str:
    recurrence = episode.recurrence
    return (
        f"{recurrence.get_metastatic_type_display()} recurrence of {show_date(episode.opened_on)}, "
        f"target {show_date(episode.target_on)}: {tables.restaging_status(episode)}"
    )


def _pifu(patient) -> str:
    today = timezone.localdate()
    ends_on = patient.pifu_ends_on
    if ends_on is None:
        return "Patient-initiated follow-up with no period set: it would never end. Set the PIFU period."
    if patient.pifu_ended(today):
        return (
            f"Patient-initiated follow-up ended {show_date(ends_on)} ({tables.pifu_days(patient, today).lower()}), "
            "and the patient is still under follow-up."
        )
    return f"Patient-initiated follow-up ends {show_date(ends_on)} ({tables.pifu_days(patient, today).lower()})."


def _result_awaited(item: FollowUpItem) -> str:
    return f"{item.get_kind_display()}, done {show_date(item.done_on)}: result not yet available"


@dataclass(frozen=True)
class Worklist:
    slug: str
    title: str
    description: str
    rows: Callable[[date], QuerySet]  # the list itself, before access scope and filters
    table: type[tables.WorklistTable]
    filterset: type[filters.WorklistFilter]
    noun: str = "item"  # one row, in words: the page adds the plural's "s"
    describe: Callable[[Any], str] = str  # one row, as the patient page lists it
    # The same list in the form that is cheap for one patient, where that differs.
    patient_rows: Callable[[date], QuerySet] | None = None
    # The lookup from a row to the user whose row it is ("mine"); "" for the patient's named nurse.
    mine: str = ""
    # The list holds the user's own rows only ("My tasks"), not the team's.
    only_mine: bool = False
    # The field of models.PatientFlags that keeps how many of the list's rows are each patient's
    # (followup/flags.py): the dashboard counts the list from there. Only for a list that does not depend
    # on the date and whose "mine" is the patient's named nurse.
    kept: str = ""
    # Or, for a list of patients, when a patient's PatientFlags row puts them on it (on ``today``).
    kept_when: Callable[[date], Q] | None = None
    # For a list of open follow-up items: its rule over open_due_on (FollowUpItemQuerySet), for the
    # dashboard to count such lists (and the overdue chart) in one pass over the open items.
    due_when: Callable[[date], Q] | None = None
    # The list whose rows this list's are, restricted to the user's own (My tasks: Team tasks).
    same_rows_as: str = ""

    @functools.cached_property
    def model(self) -> type:
        """The kind of row on the list."""
        return self.rows(date.today()).model

    @property
    def patient_prefix(self) -> str:
        return self.filterset.patient_prefix

    @property
    def opens_on_mine(self) -> bool:
        """Does the list open, for a nurse, on her own rows (the dashboard's first number), not the team's?"""
        return self.only_mine or self.filterset.default_to_my_caseload

    @property
    def mine_lookup(self) -> str:
        return self.mine or f"{self.patient_prefix}named_nurse"

    def for_user(self, user, *, today: date) -> QuerySet:
        rows = self.rows(today).visible_to(user)
        return rows.filter(**{self.mine_lookup: user}) if self.only_mine else rows

    def for_patient(self, patient: Patient, *, today: date) -> QuerySet:
        rows = (self.patient_rows or self.rows)(today)
        return rows.filter(**{f"{self.patient_prefix}pk": patient.pk})

    def counts(self, user, *, today: date) -> dict[str, int]:
        """{"team": rows the user may see, "mine": those of the user's own caseload (or, with ``mine``,
        assigned to the user)}: one query."""
        return self.for_user(user, today=today).aggregate(
            team=Count("pk"), mine=Count("pk", filter=Q(**{self.mine_lookup: user}))
        )


WORKLISTS: dict[str, Worklist] = {
    w.slug: w
    for w in [
        Worklist(
            "overdue",
            "Overdue follow-up",
            "Follow-up items past their due date and the grace window, most overdue first. Escalated: long overdue.",
            lambda today: FollowUpItem.objects.overdue(today=today),
            tables.OverdueTable,
            filters.FollowUpWorklistFilter,
            due_when=FollowUpItemQuerySet.overdue_when,
        ),
        Worklist(
            "due-soon",
            "Due soon",
            "Follow-up items due in the coming weeks, and those just past due but still in the grace window.",
            lambda today: FollowUpItem.objects.due_soon(today=today),
            tables.DueSoonTable,
            filters.FollowUpWorklistFilter,
            due_when=FollowUpItemQuerySet.due_soon_when,
        ),
        Worklist(
            "results",
            "Results to acknowledge",
            "Follow-up results recorded but not yet read and acknowledged by a clinician: abnormal first, then "
            f"the longest waiting. Escalated: waiting over {settings.RESULT_ESCALATE_DAYS} days.",
            lambda today: FollowUpItem.objects.awaiting_acknowledgement(),
            tables.ResultTable,
            filters.FollowUpResultFilter,
            noun="result",
            describe=_result,
            kept="results",
        ),
        Worklist(
            "results-awaited",
            "Results awaited",
            "Mammograms, bloods and other tests recorded as done with the result not yet available, "
            "oldest first: record each result when it comes.",
            lambda today: FollowUpItem.objects.results_awaited(),
            tables.ResultAwaitedTable,
            filters.FollowUpResultFilter,
            noun="test",
            describe=_result_awaited,
            kept="results_awaited",
        ),
        Worklist(
            "staging-results",
            "Staging results to acknowledge",
            "Restaging test results recorded but not yet read and acknowledged: distant disease first, then "
            f"the longest waiting. Escalated: waiting over {settings.RESULT_ESCALATE_DAYS} days.",
            lambda today: StagingTest.objects.awaiting_acknowledgement(),
            tables.StagingResultTable,
            filters.StagingTestFilter,
            noun="result",
            describe=_result,
            kept="staging_results",
        ),
        Worklist(
            "restaging",
            "Restaging incomplete",
            "Local and regional recurrences whose restaging is not complete, oldest first, against the target.",
            lambda today: RestagingEpisode.objects.incomplete(),
            tables.RestagingTable,
            filters.RestagingFilter,
            noun="recurrence",
            describe=_restaging,
            patient_rows=lambda today: RestagingEpisode.objects.incomplete().with_tests(),
            kept="restaging",
        ),
        Worklist(
            "distant-not-recorded",
            "Distant disease not recorded",
            "Restaging results that found distant disease, with no secondary breast cancer recorded from them.",
            lambda today: StagingTest.objects.distant_not_recorded(),
            tables.DistantNotRecordedTable,
            filters.StagingTestFilter,
            noun="result",
            describe=_result,
            kept="distant_not_recorded",
        ),
        Worklist(
            "symptoms",
            "Symptoms to triage",
            "Symptom reports not yet triaged: red flags first, then the longest waiting.",
            lambda today: SymptomReport.objects.awaiting_triage(),
            tables.SymptomTable,
            filters.SymptomFilter,
            noun="report",
            kept="symptoms",
        ),
        Worklist(
            "no-follow-up",
            "No next follow-up",
            "Active patients with no follow-up item booked or due: the classic way a patient is lost.",
            lambda today: Patient.objects.flagged_without_next_follow_up().with_last_follow_up(),
            tables.NoNextFollowUpTable,
            filters.PatientWorklistFilter,
            noun="patient",
            describe=lambda patient: "No follow-up item is booked or due.",
            kept_when=lambda today: kept_without_next_follow_up(""),
        ),
        Worklist(
            "pifu-ending",
            "PIFU ending",
            f"Patients on patient-initiated follow-up whose PIFU ends within {settings.PIFU_ENDING_DAYS} days, and "
            "those whose PIFU has ended but who are still under follow-up, and those with no PIFU period (first: "
            "it would never end), then the most overdue: end PIFU (discharge to the GP, with the letters) or "
            "set the period.",
            lambda today: Patient.objects.pifu_ending(today=today),
            tables.PifuEndingTable,
            filters.PifuEndingFilter,
            noun="patient",
            describe=_pifu,
        ),
        Worklist(
            "data-quality",
            "Data quality",
            "Missing or invalid NHS numbers, possible duplicate patients, recurrences without a site, "
            "primaries without laterality or receptor status, implausible dates.",
            lambda today: Patient.objects.flagged_data_quality(today=today),
            tables.DataQualityTable,
            filters.DataQualityFilter,
            noun="patient",
            describe=lambda patient: "; ".join(
                label for flag, label in filters.DATA_QUALITY_PROBLEMS if getattr(patient, flag)
            ),
            kept_when=lambda today: kept_data_quality("", today),
        ),
        Worklist(
            mdt_worklist.SLUG,
            "Recurrence not yet discussed at MDT",
            "Suspected and confirmed recurrences with no MDT discussion recorded, oldest first: "
            "every recurrence is to be discussed at the breast MDT meeting.",
            mdt_worklist.rows,
            mdt_tables.NotDiscussedTable,
            mdt_filters.NotDiscussedFilter,
            noun="recurrence",
            describe=mdt_worklist.describe,
            kept="mdt_not_discussed",
        ),
        # The patient page has no row of it: most unmatched results have no patient found.
        Worklist(
            integration_worklist.SLUG,
            "Unmatched results",
            "Results that arrived from the hospital's systems and could not be placed on a patient's test or "
            "follow-up item, oldest first, with why: place each by hand, or mark it not ours with a reason.",
            integration_worklist.rows,
            integration_tables.UnmatchedTable,
            integration_filters.UnmatchedFilter,
            noun="result",
            describe=integration_worklist.describe,
        ),
        # Tasks: the patient page has its own Tasks section (tasks/views.py), not "What needs doing".
        Worklist(
            "my-tasks",
            "My tasks",
            "Open tasks assigned to you, soonest due first. Tasks for the team as a whole are on Team tasks.",
            lambda today: Task.objects.open(),
            TaskTable,
            MyTaskFilter,
            noun="task",
            describe=str,
            mine="assigned_to",
            only_mine=True,
            same_rows_as="team-tasks",
        ),
        Worklist(
            "team-tasks",
            "Team tasks",
            "Every open task of your team, assigned to a nurse or to the team as a whole, soonest due first.",
            lambda today: Task.objects.open(),
            TaskTable,
            TaskFilter,
            noun="task",
            describe=str,
            mine="assigned_to",
        ),
    ]
}


def dashboard_counts(user, *, today: date) -> list[tuple[Worklist, dict[str, int]]]:
    """Every list's counts as Worklist.counts() gives them, in few queries whatever the number of lists:
    - the kept lists, and the patient lists read from the kept flags, from the PatientFlags rows of the
      user's scope (followup/flags.py keeps them equal to the lists' rules, tests/test_dashboard_counts.py
      proves the counts the same);
    - the lists of open items in one pass over the open items;
    - a list of the user's own rows from the list it restricts (My tasks from Team tasks);
    - each other list by itself."""
    counts: dict[str, dict[str, int]] = {}
    mine = Q(named_nurse=user)
    kept = [w for w in WORKLISTS.values() if w.kept or w.kept_when]
    totals: dict[str, Any] = {}
    for n, w in enumerate(kept):
        if w.kept:
            totals[f"team{n}"] = Sum(w.kept, default=0)
            totals[f"mine{n}"] = Sum(w.kept, default=0, filter=mine)
        else:
            totals[f"team{n}"] = Count("pk", filter=w.kept_when(today))
            totals[f"mine{n}"] = Count("pk", filter=w.kept_when(today) & mine)
    found = PatientFlags.objects.visible_to(user).on_a_kept_list(today).aggregate(**totals)
    for n, w in enumerate(kept):
        counts[w.slug] = {"team": found[f"team{n}"], "mine": found[f"mine{n}"]}

    due, by_nurse = _open_items_by_nurse(user, today=today)
    for n, w in enumerate(due):
        counts[w.slug] = {
            "team": sum(row[f"due{n}"] for row in by_nurse),
            "mine": sum(row[f"due{n}"] for row in by_nurse if row[NURSE[0]] == user.pk),
        }

    for w in WORKLISTS.values():
        if w.slug not in counts and not w.same_rows_as:
            counts[w.slug] = w.counts(user, today=today)
    for w in WORKLISTS.values():
        if w.same_rows_as:
            own = counts[w.same_rows_as]["mine"]
            counts[w.slug] = {"team": own, "mine": own}
    return [(w, counts[w.slug]) for w in WORKLISTS.values()]


NURSE = ("named_nurse", "named_nurse__first_name", "named_nurse__last_name")


def _open_items_by_nurse(user, *, today: date) -> tuple[list[Worklist], list[dict]]:
    """The lists of open items (``due_when``), and each named nurse's rows of each (``due<n>``), from the
    open items due by the end of the look-ahead as followup/flags.py keeps them (OpenItemDue: the patient's
    team and named nurse beside each due date, read through one index, not the patients)."""
    due = [w for w in WORKLISTS.values() if w.due_when]
    whens = {f"due{n}": w.due_when(today) for n, w in enumerate(due)}
    by_nurse = (
        OpenItemDue.objects.visible_to(user)
        .filter(open_due_on__lte=FollowUpItemQuerySet.look_ahead_ends(today))
        .values(*NURSE)
        .annotate(**{name: Sum("items", filter=when, default=0) for name, when in whens.items()})
        .order_by()
    )
    return due, list(by_nurse)


def overdue_by_nurse(user, *, today: date) -> list[tuple[str, int]]:
    """(named nurse, rows) of the overdue list in the user's scope, for those with any, most first."""
    due, by_nurse = _open_items_by_nurse(user, today=today)
    overdue = f"due{due.index(WORKLISTS['overdue'])}"
    found = sorted(
        ((row[NURSE[1]], row[NURSE[2]], row[overdue]) for row in by_nurse if row[overdue]),
        key=lambda row: (-row[2], row[1], row[0]),
    )
    return [(f"{first} {last}", n) for first, last, n in found]


def page_total(request, page_url: str) -> tuple[Worklist, int] | None:
    """(list, rows) of the worklist page at ``page_url`` (its list, scope and filters, as the page
    asked), counted again after a row's action changed it, for the page's count to follow; None
    when ``page_url`` is not a worklist page of this site or its filters do not hold."""
    parts = urlsplit(page_url)
    if parts.scheme or parts.netloc:
        return None
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    worklist = WORKLISTS.get(match.kwargs.get("slug", "")) if match.view_name == "followup:worklist" else None
    if worklist is None:
        return None
    rows = worklist.for_user(request.user, today=timezone.localdate())
    filterset = worklist.filterset(QueryDict(parts.query), queryset=rows, request=request)
    if not filterset.is_valid():
        return None
    return worklist, filterset.qs.count()
