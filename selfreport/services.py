"""Personal codes (issue, void), the lock-out, and the patient's own report.

Writes go through these functions only (keyword-only, atomic). The report itself is written by the
clinical service (followup.services.symptom_report_record) under the system account of the page, so
the record's history says the patient reported it; this app never writes a clinical row itself.
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from alerts.services import alert_red_flag_report
from followup import choices as c
from followup.models import Patient, SymptomReport, User
from followup.services import symptom_report_record

from . import codes
from .models import CodeAttempt, PersonalCode, VoidReason

SYSTEM_USERNAME = "patient-self-report"


def self_report_account() -> User:
    """The account the page records reports by: an interface account that never signs in, named so
    that every history says the patient reported it. Made on first use."""
    user, created = get_user_model().objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={
            "first_name": "The patient",
            "last_name": "(self-report page)",
            "role": c.Role.INTERFACE,
            "is_active": False,
            "team": None,
        },
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


# Codes -----------------------------------------------------------------------------------------------


ANY_LIVE = object()  # personal_code_issue's default: replace whatever code is live


class LiveCodeChanged(ValidationError):
    """The live code is not the one the nurse saw: another issue happened meanwhile (another nurse,
    or the same page sent twice). Nothing is issued."""


LIVE_CODE_CHANGED = (
    "The personal code has changed since you opened this page: another code was issued meanwhile "
    "(by a colleague, or by sending this page twice). No new code was issued. The patient's page "
    "shows the code now live; issue a new one only if the patient does not have that one."
)


@transaction.atomic
def personal_code_issue(
    *, patient: Patient, by: User, code: str = "", expected_live: object = ANY_LIVE
) -> tuple[PersonalCode, str]:
    """A new code for an active patient: (the row, the code in plain text, to show once). The live
    code, if any, is voided as re-issued in the same transaction. ``expected_live``: the id of the live
    code the nurse saw (None for none); if another is live now, LiveCodeChanged and nothing is issued
    (checked under the patient's row lock, so two nurses at once cannot void each other's code).
    ``code``: a known code instead of a random one (the demo's, published in the README); never from
    a form."""
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    if not patient.is_active:
        raise ValidationError("Only a patient under active follow-up can be given a personal code.")
    live = PersonalCode.objects.live().filter(patient=patient).first()
    if expected_live is not ANY_LIVE and (live.pk if live is not None else None) != expected_live:
        raise LiveCodeChanged(LIVE_CODE_CHANGED)
    if live is not None:
        _void(live, reason=VoidReason.REISSUED, by=by)
    plaintext = codes.normalise(code) if code else codes.new_code()
    if not codes.is_well_formed(plaintext):
        raise ValidationError("A personal code is 12 characters of the code alphabet.")
    code = PersonalCode(patient=patient, code_hash=codes.digest(plaintext), issued_by=by, issued_at=timezone.now())
    code._history_user = by
    code.full_clean()
    code.save()
    return code, plaintext


def _void(code: PersonalCode, *, reason: str, by: User) -> PersonalCode:
    code.voided_at, code.voided_by, code.void_reason = timezone.now(), by, reason
    code._history_user = by
    code.full_clean()
    code.save(update_fields=["voided_at", "voided_by", "void_reason"])
    return code


@transaction.atomic
def personal_code_void(*, patient: Patient, reason: str, by: User) -> PersonalCode | None:
    """Void the patient's live code (None if there is none): on discharge, on death, or by a nurse."""
    live = PersonalCode.objects.select_for_update().live().filter(patient=patient).first()
    return _void(live, reason=reason, by=by) if live is not None else None


# The lock-out ------------------------------------------------------------------------------------------


def _window() -> timedelta:
    return timedelta(minutes=settings.SELF_REPORT_LOCKOUT_MINUTES)


def _lifted_at(failures: list[datetime], limit: int) -> datetime | None:
    """With ``failures`` newest first within the window: when they fall below ``limit``, if locked."""
    if len(failures) < limit:
        return None
    return failures[limit - 1] + _window()


def locked_until(*, code_key: str, address: str, now: datetime) -> datetime | None:
    """When the lock-out on this entered code or this address ends, or None if neither is locked.

    Failures within the last SELF_REPORT_LOCKOUT_MINUTES count, per code (what was typed, existing
    or not) and per address; a try refused while locked is a failure too, so an attack keeps its
    target locked."""
    since = now - _window()
    recent = CodeAttempt.objects.filter(at__gt=since, succeeded=False)
    limit = settings.SELF_REPORT_CODE_ATTEMPTS
    by_code = list(recent.filter(code_key=code_key).order_by("-at").values_list("at", flat=True)[:limit])
    ends = [_lifted_at(by_code, settings.SELF_REPORT_CODE_ATTEMPTS)]
    if address:
        by_address = list(
            recent.filter(address=address)
            .order_by("-at")
            .values_list("at", flat=True)[: settings.SELF_REPORT_ADDRESS_ATTEMPTS]
        )
        ends.append(_lifted_at(by_address, settings.SELF_REPORT_ADDRESS_ATTEMPTS))
    ends = [end for end in ends if end is not None]
    return max(ends) if ends else None


def _lock_key(text: str) -> int:
    """A 60-bit advisory lock key (fits PostgreSQL's bigint) from a digest of ``text``."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:15], 16)


def _serialise(code_key: str, address: str) -> None:
    """Tries with one code, and tries from one address, wait for each other (PostgreSQL advisory
    locks held until commit), so eight clients at once still get exactly SELF_REPORT_CODE_ATTEMPTS
    (or SELF_REPORT_ADDRESS_ATTEMPTS) failures before the lock. The two locks are always taken in
    the same order (sorted keys), so two tries never wait for each other in a circle (deadlock)."""
    if connection.vendor != "postgresql":
        return
    keys = {_lock_key("code:" + code_key)}
    if address:
        keys.add(_lock_key("address:" + address))
    with connection.cursor() as cursor:
        for key in sorted(keys):
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


# A digest no code has (not hex): the comparison below runs the same way when no code was found.
_NO_CODE = "-" * 64


@dataclass(frozen=True)
class Verdict:
    """The outcome of a try: the patient (on success only), or when the lock-out ends."""

    patient: Patient | None = None
    locked_until: datetime | None = None


@transaction.atomic
def personal_code_verify(*, entered: str, born: date, address: str) -> Verdict:
    """Check a code and a date of birth, logging the try. The same queries and comparisons run
    whether the code exists or not; a code whose patient is not active (discharged, died, entered
    in error) is refused like a wrong one. Locked: refused even when both are right."""
    now = timezone.now()
    key = codes.digest(entered)
    _serialise(key, address)
    ends = locked_until(code_key=key, address=address, now=now)
    if ends is not None:
        CodeAttempt.objects.create(at=now, code_key=key, address=address, succeeded=False)
        return Verdict(locked_until=ends)
    code = PersonalCode.objects.live().filter(code_hash=key).select_related("patient").first()
    patient = code.patient if code is not None else None
    stored = code.code_hash if code is not None else _NO_CODE
    born_right = patient is not None and patient.date_of_birth == born
    usable = patient is not None and not patient.entered_in_error and patient.is_active
    ok = hmac.compare_digest(stored, key) and born_right and usable
    CodeAttempt.objects.create(at=now, code_key=key, address=address, succeeded=ok)
    return Verdict(patient=patient if ok else None)


# The report ----------------------------------------------------------------------------------------------


@transaction.atomic
def self_report_record(
    *,
    patient: Patient,
    area: str,
    description: str,
    red_flags: list[str],
    lasted: str,
    worsening: str,
) -> SymptomReport:
    """The patient's report, through the clinical service, as the page's system account. ``red_flags``
    come the most serious first (SelfReportForm.red_flags, which alone decides the order); the first
    makes it urgent and alerts the team in the same
    transaction."""
    report = symptom_report_record(
        patient=patient,
        reported_on=timezone.localdate(),
        area=area,
        description=description,
        red_flag=red_flags[0] if red_flags else "",
        by=self_report_account(),
        source=c.ReportSource.PATIENT,
        lasted=lasted,
        worsening=worsening,
    )
    if report.red_flag:
        alert_red_flag_report(report=report)
    return report
