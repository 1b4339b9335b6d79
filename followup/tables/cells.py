"""What every worklist table is made of: row URLs, cells and columns, the row actions, the base table."""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

import django_tables2 as tables
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join

from contacts.models import last_contact_words

from .. import choices as c
from ..display import DATE_FORMAT
from ..models import FollowUpItem, Patient, RestagingEpisode, StagingTest, patient_of
from ..nhs import format_nhs_number
from ..permissions import can_act
from ..querysets import waits_for_classification

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


# Links every worklist row offers, whatever the row is: (label, url) for the row's record. Other apps
# add theirs when they load (tasks: "Add a task" for the row's patient).
ROW_EXTRA_LINKS: list[Callable[[object], tuple[str, str]]] = []


def last_contact_cell(record) -> str:
    """The patient's most recent contact, under the name, on a row annotated with it
    (contacts.models.with_last_contact()): "Last contact: phoned 28 Nov, no answer"."""
    words = last_contact_words(record)
    return format_html('<br><span class="app-row-secondary app-last-contact">{}</span>', words) if words else ""


def log_contact_link(record, page) -> str:
    """A row's "Log a contact", coming back to the list (``next``) once the contact is saved."""
    patient = patient_of(record)
    return format_html(
        '<p class="nhsuk-u-margin-bottom-0 nhsuk-u-font-size-16 app-row-contact">'
        '<a class="nhsuk-link" href="{}?next={}">Log a contact'
        '<span class="nhsuk-u-visually-hidden"> for {}</span></a></p>',
        url_for("contacts:contact_add", patient.pk),
        quote(page["next"], safe="/"),
        patient.display_name,
    )


def acknowledge_url(record) -> str:
    name = "followup:staging_acknowledge" if isinstance(record, StagingTest) else "followup:item_acknowledge"
    return url_for(name, record.pk)


def _today() -> date:
    return timezone.localdate()


def tag(text: str, colour: str = "") -> str:
    modifier = f" nhsuk-tag--{colour}" if colour else ""
    return format_html('<strong class="nhsuk-tag{}">{}</strong>', modifier, text)


def nhs_number_cell(value: str) -> str:
    if not value:
        return format_html('<span class="app-missing">{}</span>', "Not recorded")
    return format_html('<span class="app-nowrap">{}</span>', format_nhs_number(value))


class PatientColumn(tables.Column):
    """The patient's name, linking to their page, with the NHS number under it (a worklist needs
    no column of its own for it: the download still has one, NhsNumberColumn); sorts by surname."""

    def __init__(self, prefix: str = "patient__", *, with_nhs_number: bool = True, **kwargs):
        self.prefix = prefix
        self.with_nhs_number = with_nhs_number
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
        link = format_html(
            '<a class="nhsuk-link" href="{}">{}</a>',
            url_for("followup:patient_detail", patient.pk),
            patient.display_name,
        )
        if not self.with_nhs_number:
            return link
        return format_html(
            '{}<br><span class="app-row-secondary"><span class="nhsuk-u-visually-hidden">NHS number: </span>{}</span>'
            "{}",
            link,
            nhs_number_cell(patient.nhs_number),
            last_contact_cell(record),
        )

    def value(self, record):
        """In a download: the name only (the NHS number has its own column there)."""
        return self.patient(record).display_name


class NhsNumberColumn(tables.Column):
    def __init__(self, prefix: str = "patient__", **kwargs):
        super().__init__(verbose_name="NHS number", accessor=f"{prefix}nhs_number", empty_values=(), **kwargs)

    def render(self, value):
        return nhs_number_cell(value)

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
        name = row_patient_name(record)
        html = ROW_ACTIONS[self.kind](record, page, name, record.version, RowErrors())
        if table.log_contact:
            html = format_html("{}{}", html, log_contact_link(record, page))
        if self.kind in ("links", "pifu") or not ROW_EXTRA_LINKS:
            return html  # the links already end with the extra ones (_links, _pifu)
        return format_html("{}{}", html, link_list([link(record) for link in ROW_EXTRA_LINKS], page, name))


@dataclass(frozen=True)
class RowErrors:
    """What a row's form says after an htmx post was refused: the errors of its one control
    (``field``), the others (a conflict, "no result yet"), and the value the user had chosen."""

    field: tuple[str, ...] = ()
    other: tuple[str, ...] = ()
    chosen: str | None = None

    def __bool__(self) -> bool:
        return bool(self.field or self.other)


def link_list(links, page, name) -> str:
    quoted = quote(page["next"], safe="/")
    items = format_html_join(
        "",
        '<li><a class="nhsuk-link" href="{}?next={}">{}<span class="nhsuk-u-visually-hidden"> for {}</span></a></li>',
        ((url, quoted, label, name) for label, url in links),
    )
    return format_html('<ul class="app-inline-links nhsuk-u-margin-bottom-0">{}</ul>', items)


def _links(record, page, name, version, errors):
    return link_list([*row_links(record), *(link(record) for link in ROW_EXTRA_LINKS)], page, name)


def _form(url, page, version, body):
    return format_html(
        '<form class="app-row-form" method="post" action="{url}" hx-post="{url}" hx-target="closest tr" '
        'hx-swap="outerHTML"><input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">'
        '<input type="hidden" name="next" value="{next}"><input type="hidden" name="version" value="{version}">'
        "{body}</form>",
        url=url,
        csrf=page["csrf"],
        next=page["next"],
        version=version,
        body=body,
    )


def _error_message(error_id: str, messages, *, full_form: str = "") -> str:
    """The NHS.UK error message, beside the control it is about (aria-describedby); a refusal the
    control cannot fix (someone else's change) links to the full form, which shows it."""
    link = format_html(' <a class="nhsuk-link" href="{}">Open the full form</a>', full_form) if full_form else ""
    return format_html(
        '<span class="nhsuk-error-message" id="{}"><span class="nhsuk-u-visually-hidden">Error:</span> {}{}</span>',
        error_id,
        " ".join(str(message) for message in messages),
        link,
    )


def _group(body, errors) -> str:
    error_class = " nhsuk-form-group--error" if errors else ""
    return format_html('<div class="nhsuk-form-group{}">{}</div>', error_class, body)


def _control_attrs(error_id: str, errors) -> str:
    """aria-describedby and autofocus on the control of a refused form: htmx moves the focus to it."""
    return format_html(' aria-describedby="{}" autofocus', error_id) if errors else ""


def _full_form(url: str, page) -> str:
    return f"{url}?next={quote(page['next'], safe='/')}"


def classify_url(record) -> str:
    name = "followup:staging_classify" if isinstance(record, StagingTest) else "followup:item_classify"
    return url_for(name, record.pk)


def _acknowledge(record, page, name, version, errors):
    if waits_for_classification(record):
        # No one-click acknowledgement: the report is read and classified on its own page (H22).
        return link_list([("Classify and acknowledge", classify_url(record))], page, name)
    url = acknowledge_url(record)
    error_id = f"acknowledge-{record.pk}-error"
    message = _error_message(error_id, errors.field + errors.other, full_form=_full_form(url, page)) if errors else ""
    body = format_html(
        '{}<button class="nhsuk-button nhsuk-button--secondary nhsuk-button--small nhsuk-u-margin-bottom-0" '
        'type="submit"{}>Acknowledge<span class="nhsuk-u-visually-hidden"> {} for {}</span></button>',
        message,
        _control_attrs(error_id, errors),
        record,
        name,
    )
    return _form(url, page, version, _group(body, errors) if errors else body)


def _triage(record, page, name, version, errors):
    url = url_for("followup:symptom_triage", record.pk)
    if errors.chosen is None:
        # A suspected cord compression is urgent: offered as the choice already made.
        chosen = c.TriageOutcome.URGENT if record.red_flag == c.RedFlag.CORD_COMPRESSION else ""
    else:
        chosen = errors.chosen
    options = format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((value, " selected" if value == chosen else "", label) for value, label in c.TriageOutcome.choices),
    )
    error_id = f"triage-{record.pk}-error"
    message = ""
    if errors:
        full_form = _full_form(url, page) if errors.other else ""
        message = _error_message(error_id, errors.field + errors.other, full_form=full_form)
    select_class = "nhsuk-select nhsuk-select--error" if errors else "nhsuk-select"
    field = format_html(
        '<label class="nhsuk-label nhsuk-u-font-size-16" for="triage-{pk}">Triage'
        '<span class="nhsuk-u-visually-hidden"> {name}</span></label>{message}'
        '<select class="{select_class} nhsuk-u-font-size-16" id="triage-{pk}" name="outcome"{attrs}>'
        '<option value="">Choose an outcome</option>{options}</select>',
        pk=record.pk,
        name=name,
        message=message,
        select_class=select_class,
        attrs=_control_attrs(error_id, errors),
        options=options,
    )
    body = format_html(
        '{}<button class="nhsuk-button nhsuk-button--secondary nhsuk-button--small nhsuk-u-margin-bottom-0" '
        'type="submit">Save<span class="nhsuk-u-visually-hidden"> triage for {}</span></button>',
        _group(field, errors),
        name,
    )
    return _form(url, page, version, body)


def _pifu(record, page, name, version, errors):
    """A patient whose PIFU ends: end it (discharge with the letters, the letters app), or change the period."""
    period = url_for("followup:patient_pifu_period", record.pk)
    if record.pifu_ends_on is None:  # no period: it would never end; set one first
        links = [("Set the PIFU period", period)]
    else:
        links = [("End PIFU", url_for("letters:pifu_end", record.pk)), ("Change the PIFU period", period)]
    return link_list([*links, *(link(record) for link in ROW_EXTRA_LINKS)], page, name)


ROW_ACTIONS = {"links": _links, "acknowledge": _acknowledge, "triage": _triage, "pifu": _pifu}


def row_form_refused(kind: str, record, *, request, next_url: str, version: str, errors: dict, chosen: str = "") -> str:
    """A row's form again after htmx posted it and the action refused it (``errors``: a form's
    errors by field, "__all__" for the others): the errors beside the control, the focus on it,
    and the version the user sent (a second press after someone else's change is refused again:
    the full form shows what changed)."""
    field = "outcome" if kind == "triage" else ""
    page = {"may_act": True, "next": next_url, "csrf": get_token(request)}
    refused = RowErrors(
        field=tuple(str(error) for error in errors.get(field, ())) if field else (),
        other=tuple(str(error) for name, found in errors.items() if name != field for error in found),
        chosen=chosen,
    )
    return ROW_ACTIONS[kind](record, page, row_patient_name(record), version, refused)


class WorklistTable(tables.Table):
    # The rows offer "Log a contact" (the contacts app), back to this list after saving.
    log_contact = False

    class Meta:
        template_name = "django_tables2/nhsuk.html"
        attrs = {"class": "nhsuk-table nhsuk-table--responsive app-worklist"}
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
