"""Reports: line lists and summaries on screen, and their CSV/XLSX downloads; worklist downloads."""

from datetime import date, datetime, timedelta

import django_tables2 as tables
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_GET
from django_filters.views import FilterView

from .. import choices as c
from ..db import reporting
from ..display import show_date, show_datetime
from ..exports import csv_response, period_label, start_log, xlsx_response
from ..filters import SummaryFilterForm, report_filter_for
from ..models import ExportLog
from ..nhs import format_nhs_number
from ..reports import LINE_LISTS, SUMMARIES, LineList

FORMATS = {c.ExportFormat.CSV, c.ExportFormat.XLSX}


def requested_format(request) -> str | None:
    fmt = request.GET.get("export")
    return fmt if fmt in FORMATS else None


def download_links(request) -> dict[str, str]:
    links = {}
    for fmt in FORMATS:
        query = request.GET.copy()
        query["export"] = fmt
        query.pop("page", None)
        links[fmt] = f"?{query.urlencode()}"
    return links


@reporting()
def export(request, *, report: str, title: str, fmt: str, headers, rows, filters: dict, text_columns=frozenset()):
    """A download of exactly these rows, recorded in the export log with the ``filters`` that chose
    them (as applied, not as asked for); read from the replica if there is one."""
    log = start_log(user=request.user, report=report, fmt=fmt, filters=filters)
    filename = f"{report}-{timezone.localdate().isoformat()}"
    if fmt == c.ExportFormat.CSV:
        return csv_response(filename=filename, headers=headers, rows=rows, log=log)
    return xlsx_response(filename=filename, title=title, headers=headers, rows=rows, log=log, text_columns=text_columns)


def _display(value):
    if isinstance(value, datetime):
        return show_datetime(value)
    if isinstance(value, date):
        return show_date(value)
    return "" if value is None else value


class ReportColumn(tables.Column):
    """Shows one report column exactly as the export writes it (dates in words on screen)."""

    def __init__(self, col, **kwargs):
        self.col = col
        super().__init__(
            verbose_name=col.header,
            accessor="pk",
            orderable=col.orderable,
            order_by=(col.key,),
            empty_values=(),
            **kwargs,
        )

    def render(self, record):
        value = self.col.value(record)
        if self.col.header == "NHS number" and value:
            return format_html('<span class="nhsuk-u-nowrap">{}</span>', format_nhs_number(value))
        return _display(value)


def table_for(line_list: LineList) -> type[tables.Table]:
    columns = {f"c{i}": ReportColumn(col) for i, col in enumerate(line_list.columns)}
    meta = type(
        "Meta",
        (),
        {
            "template_name": "django_tables2/nhsuk.html",
            "attrs": {"class": "nhsuk-table nhsuk-table--responsive app-report"},
            "empty_text": "No rows for these filters.",
        },
    )
    return type(f"{line_list.slug}-table", (tables.Table,), {**columns, "Meta": meta})


@require_GET
def report_index(request):
    context = {
        "line_lists": LINE_LISTS.values(),
        "summaries": SUMMARIES.values(),
        "recent_exports": ExportLog.objects.filter(user=request.user)[:10],
    }
    return render(request, "followup/reports.html", context)


class LineListView(tables.SingleTableMixin, FilterView):
    template_name = "followup/report_line_list.html"
    table_pagination = {"per_page": 50}

    def dispatch(self, request, *args, **kwargs):
        self.line_list = LINE_LISTS.get(kwargs["slug"])
        if self.line_list is None:
            raise Http404("No such report.")
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return self.line_list.base().visible_to(self.request.user)

    def get_filterset_class(self):
        return report_filter_for(self.line_list)

    def get_table_class(self):
        return table_for(self.line_list)

    def get_table_data(self):
        return self.line_list.values(self.object_list)

    @reporting()
    def get(self, request, *args, **kwargs):
        fmt = requested_format(request)
        if fmt:
            filterset = self.get_filterset(self.get_filterset_class())
            if filterset.is_valid():
                values = self.line_list.values(filterset.qs)
                return export(
                    request,
                    report=self.line_list.slug,
                    title=self.line_list.title,
                    fmt=fmt,
                    headers=self.line_list.headers,
                    rows=lambda: self.line_list.rows(values),
                    filters=filterset.applied(),
                    text_columns=self.line_list.text_columns,
                )
        # Rendered here, inside reporting(): the table reads its rows while it renders.
        return super().get(request, *args, **kwargs).render()

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            report=self.line_list,
            downloads=download_links(self.request),
            filter_summary=self.filterset.summary(),
            filter_clear_url=self.request.path,
            **kwargs,
        )


def _default_period(today: date) -> tuple[date, date]:
    start = (today.replace(day=1) - timedelta(days=330)).replace(day=1)
    return start, today


@require_GET
@reporting()
def summary(request, slug):
    definition = SUMMARIES.get(slug)
    if definition is None:
        raise Http404("No such report.")
    today = timezone.localdate()
    form = SummaryFilterForm(request.GET or None, user=request.user, uses_dates=definition.uses_dates)
    start, end = _default_period(today)
    team = None
    if form.is_bound and form.is_valid():
        team = form.cleaned_data.get("team")
        start = form.cleaned_data.get("start") or start
        end = form.cleaned_data.get("end") or end
    result = definition.build(user=request.user, team=team, start=start, end=end, today=today)
    fmt = requested_format(request)
    if fmt and (not form.is_bound or form.is_valid()):
        applied = {"team": team}
        if definition.uses_dates:
            asked = form.is_bound and (form.cleaned_data.get("start") or form.cleaned_data.get("end"))
            applied["period"] = period_label(start, end, default=not asked)
        return export(
            request,
            report=slug,
            title=definition.title,
            fmt=fmt,
            headers=result.headers,
            rows=lambda: iter([tuple(row) for row in result.rows]),
            filters=applied,
        )
    context = {
        "definition": definition,
        "summary": result,
        "form": form,
        "period": (start, end),
        "downloads": download_links(request),
    }
    return render(request, "followup/report_summary.html", context)
