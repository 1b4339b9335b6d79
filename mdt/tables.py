"""The table of "Recurrence not yet discussed at MDT" (followup/tables' columns and base table)."""

import django_tables2 as tables
from django.template.defaultfilters import pluralize
from django.utils.html import format_html

from followup.tables import (
    ActionsColumn,
    DateColumn,
    NhsNumberColumn,
    NurseColumn,
    PatientColumn,
    WorklistTable,
    row_patient_name,
    tag,
    url_for,
)
from followup.tables.cells import ROW_EXTRA_LINKS, _today, link_list


def sites_of(recurrence) -> str:
    """The recurrence's sites, from its prefetched sites (no query)."""
    return ", ".join(str(site) for site in recurrence.sites.all()) or "no site recorded"


class RecordDiscussionColumn(ActionsColumn):
    """The row's action: record the MDT discussion (a link; the form needs a page of its own)."""

    def __init__(self):
        super().__init__("links")

    def render(self, record, table):
        page = self.page_of(table)
        if not page["may_act"]:
            return ""
        # The list's own action, then what every worklist row offers ("Add a task": ROW_EXTRA_LINKS).
        links = [("Record MDT discussion", url_for("mdt:discussion_record", record.pk))]
        links += [link(record) for link in ROW_EXTRA_LINKS]
        return link_list(links, page, row_patient_name(record))


class NotDiscussedTable(WorklistTable):
    actions = RecordDiscussionColumn()
    patient = PatientColumn()
    nhs_number = NhsNumberColumn(visible=False)
    named_nurse = NurseColumn()
    recurrence = tables.Column(verbose_name="Recurrence", accessor="metastatic_type", order_by=("metastatic_type",))
    status = tables.Column(verbose_name="Status")
    diagnosed_on = DateColumn(verbose_name="Diagnosed on")
    days_since = tables.Column(
        verbose_name="Days since the recurrence", accessor="diagnosed_on", order_by=("-diagnosed_on",)
    )

    class Meta(WorklistTable.Meta):
        sequence = ("patient", "nhs_number", "named_nurse", "recurrence", "status", "diagnosed_on", "days_since")
        order_by = ("diagnosed_on",)
        row_attrs = {"class": "app-row--overdue"}

    def render_recurrence(self, record):
        return format_html("{}: {}", record.get_metastatic_type_display(), sites_of(record))

    def value_recurrence(self, record):
        return f"{record.get_metastatic_type_display()}: {sites_of(record)}"

    def render_status(self, record):
        colour = "red" if record.status == "confirmed" else "yellow"
        return tag(record.get_status_display(), colour)

    def value_status(self, record):
        return record.get_status_display()

    def render_days_since(self, value):
        days = (_today() - value).days
        return f"{days} day{pluralize(days)}"

    def value_days_since(self, value):
        return (_today() - value).days
