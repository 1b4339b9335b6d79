"""A patient's audit history: every change to their clinical records, who made it, before and after."""

from dataclasses import dataclass, field
from datetime import date, datetime

from django.utils import timezone

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

# Bookkeeping that every change touches: shown as who and when, not as a change.
IGNORED = {"id", "created_at", "created_by", "updated_at", "updated_by", "version", "error_marked_at"}
# Links between the patient's own records: the "Record" column already says what each row is.
STRUCTURAL = {"patient", "recurrence", "episode", "test", "protocol_step", "sequence", "follow_up_of", "primary"}
USER_FIELDS = {"named_nurse", "result_acknowledged_by", "acknowledged_by", "triaged_by", "error_marked_by"}
KINDS = {"+": "Created", "~": "Changed", "-": "Deleted"}


@dataclass
class Change:
    at: datetime
    who: str
    record: str
    kind: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (field, before, after)


def _who(user) -> str:
    return (user.get_full_name() or user.username) if user else "unknown"


def _shown(model, name: str, value, users: dict[int, User]) -> str:
    if value is None or value == "":
        return "–"
    if name in USER_FIELDS:
        return _who(users.get(value))
    field_ = model._meta.get_field(name)
    if field_.choices:
        return str(dict(field_.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%-d %b %Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%-d %b %Y")
    return str(value)


def _sources(patient: Patient):
    recurrences = list(Recurrence.all_objects.filter(patient=patient).values_list("pk", flat=True))
    episodes = list(RestagingEpisode.all_objects.filter(recurrence_id__in=recurrences).values_list("pk", flat=True))
    tests = list(StagingTest.all_objects.filter(episode_id__in=episodes).values_list("pk", flat=True))
    return [
        (Patient, Patient.history.filter(id=patient.pk)),
        (PrimaryDiagnosis, PrimaryDiagnosis.history.filter(patient_id=patient.pk)),
        (FollowUpItem, FollowUpItem.history.filter(patient_id=patient.pk)),
        (Recurrence, Recurrence.history.filter(patient_id=patient.pk)),
        (RecurrenceSite, RecurrenceSite.history.filter(recurrence_id__in=recurrences)),
        (RestagingEpisode, RestagingEpisode.history.filter(recurrence_id__in=recurrences)),
        (StagingTest, StagingTest.history.filter(episode_id__in=episodes)),
        (StagingTestSite, StagingTestSite.history.filter(test_id__in=tests)),
        (SymptomReport, SymptomReport.history.filter(patient_id=patient.pk)),
    ]


def patient_history(patient: Patient) -> list[Change]:
    """Newest first. A fixed number of queries: three for ids, one per history table, one for users."""
    loaded = []
    user_ids: set[int] = set()
    for model, rows in _sources(patient):
        rows = list(rows.select_related("history_user").order_by("history_date", "history_id"))
        loaded.append((model, rows))
        for row in rows:
            user_ids.update(getattr(row, f"{name}_id") for name in USER_FIELDS if hasattr(row, f"{name}_id"))
    users = User.objects.in_bulk([uid for uid in user_ids if uid])

    changes = []
    for model, rows in loaded:
        fields = [f for f in model._meta.concrete_fields if f.name not in IGNORED | STRUCTURAL]
        previous: dict[int, object] = {}
        for row in rows:
            before = previous.get(row.id)
            diff = []
            for f in fields:
                new = getattr(row, f.attname)
                old = getattr(before, f.attname) if before is not None else None
                if before is None and row.history_type == "+":
                    if new not in (None, "", False):
                        diff.append((str(f.verbose_name).capitalize(), "–", _shown(model, f.name, new, users)))
                elif before is not None and old != new:
                    diff.append(
                        (
                            str(f.verbose_name).capitalize(),
                            _shown(model, f.name, old, users),
                            _shown(model, f.name, new, users),
                        )
                    )
            if before is None and row.history_type == "~":
                diff.append(("Earlier values not recorded: the record was loaded before its history began", None, None))
            kind = KINDS[row.history_type]
            if before is not None and getattr(row, "entered_in_error", False) and not before.entered_in_error:
                kind = "Marked entered in error"
            label = (
                f"{model._meta.verbose_name.capitalize()}: {row.instance}"
                if row.history_type != "-"
                else (f"{model._meta.verbose_name.capitalize()}")
            )
            changes.append(Change(row.history_date, _who(row.history_user), label, kind, diff))
            previous[row.id] = row
    return sorted(changes, key=lambda change: change.at, reverse=True)
