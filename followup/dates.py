"""Plausible dates: the one place the rules live.

A date typed with a slip of the year (27 for 2027, 2062 for 2026) is refused
where it is entered, with a message beside its field; rows that already hold one
are on the data-quality list. Both read the rules below: models' clean() through
``record_errors()``, the data-quality list through ``implausible()`` and
``implausible_birth()``, which say the same in SQL.

- No date before 1 Jan 1900.
- A date of birth not in the future, and giving an age of at most 120 (at death,
  for a patient who has died).
- No clinical date before the patient's birth.
- A date something happened (done, performed, reported...) not in the future;
  a date planned (due, booked...) typed at most ``MAX_YEARS_AHEAD`` years ahead.
- A recurrence not before the diagnosis of the primary it recurs from.
"""

import functools
from dataclasses import dataclass
from datetime import date

from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThan

EARLIEST = date(1900, 1, 1)
MAX_AGE_YEARS = 120
MAX_YEARS_AHEAD = 10


def day(value: date) -> str:
    """A date as the pages show it ("1 Jan 1900"); the year always in four digits ("15 Mar 0027")."""
    return f"{value.day} {value:%b} {value.year:04d}"


def add_years(value: date, years: int) -> date:
    """The same day ``years`` later (or earlier); 29 Feb becomes 28 Feb in a common year."""
    year = value.year + years
    try:
        return value.replace(year=year)
    except ValueError:
        return value.replace(year=year, day=28)


def latest_planned(today: date) -> date:
    return add_years(today, MAX_YEARS_AHEAD)


@dataclass(frozen=True)
class DateRule:
    field: str
    label: str  # as a message begins: "The date done"
    happened: bool  # a date something happened: not in the future; else a plan, not too far ahead

    def error(self, value: date, *, born: date | None, today: date, typed: bool = True) -> str | None:
        """What is wrong with the date, if anything. ``typed``: being entered now (see broken())."""
        if value < EARLIEST:
            return f"{self.label} cannot be before {day(EARLIEST)}: check the year."
        if born is not None and value < born:
            return f"{self.label} cannot be before the date of birth ({day(born)})."
        if self.happened and value > today:
            return f"{self.label} cannot be in the future."
        if typed and not self.happened and value > latest_planned(today):
            return f"{self.label} is more than {MAX_YEARS_AHEAD} years ahead: check the year."
        return None

    def broken(self, *, born: str, today: date | None) -> Q:
        """The rule in SQL, over rows of the model; ``born`` is the path to the patient's date of birth.

        A plan far ahead is refused when it is typed (a slip of the year), but not flagged once
        stored: a protocol may schedule items more than MAX_YEARS_AHEAD years ahead.
        ``today`` None: only the part that does not change with the date (see implausible_from_stored()).
        """
        field = self.field
        broken = Q(**{f"{field}__lt": EARLIEST}) | Q(**{f"{field}__lt": F(born)})
        return broken | Q(**{f"{field}__gt": today}) if self.happened and today is not None else broken


# Every clinical date, by model (the date of birth has rules of its own, below).
RULES: dict[str, tuple[DateRule, ...]] = {
    "patient": (
        DateRule("date_of_death", "The date of death", happened=True),
        DateRule("discharged_on", "The discharge date", happened=True),
        DateRule("protocol_start_on", "The schedule start date", happened=False),
        DateRule("pifu_starts_on", "The PIFU start date", happened=False),
        DateRule("pifu_ends_on", "The PIFU end date", happened=False),
    ),
    "primarydiagnosis": (
        DateRule("diagnosed_on", "The date of diagnosis", happened=True),
        DateRule("endocrine_started_on", "The date endocrine therapy started", happened=False),
    ),
    "followupitem": (
        DateRule("due_on", "The due date", happened=False),
        DateRule("booked_for", "The appointment date", happened=False),
        DateRule("done_on", "The date done", happened=True),
    ),
    "recurrence": (DateRule("diagnosed_on", "The date clinically agreed", happened=True),),
    "restagingepisode": (
        DateRule("opened_on", "The date restaging opened", happened=True),
        DateRule("target_on", "The target date", happened=False),
        DateRule("closed_on", "The date restaging closed", happened=True),
    ),
    "stagingtest": (
        DateRule("requested_on", "The date requested", happened=True),
        DateRule("performed_on", "The date performed", happened=True),
        DateRule("reported_on", "The date reported", happened=True),
        DateRule("cancelled_on", "The date cancelled", happened=True),
    ),
    "symptomreport": (
        DateRule("reported_on", "The date reported", happened=True),
        DateRule("onset_on", "The date symptoms started", happened=True),
    ),
}


@functools.cache
def _date_fields(model) -> tuple[str, ...]:
    return tuple(f.attname for f in model._meta.concrete_fields if type(f) is models.DateField)


def remember_dates(record) -> None:
    """Keep the dates a row was loaded with (models.ClinicalRecord.from_db), so that only a date
    being entered or changed is checked: a bad date already stored must not block the actions that
    correct it (entered in error) or keep a patient safe (acknowledging a result). It is on the
    data-quality list instead."""
    loaded = record.__dict__
    record._loaded_dates = {name: loaded[name] for name in _date_fields(type(record)) if name in loaded}


def changed(record, field: str) -> bool:
    """Is this date new or changed since the row was loaded? (Unknown: yes.)"""
    loaded = getattr(record, "_loaded_dates", None)
    if loaded is None or record._state.adding or field not in loaded:
        return True
    return loaded[field] != getattr(record, field)


def changed_dates(record) -> list[DateRule]:
    """The rules of the row's dates that are set and new or changed."""
    return [
        rule
        for rule in RULES.get(record._meta.model_name, ())
        if getattr(record, rule.field) is not None and changed(record, rule.field)
    ]


def record_errors(record, rules: list[DateRule], *, born: date | None, today: date) -> dict[str, list[str]]:
    """{field: [message]} for the given rules of one row."""
    errors = {}
    for rule in rules:
        message = rule.error(getattr(record, rule.field), born=born, today=today)
        if message:
            errors[rule.field] = [message]
    return errors


def birth_error(born: date, *, died: date | None, today: date) -> str | None:
    if born < EARLIEST:
        return f"The date of birth cannot be before {day(EARLIEST)}: check the year."
    if born > today:
        return "The date of birth cannot be in the future."
    if add_years(born, MAX_AGE_YEARS) < (died or today):
        return f"The date of birth gives an age over {MAX_AGE_YEARS}: check the year."
    return None


def birth_after_records_error(born: date, recorded: list[tuple[str, date]]) -> str | None:
    """A date of birth changed to after a date already recorded for the patient ((what, when) pairs)."""
    earlier = [(when, what) for what, when in recorded if when is not None and when < born]
    if not earlier:
        return None
    when, what = min(earlier)
    return f"The date of birth cannot be after a date already recorded: {what} {day(when)}."


def stored_problems(patient, *, today: date) -> list[str]:
    """The implausible dates a patient's record holds, each said with the record it is on: what the
    data-quality flag "Implausible date" stands for, for the patient page. Reads only what
    PatientQuerySet.for_patient_page() loaded (its ``all_...`` lists), leaving out the rows entered in
    error as the flag does."""
    problems = []
    born = patient.date_of_birth
    message = birth_error(born, died=patient.date_of_death, today=today)
    if message:
        problems.append(f"Patient, {day(born)}: {message}")
        born = None

    def check(record, name: str) -> None:
        for rule in RULES[record._meta.model_name]:
            value = getattr(record, rule.field)
            message = value and rule.error(value, born=born, today=today, typed=False)
            if message:
                problems.append(f"{name}, {day(value)}: {message}")

    def live(rows):
        return [row for row in rows if not row.entered_in_error]

    check(patient, "Patient")
    primaries = {primary.pk: primary for primary in live(patient.all_primaries)}
    for primary in primaries.values():
        check(primary, "Primary diagnosis")
    for item in live(patient.all_followup_items):
        check(item, item.get_kind_display())
    for recurrence in live(patient.all_recurrences):
        name = f"{recurrence.get_metastatic_type_display()} recurrence"
        check(recurrence, name)
        primary = primaries.get(recurrence.primary_id)
        message = primary and recurrence_error(recurrence.diagnosed_on, primary.diagnosed_on)
        if message:
            problems.append(f"{name}, {day(recurrence.diagnosed_on)}: {message}")
        episode = getattr(recurrence, "restaging", None)
        if episode is not None and not episode.entered_in_error:
            check(episode, "Restaging")
            for test in live(episode.all_tests):
                check(test, test.get_modality_display())
    for report in live(patient.all_symptom_reports):
        check(report, f"{report.get_area_display()} symptom report")
    return problems


def recurrence_error(diagnosed_on: date, primary_diagnosed_on: date) -> str | None:
    if diagnosed_on < primary_diagnosed_on:
        return f"The recurrence cannot be before the primary diagnosis ({day(primary_diagnosed_on)})."
    return None


class AddYears(models.Func):
    """A date plus whole years, as add_years() does it (PostgreSQL and SQLite)."""

    output_field = models.DateField()

    def __init__(self, expression, years: int):
        self.years = int(years)
        super().__init__(expression)

    def as_sql(self, compiler, connection, **extra):
        return super().as_sql(
            compiler, connection, template=f"CAST((%(expressions)s + INTERVAL '{self.years} years') AS date)", **extra
        )

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template=f"date(%(expressions)s, '{self.years:+d} years')", **extra)


def implausible_birth(*, today: date | None) -> Q:
    """birth_error() in SQL, over patient rows (``today`` None: only what does not change with the date)."""
    if today is None:
        died_over_age = LessThan(AddYears(F("date_of_birth"), MAX_AGE_YEARS), F("date_of_death"))
        return Q(date_of_birth__lt=EARLIEST) | Q(died_over_age, date_of_death__isnull=False)
    over_age = LessThan(AddYears(F("date_of_birth"), MAX_AGE_YEARS), Coalesce(F("date_of_death"), Value(today)))
    return Q(date_of_birth__lt=EARLIEST) | Q(date_of_birth__gt=today) | Q(over_age)


def implausible(model_name: str, *, born: str, today: date | None) -> Q:
    """Rows of the model with any date breaking its rule; ``born`` is the path to the patient's date of birth
    (``today`` None: only the part of the rules that does not change with the date)."""
    broken = Q()
    for rule in RULES[model_name]:
        broken |= rule.broken(born=born, today=today)
    return broken


def happened_fields(model_name: str) -> list[str]:
    """The model's dates of something that happened: implausible while they are in the future."""
    return [rule.field for rule in RULES[model_name] if rule.happened]


def implausible_window(
    *, born: date, died: date | None, latest_happened: date | None
) -> tuple[date | None, date | None]:
    """How the rules that depend on today apply to one patient, for followup.flags to store: (until, after).

    The rules above, read over time: a date that happened (the date of birth included) is implausible
    while it is in the future, so the record is implausible until the latest of them; a living
    patient's date of birth becomes implausible after their MAX_AGE_YEARS-th birthday. Everything
    else (before EARLIEST, before birth, age at death) does not change with the date:
    ``implausible(..., today=None)``. So: implausible on ``today`` = the fixed part, or
    ``today < until``, or ``today > after`` (see implausible_from_stored()).
    """
    until = max(day for day in (born, latest_happened) if day is not None)
    after = add_years(born, MAX_AGE_YEARS) if died is None else None
    return until, after


def implausible_from_stored(prefix: str, *, today: date) -> Q:
    """The stored form of implausible_window() in SQL: rows whose stored fixed part, ``until`` or
    ``after`` say a date is implausible on ``today`` (``prefix`` is the path to the stored row)."""
    return (
        Q(**{f"{prefix}implausible_always": True})
        | Q(**{f"{prefix}implausible_until__gt": today})
        | Q(**{f"{prefix}implausible_after__lt": today})
    )


def implausible_recurrence() -> Q:
    """recurrence_error() in SQL, over recurrence rows."""
    return Q(primary__isnull=False, diagnosed_on__lt=F("primary__diagnosed_on"))
