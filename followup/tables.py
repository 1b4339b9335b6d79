"""django-tables2 tables for the worklists and patient search.

Every table reads only what its QuerySet already joined (see worklists.py), so a
page costs the same number of queries whatever its length.
"""

import functools
from datetime import date
from urllib.parse import quote

import django_tables2 as tables
from django.conf import settings
from django.db.models import F
from django.middleware.csrf import get_token
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join

from . import choices as c
from . import services
from .display import DATE_FORMAT, show_date
from .filters import DATA_QUALITY_PROBLEMS
from .models import FollowUpItem, Patient, RestagingEpisode, StagingTest, patient_of
from .nhs import format_nhs_number
from .permissions import can_act

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


class FollowUpTable(WorklistTable):
    patient = PatientColumn()
    nhs_number = NhsNumberColumn()
    named_nurse = NurseColumn()
    kind = tables.Column(verbose_name="Follow-up")
    due_on = DateColumn(verbose_name="Due")
    status = tables.Column(verbose_name="Status")

    class Meta(WorklistTable.Meta):
        order_by = ("due_on",)


class OverdueTable(FollowUpTable):
    actions = ActionsColumn("links")
    days_overdue = tables.Column(verbose_name="Days overdue", accessor="due_on", order_by=("due_on",), empty_values=())
    flag = tables.Column(verbose_name="Escalation", accessor="due_on", orderable=False, empty_values=())

    class Meta(FollowUpTable.Meta):
        sequence = ("patient", "nhs_number", "named_nurse", "kind", "due_on", "days_overdue", "flag", "...")
        row_attrs = {
            "class": lambda record: "app-row--escalated"
            if (_today() - record.due_on).days > settings.FOLLOWUP_ESCALATE_DAYS
            else "app-row--overdue"
        }

    def render_days_overdue(self, record):
        return (_today() - record.due_on).days

    def render_flag(self, record):
        if (_today() - record.due_on).days > settings.FOLLOWUP_ESCALATE_DAYS:
            return tag("Escalated", "red")
        return tag("Overdue", "orange")


class DueSoonTable(FollowUpTable):
    actions = ActionsColumn("links")
    booked_for = DateColumn(verbose_name="Booked for")

    class Meta(FollowUpTable.Meta):
        sequence = ("patient", "nhs_number", "named_nurse", "kind", "due_on", "status", "booked_for", "actions")

    def render_due_on(self, value):
        label = show_date(value)
        if value < _today():
            return format_html("{} {}", label, tag("Past due, in grace window", "yellow"))
        return label


def result_escalated(waiting_since: date) -> bool:
    """A result unacknowledged for longer than RESULT_ESCALATE_DAYS is escalated."""
    return (_today() - waiting_since).days > settings.RESULT_ESCALATE_DAYS


class ResultsTable(WorklistTable):
    """A list of results to acknowledge, with their urgency: how long each has waited since
    the result came, and escalation in words. The rows come flagged first, then the longest
    waiting (querysets.urgent_first()); a subclass says which date starts the wait and which
    result is flagged. On screen one "Waiting" column; a download has the days and the
    escalation as two columns."""

    waiting_since = ""  # the field the wait is counted from
    flagged_result = ""  # the result that puts a row first

    class Meta(WorklistTable.Meta):
        sequence = ("...", "waiting", "actions", "days_waiting", "escalation")
        row_attrs = {"class": lambda record, table: table.row_class(record)}

    def row_class(self, record) -> str:
        if result_escalated(getattr(record, self.waiting_since)):
            return "app-row--escalated"
        return "app-row--flagged" if record.result == self.flagged_result else ""

    def render_waiting(self, value):
        days = (_today() - value).days
        waited = f"{days} day{pluralize(days)}"
        if result_escalated(value):
            return format_html("{} <br>{}", waited, self.render_escalation(value))
        return waited

    def render_days_waiting(self, value):
        return (_today() - value).days

    def render_escalation(self, value):
        if result_escalated(value):
            return format_html(
                '{}<span class="nhsuk-u-visually-hidden">: waiting over {} days</span>',
                tag("Escalated", "red"),
                settings.RESULT_ESCALATE_DAYS,
            )
        return ""

    def value_escalation(self, value):
        return f"Escalated: waiting over {settings.RESULT_ESCALATE_DAYS} days" if result_escalated(value) else ""


def _waiting(field: str) -> tables.Column:
    return tables.Column(verbose_name="Waiting", accessor=field, order_by=(f"-{field}",), exclude_from_export=True)


def _days_waiting(field: str) -> tables.Column:
    return tables.Column(verbose_name="Days waiting", accessor=field, visible=False)


def _escalation(field: str) -> tables.Column:
    return tables.Column(verbose_name="Escalation", accessor=field, visible=False, empty_values=())


class ResultTable(ResultsTable):
    waiting_since = "result_recorded_on"
    flagged_result = c.ImagingOutcome.ABNORMAL
    actions = ActionsColumn("acknowledge")
    patient = PatientColumn()
    nhs_number = NhsNumberColumn()
    named_nurse = NurseColumn()
    kind = tables.Column(verbose_name="Test")
    done_on = DateColumn(verbose_name="Done")
    result = tables.Column(verbose_name="Result")
    waiting = _waiting("result_recorded_on")
    days_waiting = _days_waiting("result_recorded_on")
    escalation = _escalation("result_recorded_on")

    class Meta(ResultsTable.Meta):
        pass

    def render_result(self, record):
        if record.result == c.ImagingOutcome.ABNORMAL:
            return tag("Abnormal", "red")
        return record.get_result_display()


def _sites(sites) -> str:
    return format_html_join(", ", "{}", ((str(site),) for site in sites)) or "Not recorded"


class StagingResultTable(ResultsTable):
    waiting_since = "reported_on"
    flagged_result = c.StagingResult.DISTANT
    actions = ActionsColumn("acknowledge")
    patient = PatientColumn("episode__recurrence__patient__")
    nhs_number = NhsNumberColumn("episode__recurrence__patient__")
    named_nurse = NurseColumn("episode__recurrence__patient__")
    modality = tables.Column(verbose_name="Test")
    reported_on = DateColumn(verbose_name="Reported")
    result = tables.Column(verbose_name="Result")
    waiting = _waiting("reported_on")
    days_waiting = _days_waiting("reported_on")
    escalation = _escalation("reported_on")

    class Meta(ResultsTable.Meta):
        pass

    def render_result(self, record):
        if record.result == c.StagingResult.DISTANT:
            return format_html("{} {}", tag("Distant disease", "red"), _sites(record.sites.all()))
        if record.result == c.StagingResult.EQUIVOCAL:
            return tag("Equivocal", "yellow")
        return record.get_result_display()


class DistantNotRecordedTable(WorklistTable):
    actions = ActionsColumn("links")
    patient = PatientColumn("episode__recurrence__patient__")
    nhs_number = NhsNumberColumn("episode__recurrence__patient__")
    named_nurse = NurseColumn("episode__recurrence__patient__")
    modality = tables.Column(verbose_name="Test")
    reported_on = DateColumn(verbose_name="Reported")
    sites = tables.Column(verbose_name="Distant disease found in", accessor="pk", orderable=False)
    days = tables.Column(verbose_name="Days since report", accessor="reported_on", order_by=("-reported_on",))

    class Meta(WorklistTable.Meta):
        sequence = ("...", "actions")
        order_by = ("reported_on",)
        row_attrs = {"class": "app-row--flagged"}

    def render_sites(self, record):
        return _sites(record.sites.all())

    def render_days(self, value):
        return (_today() - value).days


# What an incomplete episode still needs, most pressing first: tagged when a nurse must act on it.
NEED_COLOURS = {
    c.RestagingNeed.IMAGING: "red",
    c.RestagingNeed.FURTHER_TEST: "yellow",
    c.RestagingNeed.ACKNOWLEDGE: "orange",
}


def needs(episode) -> list[tuple[str, str]]:
    """(need, its words) of an episode loaded with its tests (RestagingEpisodeQuerySet.with_tests()).

    An episode still marked open that needs nothing says so in its outcome's words (its
    outcome is brought up to date by the next change to its tests)."""
    found = services.restaging_needs(episode.tests.all())
    if not found:
        return [(episode.outcome, episode.get_outcome_display())]
    return [(need, c.RestagingNeed(need).label) for need in found]


def restaging_status(episode) -> str:
    """The status of an incomplete restaging in words, as the list, its download and the patient page say it."""
    return "; ".join(label for _, label in needs(episode))


class RestagingTable(WorklistTable):
    actions = ActionsColumn("links")
    patient = PatientColumn("recurrence__patient__")
    nhs_number = NhsNumberColumn("recurrence__patient__")
    named_nurse = NurseColumn("recurrence__patient__")
    recurrence = tables.Column(verbose_name="Recurrence", accessor="recurrence__metastatic_type")
    opened_on = DateColumn(verbose_name="Recurrence date")
    days_open = tables.Column(verbose_name="Days open", accessor="opened_on", order_by=("-opened_on",))
    target_on = DateColumn(verbose_name="Target")
    tests = tables.Column(verbose_name="Tests reported", accessor="pk", orderable=False)
    outcome = tables.Column(verbose_name="Status", orderable=False)

    class Meta(WorklistTable.Meta):
        # What each episode still needs beside the patient: visible without scrolling a wide table.
        sequence = (
            *("patient", "nhs_number", "outcome", "tests"),
            *("recurrence", "opened_on", "days_open", "target_on", "..."),
        )
        order_by = ("opened_on",)
        row_attrs = {"class": lambda record: "app-row--overdue" if record.target_on < _today() else ""}

    def render_recurrence(self, record):
        recurrence = record.recurrence
        return format_html("{}: {}", recurrence.get_metastatic_type_display(), _sites(recurrence.sites.all()))

    def render_days_open(self, value):
        return (_today() - value).days

    def render_target_on(self, value):
        label = show_date(value)
        if value < _today():
            return format_html("{} {}", label, tag("Past target", "red"))
        return label

    def render_tests(self, record):
        tests = [test for test in record.tests.all() if test.cancelled_on is None]
        return f"{sum(1 for test in tests if test.result)} of {len(tests)}"

    def render_outcome(self, record):
        items = format_html_join(
            "",
            "<li>{}</li>",
            ((tag(label, NEED_COLOURS[need]) if NEED_COLOURS.get(need) else label,) for need, label in needs(record)),
        )
        return format_html('<ul class="nhsuk-list nhsuk-u-margin-bottom-0 app-restaging-needs">{}</ul>', items)

    def value_outcome(self, record):
        return restaging_status(record)


class SymptomTable(WorklistTable):
    actions = ActionsColumn("triage")
    patient = PatientColumn()
    nhs_number = NhsNumberColumn()
    named_nurse = NurseColumn()
    red_flag = tables.Column(verbose_name="Red flag", empty_values=(), order_by=("red_flag",))
    reported_on = DateColumn(verbose_name="Reported")
    area = tables.Column(verbose_name="Area")
    description = tables.Column(verbose_name="Description", orderable=False)

    class Meta(WorklistTable.Meta):
        sequence = ("...", "actions")
        row_attrs = {"class": lambda record: "app-row--red-flag" if record.red_flag else ""}

    def render_red_flag(self, record):
        if record.red_flag:
            return format_html(
                '{}<span class="nhsuk-u-visually-hidden">: </span> <span class="nhsuk-body-s">{}</span>',
                tag("Red flag", "red"),
                record.get_red_flag_display(),
            )
        return "None"

    def render_description(self, value):
        return value if len(value) <= 80 else value[:77] + "..."


class LastFollowUpColumn(DateColumn):
    """The last follow-up item that happened (PatientQuerySet.with_last_follow_up()), in words:
    "Mammogram done 3 Mar 2026", "Clinic review: did not attend 15 Sep 2026", "None yet"."""

    def __init__(self, **kwargs):
        super().__init__(verbose_name="Last follow-up item", accessor="last_follow_up", empty_values=(), **kwargs)

    @staticmethod
    def words(record, day: str) -> str:
        if record.last_follow_up is None:
            return "None yet"
        kind = c.FollowUpKind(record.last_follow_up_kind).label
        if record.last_follow_up_status == c.FollowUpStatus.DID_NOT_ATTEND:
            return f"{kind}: did not attend {day}"
        return f"{kind} done {day}"

    def render(self, record, value):
        return self.words(record, super().render(value) if value else "")

    def value(self, record, value):
        return self.words(record, super().value(value) if value else "")


class NoNextFollowUpTable(WorklistTable):
    actions = ActionsColumn("links")
    patient = PatientColumn("")
    nhs_number = NhsNumberColumn("")
    named_nurse = NurseColumn("")
    status = tables.Column(verbose_name="Status")
    follow_up_model = tables.Column(verbose_name="Follow-up model")
    last_follow_up = LastFollowUpColumn()

    class Meta(WorklistTable.Meta):
        sequence = ("...", "actions")
        order_by = ("last_follow_up",)
        row_attrs = {"class": "app-row--overdue"}

    def order_last_follow_up(self, queryset, is_descending):
        # Never followed up first (the most at risk), then the longest since anything happened; the same on
        # PostgreSQL and SQLite, which put NULLs at opposite ends by default.
        day = F("last_follow_up")
        order = day.desc(nulls_last=True) if is_descending else day.asc(nulls_first=True)
        return queryset.order_by(order, "pk"), True


class DataQualityTable(WorklistTable):
    actions = ActionsColumn("links")
    patient = PatientColumn("")
    nhs_number = NhsNumberColumn("")
    named_nurse = NurseColumn("")
    problems = tables.Column(verbose_name="Problems", accessor="pk", orderable=False)

    class Meta(WorklistTable.Meta):
        sequence = ("...", "actions")

    def render_problems(self, record):
        return format_html(
            '<ul class="nhsuk-list nhsuk-u-margin-bottom-0">{}</ul>',
            format_html_join(
                "", "<li>{}</li>", ((label,) for flag, label in DATA_QUALITY_PROBLEMS if getattr(record, flag))
            ),
        )


class PatientTable(WorklistTable):
    patient = PatientColumn("")
    nhs_number = NhsNumberColumn("")
    date_of_birth = DateColumn(verbose_name="Date of birth")
    hospital_number = tables.Column(verbose_name="Hospital number")
    named_nurse = NurseColumn("")
    status = tables.Column(verbose_name="Status")

    class Meta(WorklistTable.Meta):
        empty_text = "No patients match."
        order_by = ("patient",)


class ResultAwaitedTable(WorklistTable):
    """Tests done with the result not yet available: oldest first, each offering to record it."""

    actions = ActionsColumn("links")
    patient = PatientColumn()
    nhs_number = NhsNumberColumn()
    named_nurse = NurseColumn()
    kind = tables.Column(verbose_name="Test")
    done_on = DateColumn(verbose_name="Done")
    days_waiting = tables.Column(verbose_name="Days waiting", accessor="done_on", order_by=("-done_on",))

    class Meta(WorklistTable.Meta):
        sequence = ("...", "actions")
        order_by = ("done_on",)

    def render_days_waiting(self, value):
        return (_today() - value).days
