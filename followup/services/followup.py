"""Follow-up items: add, book, done (with result), did not attend, cancel; acknowledging results."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .. import choices as c
from ..models import FollowUpItem, Patient, User
from ..querysets import waits_for_classification
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


def _add_notes(item: FollowUpItem, notes: str) -> None:
    if notes:
        item.notes = f"{item.notes}\n{notes}".strip()


@transaction.atomic
def followup_item_record_done(
    *,
    item: FollowUpItem,
    done_on: date,
    by: User,
    expected_version: int | None,
    result: str = "",
    result_awaited: bool = False,
    notes: str = "",
    report: str = "",
) -> FollowUpItem:
    """Done, with its result where the kind has one (the result then waits to be acknowledged),
    or with ``result_awaited``: the result is not yet available, and the item waits on
    "Results awaited" until followup_item_record_result() records it."""
    item = lock(item, expected_version=expected_version)
    _require_open(item)
    kind = item.get_kind_display().lower()
    if item.kind not in c.RESULT_KINDS:
        if result or result_awaited:
            raise ValidationError({"result": f"A {kind} has no result to record."})
    elif result and result_awaited:
        raise ValidationError({"result": "Record the result, or that it is not yet available: not both."})
    elif not result and not result_awaited:
        raise ValidationError({"result": f"Record the result of the {kind}, or that it is not yet available."})
    item.status, item.done_on, item.result, item.result_awaited = c.FollowUpStatus.DONE, done_on, result, result_awaited
    item.result_recorded_on = timezone.localdate() if result else None
    _add_notes(item, notes)
    item.report = report or item.report
    save_record(item, by)
    return item


@transaction.atomic
def followup_item_record_result(
    *, item: FollowUpItem, result: str, by: User, expected_version: int | None, notes: str = "", report: str = ""
) -> FollowUpItem:
    """The result of an item done with its result not yet available: it moves from "Results
    awaited" to "Results to acknowledge"."""
    item = lock(item, expected_version=expected_version)
    kind = item.get_kind_display().lower()
    if item.status != c.FollowUpStatus.DONE:
        raise ValidationError(f"This {kind} is not done yet: record it as done first.")
    if item.result:
        raise ValidationError(f"This {kind} already has its result.")
    if not item.result_awaited:
        raise ValidationError(f"A {kind} has no result to record.")
    if not result:
        raise ValidationError({"result": f"Record the result of the {kind}."})
    item.result, item.result_awaited, item.result_recorded_on = result, False, timezone.localdate()
    _add_notes(item, notes)
    item.report = report or item.report
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
def result_acknowledge(
    *, item: FollowUpItem, by: User, expected_version: int | None = None, classified: bool = False
) -> FollowUpItem:
    """Read and acknowledged: who and when. Acknowledging twice changes nothing.

    With ``expected_version`` a result changed since the user saw it is refused (ConflictError).
    A report waiting for its classification (unclassified, or amended and not yet read again) is
    acknowledged only by followup_item_classify (``classified``).
    """
    item = lock(item, expected_version=expected_version)
    if not item.result:
        raise ValidationError("There is no result to acknowledge yet.")
    if waits_for_classification(item) and not classified:
        raise ValidationError("Classify the result before acknowledging it.")
    if item.result_acknowledged_at is None:
        # An amended report acknowledged has been read again.
        item.result_acknowledged_at, item.result_acknowledged_by, item.report_amended = timezone.now(), by, False
        save_record(item, by)
    return item


@transaction.atomic
def followup_item_classify(
    *, item: FollowUpItem, result: str, by: User, expected_version: int | None = None
) -> FollowUpItem:
    """A clinician reads a report that arrived by itself (or its amendment), classifies it (normal,
    benign, abnormal...) and so acknowledges it (result_acknowledge)."""
    item = lock(item, expected_version=expected_version)
    if not waits_for_classification(item):
        raise ValidationError("This result has no report waiting to be classified.")
    if result not in dict(c.CLASSIFIED_IMAGING_OUTCOMES):
        raise ValidationError({"result": "Select what the report shows."})
    item.result = result
    save_record(item, by)
    return result_acknowledge(item=item, by=by, classified=True)


@transaction.atomic
def followup_item_amend_report(*, item: FollowUpItem, report: str, by: User) -> FollowUpItem:
    """A corrected or amended report for a recorded result (integration/): the new text is kept
    beside the history of the old, and the result must be read again ("Amended report")."""
    item = lock(item, expected_version=None)
    if not item.result:
        raise ValidationError("There is no result to amend yet.")
    item.report, item.report_amended, item.result_recorded_on = report, True, timezone.localdate()
    item.result_acknowledged_at = item.result_acknowledged_by = None
    save_record(item, by)
    return item


def has_next_follow_up(patient: Patient) -> bool:
    """False when the patient would be on the "no next follow-up" list."""
    return FollowUpItem.objects.open().filter(patient=patient).exists()
