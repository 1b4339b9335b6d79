"""Entered in error: the one way a wrong clinical record leaves the lists."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .. import choices as c
from ..models import ClinicalRecord, Recurrence, StagingTest, User
from .records import lock, save_record
from .recurrences import restaging_refresh, sync_secondary_status


@transaction.atomic
def record_mark_entered_in_error(
    *, record: ClinicalRecord, reason: str, by: User, expected_version: int | None = None
) -> ClinicalRecord:
    """Take a wrong entry off every list; it stays in the database and its history."""
    if not reason.strip():
        raise ValidationError({"reason": "Say why this record was entered in error."})
    if record.entered_in_error:
        raise ValidationError("This record is already marked as entered in error.")
    record = lock(record, expected_version=expected_version)
    record.entered_in_error = True
    record.error_reason = reason.strip()
    record.error_marked_by = by
    record.error_marked_at = timezone.now()
    save_record(record, by)
    if isinstance(record, StagingTest):
        restaging_refresh(episode=record.episode, by=by)
    if isinstance(record, Recurrence) and record.metastatic_type == c.MetastaticType.DISTANT:
        sync_secondary_status(patient=record.patient, by=by)
    return record
