"""Symptom reports: record, triage."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..models import Patient, SymptomReport, User
from .records import lock, save_record


@transaction.atomic
def symptom_report_record(
    *,
    patient: Patient,
    reported_on: date,
    area: str,
    description: str,
    by: User,
    onset_on: date | None = None,
    red_flag: str = "",
    source: str = "staff",
    lasted: str = "",
    worsening: str = "",
) -> SymptomReport:
    report = SymptomReport(
        source=source,
        lasted=lasted,
        worsening=worsening,
        patient=patient,
        reported_on=reported_on,
        onset_on=onset_on,
        area=area,
        description=description,
        red_flag=red_flag,
    )
    save_record(report, by)
    return report


@transaction.atomic
def symptom_report_triage(
    *, report: SymptomReport, outcome: str, by: User, expected_version: int | None, notes: str = ""
) -> SymptomReport:
    """Triage: the database refuses anything but urgent for possible cord compression."""
    report = lock(report, expected_version=expected_version)
    if report.triaged_at is not None:
        raise ValidationError("This report has already been triaged.")
    report.triage_outcome, report.triage_notes = outcome, notes
    report.triaged_by, report.triaged_at = by, timezone.now()
    save_record(report, by)
    return report
