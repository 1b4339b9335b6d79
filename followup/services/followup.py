"""Follow-up items: add, book, done (with result), did not attend, cancel; acknowledging results."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .. import choices as c
from ..models import FollowUpItem, Patient, User
from .records import lock, save_record


def _require_open(item: FollowUpItem) -> None:
    if item.status not in c.OPEN_FOLLOWUP_STATUSES:
        raise ValidationError(f"This {item.get_kind_display().lower()} is already {item.get_status_display().lower()}.")


@transaction.atomic
def followup_item_add(*, patient: Patient, kind: str, due_on: date, by: User, notes: str = "") -> FollowUpItem:
    """An ad-hoc item (or a rebooking or replacement) outside the protocol."""
    if not patient.is_active:
        raise ValidationError(f"A {patient.get_status_display().lower()} patient cannot be given new follow-up.")
    item = FollowUpItem(patient=patient, kind=kind, due_on=due_on, notes=notes)
    save_record(item, by)
    return item


@transaction.atomic
def followup_item_book(*, item: FollowUpItem, booked_for: date, by: User, expected_version: int | None) -> FollowUpItem:
    item = lock(item, expected_version=expected_version)
    _require_open(item)
    if booked_for < timezone.localdate():
        raise ValidationError({"booked_for": "The appointment date cannot be in the past."})
    item.status, item.booked_for = c.FollowUpStatus.BOOKED, booked_for
    save_record(item, by)
    return item


@transaction.atomic
def followup_item_record_done(
    *, item: FollowUpItem, done_on: date, by: User, expected_version: int | None, result: str = "", notes: str = ""
) -> FollowUpItem:
    """Done, with its result where the kind has one (the result then waits to be acknowledged)."""
    item = lock(item, expected_version=expected_version)
    _require_open(item)
    if item.kind in c.RESULT_KINDS and not result:
        raise ValidationError({"result": f"Record the result of the {item.get_kind_display().lower()}."})
    if item.kind not in c.RESULT_KINDS and result:
        raise ValidationError({"result": f"A {item.get_kind_display().lower()} has no result to record."})
    item.status, item.done_on, item.result = c.FollowUpStatus.DONE, done_on, result
    if notes:
        item.notes = f"{item.notes}\n{notes}".strip()
    save_record(item, by)
    return item


@transaction.atomic
def followup_item_did_not_attend(*, item: FollowUpItem, by: User, expected_version: int | None) -> FollowUpItem:
    item = lock(item, expected_version=expected_version)
    _require_open(item)
    item.status = c.FollowUpStatus.DID_NOT_ATTEND
    save_record(item, by)
    return item


@transaction.atomic
def followup_item_cancel(*, item: FollowUpItem, reason: str, by: User, expected_version: int | None) -> FollowUpItem:
    item = lock(item, expected_version=expected_version)
    _require_open(item)
    if not reason.strip():
        raise ValidationError({"reason": "Give a reason for cancelling."})
    item.status, item.cancel_reason, item.booked_for = c.FollowUpStatus.CANCELLED, reason.strip(), None
    save_record(item, by)
    return item


@transaction.atomic
def result_acknowledge(*, item: FollowUpItem, by: User, expected_version: int | None = None) -> FollowUpItem:
    """Read and acknowledged: who and when. Acknowledging twice changes nothing.

    With ``expected_version`` a result changed since the user saw it is refused (ConflictError).
    """
    item = lock(item, expected_version=expected_version)
    if not item.result:
        raise ValidationError("There is no result to acknowledge yet.")
    if item.result_acknowledged_at is None:
        item.result_acknowledged_at, item.result_acknowledged_by = timezone.now(), by
        save_record(item, by)
    return item


def has_next_follow_up(patient: Patient) -> bool:
    """False when the patient would be on the "no next follow-up" list."""
    return FollowUpItem.objects.open().filter(patient=patient).exists()
