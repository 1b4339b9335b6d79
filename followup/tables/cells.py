"""What every worklist table is made of: row URLs, cells and columns, the row actions, the base table."""

import functools
from datetime import date
from urllib.parse import quote

import django_tables2 as tables
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join

from .. import choices as c
from ..display import DATE_FORMAT
from ..models import FollowUpItem, Patient, RestagingEpisode, StagingTest, patient_of
from ..nhs import format_nhs_number
from ..permissions import can_act

_PK = 2147483647  # a primary key no URL here contains otherwise


@functools.cache
def _url_pattern(name: str) -> str:
    return reverse(name, args=[_PK])


def url_for(name: str, pk: int) -> str:
    """reverse(name, args=[pk]) for the URLs of a row, without resolving the pattern once a cell."""
    return _url_pattern(name).replace(str(_PK), str(pk))


def _cached_signature(original):
    """django-tables2 inspects the signature of a render method for every cell it draws
    (a fifth of a table's time); the signature of a function does not change."""
    cache = {}

    def signature(fn):
        key = (getattr(fn, "__func__", fn), hasattr(fn, "__self__"))
        if key not in cache:
            cache[key] = original(fn)
        return cache[key]

    return signature


tables.utils.signature = _cached_signature(tables.utils.signature)


def row_patient_name(record) -> str:
    return patient_of(record).display_name


def row_links(record) -> list[tuple[str, str]]:
    """The actions a worklist row offers, by what the row is."""

    def url(name):
        return url_for(f"followup:{name}", record.pk)

    if isinstance(record, FollowUpItem):
        if record.result_awaited:
            return [("Record the result", url("item_result"))]
        return [("Record done", url("item_done")), ("Book", url("item_book")), ("Did not attend", url("item_dna"))]
    if isinstance(record, StagingTest):
        return [("Record secondary breast cancer", url("secondary_from_test"))]
    if isinstance(record, RestagingEpisode):
        return [("Request a test", url("staging_request"))]
    if isinstance(record, Patient):
        return [("Add a follow-up item", url("item_add")), ("Change details", url("patient_edit"))]
    return []


def acknowledge_url(record) -> str:
    name = "followup:staging_acknowledge" if isinstance(record, StagingTest) else "followup:item_acknowledge"
    return url_for(name, record.pk)


def _today() -> date:
    return timezone.localdate()


def tag(text: str, colour: str = "") -> str:
    modifier = f" nhsuk-tag--{colour}" if colour else ""
    return format_html('<strong class="nhsuk-tag{}">{}</strong>', modifier, text)


class PatientColumn(tables.Column):
    """The patient's name, linking to their page; sorts by surname."""

    def __init__(self, prefix: str = "patient__", **kwargs):
        self.prefix = prefix
        # On a patient row the record is the patient: resolve something that always exists.
        self.path = prefix.rstrip("_")
        super().__init__(
            verbose_name="Patient",
            accessor=self.path or "pk",
            order_by=(f"{prefix}family_name", f"{prefix}given_name"),
            empty_values=(),
            **kwargs,
        )

    def patient(self, record):
        return tables.A(self.path).resolve(record) if self.path else record

    def render(self, record):
        patient = self.patient(record)
        return format_html(
            '<a class="nhsuk-link" href="{}">{}</a>',
            url_for("followup:patient_detail", patient.pk),
            patient.display_name,
        )


class NhsNumberColumn(tables.Column):
    def __init__(self, prefix: str = "patient__", **kwargs):
        super().__init__(verbose_name="NHS number", accessor=f"{prefix}nhs_number", empty_values=(), **kwargs)

    def render(self, value):
        if not value:
            return format_html('<span class="app-missing">{}</span>', "Not recorded")
        return format_html('<span class="nhsuk-u-nowrap">{}</span>', format_nhs_number(value))

    def value(self, value):
        """In a download: the 10 digits, as the report downloads write it (README, "Reports")."""
        return value or ""


class NurseColumn(tables.Column):
    def __init__(self, prefix: str = "patient__", **kwargs):
        super().__init__(
            verbose_name="Named nurse",
            accessor=f"{prefix}named_nurse",
            order_by=(f"{prefix}named_nurse__last_name", f"{prefix}named_nurse__first_name"),
            **kwargs,
        )

    def render(self, value):
        return value.get_full_name() or value.username


class DateColumn(tables.Column):
    """A date as every page writes it ("7 Mar 2026"); in a download the date itself (ISO in CSV,
    a date cell in XLSX), as the report downloads write it.

    Not django-tables2's DateColumn: that compiles its template once a cell
    (a quarter of a worklist table's time).
    """

    def __init__(self, *, format: str = DATE_FORMAT, **kwargs):
        self.format = format
        super().__init__(**kwargs)

    def render(self, value):
        return date_format(value, self.format)

    def value(self, value):
        return value


class ActionsColumn(tables.Column):
    """The row's actions (links, or an htmx form to acknowledge or triage in place).

    Written in Python, not a template per row: the template include was a third of
    a worklist page's server time at 100,000 patients (docs/performance.md). What is
    the same for every row (may the user act, the page to come back to, the CSRF
    token) is worked out once per table.
    """

    def __init__(self, kind: str):
        self.kind = kind
        super().__init__(
            verbose_name="Action",
            accessor="pk",
            orderable=False,
            empty_values=(),
            attrs={"th": {"class": "app-visually-hidden-header"}},
        )

    @staticmethod
    def page_of(table) -> dict:
        page = getattr(table, "_action_page", None)
        if page is None:
            request = table.request
            page = table._action_page = {
                "may_act": can_act(request.user),
                "next": request.get_full_path(),
                "csrf": get_token(request),
            }
        return page

    def render(self, record, table):
        page = self.page_of(table)
        if not page["may_act"]:
            return ""
        return getattr(self, f"_{self.kind}")(record, page, row_patient_name(record))

    @staticmethod
    def _links(record, page, name):
        quoted = quote(page["next"], safe="/")
        items = format_html_join(
            "",
            '<li><a class="nhsuk-link" href="{}?next={}">{}'
            '<span class="nhsuk-u-visually-hidden"> for {}</span></a></li>',
            ((url, quoted, label, name) for label, url in row_links(record)),
        )
        return format_html('<ul class="app-inline-links nhsuk-u-margin-bottom-0">{}</ul>', items)

    @staticmethod
    def _form(url, page, record, body):
        return format_html(
            '<form class="app-row-form" method="post" action="{url}" hx-post="{url}" hx-target="closest tr" '
            'hx-swap="outerHTML"><input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">'
            '<input type="hidden" name="next" value="{next}"><input type="hidden" name="version" value="{version}">'
            "{body}</form>",
            url=url,
            csrf=page["csrf"],
            next=page["next"],
            version=record.version,
            body=body,
        )

    def _acknowledge(self, record, page, name):
        body = format_html(
            '<button class="nhsuk-button nhsuk-button--secondary nhsuk-button--small nhsuk-u-margin-bottom-0" '
            'type="submit">Acknowledge<span class="nhsuk-u-visually-hidden"> {} for {}</span></button>',
            record,
            name,
        )
        return self._form(acknowledge_url(record), page, record, body)

    def _triage(self, record, page, name):
        # A suspected cord compression is urgent: offered as the choice already made.
        urgent_first = record.red_flag == c.RedFlag.CORD_COMPRESSION
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (value, " selected" if urgent_first and value == c.TriageOutcome.URGENT else "", label)
                for value, label in c.TriageOutcome.choices
            ),
        )
        body = format_html(
            '<label class="nhsuk-label nhsuk-u-font-size-16" for="triage-{pk}">Triage'
            '<span class="nhsuk-u-visually-hidden"> {name}</span></label>'
            '<select class="nhsuk-select nhsuk-u-font-size-16" id="triage-{pk}" name="outcome">'
            '<option value="">Choose an outcome</option>{options}</select>'
            '<button class="nhsuk-button nhsuk-button--secondary nhsuk-button--small nhsuk-u-margin-bottom-0" '
            'type="submit">Save<span class="nhsuk-u-visually-hidden"> triage for {name}</span></button>',
            pk=record.pk,
            name=name,
            options=options,
        )
        return self._form(url_for("followup:symptom_triage", record.pk), page, record, body)


class WorklistTable(tables.Table):
    class Meta:
        template_name = "django_tables2/nhsuk.html"
        attrs = {"class": "nhsuk-table app-worklist"}
        empty_text = "Nobody is on this list."

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A download writes each date and NHS number as its column's value(), also where a
        # render_<name> below adds a tag for the screen ("Past target"): django-tables2 would
        # otherwise export the rendered text.
        for bound in self.columns.iterall():
            if isinstance(bound.column, DateColumn | NhsNumberColumn):
                bound.value = bound.column.value

    def text_columns(self, *, exclude_columns=()) -> set[int]:
        """Where as_values() puts the NHS numbers: text cells in XLSX (an identifier, not a number)."""
        exported = [
            bound
            for bound in self.columns.iterall()
            if not (bound.column.exclude_from_export or bound.name in exclude_columns)
        ]
        return {i for i, bound in enumerate(exported) if isinstance(bound.column, NhsNumberColumn)}
