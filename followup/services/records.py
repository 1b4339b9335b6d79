"""What every clinical write shares: who and when, the version check, saving."""

from django.core.exceptions import ValidationError
from django.utils import timezone

from ..display import show_datetime
from ..models import ClinicalRecord, User


class ConflictError(ValidationError):
    """Someone else saved the record after this user loaded it: their change is not overwritten."""

    def __init__(self, current: ClinicalRecord):
        self.current = current
        who = current.updated_by.get_full_name() or current.updated_by.username
        when = show_datetime(current.updated_at)
        super().__init__(
            f"{who} changed this record on {when}, after you opened it. Nothing of yours was saved: "
            "check their change below, then save again if yours is still right.",
            code="conflict",
        )


def record_stamp(record: ClinicalRecord, by: User) -> None:
    """Who and when, for a new row or a change; a change also bumps the version."""
    if by is None or not by.pk:
        raise ValidationError("A clinical record cannot be changed without a signed-in user.")
    now = timezone.now()
    if record._state.adding:
        record.created_by = by
        record.created_at = now
    else:
        record.version += 1
    record.updated_by = by
    record.updated_at = now
    record._history_user = by  # names the actor in the audit history (models.history_actor)


def save_record(record: ClinicalRecord, by: User) -> None:
    record_stamp(record, by)
    record.full_clean()
    record.save()


def lock(record: ClinicalRecord, *, expected_version: int | None) -> ClinicalRecord:
    """The record re-read under a row lock; refused if it changed since the user loaded it.

    ``expected_version`` is the version the user's form was built from (None for
    one-click actions that cannot overwrite anything, such as acknowledging).
    """
    current = type(record).all_objects.select_for_update().select_related("updated_by").get(pk=record.pk)
    if current.entered_in_error:
        raise ValidationError("This record was marked as entered in error and can no longer be changed.")
    if expected_version is not None and current.version != expected_version:
        raise ConflictError(current)
    return current
