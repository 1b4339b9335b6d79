"""What needs doing for one patient: the rows of the failsafe worklists (followup/worklists.py) that
hold this patient, each with the button(s) of the task it asks for.

Which rows need doing is the worklists' rule, and what a restaging still needs is
services.restaging_needs_by_test()'s: this module only says, for a row already found, what the
button is called and where it goes (the patient page's "What needs doing" panel).
"""

from dataclasses import dataclass, field
from datetime import date

from django.urls import reverse

from mdt import worklist as mdt_worklist

from . import choices as c
from . import dates, services
from .display import noun_for, show_date
from .models import Patient
from .worklists import Worklist


@dataclass(frozen=True)
class Task:
    label: str  # the button's words
    url: str
    context: str = ""  # words for a screen reader that tell two alike buttons apart (", due 1 Dec 2026")


@dataclass
class Row:
    """One worklist row of this patient: what it is, in words, and what it asks of the user."""

    text: str
    tasks: list[Task] = field(default_factory=list)
    tags: list[tuple[str, str]] = field(default_factory=list)  # (text, colour)


def _url(name: str, *args) -> str:
    return reverse(f"followup:{name}", args=args)


def _item_tasks(item, *, slug: str, today: date) -> list[Task]:
    noun = noun_for(item)
    if item.status == c.FollowUpStatus.DUE:
        return [Task(f"Book the {noun}", _url("item_book", item.pk), f", due {show_date(item.due_on)}")]
    booked = f", booked for {show_date(item.booked_for)}"
    if item.booked_for <= today:
        return [Task(f"Record the {noun} as done", _url("item_done", item.pk), booked)]
    if slug == "overdue":  # booked after its due date and the grace window: bring it forward if it can be
        return [Task(f"Change the {noun} booking", _url("item_book", item.pk), booked)]
    return []  # booked for a day still to come: nothing to do yet


def _follow_up_tasks(slug: str):
    def tasks(item, today: date) -> list[Task]:
        return _item_tasks(item, slug=slug, today=today)

    return tasks


def _result_tasks(item, today: date) -> list[Task]:
    if services.waits_for_classification(item):
        return [
            Task(
                f"Classify and acknowledge the {noun_for(item)} result",
                _url("item_classify", item.pk),
                f", done {show_date(item.done_on)}",
            )
        ]
    return [
        Task(
            f"Acknowledge the {noun_for(item)} result",
            _url("item_acknowledge", item.pk),
            f", done {show_date(item.done_on)}",
        )
    ]


def _awaited_tasks(item, today: date) -> list[Task]:
    return [
        Task(f"Record the {noun_for(item)} result", _url("item_result", item.pk), f", done {show_date(item.done_on)}")
    ]


def _acknowledge_test(test) -> Task:
    if services.waits_for_classification(test):
        return Task(
            f"Classify and acknowledge the {noun_for(test)} result",
            _url("staging_classify", test.pk),
            f", reported {show_date(test.reported_on)}",
        )
    return Task(
        f"Acknowledge the {noun_for(test)} result",
        _url("staging_acknowledge", test.pk),
        f", reported {show_date(test.reported_on)}",
    )


def _staging_result_tasks(test, today: date) -> list[Task]:
    return [_acknowledge_test(test)]


def _restaging_tasks(episode, today: date) -> list[Task]:
    """One button for each thing the episode still needs (services.restaging_needs_by_test)."""
    request = _url("staging_request", episode.pk)
    tasks = []
    for need, tests in services.restaging_needs_by_test(episode.tests.all()).items():
        if need == c.RestagingNeed.IMAGING:
            recurrence = episode.recurrence
            when = f" for the {noun_for(recurrence)} of {show_date(recurrence.diagnosed_on)}"
            tasks.append(Task("Request a CT or PET-CT", request, when))
        for test in tests:
            if need == c.RestagingNeed.FURTHER_TEST:
                tasks.append(
                    Task(
                        f"Request a further test after the {noun_for(test)}",
                        f"{request}?follow_up_of={test.pk}",
                        f", reported {show_date(test.reported_on)}",
                    )
                )
            elif need == c.RestagingNeed.ACKNOWLEDGE:
                tasks.append(_acknowledge_test(test))
            elif need == c.RestagingNeed.RESULTS:
                tasks.append(
                    Task(
                        f"Record the {noun_for(test)} result",
                        _url("staging_result", test.pk),
                        f", requested {show_date(test.requested_on)}",
                    )
                )
    return tasks


def _distant_tasks(test, today: date) -> list[Task]:
    return [
        Task(
            "Record the secondary breast cancer",
            _url("secondary_from_test", test.pk),
            f" found by the {noun_for(test)} of {show_date(test.reported_on)}",
        )
    ]


def _symptom_tasks(report, today: date) -> list[Task]:
    return [
        Task("Triage the symptom report", _url("symptom_triage", report.pk), f" of {show_date(report.reported_on)}")
    ]


def _no_follow_up_tasks(patient, today: date) -> list[Task]:
    return [Task("Add the next follow-up item", _url("item_add", patient.pk))]


def _pifu_tasks(patient, today: date) -> list[Task]:
    # Ending PIFU discharges the patient and issues the letters: the letters app's page.
    return [
        Task("End PIFU and discharge", reverse("letters:pifu_end", args=[patient.pk])),
        Task("Change the PIFU period", _url("patient_pifu_period", patient.pk)),
    ]


# The data-quality problems (filters.DATA_QUALITY_PROBLEMS) a page of this tracker puts right, and how.
_DATA_QUALITY_FIXES = {
    "missing_nhs_number": ("Add the NHS number", "patient_edit"),
    "invalid_nhs_number": ("Correct the NHS number", "patient_edit"),
    "missing_primary": ("Record the primary diagnosis", "primary_add"),
}


def _data_quality_tasks(patient, today: date) -> list[Task]:
    return [
        Task(label, _url(name, patient.pk))
        for flag, (label, name) in _DATA_QUALITY_FIXES.items()
        if getattr(patient, flag, False)
    ]


TASKS = {
    "overdue": _follow_up_tasks("overdue"),
    "due-soon": _follow_up_tasks("due-soon"),
    "results": _result_tasks,
    "results-awaited": _awaited_tasks,
    "staging-results": _staging_result_tasks,
    "restaging": _restaging_tasks,
    "distant-not-recorded": _distant_tasks,
    "symptoms": _symptom_tasks,
    "no-follow-up": _no_follow_up_tasks,
    "pifu-ending": _pifu_tasks,
    "data-quality": _data_quality_tasks,
    mdt_worklist.SLUG: mdt_worklist.tasks,
}


def _tags(row) -> list[tuple[str, str]]:
    if getattr(row, "red_flag", ""):
        return [("Red flag", "red")]
    tags = []
    if getattr(row, "result", "") in (c.ImagingOutcome.ABNORMAL, c.StagingResult.DISTANT):
        tags.append((row.get_result_display(), "red"))
    if getattr(row, "result", "") in c.UNCLASSIFIED_RESULTS:
        tags.append((row.get_result_display(), "blue"))
    if getattr(row, "report_amended", False):
        tags.append(("Amended report", "orange"))
    return tags


def patient_rows(worklist: Worklist, page: Patient, *, today: date) -> list[Row]:
    """This patient's rows on one worklist, each with its tasks (``page`` from for_patient_page())."""
    rows = [
        Row(worklist.describe(row), TASKS[worklist.slug](row, today), _tags(row))
        for row in worklist.for_patient(page, today=today)
    ]
    if rows and worklist.slug == "data-quality":
        # Which dates are implausible, if any (the flag alone does not say).
        rows += [Row(problem) for problem in dates.stored_problems(page, today=today)]
    return rows


def without_repeats(groups: list[tuple[Worklist, list[Row]]]) -> list[tuple[Worklist, list[Row]]]:
    """One button per task: a task two lists ask for (a staging result to acknowledge is on its own
    list and holds its restaging open) keeps the button where it comes first."""
    seen = set()
    for _, rows in groups:
        for row in rows:
            row.tasks = [task for task in row.tasks if not (task.url in seen or seen.add(task.url))]
    return groups
