"""A patient's audit history: every change to their clinical records, who made it, before and after.

Also what changed in one record since a given version (changes_since): the
conflict page says what the other person did while the user had the form open.
Values are shown as a person reads them: choice labels, dates as "1 Dec 2026",
related rows by name, fields by their verbose names.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.text import capfirst

from contacts.models import Contact
from letters.models import Letter
from mdt.models import MDTDiscussion
from tasks.models import Task

from . import choices as c
from .display import show_date, show_datetime, show_when
from .models import (
    FollowUpItem,
    Patient,
    PrimaryDiagnosis,
    Recurrence,
    RecurrenceSite,
    RestagingEpisode,
    StagingTest,
    StagingTestSite,
    SymptomReport,
    User,
)
from .services.patients import CONTACT_DETAIL_FIELDS

# Bookkeeping that every change touches: shown as who and when, not as a change. The day a
# result was recorded is the day of the change that recorded it.
IGNORED = {
    "id",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "version",
    "error_marked_at",
    "result_recorded_on",
}
# Links between the patient's own records: the "Record" column already says what each row is.
STRUCTURAL = {"patient", "recurrence", "episode", "test", "protocol_step", "sequence", "follow_up_of", "primary"}
KINDS = {"+": "Created", "~": "Changed", "-": "Deleted"}
NOTHING = "–"  # an empty value


@dataclass
class Change:
    at: datetime
    who: str
    record: str
    kind: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (field, before, after)


def _who(user) -> str:
    return (user.get_full_name() or user.username) if user else "unknown"


def shown_fields(model) -> list[models.Field]:
    """The fields of a clinical model a person is shown when it changes."""
    return [f for f in model._meta.concrete_fields if f.name not in IGNORED | STRUCTURAL]


# Verbose names that need their context on a page listing every field of the record.
LABELS = {
    (Patient, "next_of_kin_relationship"): "Next of kin's relationship",
    (Patient, "interpreter_language"): "Interpreter language",
}
# A yes/no question whose empty answer means it was never asked.
NOT_ASKED = {(Patient, "messages_may_be_left")}


def label(model_field: models.Field) -> str:
    """The field's verbose name as a label: "NHS number", "ER status", "Follow-up model"."""
    return LABELS.get((model_field.model, model_field.name)) or capfirst(str(model_field.verbose_name))


def _related(model) -> list[str]:
    """The shown fields that point at another row (a nurse, a team...): read with the history row."""
    return [f.name for f in shown_fields(model) if f.is_relation]


def shown(model_field: models.Field, row) -> str:
    """One field of a row (a record or a historical record) as a person reads it."""
    value = getattr(row, model_field.attname)
    if value is None and (model_field.model, model_field.name) in NOT_ASKED:
        return "Not asked"
    if value is None or value == "":
        return NOTHING
    if model_field.is_relation:
        related = getattr(row, model_field.name)  # loaded with the row (_related)
        return _who(related) if isinstance(related, User) else str(related)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        return show_datetime(value)
    if isinstance(value, date):
        return show_date(value)
    return str(value)


def _history(model, **lookup):
    """A model's history rows, oldest first, with who made each and the related rows it names."""
    return (
        model.history.filter(**lookup)
        .select_related("history_user", *_related(model))
        .order_by("history_date", "history_id")
    )


def _sources(patient: Patient):
    recurrences = list(Recurrence.all_objects.filter(patient=patient).values_list("pk", flat=True))
    episodes = list(RestagingEpisode.all_objects.filter(recurrence_id__in=recurrences).values_list("pk", flat=True))
    tests = list(StagingTest.all_objects.filter(episode_id__in=episodes).values_list("pk", flat=True))
    return [
        (Patient, _history(Patient, id=patient.pk)),
        (PrimaryDiagnosis, _history(PrimaryDiagnosis, patient_id=patient.pk)),
        (FollowUpItem, _history(FollowUpItem, patient_id=patient.pk)),
        (Recurrence, _history(Recurrence, patient_id=patient.pk)),
        (RecurrenceSite, _history(RecurrenceSite, recurrence_id__in=recurrences)),
        (RestagingEpisode, _history(RestagingEpisode, recurrence_id__in=recurrences)),
        (StagingTest, _history(StagingTest, episode_id__in=episodes)),
        (StagingTestSite, _history(StagingTestSite, test_id__in=tests)),
        (SymptomReport, _history(SymptomReport, patient_id=patient.pk)),
        (MDTDiscussion, _history(MDTDiscussion, patient_id=patient.pk)),
        (Task, _history(Task, patient_id=patient.pk)),
        (Contact, _history(Contact, patient_id=patient.pk)),
        (Letter, _history(Letter, patient_id=patient.pk)),
    ]


def _diff(fields, before, after) -> list[tuple[str, str, str]]:
    """(label, before, after) of each field that differs between two rows."""
    return [
        (label(f), shown(f, before), shown(f, after))
        for f in fields
        if getattr(before, f.attname) != getattr(after, f.attname)
    ]


def patient_history(patient: Patient) -> list[Change]:
    """Newest first. A fixed number of queries: three for ids, one per history table
    (the users and other rows each change names come in the same query)."""
    changes = []
    for model, rows in _sources(patient):
        fields = shown_fields(model)
        previous: dict[int, object] = {}
        for row in rows:
            before = previous.get(row.id)
            if before is not None:
                diff = _diff(fields, before, row)
            elif row.history_type == "+":
                diff = [
                    (label(f), NOTHING, shown(f, row))
                    for f in fields
                    if getattr(row, f.attname) not in (None, "", False)
                ]
            else:
                diff = [("Earlier values not recorded: the record was loaded before its history began", None, None)]
            kind = KINDS[row.history_type]
            if before is not None and getattr(row, "entered_in_error", False) and not before.entered_in_error:
                kind = "Marked entered in error"
            name = capfirst(model._meta.verbose_name)
            record = f"{name}: {row.instance}" if row.history_type != "-" else name
            changes.append(Change(row.history_date, _who(row.history_user), record, kind, diff))
            previous[row.id] = row
    return sorted(changes, key=lambda change: change.at, reverse=True)


# What changed since a version: the conflict page -----------------------------------


@dataclass
class FieldChange:
    name: str  # the model field ("sites": the sites a staging test found)
    label: str
    before: str  # when the user opened the record
    now: str


@dataclass
class ChangesSince:
    steps: list[str]  # what each save since did, in words, oldest first
    fields: list[FieldChange]  # every field whose value differs from the version the user opened
    # False: the version opened predates the record's history (loaded in bulk, e.g. demo data),
    # so what it held is not known and ``fields`` is empty.
    opened_known: bool = True


def _changed(before, after, name: str) -> bool:
    return before is None or getattr(before, name) != getattr(after, name)


def _became(before, after, name: str, value) -> bool:
    return getattr(after, name) == value and _changed(before, after, name)


def _label_of(model, name: str, value) -> str:
    return str(dict(model._meta.get_field(name).flatchoices).get(value, value))


# Each returns what a save did, and what follows the "by whom, when" (a result, a reason);
# ("", "") when it says nothing in particular.


def _reason(text: str) -> str:
    return f". Reason: {text}" if text else ""


def _what_item(before, after) -> tuple[str, str]:
    status = after.status
    if _became(before, after, "status", c.FollowUpStatus.CANCELLED):
        return "Cancelled", _reason(after.cancel_reason)
    if status == c.FollowUpStatus.BOOKED and (
        _changed(before, after, "status") or _changed(before, after, "booked_for")
    ):
        return f"Booked for {show_date(after.booked_for)}", ""
    if _became(before, after, "status", c.FollowUpStatus.DONE):
        result = f" (result: {_label_of(FollowUpItem, 'result', after.result)})" if after.result else ""
        return f"Recorded as done on {show_date(after.done_on)}{result}", ""
    if _became(before, after, "status", c.FollowUpStatus.DID_NOT_ATTEND):
        return "Recorded as did not attend", ""
    if status == c.FollowUpStatus.DONE and after.result and _changed(before, after, "result"):
        # Done earlier with its result not yet available (services.followup_item_record_result()).
        return "Result recorded", f": {_label_of(FollowUpItem, 'result', after.result)}"
    if after.result_acknowledged_at and _changed(before, after, "result_acknowledged_at"):
        return "Result acknowledged", ""
    return "", ""


def _what_test(before, after) -> tuple[str, str]:
    if after.cancelled_on and _changed(before, after, "cancelled_on"):
        return "Cancelled", _reason(after.cancel_reason)
    if after.result and any(
        _changed(before, after, name) for name in ("result", "result_notes", "performed_on", "reported_on")
    ):
        recorded = "recorded" if before is None or not before.result else "corrected"
        return f"Result {recorded}", f": {_label_of(StagingTest, 'result', after.result)}"
    if after.acknowledged_at and _changed(before, after, "acknowledged_at"):
        return "Result acknowledged", ""
    if after.distant_recurrence_id and _changed(before, after, "distant_recurrence_id"):
        return "Secondary breast cancer recorded from this result", ""
    return "", ""


def _what_recurrence(before, after) -> tuple[str, str]:
    if _changed(before, after, "status"):
        return _label_of(Recurrence, "status", after.status), ""
    return "", ""


def _what_symptom(before, after) -> tuple[str, str]:
    if after.triage_outcome and _changed(before, after, "triage_outcome"):
        return f"Triaged as {_label_of(SymptomReport, 'triage_outcome', after.triage_outcome).lower()}", ""
    return "", ""


def _what_patient(before, after) -> tuple[str, str]:
    if _became(before, after, "status", c.PatientStatus.DISCHARGED):
        return "Discharged", _reason(after.discharge_reason)
    if _became(before, after, "status", c.PatientStatus.DECEASED):
        return f"Death recorded ({show_date(after.date_of_death)})", ""
    if _changed(before, after, "named_nurse_id"):
        return f"Named nurse changed to {_who(after.named_nurse)}", ""
    if _changed(before, after, "protocol_id") and after.protocol_id:
        return f"Follow-up schedule started: {after.protocol}", ""
    if before is not None and any(_changed(before, after, name) for name in CONTACT_ATTNAMES):
        return "Contact details changed", ""
    return "Details changed", ""


# What patient_update_contact_details changes: its fields and the GP practice.
CONTACT_ATTNAMES = (*CONTACT_DETAIL_FIELDS, "gp_practice_id")


WHAT = {
    FollowUpItem: _what_item,
    StagingTest: _what_test,
    Recurrence: _what_recurrence,
    SymptomReport: _what_symptom,
    Patient: _what_patient,
}


def _step(model, before, after) -> str:
    """One save by someone else, in words: "Cancelled by Priya Shah at 10:42. Reason: Moved away"."""
    if after.entered_in_error and _changed(before, after, "entered_in_error"):
        what, then = "Marked entered in error", _reason(after.error_reason)
    else:
        what, then = WHAT.get(model, lambda before, after: ("", ""))(before, after)
    return f"{what or 'Changed'} by {_who(after.history_user)} {show_when(after.history_date)}{then}"


# Related rows whose set a conflict page compares: the sites a staging test found.
SITE_SETS = {StagingTest: (StagingTestSite, "test_id", "Distant disease found in")}


def _sites(labels) -> str:
    return ", ".join(sorted(labels)) or NOTHING


def _sites_then(site_model, link: str, record_pk: int, *, before: datetime) -> str:
    """The sites the record had just before ``before``, from their history."""
    rows = site_model.history.filter(**{link: record_pk}, history_date__lt=before).order_by(
        "history_date", "history_id"
    )
    standing = {}
    for row in rows:
        if row.history_type == "-":
            standing.pop(row.id, None)
        else:
            standing[row.id] = str(row.instance)
    return _sites(standing.values())


def shown_now(record, name: str) -> str | None:
    """A field of the record as saved now, as a person reads it (None: the record has no such field)."""
    model = type(record)
    if name == "sites" and model in SITE_SETS:
        return _sites(str(site) for site in record.sites.all())
    try:
        model_field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return shown(model_field, record) if model_field.concrete else None


def changes_since(record, *, version: int) -> ChangesSince:
    """What others saved on ``record`` after the ``version`` the user opened: each save
    in words, and every field that differs now from that version."""
    model = type(record)
    rows = list(_history(model, id=record.pk))
    opened_at = max((i for i, row in enumerate(rows) if row.version <= version), default=None)
    since = rows[opened_at + 1 :] if opened_at is not None else [row for row in rows if row.version > version]
    opened = rows[opened_at] if opened_at is not None else None
    steps = []
    previous = opened
    for row in since:
        steps.append(_step(model, previous, row))
        previous = row
    fields = []
    if opened is not None and since:
        latest = since[-1]
        fields = [
            FieldChange(f.name, label(f), shown(f, opened), shown(f, latest))
            for f in shown_fields(model)
            if getattr(opened, f.attname) != getattr(latest, f.attname)
        ]
        if model in SITE_SETS:
            site_model, link, title = SITE_SETS[model]
            sites_then = _sites_then(site_model, link, record.pk, before=since[0].history_date)
            sites_now = shown_now(record, "sites")
            if sites_then != sites_now:
                fields.append(FieldChange("sites", title, sites_then, sites_now))
    return ChangesSince(steps, fields, opened_known=opened is not None)
