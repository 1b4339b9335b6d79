"""Dashboard charts: the data, and the same data as a table for those who cannot see the chart."""

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Count
from django.db.models.functions import TruncQuarter

from . import choices as c
from .display import plural
from .models import Recurrence, RestagingEpisode


@dataclass
class Chart:
    id: str
    title: str
    kind: str  # Chart.js type
    labels: list[str]
    datasets: list[dict]
    headers: list[str]
    rows: list[list]
    summary: str = ""
    options: dict = field(default_factory=dict)

    def config(self) -> dict:
        return {"type": self.kind, "labels": self.labels, "datasets": self.datasets, "options": self.options}


def overdue_by_nurse(data: list[tuple[str, int]]) -> Chart:
    """From worklists.overdue_by_nurse(): (named nurse, overdue items) of the overdue list in the user's scope."""
    return Chart(
        "overdue-by-nurse",
        "Overdue follow-up items by named nurse",
        "bar",
        [name for name, _ in data],
        [{"label": "Overdue items", "data": [n for _, n in data]}],
        ["Named nurse", "Overdue items"],
        [[name, n] for name, n in data],
        f"{plural(sum(n for _, n in data), 'overdue item')} in all.",
    )


def _quarter_label(day: date) -> str:
    return f"{day.year} Q{(day.month - 1) // 3 + 1}"


def recurrences_by_quarter(user, *, today: date, quarters: int = 8) -> Chart:
    first_month = ((today.month - 1) // 3) * 3 + 1
    start = date(today.year, first_month, 1)
    for _ in range(quarters - 1):
        start = (start - timedelta(days=1)).replace(day=1)
        start = date(start.year, ((start.month - 1) // 3) * 3 + 1, 1)
    rows = (
        Recurrence.objects.not_refuted()
        .visible_to(user)
        .filter(diagnosed_on__gte=start)
        .annotate(quarter=TruncQuarter("diagnosed_on"))
        .values("quarter", "metastatic_type")
        .annotate(n=Count("pk"))
        .order_by("quarter")
    )
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        counts[_quarter_label(row["quarter"])][row["metastatic_type"]] += row["n"]
    labels, day = [], start
    for _ in range(quarters):
        labels.append(_quarter_label(day))
        day = date(day.year + (day.month + 3 > 12), (day.month + 2) % 12 + 1, 1)
    types = list(c.MetastaticType)
    return Chart(
        "recurrences-by-quarter",
        "Recurrences by type per quarter",
        "bar",
        labels,
        [{"label": t.label, "data": [counts[q][t.value] for q in labels]} for t in types],
        ["Quarter", *[t.label for t in types]],
        [[q, *[counts[q][t.value] for t in types]] for q in labels],
        "Suspected and confirmed recurrences (refuted ones left out), by the date clinically agreed.",
        {"scales": {"x": {"stacked": True}, "y": {"stacked": True, "beginAtZero": True}}},
    )


def restaging_turnaround(user, *, today: date, months: int = 12) -> Chart:
    target = settings.RESTAGING_TARGET_DAYS
    since = (today.replace(day=1) - timedelta(days=31 * (months - 1))).replace(day=1)
    episodes = (
        RestagingEpisode.objects.completed()
        .visible_to(user)
        .filter(closed_on__gte=since)
        .values_list("opened_on", "closed_on")
    )
    by_month: dict[str, list[int]] = defaultdict(list)
    for opened_on, closed_on in episodes:
        by_month[closed_on.strftime("%Y-%m")].append((closed_on - opened_on).days)
    labels, day = [], since
    while day <= today:
        labels.append(day.strftime("%Y-%m"))
        day = (day + timedelta(days=32)).replace(day=1)
    medians = [statistics.median(by_month[m]) if by_month[m] else None for m in labels]
    within = [sum(d <= target for d in by_month[m]) for m in labels]
    return Chart(
        "restaging-turnaround",
        "Days from recurrence to restaging complete",
        "bar",
        labels,
        [
            {"label": "Median days", "data": medians},
            {"label": f"Target ({plural(target, 'day')})", "data": [target] * len(labels), "type": "line"},
        ],
        ["Month completed", "Episodes", "Median days", f"Within {plural(target, 'day')}"],
        [[m, len(by_month[m]), medians[i] if medians[i] is not None else "", within[i]] for i, m in enumerate(labels)],
        f"Target: restaging complete within {plural(target, 'day')} of the recurrence.",
        {"scales": {"y": {"beginAtZero": True}}},
    )


def dashboard_charts(user, *, today: date, overdue: list[tuple[str, int]]) -> list[Chart]:
    return [
        overdue_by_nurse(overdue),
        recurrences_by_quarter(user, today=today),
        restaging_turnaround(user, today=today),
    ]
