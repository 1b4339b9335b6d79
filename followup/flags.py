"""The patient flags table (models.PatientFlags): kept up to date with every change, proved equal to the rules.

The data-quality list and "No next follow-up" ask a question about every patient in scope; answered from
scratch on every request they took seconds at 100,000 patients (docs/performance.md). Here each patient's
answers are stored, and worked out again for that patient whenever one of their records changes:

- **The rules stay in one place.** A row is computed by ``PatientQuerySet.with_flags_to_store()``: the
  same QuerySet methods the lists were defined by, restricted to the patients that changed.
- **In the same transaction as the change.** Every save or delete of a row that can change a flag sends
  Django's model signals, whoever wrote it (services, the import, the integration, the admin, test
  factories); the receivers below refresh that patient there and then. Writes in bulk, which send no
  signals (bulk_create, bulk_update, QuerySet.update: the schedule, closing open items, the demo data),
  refresh their patients in the QuerySets themselves (scope.KeepsPatientFlags). ``batched()``
  gathers the patients of many writes and refreshes them once, in bulk (the import, the demo data).
  What still bypasses both (raw SQL, a data migration on historical models) must call refresh(), or be
  followed by ``check_patient_flags --fix``; the nightly check finds and repairs it otherwise.
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
import functools
import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from django.db import connection, connections, models, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Lower
from django.db.models.signals import post_delete, post_save, pre_save
from django.utils import timezone

from . import dates
from .display import plural
from .models import (
    KEPT_COUNTS,
    FollowUpItem,
    OpenItemDue,
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
from .scope import FLAG_SOURCES

# The stored booleans that are flags of the data-quality list as they are (the dated one is stored as a window).
STORED_FLAGS = tuple(flag for flag in DATA_QUALITY_FLAGS if flag != "implausible_date")
FIELDS = (
    *STORED_FLAGS,
    "implausible_always",
    "implausible_until",
    "implausible_after",
    "problem",
    "no_next_follow_up",
    "team",
    "named_nurse",
    *KEPT_COUNTS,
    "counted",
)
CHUNK = 2000
LATEST = "latest_happened_"  # the annotations of with_flags_to_store() holding a latest date
KEPT = "kept_"  # the annotations counting each kept list's rows of the patient

_pending = threading.local()
log = logging.getLogger(__name__)


def _columns() -> list[str]:
    return [
        "pk",
        "date_of_birth",
        "team_id",
        "named_nurse_id",
        *dates.happened_fields("patient"),
        *DATA_QUALITY_FLAGS,
        "no_next_follow_up",
    ]


class _CountOf(Subquery):
    """How many rows a QuerySet has, as a column of the outer query."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) AS counted_rows)"
    output_field = models.IntegerField()


def kept_lists() -> list:
    """The worklists (followup/worklists.py) whose rows are counted for each patient in the table."""
    from .worklists import WORKLISTS  # the worklists read the tables, which read the models

    return [worklist for worklist in WORKLISTS.values() if worklist.kept]


def _kept_counts() -> dict[str, _CountOf]:
    """Each kept list's rows of the outer patient, by the list's own QuerySet (Worklist.rows): the rule of
    the list page, restricted to one patient. Kept lists do not depend on the date (tests/test_dashboard_counts.py)."""
    today = timezone.localdate()
    return {
        f"{KEPT}{worklist.kept}": _CountOf(
            worklist.rows(today).filter(**{f"{worklist.patient_prefix}pk": OuterRef("pk")}).order_by().values("pk")
        )
        for worklist in kept_lists()
    }


@functools.lru_cache(maxsize=32)
def _statement(count: int, vendor: str) -> tuple[str, tuple, list[int | None]]:
    """with_flags_to_store() for ``count`` patients, compiled once per size and reused: building the
    query is ~50 ms of Python against ~5 ms for PostgreSQL to run it, on every save. Compiled with
    stand-in ids (negative: no patient has one) whose places in the parameters are kept."""
    stand_ins = [-(10**9) - n for n in range(count)]
    queryset = Patient.objects.filter(pk__in=stand_ins).with_flags_to_store().annotate(**_kept_counts())
    extra = [name for name in queryset.query.annotations if name.startswith((LATEST, KEPT))]
    sql, params = queryset.values(*_columns(), *extra).query.sql_with_params()
    places = [stand_ins.index(value) if value in stand_ins else None for value in params]
    return sql, tuple(params), places


def _read(value):
    """A value as the cursor gave it: SQLite's cursor gives dates as text."""
    if isinstance(value, str) and len(value) == 10 and value[4] == "-":
        return date.fromisoformat(value)
    return value


def computed(patient_ids: Iterable[int]) -> dict[int, PatientFlags]:
    """Each patient's flags worked out from scratch by the rules (PatientQuerySet.with_flags_to_store()),
    each with ``open_due``: the patient's OpenItemDue rows (FollowUpItemQuerySet.open_due())."""
    ids = sorted(patient_ids)
    rows = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        sql, params, places = _statement(len(chunk), connection.vendor)
        params = [chunk[place] if place is not None else value for value, place in zip(params, places, strict=True)]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            names = ["pk" if column[0] == "id" else column[0] for column in cursor.description]
            found = [dict(zip(names, map(_read, values), strict=True)) for values in cursor.fetchall()]
        for patient in found:
            latest = [value for name, value in patient.items() if name.startswith(LATEST) and value]
            latest += [patient[field] for field in dates.happened_fields("patient") if patient[field]]
            until, after = dates.implausible_window(
                born=patient["date_of_birth"], died=patient["date_of_death"], latest_happened=max(latest, default=None)
            )
            values = {flag: bool(patient[flag]) for flag in STORED_FLAGS}
            always = bool(patient["implausible_date"])
            counts = {field: patient[f"{KEPT}{field}"] for field in KEPT_COUNTS}
            problem = always or any(values.values())
            rows[patient["pk"]] = PatientFlags(
                patient_id=patient["pk"],
                **values,
                implausible_always=always,
                implausible_until=until,
                implausible_after=after,
                problem=problem,
                no_next_follow_up=bool(patient["no_next_follow_up"]),
                team_id=patient["team_id"],
                named_nurse_id=patient["named_nurse_id"],
                **counts,
                counted=problem or bool(patient["no_next_follow_up"]) or any(counts.values()),
            )
        for pk in chunk:
            if pk in rows:
                rows[pk].open_due = []
        due = (
            FollowUpItem.objects.open_due()
            .filter(patient__in=chunk, open_due_on__isnull=False)  # an item has one only while it is open
            .annotate(day=F("open_due_on"))
            .values("patient", "day")
            .annotate(items=Count("pk"))
            .order_by()
        )
        for found in due:
            row = rows[found["patient"]]
            row.open_due.append(
                OpenItemDue(
                    patient_id=row.patient_id,
                    team_id=row.team_id,
                    named_nurse_id=row.named_nurse_id,
                    open_due_on=_read(found["day"]),
                    items=found["items"],
                )
            )
    return rows


def _on_no_list(patient_ids: Iterable[int]) -> dict[int, PatientFlags]:
    """The rows of patients entered in error: on no list, they count nothing (all flags off, no counts)."""
    found = Patient.all_objects.filter(pk__in=patient_ids, entered_in_error=True)
    rows = {
        pk: PatientFlags(patient_id=pk, team_id=team, named_nurse_id=nurse)
        for pk, team, nurse in found.values_list("pk", "team_id", "named_nurse_id")
    }
    for row in rows.values():
        row.open_due = []
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


# PostgreSQL advisory locks (transaction-scoped) that make refreshes wait for each other: a key per date of
# birth (every patient has one, and possible duplicates share it), shared under one key that a bulk refresh
# takes alone. Without them two transactions changing one patient (a nurse records one item done while
# another cancels the other) each computed the row from what it saw, and the last to commit stored a row
# that missed the other's change.
LOCK_ALL, LOCK_BIRTH = 17000, 17001
BULK = 500  # dates of birth above which a refresh takes the one lock for all


def _lock(born: set[date]) -> None:
    if not born:
        return
    # The foreign keys this transaction wrote are checked now, not at commit: the check takes a share lock on
    # the rows they point at (the patient), which must not be waited for while holding the locks below (a
    # transaction holding the patient's row may be waiting for them).
    connection.check_constraints()
    with connection.cursor() as cursor:
        if len(born) > BULK:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, 0)", [LOCK_ALL])
            return
        keys = sorted(day.toordinal() for day in born)  # one order for all: no deadlock between refreshes
        cursor.execute(
            "SELECT pg_advisory_xact_lock_shared(%s, 0), "
            "(SELECT count(pg_advisory_xact_lock(%s, key)) FROM unnest(%s::int[]) AS key)",
            [LOCK_ALL, LOCK_BIRTH, keys],
        )


def _born(ids: set[int]) -> set[date]:
    return set(Patient.all_objects.filter(pk__in=ids).values_list("date_of_birth", flat=True))


def _write(ids: set[int], born: set[date], *, neighbours: bool = True) -> int:
    """``neighbours``: also the patients a change to these may (no longer) duplicate. Off where nothing
    changed and every patient's row is being worked out anyway (fill_missing())."""
    if not ids:
        return 0
    with transaction.atomic():
        born = born | _born(ids)
        locked: set[date] = set()
        while connection.vendor == "postgresql" and not born <= locked:
            _lock(born - locked)  # then work out what the others committed while this one waited
            locked |= born
            born = born | _born(ids)  # a date of birth changed while this one waited is locked too
        ids = _with_duplicates(ids, born) if neighbours else ids
        rows = computed(ids)
        rows = [*rows.values(), *_on_no_list(ids - rows.keys()).values()]
        PatientFlags.objects.bulk_create(
            rows, batch_size=CHUNK, update_conflicts=True, unique_fields=["patient"], update_fields=list(FIELDS)
        )
        _write_open_due(rows)
    return len(rows)


def _write_open_due(rows: list[PatientFlags]) -> None:
    """These patients' OpenItemDue rows, as computed() gave them: the old ones out, the new ones in. A
    patient's rows are their own (no row is shared between patients), and the locks above keep two
    refreshes of one patient apart."""
    ids = sorted(row.patient_id for row in rows)
    for start in range(0, len(ids), CHUNK):
        OpenItemDue.objects.filter(patient__in=ids[start : start + CHUNK]).delete()  # one DELETE: no signals
    OpenItemDue.objects.bulk_create([due for row in rows for due in row.open_due], batch_size=CHUNK)


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


@dataclass(frozen=True)
class Difference:
    patient_id: int
    what: str  # the field, or the list
    stored: object
    expected: object

    def __str__(self):
        return f"patient {self.patient_id}: {self.what} is {self.stored!r}, the rules give {self.expected!r}"


def differences(*, today: date | None = None, lists: bool = True) -> list[Difference]:
    """Every way the table differs from the rules: each stored field and each patient's open items due
    against the same worked out from scratch (a missing row counts; a patient entered in error counts
    nothing), CHUNK patients at a time; then each list read from the table against the list as the rules
    give it today."""
    today = today or timezone.localdate()
    found = []
    ids = sorted(Patient.all_objects.values_list("pk", flat=True))
    for start in range(0, len(ids), CHUNK):
        found += _chunk_differences(ids[start : start + CHUNK])
    if lists:  # off for the check after every test (tests/conftest.py): the rows are what can drift
        found += _list_differences(today)
    return found


def _chunk_differences(ids: list[int]) -> list[Difference]:
    found = []
    expected_rows = computed(ids)
    expected_rows |= _on_no_list(set(ids) - expected_rows.keys())
    stored = {row.patient_id: row for row in PatientFlags.objects.filter(patient__in=ids)}
    stored_due: dict[int, dict] = {}
    kept_due = OpenItemDue.objects.filter(patient__in=ids)
    for patient, day, items, team, nurse in kept_due.values_list(
        "patient", "open_due_on", "items", "team", "named_nurse"
    ):
        stored_due.setdefault(patient, {})[_read(day)] = (items, team, nurse)
    attnames = [PatientFlags._meta.get_field(field).attname for field in FIELDS]
    for pk, expected in sorted(expected_rows.items()):
        row = stored.get(pk)
        if row is None:
            found.append(Difference(pk, "row", None, "a row"))
        else:
            found += [
                Difference(pk, field, getattr(row, field), getattr(expected, field))
                for field in attnames
                if getattr(row, field) != getattr(expected, field)
            ]
        due = {d.open_due_on: (d.items, d.team_id, d.named_nurse_id) for d in expected.open_due}
        kept = stored_due.get(pk, {})
        if kept != due:
            found.append(Difference(pk, "open items due", _open_due_text(kept), _open_due_text(due)))
    return found


def _open_due_text(due: dict | None) -> str:
    """A patient's OpenItemDue rows in words, for a difference: "2 due 2026-12-01 (team 1, nurse 3)"."""
    return (
        "; ".join(
            f"{items} due {day} (team {team}, nurse {nurse})"
            for day, (items, team, nurse) in sorted((due or {}).items())
        )
        or "none"
    )


def _list_differences(today: date) -> list[Difference]:
    """Each list as the rules give it today (data quality with each patient's flags, no next follow-up, and
    each kept list's rows per patient) against the same list read from the table."""
    found = []
    rules = Patient.objects.data_quality_problems(today=today)
    rule = {row.pop("pk"): row for row in rules.values("pk", *DATA_QUALITY_FLAGS)}
    table = {
        row.pop("pk"): row
        for row in Patient.objects.flagged_data_quality(today=today).values("pk", *DATA_QUALITY_FLAGS)
    }
    for pk in rule.keys() | table.keys():
        expected, stored = rule.get(pk), table.get(pk)
        if expected is None or stored is None:
            found.append(Difference(pk, "on the list data quality", stored is not None, expected is not None))
            continue
        found += [
            Difference(pk, f"data quality: {flag}", bool(stored[flag]), bool(expected[flag]))
            for flag in DATA_QUALITY_FLAGS
            if bool(stored[flag]) != bool(expected[flag])
        ]
    rule = set(Patient.objects.without_next_follow_up().values_list("pk", flat=True))
    table = set(Patient.objects.flagged_without_next_follow_up().values_list("pk", flat=True))
    found += [Difference(pk, "on the list no next follow-up", pk in table, pk in rule) for pk in rule ^ table]
    for worklist in kept_lists():
        patient = f"{worklist.patient_prefix}pk"
        rows = worklist.rows(today).order_by().values(patient).annotate(n=Count("pk"))
        rule = {row[patient]: row["n"] for row in rows}
        kept = PatientFlags.objects.filter(**{f"{worklist.kept}__gt": 0}, patient__entered_in_error=False)
        table = dict(kept.values_list("patient_id", worklist.kept))
        found += [
            Difference(pk, f"rows on the list {worklist.slug}", table.get(pk, 0), rule.get(pk, 0))
            for pk in sorted(rule.keys() | table.keys())
            if table.get(pk, 0) != rule.get(pk, 0)
        ]
    return found


def repair(found: list[Difference]) -> int:
    """Work out again, by the rules and under the locks, the rows of the patients these differences name (not
    every row: a patient changed while the check ran is then not overwritten with what the check saw)."""
    return refresh({difference.patient_id for difference in found})


def check_and_repair() -> list[Difference]:
    """The nightly check (alerts/tasks.py): every difference is logged as an error for the operators, then
    the rows of the patients concerned are written again. Returns what was found."""
    found = differences()
    if found:
        for difference in found[:50]:
            log.error("Patient flags differ from the rules: %s", difference)
        written = repair(found)
        log.error(
            "%s between the patient flags and the rules: %s written again.",
            plural(len(found), "difference"),
            plural(written, "row"),
        )
    return found


def fill_missing(**kwargs) -> int:
    """After ``migrate`` (a post_migrate receiver): a row for every patient who has none, and the rows without
    a team written again (rows from before the kept counts, or written by older code during a rolling
    deploy), by today's rules. CHUNK patients a transaction: saves elsewhere wait for one chunk at most. A
    fresh database has nothing to do."""
    from django.db.migrations.executor import MigrationExecutor

    using = kwargs.get("using", "default")
    executor = MigrationExecutor(connections[using])
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        return 0  # migrated to an earlier state: the rules of the day need the latest tables
    patients = Patient.all_objects.using(using)
    missing = patients.filter(Q(flags__isnull=True) | Q(flags__team__isnull=True)).values_list("pk", flat=True)
    missing = sorted(missing)
    # Nothing changed: each patient's row is worked out from what is there, no neighbour needs to follow.
    return sum(
        _write(set(missing[start : start + CHUNK]), set(), neighbours=False) for start in range(0, len(missing), CHUNK)
    )


# Keeping the table: the model signals of every row that can change a flag ---------------------------------


def _patient_saving(sender, instance: Patient, **kwargs) -> None:
    """The date of birth as stored before this save: its possible duplicates must follow a change. Read
    from the database (one query), not from the instance: one made in this process knows no earlier value."""
    if instance.pk is not None and not instance._state.adding:
        stored = Patient.all_objects.filter(pk=instance.pk).values_list("date_of_birth", flat=True).first()
        instance._flags_born_before = stored


def _patient_saved(sender, instance: Patient, **kwargs) -> None:
    refresh([instance.pk], born=[instance.date_of_birth, getattr(instance, "_flags_born_before", None)])


# The rows whose patient is found through a parent: (the parent's id on the row, the parent, its path to the patient).
_PARENTS = {
    StagingTest: ("episode_id", RestagingEpisode, "recurrence__patient_id"),
    RestagingEpisode: ("recurrence_id", Recurrence, "patient_id"),
    RecurrenceSite: ("recurrence_id", Recurrence, "patient_id"),
}


def _row_changed(sender, instance, **kwargs) -> None:
    """A row saved or deleted: its patient's flags, and its former patient's if it was moved (the admin can
    move a row: ClinicalRecord.from_db keeps the parent it was loaded with)."""
    loaded = getattr(instance, "_loaded_parents", {})
    if type(instance) in _PARENTS:
        attname, parent, path = _PARENTS[type(instance)]
        keys = {getattr(instance, attname), loaded.get(attname)} - {None}
        refresh(parent.all_objects.filter(pk__in=keys).values_list(path, flat=True))
    elif isinstance(instance, Recurrence) and instance.pk is not None:
        # "Distant disease not recorded" reads the distant recurrence recorded from a test, which may be
        # another patient's (the admin can move a recurrence): those tests' patients follow too.
        linked = StagingTest.all_objects.filter(distant_recurrence=instance.pk)
        tested = linked.values_list(FLAG_SOURCES["followup.stagingtest"], flat=True)
        refresh({instance.patient_id, loaded.get("patient_id"), *tested})
    else:
        refresh({instance.patient_id, loaded.get("patient_id")})


def connect() -> None:
    """Connected once, by FollowupConfig.ready()."""
    from mdt.models import MDTDiscussion  # "Recurrence not yet discussed at MDT" is a kept count

    _PARENTS[MDTDiscussion] = ("recurrence_id", Recurrence, "patient_id")
    pre_save.connect(_patient_saving, sender=Patient, dispatch_uid="flags-patient-before")
    post_save.connect(_patient_saved, sender=Patient, dispatch_uid="flags-patient")
    for model in (
        PrimaryDiagnosis,
        FollowUpItem,
        Recurrence,
        RecurrenceSite,
        RestagingEpisode,
        StagingTest,
        SymptomReport,
        MDTDiscussion,
    ):
        post_save.connect(_row_changed, sender=model, dispatch_uid=f"flags-{model.__name__}")
        post_delete.connect(_row_changed, sender=model, dispatch_uid=f"flags-delete-{model.__name__}")
