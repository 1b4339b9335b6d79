"""Reports: line lists and summaries, each defined once for the screen, CSV, XLSX and the command.

A line list's rows come from ``values()`` over its QuerySet and are formatted
in Python column by column, so an export of a million rows streams from a
server-side cursor without building model objects. For an export a chunk of
rows is formatted a column at a time (``Col.values``, the same as ``Col.value``)
and handed on as columns (``ColumnBatches``).
"""

import functools
import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import islice
from typing import Any

from django.conf import settings
from django.db.models import Aggregate, CharField, Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncMonth
from django.db.models.sql.constants import MULTI

from . import choices as c
from .charts import Chart
from .display import plural
from .exports import ColumnBatches
from .models import (
    FollowUpItem,
    Patient,
    Recurrence,
    RecurrenceSite,
    RestagingEpisode,
    StagingTest,
    StagingTestSite,
    SymptomReport,
    User,
)
from .worklists import WORKLISTS


class GroupConcat(Aggregate):
    """Comma-joined text of a group: STRING_AGG on PostgreSQL, GROUP_CONCAT on SQLite."""

    function = "STRING_AGG"
    template = "%(function)s(%(expressions)s, ', ')"
    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function="GROUP_CONCAT", **extra)


class _Labels(dict):
    """A choice's label by its value; a value that is not a choice as it is, or "" for none."""

    def __missing__(self, value):
        return value or ""


def _label(choices) -> Callable[[Any], str]:
    return _Labels(choices.choices).__getitem__


def _sites_label(value: str | None) -> str:
    return ", ".join(c.Site(code).label for code in sorted(value.split(", "))) if value else ""


def _nhs(value: str) -> str:
    return value or ""


@functools.lru_cache(maxsize=4096)  # a few nurses named on a million rows
def _person(*names: str) -> str:
    return " ".join(filter(None, names))


@dataclass(frozen=True)
class Col:
    header: str
    key: str  # a key of the values() row
    fmt: Callable[[Any], Any] | None = None  # applied to row[key]
    derive: Callable[..., Any] | None = None  # or computed from the values of the keys in `uses`
    text: bool = False  # an identifier: a text cell in XLSX
    orderable: bool = True
    uses: tuple[str, ...] = ()  # keys of the values() row, in derive's order

    def value(self, row: dict):
        if self.derive:
            return self.derive(*(row[key] for key in self.uses))
        value = row[self.key]
        return self.fmt(value) if self.fmt else value

    def values(self, fields: dict[str, Sequence]) -> Sequence:
        """value() of each row of a chunk, given as each key's values (no Python call for a plain cell)."""
        if self.derive:
            return list(map(self.derive, *(fields[key] for key in self.uses)))
        values = fields[self.key]
        return list(map(self.fmt, values)) if self.fmt else values


def _patient_cols(prefix: str) -> list[Col]:
    return [
        Col("NHS number", f"{prefix}nhs_number", _nhs, text=True),
        Col("Hospital number", f"{prefix}hospital_number", text=True),
        Col("Family name", f"{prefix}family_name"),
        Col("Given name", f"{prefix}given_name"),
        Col("Date of birth", f"{prefix}date_of_birth"),
        Col(
            "Named nurse",
            f"{prefix}named_nurse__last_name",
            derive=_person,
            uses=(f"{prefix}named_nurse__first_name", f"{prefix}named_nurse__last_name"),
        ),
        Col("Team", f"{prefix}team__name"),
    ]


@dataclass(frozen=True)
class LineList:
    slug: str
    title: str
    description: str
    base: Callable[[], QuerySet]  # live rows, ordered, with any annotations the columns need
    columns: list[Col]
    date_field: str
    date_label: str
    patient_prefix: str
    kind: str = "line-list"

    @property
    def headers(self) -> list[str]:
        return [col.header for col in self.columns]

    @property
    def text_columns(self) -> set[int]:
        return {i for i, col in enumerate(self.columns) if col.text}

    @property
    def keys(self) -> list[str]:
        """The fields of a values() row."""
        keys = dict.fromkeys([*(col.key for col in self.columns), *(key for col in self.columns for key in col.uses)])
        return ["pk", *keys]

    def values(self, queryset: QuerySet) -> QuerySet:
        return queryset.values(*self.keys)

    def rows(self, values: QuerySet, *, chunk_size: int = 2000) -> ColumnBatches:
        """Each row's cells (Col.value), worked out a column at a time over chunks of the server-side cursor.

        The same query as values(), read as tuples rather than dicts.
        """
        return ColumnBatches(self._column_batches(values, chunk_size))

    def _column_batches(self, values: QuerySet, chunk_size: int) -> Iterator[list[Sequence]]:
        keys = self.keys
        for chunk in _row_chunks(values.values_list(*keys), chunk_size):
            fields = dict(zip(keys, zip(*chunk, strict=True), strict=True))
            yield [col.values(fields) for col in self.columns]


def _row_chunks(queryset: QuerySet, chunk_size: int) -> Iterator[list[tuple]]:
    """The rows of a values_list() query, a server-side cursor's chunk at a time.

    What QuerySet.iterator(chunk_size) reads, without taking each chunk apart into
    rows and putting it back together (a Python generator step per row: a tenth of
    a million-row export). Where Django has to convert a column's values, its own
    iterator does it.
    """
    compiler = queryset.query.get_compiler(using=queryset.db)
    chunks = compiler.execute_sql(MULTI, chunked_fetch=True, chunk_size=chunk_size)
    fields = [selected[0] for selected in compiler.select[: compiler.col_count]]
    if compiler.get_converters(fields) or compiler.has_composite_fields(fields):
        rows = compiler.results_iter(chunks, tuple_expected=True, chunked_fetch=True, chunk_size=chunk_size)
        while chunk := list(islice(rows, chunk_size)):
            yield chunk
        return
    yield from chunks


def _days_between(start, end) -> int | None:
    if start is None or end is None:
        return None
    end = end.date() if hasattr(end, "date") else end
    return (end - start).days


def _days_to_completion(opened_on, closed_on, outcome) -> int | None:
    # A refuted recurrence's restaging was closed, not completed.
    return None if outcome == c.RestagingOutcome.REFUTED else _days_between(opened_on, closed_on)


def _target_met(closed_on, target_on, outcome) -> str:
    if outcome == c.RestagingOutcome.REFUTED:
        return "Not applicable"
    if closed_on is None:
        return "Open"
    return "Yes" if closed_on <= target_on else "No"


def _staging_sites() -> Subquery:
    sites = (
        StagingTestSite.objects.filter(test=OuterRef("pk"))
        .values("test")
        .annotate(all_sites=GroupConcat("site"))
        .values("all_sites")
    )
    return Subquery(sites, output_field=CharField())


LINE_LISTS: dict[str, LineList] = {
    ll.slug: ll
    for ll in [
        LineList(
            "follow-up-items",
            "Follow-up items",
            "Every follow-up item with its status, result and acknowledgement.",
            lambda: FollowUpItem.objects.live().order_by("due_on", "pk"),
            [
                *_patient_cols("patient__"),
                Col("Follow-up", "kind", _label(c.FollowUpKind)),
                Col("Due", "due_on"),
                Col("Status", "status", _label(c.FollowUpStatus)),
                Col("Booked for", "booked_for"),
                Col("Done", "done_on"),
                Col("Result", "result", _label(c.ImagingOutcome)),
                Col("Result acknowledged", "result_acknowledged_at"),
                Col("Cancelled because", "cancel_reason"),
            ],
            "due_on",
            "Due between",
            "patient__",
        ),
        LineList(
            "recurrence-register",
            "Recurrence register",
            "One row per recurrence site, with the COSD metastatic type and site codes beside our names.",
            lambda: RecurrenceSite.objects.filter(
                recurrence__entered_in_error=False, recurrence__patient__entered_in_error=False
            ).order_by("recurrence__diagnosed_on", "recurrence_id", "pk"),
            [
                *_patient_cols("recurrence__patient__"),
                Col("Recurrence date", "recurrence__diagnosed_on"),
                Col("COSD metastatic type", "metastatic_type", text=True),
                Col("Metastatic type", "metastatic_type", _label(c.MetastaticType), orderable=False),
                Col("COSD metastatic site", "site", lambda site: c.SITE_INFO[site].cosd.value, text=True),
                Col("Site", "site", _label(c.Site), orderable=False),
                Col("Other site", "other_site_text"),
                Col("Status", "recurrence__status", _label(c.RecurrenceStatus)),
                Col("Method of detection", "recurrence__detection_method", _label(c.DetectionMethod)),
                Col("Basis of diagnosis", "recurrence__basis_of_diagnosis", _label(c.BasisOfDiagnosis)),
                Col("Primary diagnosed", "recurrence__primary__diagnosed_on"),
                Col("Primary laterality", "recurrence__primary__laterality", _label(c.Laterality)),
            ],
            "recurrence__diagnosed_on",
            "Recurrence between",
            "recurrence__patient__",
            kind="line-list",
        ),
        LineList(
            "restaging-episodes",
            "Restaging episodes",
            "Each local or regional recurrence's restaging: days to completion and whether the target was met.",
            lambda: RestagingEpisode.objects.live().order_by("opened_on", "pk"),
            [
                *_patient_cols("recurrence__patient__"),
                Col("Recurrence type", "recurrence__metastatic_type", _label(c.MetastaticType)),
                Col("Opened", "opened_on"),
                Col("Target", "target_on"),
                Col("Outcome", "outcome", _label(c.RestagingOutcome)),
                Col("Completed", "closed_on"),
                Col(
                    "Days to completion",
                    "closed_on",
                    derive=_days_to_completion,
                    uses=("opened_on", "closed_on", "outcome"),
                    orderable=False,
                ),
                Col(
                    "Target met",
                    "closed_on",
                    derive=_target_met,
                    uses=("closed_on", "target_on", "outcome"),
                    orderable=False,
                ),
            ],
            "opened_on",
            "Opened between",
            "recurrence__patient__",
        ),
        LineList(
            "staging-tests",
            "Staging tests",
            "Every restaging test with its dates, result and the sites of distant disease found.",
            lambda: StagingTest.objects.live().annotate(sites_found=_staging_sites()).order_by("requested_on", "pk"),
            [
                *_patient_cols("episode__recurrence__patient__"),
                Col("Test", "modality", _label(c.StagingModality)),
                Col("Requested", "requested_on"),
                Col("Performed", "performed_on"),
                Col("Reported", "reported_on"),
                Col("Result", "result", _label(c.StagingResult)),
                Col("Distant disease found in", "sites_found", _sites_label, orderable=False),
                Col("Acknowledged", "acknowledged_at"),
                Col("Cancelled", "cancelled_on"),
            ],
            "requested_on",
            "Requested between",
            "episode__recurrence__patient__",
        ),
        LineList(
            "symptom-reports",
            "Symptom reports",
            "Symptom reports with red flags and triage times.",
            lambda: SymptomReport.objects.live().order_by("reported_on", "pk"),
            [
                *_patient_cols("patient__"),
                Col("Reported", "reported_on"),
                Col("Symptoms started", "onset_on"),
                Col("Area", "area", _label(c.SymptomArea)),
                Col("Red flag", "red_flag", _label(c.RedFlag)),
                Col("Triage outcome", "triage_outcome", _label(c.TriageOutcome)),
                Col("Triaged", "triaged_at"),
                Col(
                    "Days to triage",
                    "triaged_at",
                    derive=_days_between,
                    uses=("reported_on", "triaged_at"),
                    orderable=False,
                ),
            ],
            "reported_on",
            "Reported between",
            "patient__",
        ),
    ]
}


# Summaries ----------------------------------------------------------------------


@dataclass
class Summary:
    slug: str
    title: str
    headers: list[str]
    rows: list[list]
    chart: Chart | None = None
    note: str = ""


@dataclass(frozen=True)
class SummaryDef:
    slug: str
    title: str
    description: str
    build: Callable[..., Summary]
    uses_dates: bool = True
    kind: str = "summary"


def _month(day: date) -> str:
    return day.strftime("%Y-%m")


def _months(start: date, end: date) -> list[str]:
    months, day = [], start.replace(day=1)
    while day <= end:
        months.append(_month(day))
        day = (day + timedelta(days=32)).replace(day=1)
    return months


def percentile(values: list[int], share: float) -> int | None:
    """Nearest-rank percentile: the smallest value with at least ``share`` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def caseload(*, user, team=None, start=None, end=None, today: date) -> Summary:
    """Per named nurse: active patients, overdue, due soon, results to acknowledge."""

    def by_nurse(slug: str) -> dict[int, int]:
        worklist = WORKLISTS[slug]
        rows = worklist.for_user(user, today=today)
        if team:
            rows = rows.filter(**{f"{worklist.patient_prefix}team": team})
        key = f"{worklist.patient_prefix}named_nurse"
        return dict(rows.order_by().values_list(key).annotate(n=Count("pk")))

    patients = Patient.objects.active().visible_to(user)
    if team:
        patients = patients.filter(team=team)
    active = dict(patients.order_by().values_list("named_nurse").annotate(n=Count("pk")))
    overdue, due_soon = by_nurse("overdue"), by_nurse("due-soon")
    results, staging = by_nurse("results"), by_nurse("staging-results")
    nurse_ids = set(active) | set(overdue) | set(due_soon) | set(results) | set(staging)
    nurses = User.objects.filter(pk__in=nurse_ids).select_related("team").order_by("last_name", "first_name")
    rows = [
        [
            n.get_full_name() or n.username,
            str(n.team or ""),
            active.get(n.pk, 0),
            overdue.get(n.pk, 0),
            due_soon.get(n.pk, 0),
            results.get(n.pk, 0) + staging.get(n.pk, 0),
        ]
        for n in nurses
    ]
    headers = ["Named nurse", "Team", "Active patients", "Overdue", "Due soon", "Results to acknowledge"]
    chart = Chart(
        "caseload",
        "Caseload per named nurse",
        "bar",
        [row[0] for row in rows],
        [{"label": h, "data": [row[i] for row in rows]} for i, h in enumerate(headers) if i >= 2],
        headers,
        rows,
    )
    return Summary("caseload", "Caseload per named nurse", headers, rows, chart)


def recurrences_by_month(*, user, team=None, start: date, end: date, today: date) -> Summary:
    rows_qs = Recurrence.objects.not_refuted().visible_to(user).filter(diagnosed_on__range=(start, end))
    if team:
        rows_qs = rows_qs.filter(patient__team=team)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for month, kind, n in (
        rows_qs.annotate(month=TruncMonth("diagnosed_on"))
        .order_by()
        .values_list("month", "metastatic_type")
        .annotate(n=Count("pk"))
    ):
        counts[_month(month)][kind] += n
    types = list(c.MetastaticType)
    months = _months(start, end)
    rows = [[m, *[counts[m][t.value] for t in types], sum(counts[m].values())] for m in months]
    headers = ["Month", *[t.label for t in types], "Total"]
    chart = Chart(
        "recurrences-by-month",
        "Recurrences per month by type",
        "bar",
        months,
        [{"label": t.label, "data": [counts[m][t.value] for m in months]} for t in types],
        headers,
        rows,
        options={"scales": {"x": {"stacked": True}, "y": {"stacked": True, "beginAtZero": True}}},
    )
    return Summary("recurrences-by-month", "Recurrences per month by type", headers, rows, chart)


def restaging_turnaround(*, user, team=None, start: date, end: date, today: date) -> Summary:
    """Completed episodes by month completed: median and 90th percentile days, % within target."""
    episodes = RestagingEpisode.objects.completed().visible_to(user).filter(closed_on__range=(start, end))
    if team:
        episodes = episodes.filter(recurrence__patient__team=team)
    by_month: dict[str, list[tuple[int, bool]]] = defaultdict(list)
    for opened, closed, target in episodes.values_list("opened_on", "closed_on", "target_on"):
        by_month[_month(closed)].append(((closed - opened).days, closed <= target))
    rows = []
    for m in _months(start, end):
        days = [d for d, _ in by_month[m]]
        within = sum(ok for _, ok in by_month[m])
        rows.append(
            [
                m,
                len(days),
                statistics.median(days) if days else None,
                percentile(days, 0.9),
                round(100 * within / len(days), 1) if days else None,
            ]
        )
    headers = ["Month completed", "Episodes", "Median days", "90th percentile days", "% within target"]
    chart = Chart(
        "restaging-turnaround-report",
        "Restaging turnaround",
        "bar",
        [r[0] for r in rows],
        [
            {"label": "Median days", "data": [r[2] for r in rows]},
            {"label": "90th percentile days", "data": [r[3] for r in rows]},
            {
                "label": f"Target ({plural(settings.RESTAGING_TARGET_DAYS, 'day')})",
                "type": "line",
                "data": [settings.RESTAGING_TARGET_DAYS] * len(rows),
            },
        ],
        headers,
        rows,
    )
    return Summary(
        "restaging-turnaround",
        "Restaging turnaround",
        headers,
        rows,
        chart,
        "Median and 90th percentile (nearest rank) of days from recurrence to restaging complete.",
    )


def follow_up_timeliness(*, user, team=None, start: date, end: date, today: date) -> Summary:
    """Items due in each month: done on time (within the grace window), late, missed, still pending."""
    grace = timedelta(days=settings.FOLLOWUP_GRACE_DAYS)
    items = (
        FollowUpItem.objects.live()
        .visible_to(user)
        .filter(due_on__range=(start, end))
        .exclude(status=c.FollowUpStatus.CANCELLED)
    )
    if team:
        items = items.filter(patient__team=team)
    done = Q(status=c.FollowUpStatus.DONE)
    open_ = Q(status__in=c.OPEN_FOLLOWUP_STATUSES)
    counts = (
        items.annotate(month=TruncMonth("due_on"))
        .order_by()
        .values("month")
        .annotate(
            on_time=Count("pk", filter=done & Q(done_on__lte=F("due_on") + grace)),
            late=Count("pk", filter=done & Q(done_on__gt=F("due_on") + grace)),
            missed=Count(
                "pk", filter=Q(status=c.FollowUpStatus.DID_NOT_ATTEND) | (open_ & Q(due_on__lt=today - grace))
            ),
            pending=Count("pk", filter=open_ & Q(due_on__gte=today - grace)),
        )
    )
    by_month = {_month(row["month"]): row for row in counts}
    rows = []
    for m in _months(start, end):
        row = by_month.get(m, {})
        rows.append([m, row.get("on_time", 0), row.get("late", 0), row.get("missed", 0), row.get("pending", 0)])
    headers = ["Month due", "Done on time", "Done late", "Missed", "Not yet due"]
    chart = Chart(
        "follow-up-timeliness",
        "Follow-up done on time, late or missed",
        "bar",
        [r[0] for r in rows],
        [{"label": h, "data": [r[i] for r in rows]} for i, h in enumerate(headers) if i >= 1],
        headers,
        rows,
        options={"scales": {"x": {"stacked": True}, "y": {"stacked": True, "beginAtZero": True}}},
    )
    note = (
        f"On time: done within {plural(settings.FOLLOWUP_GRACE_DAYS, 'day')} of the due date. "
        "Missed: did not attend, or still open past that."
    )
    return Summary("follow-up-timeliness", "Follow-up done on time, late or missed", headers, rows, chart, note)


SUMMARIES: dict[str, SummaryDef] = {
    s.slug: s
    for s in [
        SummaryDef(
            "caseload",
            "Caseload per named nurse",
            "Active patients, overdue, due soon and results to acknowledge, per named nurse.",
            caseload,
            uses_dates=False,
        ),
        SummaryDef(
            "recurrences-by-month",
            "Recurrences per month by type",
            "Suspected and confirmed recurrences by the month clinically agreed.",
            recurrences_by_month,
        ),
        SummaryDef(
            "restaging-turnaround",
            "Restaging turnaround",
            "Median, 90th percentile and % within target, by month completed.",
            restaging_turnaround,
        ),
        SummaryDef(
            "follow-up-timeliness",
            "Follow-up on time, late or missed",
            "Follow-up items by the month they were due.",
            follow_up_timeliness,
        ),
    ]
}
