"""The table of "Unmatched results": what each message says, as it said it, and why it was not placed."""

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html

from followup.display import show_date
from followup.nhs import format_nhs_number
from followup.tables import ActionsColumn, DateColumn, NurseColumn, WorklistTable
from followup.tables.cells import link_list, url_for


def name_in_message(message) -> str:
    """The name as the message gives it: "OKONJO, Ada", or "No name"."""
    family, given = message.family_name.upper(), message.given_name
    return ", ".join(part for part in (family, given) if part) or "No name"


class PlaceColumn(ActionsColumn):
    """The row's action: open the message to place it by hand (a nurse or an admin)."""

    def __init__(self):
        super().__init__("links")

    def render(self, record, table):
        page = self.page_of(table)
        if not page["may_act"]:
            return ""
        url = url_for("integration:inbox_message", record.pk)
        return link_list([("Place this result", url)], page, name_in_message(record))


class UnmatchedTable(WorklistTable):
    """On screen the sender under the time received, the report date under the exam and the date of birth
    under the name (every row's controls fit a 1024-pixel screen); a download has a column for each."""

    actions = PlaceColumn()
    received_at = tables.Column(verbose_name="Received", order_by=("received_at", "pk"))
    client = tables.Column(verbose_name="From", accessor="client__name", order_by=("client__name",), visible=False)
    exam = tables.Column(
        verbose_name="Exam", accessor="exam_name", order_by=("exam_name", "exam_code"), empty_values=()
    )
    nhs_number = tables.Column(verbose_name="NHS number in the message", empty_values=())
    named = tables.Column(verbose_name="Name in the message", accessor="family_name", empty_values=())
    date_of_birth = DateColumn(verbose_name="Date of birth in the message", visible=False)
    reported_on = DateColumn(verbose_name="Reported", visible=False)
    reason = tables.Column(verbose_name="Why unmatched", orderable=False, empty_values=())
    named_nurse = NurseColumn(visible=False, exclude_from_export=True)

    class Meta(WorklistTable.Meta):
        sequence = ("received_at", "client", "exam", "nhs_number", "named", "date_of_birth", "reported_on", "reason")
        order_by = ("received_at",)
        row_attrs = {"class": "app-row--overdue"}
        empty_text = "No result is waiting to be placed."

    def render_received_at(self, record, value):
        return format_html(
            '<span class="app-nowrap">{}</span><br><span class="app-row-secondary">From {}</span>',
            show_date(value),
            record.client.name,
        )

    def value_received_at(self, value):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")

    def render_exam(self, record):
        name = record.exam_name or "No exam name"
        code = f"{record.exam_system} {record.exam_code}".strip()
        reported = f"reported {show_date(record.reported_on)}" if record.reported_on else "no report date"
        secondary = ", ".join(part for part in (code, reported) if part)
        return format_html('{}<br><span class="app-row-secondary">{}</span>', name, secondary)

    def value_exam(self, record):
        return " ".join(part for part in (record.exam_name, record.exam_system, record.exam_code) if part)

    def render_nhs_number(self, value):
        if not value:
            return format_html('<span class="app-missing">{}</span>', "None")
        shown = format_nhs_number(value) if len(value) == 10 else value
        return format_html('<span class="app-nowrap">{}</span>', shown)

    def value_nhs_number(self, value):
        return value

    def render_named(self, record):
        born = f"Born {show_date(record.date_of_birth)}" if record.date_of_birth else "No date of birth"
        return format_html('{}<br><span class="app-row-secondary">{}</span>', name_in_message(record), born)

    def value_named(self, record):
        return name_in_message(record)

    def render_reason(self, value):
        return value or "Received, not yet read: it could not be placed automatically."
