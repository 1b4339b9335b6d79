"""The table of each worklist and of patient search (worklists.py says which list uses which)."""

from datetime import date

import django_tables2 as tables
from django.conf import settings
from django.db.models import F
from django.template.defaultfilters import pluralize
from django.utils.html import format_html, format_html_join

from .. import choices as c
from .. import services
from ..display import show_date
from ..filters import DATA_QUALITY_PROBLEMS
from ..permissions import can_act, can_administer
from ..querysets import result_escalation_cutoff
from .cells import ActionsColumn, DateColumn, NhsNumberColumn, NurseColumn, PatientColumn, WorklistTable, _today, tag
from .selection import SelectableTable, SelectColumn


class FollowUpTable(WorklistTable):
    patient = PatientColumn()
    nhs_number = NhsNumberColumn(visible=False)
    named_nurse = NurseColumn()
    kind = tables.Column(verbose_name="Follow-up")
    due_on = DateColumn(verbose_name="Due")
    status = tables.Column(verbose_name="Status")

    class Meta(WorklistTable.Meta):
        order_by = ("due_on",)


class OpenDueTable(FollowUpTable):
    """Overdue and due soon: sorted by the open item's due date as their rows hold it (``open_due_on``,
    querysets.OPEN_DUE_ON, the same date): the index the rows are found by then gives them in order, and a
    page stops at its 25th row instead of sorting them all (docs/performance.md, issue 17)."""

    due_on = DateColumn(verbose_name="Due", order_by=("open_due_on", "pk"))

    class Meta(FollowUpTable.Meta):
        order_by = ("due_on",)


class OverdueTable(OpenDueTable):
    log_contact = True
    actions = ActionsColumn("links")
    # On screen beside the due date (render_due_on); in a download, columns of their own.
    days_overdue = tables.Column(
        verbose_name="Days overdue", accessor="due_on", order_by=("open_due_on", "pk"), empty_values=(), visible=False
    )
    flag = tables.Column(verbose_name="Escalation", accessor="due_on", orderable=False, empty_values=(), visible=False)

    class Meta(OpenDueTable.Meta):
        sequence = ("patient", "nhs_number", "named_nurse", "kind", "due_on", "days_overdue", "flag", "...")
        row_attrs = {
            "class": lambda record: "app-row--escalated"
            if (_today() - record.due_on).days > settings.FOLLOWUP_ESCALATE_DAYS
            else "app-row--overdue"
        }

    def render_due_on(self, value):
        days = (_today() - value).days
        return format_html(
            '{}<br><span class="app-row-secondary">{} day{} overdue</span> {}',
            show_date(value),
            days,
            pluralize(days),
            self.render_flag(value),
        )

    def render_days_overdue(self, record):
        return (_today() - record.due_on).days

    def render_flag(self, value):
        if (_today() - value).days > settings.FOLLOWUP_ESCALATE_DAYS:
            return tag("Escalated", "red")
        return tag("Overdue", "orange")


class DueSoonTable(OpenDueTable):
    log_contact = True
    actions = ActionsColumn("links")
    booked_for = DateColumn(verbose_name="Booked for", visible=False)  # on screen in the status

    class Meta(OpenDueTable.Meta):
        sequence = ("patient", "nhs_number", "named_nurse", "kind", "due_on", "status", "booked_for", "actions")

    def render_due_on(self, value):
        label = show_date(value)
        if value < _today():
            return format_html("{} {}", label, tag("Past due, in grace window", "yellow"))
        return label

    def render_status(self, record, value):
        if record.booked_for:
            return format_html("{} for {}", value, show_date(record.booked_for))
        return value

    def value_status(self, value):
        return value


def result_escalated(waiting_since: date) -> bool:
    """A result unacknowledged for longer than RESULT_ESCALATE_DAYS is escalated."""
    return waiting_since < result_escalation_cutoff(_today())


class ResultsTable(SelectableTable, WorklistTable):
    """A list of results to acknowledge, with their urgency: how long each has waited since
    the result came, and escalation in words. The rows come flagged first, then the longest
    waiting (querysets.urgent_first()); a subclass says which date starts the wait and which
    result is flagged. On screen one "Waiting" column; a download has the days and the
    escalation as two columns. Normal results have a checkbox, to acknowledge several at once."""

    waiting_since = ""  # the field the wait is counted from
    flagged_result = ""  # the result that puts a row first
    select = SelectColumn(may=can_act, label=services.result_label, refusal=services.bulk_acknowledge_refusal)

    class Meta(WorklistTable.Meta):
        sequence = ("select", "...", "waiting", "actions", "days_waiting", "escalation")
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


def amended(record, shown) -> str:
    """A result whose report was amended after it was first read says so: it is to be read again."""
    if record.report_amended:
        return format_html("{} {}", shown, tag("Amended report", "orange"))
    return shown


def _waiting(field: str) -> tables.Column:
    return tables.Column(verbose_name="Waiting", accessor=field, order_by=(f"-{field}",), exclude_from_export=True)


def _days_waiting(field: str) -> tables.Column:
    return tables.Column(verbose_name="Days waiting", accessor=field, visible=False)


def _escalation(field: str) -> tables.Column:
    return tables.Column(verbose_name="Escalation", accessor=field, visible=False, empty_values=())


class ResultTable(ResultsTable):
    log_contact = True
    waiting_since = "result_recorded_on"
    flagged_result = c.ImagingOutcome.ABNORMAL
    actions = ActionsColumn("acknowledge")
    patient = PatientColumn()
    nhs_number = NhsNumberColumn(visible=False)
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
            shown = tag("Abnormal", "red")
        elif record.result == c.ImagingOutcome.REPORTED:
            shown = tag("Reported, not yet classified", "blue")
        else:
            shown = record.get_result_display()
        return amended(record, shown)


def _sites(sites) -> str:
    return format_html_join(", ", "{}", ((str(site),) for site in sites)) or "Not recorded"


class StagingResultTable(ResultsTable):
    waiting_since = "reported_on"
    flagged_result = c.StagingResult.DISTANT
    actions = ActionsColumn("acknowledge")
    patient = PatientColumn("episode__recurrence__patient__")
    nhs_number = NhsNumberColumn("episode__recurrence__patient__", visible=False)
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
            shown = format_html("{} {}", tag("Distant disease", "red"), _sites(record.sites.all()))
        elif record.result == c.StagingResult.EQUIVOCAL:
            shown = tag("Equivocal", "yellow")
        elif record.result == c.StagingResult.REPORTED:
            shown = tag("Reported, not yet classified", "blue")
        else:
            shown = record.get_result_display()
        return amended(record, shown)


class DistantNotRecordedTable(WorklistTable):
    actions = ActionsColumn("links")
    patient = PatientColumn("episode__recurrence__patient__")
    nhs_number = NhsNumberColumn("episode__recurrence__patient__", visible=False)
    named_nurse = NurseColumn("episode__recurrence__patient__")
    modality = tables.Column(verbose_name="Test")
    reported_on = DateColumn(verbose_name="Reported")
    sites = tables.Column(verbose_name="Distant disease found in", accessor="pk", orderable=False)
    days = tables.Column(
        verbose_name="Days since report", accessor="reported_on", order_by=("-reported_on",), visible=False
    )

    class Meta(WorklistTable.Meta):
        sequence = ("...", "actions")
        order_by = ("reported_on",)
        row_attrs = {"class": "app-row--flagged"}

    def render_sites(self, record):
        return _sites(record.sites.all())

    def render_reported_on(self, value):
        days = (_today() - value).days
        ago = "today" if days == 0 else f"{days} day{pluralize(days)} ago"
        return format_html('{}<br><span class="app-row-secondary">{}</span>', show_date(value), ago)

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
    log_contact = True
    actions = ActionsColumn("links")
    patient = PatientColumn("recurrence__patient__")
    nhs_number = NhsNumberColumn("recurrence__patient__", visible=False)
    named_nurse = NurseColumn("recurrence__patient__")
    recurrence = tables.Column(verbose_name="Recurrence", accessor="recurrence__metastatic_type")
    opened_on = DateColumn(verbose_name="Recurrence date")
    days_open = tables.Column(verbose_name="Days open", accessor="opened_on", order_by=("-opened_on",), visible=False)
    target_on = DateColumn(verbose_name="Target")
    tests = tables.Column(verbose_name="Tests reported", accessor="pk", orderable=False)
    outcome = tables.Column(verbose_name="Status", orderable=False)

    class Meta(WorklistTable.Meta):
        # What each episode still needs beside the patient: visible without scrolling a wide table.
        sequence = (
            *("patient", "nhs_number", "outcome", "tests"),
            *("recurrence", "opened_on", "days_open", "target_on", "...", "actions"),
        )
        order_by = ("opened_on",)
        row_attrs = {"class": lambda record: "app-row--overdue" if record.target_on < _today() else ""}

    def render_recurrence(self, record):
        recurrence = record.recurrence
        return format_html("{}: {}", recurrence.get_metastatic_type_display(), _sites(recurrence.sites.all()))

    def render_opened_on(self, value):
        days = (_today() - value).days
        return format_html(
            '{}<br><span class="app-row-secondary">{} day{} open</span>', show_date(value), days, pluralize(days)
        )

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
    nhs_number = NhsNumberColumn(visible=False)
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

    def render_description(self, record, value):
        text = value if len(value) <= 80 else value[:77] + "..."
        if record.source == c.ReportSource.PATIENT:  # sent from /report-symptoms/ (selfreport/)
            return format_html("{} {}", tag("Reported by the patient", "blue"), text)
        return text

    def value_description(self, record, value):
        return f"Reported by the patient: {value}" if record.source == c.ReportSource.PATIENT else value


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
    log_contact = True
    actions = ActionsColumn("links")
    patient = PatientColumn("")
    nhs_number = NhsNumberColumn("", visible=False)
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


def pifu_days(patient, today: date) -> str:
    """How long until the patient's PIFU period ends, or how long since it ended, in words."""
    if patient.pifu_ends_on is None:
        return "No period set"
    days = (patient.pifu_ends_on - today).days
    if days > 0:
        return f"{days} day{pluralize(days)} left"
    if days == 0:
        return "Ends today"
    return f"Ended {-days} day{pluralize(-days)} ago"


class PifuEndingTable(WorklistTable):
    """Patients whose patient-initiated follow-up ends soon or has ended (PatientQuerySet.pifu_ending()),
    each offering "End PIFU" (discharge to the GP with the letters: the letters app)."""

    log_contact = True
    actions = ActionsColumn("pifu")
    patient = PatientColumn("")
    nhs_number = NhsNumberColumn("", visible=False)
    named_nurse = NurseColumn("")
    pifu_ends_on = DateColumn(verbose_name="PIFU ends", empty_values=())
    days_left = tables.Column(
        verbose_name="Days left (negative: ended)", accessor="pifu_ends_on", order_by=("pifu_ends_on",), visible=False
    )

    class Meta(WorklistTable.Meta):
        sequence = ("patient", "nhs_number", "named_nurse", "pifu_ends_on", "days_left", "actions")
        order_by = ("pifu_ends_on",)
        row_attrs = {
            "class": lambda record: "app-row--overdue"
            if record.pifu_ends_on is None or record.pifu_ended(_today())
            else ""
        }

    def order_pifu_ends_on(self, queryset, is_descending):
        # No period first (it would never end), then the soonest end; the same on PostgreSQL and SQLite,
        # which put NULLs at opposite ends by default.
        day = F("pifu_ends_on")
        order = day.desc(nulls_last=True) if is_descending else day.asc(nulls_first=True)
        return queryset.order_by(order, "pk"), True

    order_days_left = order_pifu_ends_on

    def render_pifu_ends_on(self, record, value):
        today = _today()
        words = pifu_days(record, today)
        if value is None or record.pifu_ended(today):
            words = tag(words, "red")
        return format_html('{}<br><span class="app-row-secondary">{}</span>', show_date(value), words)

    def render_days_left(self, value):
        return "" if value is None else (value - _today()).days


class DataQualityTable(WorklistTable):
    actions = ActionsColumn("links")
    patient = PatientColumn("")
    nhs_number = NhsNumberColumn("", visible=False)
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


class PatientTable(SelectableTable, WorklistTable):
    # Admins (who reassign named nurses) select patients to hand over to another nurse.
    select = SelectColumn(
        may=can_administer, label=lambda patient: f"NHS number {patient.nhs_number_display or 'not recorded'}"
    )
    patient = PatientColumn("", with_nhs_number=False)
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

    log_contact = True

    actions = ActionsColumn("links")
    patient = PatientColumn()
    nhs_number = NhsNumberColumn(visible=False)
    named_nurse = NurseColumn()
    kind = tables.Column(verbose_name="Test")
    done_on = DateColumn(verbose_name="Done")
    days_waiting = tables.Column(verbose_name="Days waiting", accessor="done_on", order_by=("-done_on",))

    class Meta(WorklistTable.Meta):
        sequence = ("...", "actions")
        order_by = ("done_on",)

    def render_days_waiting(self, value):
        return (_today() - value).days
