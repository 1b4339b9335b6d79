"""The patient flags table (models.PatientFlags): kept up to date with every change, proved equal to the rules.

The data-quality list and "No next follow-up" ask a question about every patient in scope; answered from
scratch on every request they took seconds at 100,000 patients (docs/performance.md). Here each patient's
answers are stored, and worked out again for that patient whenever one of their records changes:

- **The rules stay in one place.** A row is computed by ``PatientQuerySet.with_flags_to_store()``: the
  same QuerySet methods the lists were defined by, restricted to the patients that changed.
- **In the same transaction as the change.** Every save or delete of a row that can change a flag sends
  Django's model signals, whoever wrote it (services, the import, the integration, the admin, test
  factories); the receivers below refresh that patient there and then. Paths that write in bulk without
  signals (the schedule's bulk inserts, closing a patient's open items, the demo data) call refresh()
  themselves; ``batched()`` gathers the patients of many writes and refreshes them once, in bulk.
- **Possible duplicates** depend on other patients: a change of name or date of birth also refreshes
  the patients sharing the old or new date of birth who match the new surname or are flagged now.
- **Dates depend on today**: the stored window (dates.implausible_window()) is read against today by
  dates.implausible_from_stored(), so nothing goes stale overnight.
- **Proof**: differences() works every row out again from scratch and also compares each list as the
  rules give it today with the list as read from the table; ``manage.py check_patient_flags`` prints them
  (``--fix`` repairs), nightly in the worker (alerts/tasks.py) and in CI; tests/test_flags.py drives
  random sequences of service calls (hypothesis) and checks after each.
"""

import contextlib
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from . import dates
from .models import (
    FollowUpItem,
    Patient,
    PatientFlags,
    PrimaryDiagnosis,
    Recurrence,
    RecurrenceSite,
    RestagingEpisode,
    StagingTest,
    SymptomReport,
)
from .querysets import DATA_QUALITY_FLAGS

# The stored booleans that are flags of the data-quality list as they are (the dated one is stored as a window).
STORED_FLAGS = tuple(flag for flag in DATA_QUALITY_FLAGS if flag != "implausible_date")
FIELDS = (*STORED_FLAGS, "implausible_always", "implausible_until", "implausible_after", "problem", "no_next_follow_up")
CHUNK = 2000
LATEST = "latest_happened_"  # the annotations of with_flags_to_store() holding a latest date

_pending = threading.local()


def computed(patient_ids: Iterable[int]) -> dict[int, PatientFlags]:
    """Each patient's flags worked out from scratch by the rules (PatientQuerySet.with_flags_to_store())."""
    ids = list(patient_ids)
    rows = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for patient in Patient.objects.filter(pk__in=chunk).with_flags_to_store():
            latest = [value for name, value in patient.__dict__.items() if name.startswith(LATEST) and value]
            latest += [getattr(patient, field) for field in dates.happened_fields("patient") if getattr(patient, field)]
            until, after = dates.implausible_window(
                born=patient.date_of_birth, died=patient.date_of_death, latest_happened=max(latest, default=None)
            )
            values = {flag: bool(getattr(patient, flag)) for flag in STORED_FLAGS}
            always = bool(patient.implausible_date)
            rows[patient.pk] = PatientFlags(
                patient_id=patient.pk,
                **values,
                implausible_always=always,
                implausible_until=until,
                implausible_after=after,
                problem=always or any(values.values()),
                no_next_follow_up=bool(patient.no_next_follow_up),
            )
    return rows


def _with_duplicates(patient_ids: set[int], born: set[date]) -> set[int]:
    """The patients whose "possible duplicate" flag a change to these patients can change: those sharing
    a date of birth (old or new) who match a changed patient's surname now or are flagged now."""
    if not born:
        return patient_ids
    surnames = Patient.objects.filter(pk__in=patient_ids).annotate(family=Lower("family_name")).values("family")
    others = (
        Patient.all_objects.filter(date_of_birth__in=born)
        .annotate(family=Lower("family_name"))
        .filter(Q(family__in=surnames) | Q(flags__possible_duplicate=True))
        .values_list("pk", flat=True)
    )
    return patient_ids | set(others)


def refresh(patient_ids: Iterable[int], *, born: Iterable[date] = ()) -> int:
    """Work these patients' rows out again and store them (an upsert); ``born``: dates of birth whose
    possible duplicates must follow (a patient's old and new one). Inside batched(): gathered, done once
    at its end. Returns how many rows were written (0 when gathered)."""
    ids = {pk for pk in patient_ids if pk is not None}
    born = {day for day in born if day is not None}
    pending = getattr(_pending, "work", None)
    if pending is not None:
        pending[0].update(ids)
        pending[1].update(born)
        return 0
    return _write(ids, born)


def _write(ids: set[int], born: set[date]) -> int:
    ids = _with_duplicates(ids, born)
    if not ids:
        return 0
    rows = list(computed(ids).values())
    # A patient entered in error is on no list: their row stays as it was (the lists read live patients).
    PatientFlags.objects.bulk_create(
        rows, batch_size=CHUNK, update_conflicts=True, unique_fields=["patient"], update_fields=list(FIELDS)
    )
    return len(rows)


@contextlib.contextmanager
def batched() -> Iterator[None]:
    """Gather the patients of every change made inside and refresh them once, in bulk, at the end
    (for the import and the demo data); nested, the outermost one refreshes. On an error nothing is
    refreshed: the caller's transaction is being rolled back."""
    if getattr(_pending, "work", None) is not None:
        yield
        return
    _pending.work = (set(), set())
    try:
        yield
        ids, born = _pending.work
    finally:
        _pending.work = None
    _write(ids, born)


def refresh_all() -> int:
    """Every patient's row, from scratch (the demo data, ``check_patient_flags --fix``)."""
    ids = list(Patient.objects.values_list("pk", flat=True))
    with transaction.atomic():
        return _write(set(ids), set())


# What the lists are when read from the table, against the rules themselves, for differences().
def _lists(today: date) -> dict[str, tuple[Q | None, object]]:
    rule = Patient.objects.data_quality_problems()
    stored = Patient.objects.flagged_data_quality(today=today)
    lists = {
        "data quality": (rule, stored),
        "no next follow-up": (
            Patient.objects.without_next_follow_up(),
            Patient.objects.flagged_without_next_follow_up(),
        ),
    }
    for flag in DATA_QUALITY_FLAGS:
        lists[f"data quality: {flag}"] = (rule.having_problem(flag), stored.having_problem(flag))
    return lists


@dataclass(frozen=True)
class Difference:
    patient_id: int
    what: str  # the field, or the list
    stored: object
    expected: object

    def __str__(self):
        return f"patient {self.patient_id}: {self.what} is {self.stored!r}, the rules give {self.expected!r}"


def differences(*, today: date | None = None) -> list[Difference]:
    """Every way the table differs from the rules: each stored field against the same row worked out from
    scratch (a missing row counts), then each list read from the table against the list as the rules
    give it today."""
    today = today or timezone.localdate()
    found = []
    ids = list(Patient.objects.values_list("pk", flat=True))
    stored = {row.patient_id: row for row in PatientFlags.objects.filter(patient__in=Patient.objects.all())}
    for pk, expected in computed(ids).items():
        row = stored.get(pk)
        if row is None:
            found.append(Difference(pk, "row", None, "a row"))
            continue
        found += [
            Difference(pk, field, getattr(row, field), getattr(expected, field))
            for field in FIELDS
            if getattr(row, field) != getattr(expected, field)
        ]
    for name, (rule, table) in _lists(today).items():
        by_rule = set(rule.values_list("pk", flat=True))
        by_table = set(table.values_list("pk", flat=True))
        found += [Difference(pk, f"on the list {name}", pk in by_table, pk in by_rule) for pk in by_rule ^ by_table]
    return found


# Keeping the table: the model signals of every row that can change a flag ---------------------------------


def _patient_saved(sender, instance: Patient, **kwargs) -> None:
    loaded = getattr(instance, "_loaded_dates", {}) or {}
    refresh([instance.pk], born=[instance.date_of_birth, loaded.get("date_of_birth")])


def _row_changed(sender, instance, **kwargs) -> None:
    if isinstance(instance, StagingTest):
        patient = RestagingEpisode.all_objects.filter(pk=instance.episode_id).values("recurrence__patient_id")
    elif isinstance(instance, RestagingEpisode | RecurrenceSite):
        patient = Recurrence.all_objects.filter(pk=instance.recurrence_id).values("patient_id")
    else:
        refresh([instance.patient_id])
        return
    refresh([row["recurrence__patient_id" if isinstance(instance, StagingTest) else "patient_id"] for row in patient])


def connect() -> None:
    """Connected once, by FollowupConfig.ready()."""
    post_save.connect(_patient_saved, sender=Patient, dispatch_uid="flags-patient")
    for model in (
        PrimaryDiagnosis,
        FollowUpItem,
        Recurrence,
        RecurrenceSite,
        RestagingEpisode,
        StagingTest,
        SymptomReport,
    ):
        post_save.connect(_row_changed, sender=model, dispatch_uid=f"flags-{model.__name__}")
        post_delete.connect(_row_changed, sender=model, dispatch_uid=f"flags-delete-{model.__name__}")
