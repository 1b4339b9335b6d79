"""Import an existing caseload from a CSV or XLSX file: read, check every row, then write all rows or none.

``build_plan()`` is the dry run: it reads the file and the database and writes nothing. ``apply_plan()``
writes a plan without errors through the services, in one transaction. Rows are matched on NHS number,
and nothing already recorded is written again, so importing the same file twice changes nothing.

A row whose NHS number is already registered must agree with that patient's identity (names, date of
birth, sex): a disagreement is an error for a person to look at, never an update, because it usually
means a mistyped NHS number, and applying it would turn one patient's record into another's. The
identity changes only through the patient's own edit form.
"""

import copy
import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from . import choices as c
from . import flags, services
from .display import show_date
from .import_files import ImportFileError, file_rows
from .models import FollowUpItem, GPPractice, Patient, PrimaryDiagnosis, Team, User
from .nhs import format_nhs_number, nhs_number_error, normalise_nhs_number
from .uk import PHONE_ERROR, POSTCODE_ERROR, normalise_phone, normalise_postcode

# Rows per IN (...) query: well under SQLite's limit on query parameters.
CHUNK = 500
ITEM_NOTE = "Added by the caseload import."

# The template's example row carries this test-range number (far beyond the demo's, which count up from
# 999 000 0018): the importer skips any row with it, so an example left in a file is never imported.
EXAMPLE_NHS_NUMBER = "9999999980"

CREATE, UPDATE, UNCHANGED, SKIPPED = "create", "update", "unchanged", "skipped"


class Column(NamedTuple):
    key: str
    header: str
    kind: str = "text"  # text, nhs, date, choice, nurse, postcode, phone, yes_no, gp
    choices: type[models.TextChoices] | None = None
    required: bool = False
    help: str = ""


COLUMNS = [
    Column("nhs_number", "NHS number", "nhs", required=True, help="10 digits; spaces are fine. Rows match on it."),
    Column("hospital_number", "Hospital number"),
    Column("given_name", "First name", required=True),
    Column("family_name", "Last name", required=True),
    Column("date_of_birth", "Date of birth", "date", required=True),
    Column("sex", "Sex", "choice", c.Sex, required=True),
    Column("named_nurse", "Named nurse", "nurse", required=True, help="Username of an active nurse of the team."),
    Column("follow_up_model", "Follow-up model", "choice", c.FollowUpModel, help="Clinic-led when empty."),
    Column("laterality", "Laterality", "choice", c.Laterality, help="Primary diagnosis (optional)."),
    Column("diagnosed_on", "Date diagnosed", "date", help="Needed for a primary diagnosis."),
    Column("histology", "Histology", "choice", c.Histology),
    Column("er_status", "ER", "choice", c.ReceptorStatus),
    Column("pr_status", "PR", "choice", c.ReceptorStatus),
    Column("her2_status", "HER2", "choice", c.ReceptorStatus),
    Column("next_kind", "Next follow-up", "choice", c.FollowUpKind, help="What is due next (optional)."),
    Column("next_due_on", "Next follow-up due", "date", help="With the next follow-up."),
    # Contact details and the GP (optional): an empty cell leaves what is recorded as it is.
    Column("address_line_1", "Address line 1"),
    Column("address_line_2", "Address line 2"),
    Column("town", "Town or city"),
    Column("postcode", "Postcode", "postcode", help="A UK postcode, for example LS1 4AB."),
    Column("phone_mobile", "Mobile phone", "phone", help="A UK number, for example 07700 900123."),
    Column("phone_home", "Home phone", "phone", help="A UK number, for example 0113 496 0123."),
    Column("email", "Email address"),
    Column("preferred_contact", "Preferred contact", "choice", c.ContactPreference),
    Column("messages_may_be_left", "Messages may be left", "yes_no", help="Yes or No; empty for not asked."),
    Column("next_of_kin_name", "Next of kin name"),
    Column("next_of_kin_relationship", "Next of kin relationship"),
    Column("next_of_kin_phone", "Next of kin phone", "phone"),
    Column("interpreter_language", "Interpreter language", help="Only when an interpreter is needed."),
    Column("accessible_information", "Accessible information", help="For example: large print."),
    Column("gp_practice", "GP ODS code", "gp", help="The ODS code of a GP practice already in the tracker."),
]
COLUMN_BY_KEY = {column.key: column for column in COLUMNS}
PRIMARY_KEYS = ("laterality", "diagnosed_on", "histology", "er_status", "pr_status", "her2_status")
PATIENT_KEYS = tuple(key for key in COLUMN_BY_KEY if key not in (*PRIMARY_KEYS, "next_kind", "next_due_on"))
# How to reach the patient and their GP: written through services.patient_update_contact_details.
CONTACT_KEYS = (*services.CONTACT_DETAIL_FIELDS, "gp_practice")
_YES_NO = {"yes": True, "y": True, "no": False, "n": False}
# Who the patient is: compared with an existing patient's record, never written over it.
IDENTITY_KEYS = ("nhs_number", "given_name", "family_name", "date_of_birth", "sex")
# Fields of existing patients the import may change (in the columns' order): never identity, team or status.
UPDATABLE_KEYS = tuple(key for key in PATIENT_KEYS if key not in IDENTITY_KEYS)
# The model's own checks run on each row; the foreign keys and constraints are checked once for the file.
_PATIENT_UNCHECKED = ["team", "named_nurse", "protocol", "gp_practice", "created_by", "updated_by", "error_marked_by"]
_PRIMARY_UNCHECKED = ["patient", "created_by", "updated_by", "error_marked_by"]
_ITEM_UNCHECKED = ["patient", "created_by", "updated_by", "error_marked_by", "result_acknowledged_by", "protocol_step"]
# The next follow-up item's fields, as the file names them.
_ITEM_HEADERS = {"kind": COLUMN_BY_KEY["next_kind"].header, "due_on": COLUMN_BY_KEY["next_due_on"].header}

_UK_DATE = re.compile(r"^\d{1,2}/\d{1,2}/\d{4}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _header_key(text: str) -> str:
    return " ".join(text.lower().replace("_", " ").split())


_HEADERS = {_header_key(alias): column.key for column in COLUMNS for alias in (column.header, column.key)}


def _choice_lookup(choices: type[models.TextChoices]) -> dict[str, str]:
    return {text.lower(): value for value, label in choices.choices for text in (value, label)}


_LOOKUPS = {column.key: _choice_lookup(column.choices) for column in COLUMNS if column.choices}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a number typed in a spreadsheet cell: 9434765919.0
    return str(value).strip()


def parse_date(value) -> date:
    """A date cell (XLSX), or dd/mm/yyyy or yyyy-mm-dd text; ValueError otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    for pattern, fmt in ((_UK_DATE, "%d/%m/%Y"), (_ISO_DATE, "%Y-%m-%d")):
        if pattern.match(text):
            return datetime.strptime(text, fmt).date()  # ValueError for 31/02/2024
    raise ValueError(text)


# Reading ----------------------------------------------------------------------


def read_table(content: bytes) -> list[tuple[int, dict[str, object]]]:
    """(row number as the spreadsheet shows it, {column key: cell}) for every row that is not empty.

    The file is read within the limits of ``import_files`` (size, rows, columns, and for a workbook what it
    unpacks to), which refuses anything over them before it is parsed.
    """
    rows = file_rows(content)
    positions, table = None, []
    try:
        for number, cells in enumerate(rows, start=1):
            if all(_text(cell) == "" for cell in cells):
                continue
            if positions is None:  # the first row with anything in it holds the column headings
                positions = _header_positions(cells)
            else:
                table.append((number, {key: cells[i] if i < len(cells) else None for i, key in positions}))
    finally:
        rows.close()
    if positions is None:
        raise ImportFileError("The file is empty.")
    if not table:
        raise ImportFileError("The file has column headings but no rows.")
    return table


def _header_positions(header) -> list[tuple[int, str]]:
    positions, seen, unknown = [], set(), []
    for index, cell in enumerate(header):
        text = _text(cell)
        if not text:
            continue
        key = _HEADERS.get(_header_key(text))
        if key is None:
            unknown.append(f'"{text}"')
        elif key in seen:
            raise ImportFileError(f'The column "{COLUMN_BY_KEY[key].header}" appears twice.')
        else:
            seen.add(key)
            positions.append((index, key))
    errors = []
    if unknown:
        errors.append(f"Unknown column{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. Use the template's.")
    missing = [column.header for column in COLUMNS if column.required and column.key not in seen]
    if missing:
        errors.append(f"Missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}.")
    if errors:
        raise ImportFileError(errors)
    return positions


# Checking ---------------------------------------------------------------------


@dataclass
class Row:
    number: int
    nhs_display: str = ""
    name: str = ""
    nhs_number: str = ""  # set only when valid
    patient: dict = field(default_factory=dict)
    primary: dict = field(default_factory=dict)
    next_item: tuple[str, date] | None = None
    errors: list[str] = field(default_factory=list)
    existing: Patient | None = None
    action: str = ""
    changed: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)  # of an update, in words: "Named nurse: Alex Morgan → Priya Shah"
    add_primary: bool = False
    add_item: bool = False

    @property
    def summary(self) -> str:
        """What importing the row does, in words (an update's details are in ``changes``)."""
        if self.errors:
            return "Not imported"
        if self.action == SKIPPED:
            return "Example row skipped"
        if self.action == CREATE:
            extras = []
            if self.add_primary:
                extras.append("primary diagnosis")
            if self.add_item:
                kind, due_on = self.next_item
                extras.append(f"next {c.FollowUpKind(kind).label.lower()} due {show_date(due_on)}")
            return "Create" + (f", with {' and '.join(extras)}" if extras else "")
        if self.action == UPDATE:
            return "Update"
        return "No change"


@dataclass
class Plan:
    team: Team
    rows: list[Row]

    @property
    def error_rows(self) -> list[Row]:
        return [row for row in self.rows if row.errors]

    @property
    def to_write(self) -> list[Row]:
        return [row for row in self.rows if not row.errors and row.action in (CREATE, UPDATE)]

    @property
    def counts(self) -> dict[str, int]:
        counts = {CREATE: 0, UPDATE: 0, UNCHANGED: 0, SKIPPED: 0, "errors": 0}
        for row in self.rows:
            counts["errors" if row.errors else row.action] += 1
        return counts

    @property
    def can_import(self) -> bool:
        return not self.error_rows and bool(self.to_write)

    @property
    def digest(self) -> str:
        """Fingerprint of what the plan would do: a confirmation applies only the plan the admin saw."""
        seen = [
            [
                row.number,
                row.nhs_number,
                row.summary,
                row.changes,
                row.errors,
                row.existing.version if row.existing else None,
            ]
            for row in self.rows
        ]
        return hashlib.sha256(json.dumps([self.team.pk, seen], default=str).encode()).hexdigest()


def _parse_row(
    number: int, cells: dict, *, team: Team, nurses: dict[str, User], practices: dict[str, GPPractice]
) -> Row:
    row = Row(number=number)
    row.nhs_display = format_nhs_number(normalise_nhs_number(_text(cells.get("nhs_number"))))
    row.name = ", ".join(filter(None, [_text(cells.get("family_name")).upper(), _text(cells.get("given_name"))]))
    if normalise_nhs_number(_text(cells.get("nhs_number"))) == EXAMPLE_NHS_NUMBER:
        row.action = SKIPPED  # the template's example: nothing else in the row is looked at
        return row
    values, failed = {}, set()
    for column in COLUMNS:
        raw = cells.get(column.key)
        text = _text(raw)
        if not text:
            if column.required:
                row.errors.append(
                    "NHS number is missing: rows are matched on it."
                    if column.kind == "nhs"
                    else f"{column.header} is missing."
                )
            continue
        try:
            values[column.key] = _parse_cell(column, raw, text, team=team, nurses=nurses, practices=practices)
        except ValueError as exc:
            failed.add(column.key)
            row.errors.append(f"{column.header}: {exc}")
    row.nhs_number = values.get("nhs_number", "")
    row.patient = {key: values[key] for key in PATIENT_KEYS if key in values}
    if row.patient.get("interpreter_language"):
        row.patient["interpreter_needed"] = True
    row.primary = {key: values[key] for key in PRIMARY_KEYS if key in values}
    if row.primary and "diagnosed_on" not in values and "diagnosed_on" not in failed:
        row.errors.append("Date diagnosed is missing: a primary diagnosis needs it.")
    kind, due_on = values.get("next_kind"), values.get("next_due_on")
    if kind and due_on:
        row.next_item = (kind, due_on)
    elif kind and "next_due_on" not in failed:
        row.errors.append("Next follow-up due is missing: say when it is due.")
    elif due_on and "next_kind" not in failed:
        row.errors.append("Next follow-up is missing: say what is due.")
    return row


def _parse_cell(
    column: Column, raw, text: str, *, team: Team, nurses: dict[str, User], practices: dict[str, GPPractice]
):
    if column.kind == "nhs":
        number = normalise_nhs_number(text)
        error = nhs_number_error(number)
        if error:
            raise ValueError(error)
        return number
    if column.kind == "date":
        try:
            return parse_date(raw)
        except ValueError:
            raise ValueError(f'"{text}" is not a date. Use dd/mm/yyyy, for example 17/05/1960.') from None
    if column.kind == "choice":
        value = _LOOKUPS[column.key].get(text.lower())
        if value is None:
            allowed = ", ".join(label for _, label in column.choices.choices)
            raise ValueError(f'"{text}" is not one of: {allowed}.')
        return value
    if column.kind == "nurse":
        nurse = nurses.get(text.lower())
        if nurse is None:
            raise ValueError(f'"{text}" is not the username of an active nurse in {team}.')
        return nurse
    if column.kind == "postcode":
        return normalise_postcode(text) or _refuse(f'"{text}" is not a UK postcode. {POSTCODE_ERROR}.')
    if column.kind == "phone":
        if isinstance(raw, int | float) and len(text) == 10:
            text = f"0{text}"  # a spreadsheet cell that took 07700 900123 for a number and dropped the 0
        return normalise_phone(text) or _refuse(f'"{text}" is not a UK phone number. {PHONE_ERROR}.')
    if column.kind == "yes_no":
        if text.lower() not in _YES_NO:
            raise ValueError(f'"{text}" is not Yes or No (leave it empty if not asked).')
        return _YES_NO[text.lower()]
    if column.kind == "gp":
        practice = practices.get(text.upper())
        if practice is None:
            # Never created from a file: a mistyped code would become a practice every letter goes to.
            raise ValueError(
                f"No GP practice has the ODS code {text.upper()}. Ask an admin to add it, then import again."
            )
        return practice
    return text


def _refuse(message: str):
    raise ValueError(message)


def _chunks(values: list) -> Iterator[list]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _existing_patients(numbers: list[str]) -> dict[str, Patient]:
    """Patients with these NHS numbers, each with the dates of their primaries and their open items."""
    patients = {}
    for chunk in _chunks(numbers):
        for patient in Patient.objects.filter(nhs_number__in=chunk).select_related(
            "team", "named_nurse", "gp_practice"
        ):
            patient.primary_dates, patient.open_items = set(), set()
            patients[patient.nhs_number] = patient
    by_pk = {patient.pk: patient for patient in patients.values()}
    for chunk in _chunks(list(by_pk)):
        primaries = PrimaryDiagnosis.objects.filter(patient__in=chunk)
        for pk, diagnosed_on in primaries.values_list("patient_id", "diagnosed_on"):
            by_pk[pk].primary_dates.add(diagnosed_on)
        items = FollowUpItem.objects.open().filter(patient__in=chunk)
        for pk, kind, due_on in items.values_list("patient_id", "kind", "due_on"):
            by_pk[pk].open_items.add((kind, due_on))
    return patients


def _hospital_numbers(numbers: list[str], team: Team) -> dict[str, str]:
    """Hospital number -> NHS number of the team's patient who holds it."""
    holders = {}
    for chunk in _chunks(numbers):
        rows = Patient.objects.filter(team=team, hospital_number__in=chunk)
        holders.update(rows.values_list("hospital_number", "nhs_number"))
    return holders


def _model_errors(instance, exclude: list[str], headers: dict[str, str] | None = None) -> list[str]:
    headers = headers or {key: column.header for key, column in COLUMN_BY_KEY.items()}
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        return [
            message if name == "__all__" else f"{headers.get(name, name)}: {message}"
            for name, messages in exc.message_dict.items()
            for message in messages
        ]
    return []


def build_plan(content: bytes, *, team: Team) -> Plan:
    """Read the file and check every row against the team's records: the dry run. Writes nothing."""
    table = read_table(content)
    nurses = {
        nurse.username.lower(): nurse for nurse in User.objects.filter(team=team, role=c.Role.NURSE, is_active=True)
    }
    codes = {_text(cells.get("gp_practice")).upper() for _, cells in table} - {""}
    # One query for every practice the file names (none without an ODS code column).
    practices = {p.ods_code: p for p in GPPractice.objects.filter(ods_code__in=sorted(codes))} if codes else {}
    rows = [_parse_row(number, cells, team=team, nurses=nurses, practices=practices) for number, cells in table]
    first_nhs, first_hospital = {}, {}
    for row in rows:
        if row.nhs_number:
            if row.nhs_number in first_nhs:
                row.errors.append(f"The same NHS number is on row {first_nhs[row.nhs_number]}.")
            first_nhs.setdefault(row.nhs_number, row.number)
        hospital_number = row.patient.get("hospital_number")
        if hospital_number:
            if hospital_number in first_hospital:
                row.errors.append(f"The same hospital number is on row {first_hospital[hospital_number]}.")
            first_hospital.setdefault(hospital_number, row.number)
    existing = _existing_patients(sorted(first_nhs))
    holders = _hospital_numbers(sorted(first_hospital), team)
    for row in rows:
        _plan_row(row, team=team, patient=existing.get(row.nhs_number), holders=holders)
    return Plan(team=team, rows=rows)


def _differs(patient: Patient, key: str, value) -> bool:
    if key == "named_nurse":
        return patient.named_nurse_id != value.pk
    if key == "gp_practice":
        return patient.gp_practice_id != value.pk
    if key == "interpreter_language":
        return not patient.interpreter_needed or patient.interpreter_language != value
    return getattr(patient, key) != value


def _same_name(one: str, other: str) -> bool:
    """Names compared as a person reads them: case and spacing aside."""
    return " ".join(one.split()).casefold() == " ".join(other.split()).casefold()


def _identity_errors(row: Row, patient: Patient) -> list[str]:
    """Where the row disagrees with the identity of the patient who holds its NHS number."""
    values = row.patient
    born_on = show_date(patient.date_of_birth)
    holder = f"NHS number {patient.nhs_number_display} belongs to {patient.display_name}, born {born_on}"
    family_name, born = values.get("family_name"), values.get("date_of_birth")
    if (family_name is not None and not _same_name(family_name, patient.family_name)) or (
        born is not None and born != patient.date_of_birth
    ):
        return [f"{holder}: check the number."]  # most likely another person's number
    errors = []
    given_name = values.get("given_name")
    if given_name is not None and not _same_name(given_name, patient.given_name):
        errors.append(
            f'{holder}, whose first name is not "{given_name}": check the row. '
            "A first name is changed only on the patient's own page."
        )
    sex = values.get("sex")
    if sex is not None and sex != patient.sex:
        errors.append(
            f"{holder}, recorded as {patient.get_sex_display().lower()}, not {c.Sex(sex).label.lower()}: "
            "check the row. Sex is changed only on the patient's own page."
        )
    return errors


def _in_words(key: str, value) -> str:
    """A patient field's value as the pages show it: labels and names, not codes."""
    column = COLUMN_BY_KEY[key]
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if key == "messages_may_be_left" and value is None:
        return "not asked"
    if not value:
        return "not recorded"
    if column.choices:
        return column.choices(value).label
    return str(value)


def _changes(row: Row, patient: Patient) -> list[str]:
    changes = [
        f"{COLUMN_BY_KEY[key].header}: {_in_words(key, getattr(patient, key))} → {_in_words(key, row.patient[key])}"
        for key in row.changed
    ]
    if row.add_primary:
        changes.append(f"Add a primary diagnosis, diagnosed {show_date(row.primary['diagnosed_on'])}")
    if row.add_item:
        kind, due_on = row.next_item
        changes.append(f"Add the next {c.FollowUpKind(kind).label.lower()}, due {show_date(due_on)}")
    return changes


def _plan_row(row: Row, *, team: Team, patient: Patient | None, holders: dict[str, str]) -> None:
    if row.action == SKIPPED:
        return
    if patient is not None and patient.team_id != team.pk:
        row.errors.append(f"This patient is registered with {patient.team}: an import cannot move them between teams.")
        return
    if patient is not None:
        identity_errors = _identity_errors(row, patient)
        if identity_errors:
            row.errors += identity_errors
            return
    hospital_number = row.patient.get("hospital_number")
    holder = holders.get(hospital_number)
    if hospital_number and holder is not None and holder != row.nhs_number:
        row.errors.append(
            f"Hospital number {hospital_number} belongs to another patient in {team} "
            f"(NHS number {format_nhs_number(holder) or 'not recorded'})."
        )
    if patient is None:
        row.action = CREATE
        row.add_primary, row.add_item = bool(row.primary), row.next_item is not None
        # Checked by the model only when complete: a missing value has its own error already.
        complete = all(column.key in row.patient for column in COLUMNS if column.required)
        candidate = Patient(team=team, **row.patient) if complete else None
    else:
        row.existing = patient
        row.changed = [key for key in UPDATABLE_KEYS if key in row.patient and _differs(patient, key, row.patient[key])]
        candidate = copy.copy(patient)
        for key in row.changed:
            setattr(candidate, key, row.patient[key])
        if "interpreter_language" in row.changed:
            candidate.interpreter_needed = True
        row.add_primary = bool(row.primary) and row.primary.get("diagnosed_on") not in patient.primary_dates
        row.add_item = row.next_item is not None and row.next_item not in patient.open_items
        row.action = UPDATE if row.changed or row.add_primary or row.add_item else UNCHANGED
        row.changes = _changes(row, patient)
        if row.add_item and not patient.is_active:
            row.errors.append(
                f"A {patient.get_status_display().lower()} patient cannot be given new follow-up: "
                "leave Next follow-up empty."
            )
    if candidate is not None:
        row.errors += _model_errors(candidate, _PATIENT_UNCHECKED)
    # What the row adds is checked as the import will check it: against the patient's date of birth too.
    if row.add_primary and "diagnosed_on" in row.primary:
        row.errors += _model_errors(PrimaryDiagnosis(patient=candidate, **row.primary), _PRIMARY_UNCHECKED)
    if row.add_item:
        kind, due_on = row.next_item
        item = FollowUpItem(patient=candidate, kind=kind, due_on=due_on)
        row.errors += _model_errors(item, _ITEM_UNCHECKED, _ITEM_HEADERS)


# Writing ----------------------------------------------------------------------


def rows_have_errors(count: int) -> str:
    return f"{count:,} row has errors" if count == 1 else f"{count:,} rows have errors"


def apply_plan(plan: Plan, *, by: User) -> Iterator[int]:
    """Write the plan in one transaction, yielding the number of rows written so far after each row.

    Nothing is committed until the iteration ends; an error in any row, or closing the
    iteration early, rolls every row back.
    """
    if plan.error_rows:
        raise ValidationError(f"{rows_have_errors(len(plan.error_rows))}: nothing was imported.")
    # The patients' flags (followup.flags) are worked out once, in bulk, at the end, in the same transaction.
    with transaction.atomic(), flags.batched():
        for done, row in enumerate(plan.to_write, start=1):
            try:
                _apply_row(row, team=plan.team, by=by)
            except ValidationError as exc:
                raise ValidationError([f"Row {row.number} ({row.nhs_display}): {m}" for m in exc.messages]) from exc
            yield done


def _apply_row(row: Row, *, team: Team, by: User) -> None:
    if row.action == CREATE:
        patient = services.patient_create(by=by, team=team, **row.patient)
    else:
        patient = row.existing
        details = {key: row.patient[key] for key in row.changed if key in services.EDITABLE_PATIENT_FIELDS}
        if details:
            patient = services.patient_update(patient=patient, by=by, expected_version=patient.version, **details)
        contact = {key: row.patient[key] for key in row.changed if key in services.CONTACT_DETAIL_FIELDS}
        if "interpreter_language" in contact:
            contact["interpreter_needed"] = True
        if contact or "gp_practice" in row.changed:
            practice = row.patient["gp_practice"].ods_code if "gp_practice" in row.changed else None
            patient = services.patient_update_contact_details(
                patient=patient, by=by, expected_version=patient.version, gp_ods_code=practice, **contact
            )
        if "named_nurse" in row.changed:
            patient = services.patient_reassign_nurse(
                patient=patient, nurse=row.patient["named_nurse"], by=by, expected_version=patient.version
            )
    if row.add_primary:
        services.primary_record(patient=patient, by=by, **row.primary)
    if row.add_item:
        kind, due_on = row.next_item
        services.followup_item_add(patient=patient, kind=kind, due_on=due_on, by=by, notes=ITEM_NOTE)


def import_all(plan: Plan, *, by: User) -> int:
    """Write the plan; returns how many rows were written."""
    return sum(1 for _ in apply_plan(plan, by=by))


# The template -------------------------------------------------------------------


def template_rows() -> list[list[str]]:
    """The headers and one example row, which the importer skips (its NHS number is ``EXAMPLE_NHS_NUMBER``).

    Every other value of the example is one the demo data accepts, so it shows the formats that work.
    """
    next_year = timezone.localdate().year + 1
    example = {
        "nhs_number": format_nhs_number(EXAMPLE_NHS_NUMBER),
        "hospital_number": "H123456",
        "given_name": "Ada",
        "family_name": "Example",
        "date_of_birth": "17/05/1960",
        "sex": c.Sex.FEMALE.label,
        "named_nurse": "nurse",  # the demo's Alex Morgan
        "follow_up_model": c.FollowUpModel.CLINIC.label,
        "laterality": c.Laterality.LEFT.label,
        "diagnosed_on": "01/03/2022",
        "histology": c.Histology.NST.label,
        "er_status": c.ReceptorStatus.POSITIVE.label,
        "pr_status": c.ReceptorStatus.POSITIVE.label,
        "her2_status": c.ReceptorStatus.NEGATIVE.label,
        "next_kind": c.FollowUpKind.MAMMOGRAM.label,
        "next_due_on": f"01/03/{next_year}",
        "address_line_1": "1 Example Street",
        "address_line_2": "",
        "town": "Testville",
        "postcode": "ZZ99 3VZ",
        "phone_mobile": "07700 900000",
        "phone_home": "01632 960000",
        "email": "ada.example@example.com",
        "preferred_contact": c.ContactPreference.MOBILE.label,
        "messages_may_be_left": "Yes",
        "next_of_kin_name": "Grace Example",
        "next_of_kin_relationship": "Daughter",
        "next_of_kin_phone": "07700 900001",
        "interpreter_language": "",
        "accessible_information": "Large print",
        "gp_practice": "Y90001",  # the demo's first test practice
    }
    return [[column.header for column in COLUMNS], [example[column.key] for column in COLUMNS]]


def template_csv() -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(template_rows())
    return buffer.getvalue()
