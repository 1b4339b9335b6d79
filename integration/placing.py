"""Placing a result by hand: the only ways a message leaves "Unmatched results", each a person's
action with who, when and why (H20), each under a lock on the message, so that two people placing
the same message cannot both place it.

- ``message_match``: on a patient's open staging test or follow-up item, chosen by a nurse;
- ``message_record_new_item``: on a follow-up item made for it (the result of a test nobody booked here);
- ``message_place_amendment``: an amendment, once the report it amends is placed, on the same result;
- ``message_not_ours``: not a patient of ours, with the reason.

The patient is one the nurse may see, of a team the sending system serves; a message whose name or
date of birth is not the patient's is placed only when the nurse confirms she checked (H19). No
patient is ever created from a message.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from followup import choices as c
from followup import services as clinical
from followup.display import show_date, show_datetime
from followup.models import FollowUpItem, Patient, StagingTest, User

from . import services
from .models import UNPLACED_STATUSES, InboxMessage, MessageStatus
from .services import ITEM_AWAITS_REPORT, TEST_AWAITS_REPORT


def _who(user) -> str:
    return (user.get_full_name() or user.username) if user else ""


def lock_unplaced(message: InboxMessage) -> InboxMessage:
    """The message re-read under a row lock; refused if someone placed it meanwhile."""
    current = InboxMessage.objects.select_for_update().select_related("client").get(pk=message.pk)
    if current.status not in UNPLACED_STATUSES:
        by = f" by {_who(current.placed_by)}" if current.placed_by_id else ""
        when = f" on {show_datetime(current.placed_at)}" if current.placed_at else ""
        raise ValidationError(
            f"This result was placed{by}{when} while you had it open ({current.get_status_display().lower()}): "
            "nothing of yours was saved."
        )
    return current


def differences(message: InboxMessage, patient: Patient) -> list[str]:
    """What the message says that is not this patient's record (the nurse must check it, H19)."""
    found = []
    if message.nhs_number and message.nhs_number != patient.nhs_number:
        found.append(f"the NHS number in the message is {message.nhs_number}")
    if message.date_of_birth and message.date_of_birth != patient.date_of_birth:
        found.append(
            f"the date of birth in the message is {show_date(message.date_of_birth)}, "
            f"the patient's is {show_date(patient.date_of_birth)}"
        )
    if message.family_name and services._letters(message.family_name) != services._letters(patient.family_name):
        found.append(f"the family name in the message is {message.family_name}, the patient's is {patient.family_name}")
    return found


def _check_patient(message: InboxMessage, patient: Patient, *, checked: bool) -> None:
    if patient.entered_in_error or not message.client.teams.filter(pk=patient.team_id).exists():
        raise ValidationError("This patient is not one of the teams the sending system serves.")
    found = differences(message, patient)
    if found and not checked:
        raise ValidationError(
            {
                "checked": "The message does not agree with the patient's record: " + "; ".join(found) + ". "
                "Check the report is this patient's, then tick to confirm."
            }  # fmt: skip
        )


def open_targets(patient: Patient) -> list[StagingTest | FollowUpItem]:
    """The patient's open staging tests (no result, not cancelled) and follow-up items that take a
    result (open, or done with the result awaited), of any kind: what a result can be placed on."""
    tests = (
        StagingTest.objects.live()
        .filter(TEST_AWAITS_REPORT, episode__recurrence__patient=patient, episode__recurrence__entered_in_error=False)
        .order_by("requested_on", "pk")
    )
    items = (
        FollowUpItem.objects.live()
        .filter(ITEM_AWAITS_REPORT, patient=patient, kind__in=c.RESULT_KINDS)
        .order_by("due_on", "pk")
    )
    return [*tests, *items]


def _stamp(message: InboxMessage, by: User) -> None:
    message.placed_by, message.placed_at = by, timezone.now()
    message._history_user = by


@transaction.atomic
def message_match(
    *, message: InboxMessage, patient: Patient, target: StagingTest | FollowUpItem, by: User, checked: bool = False
) -> InboxMessage:
    """Place the message on one of the patient's open tests or items, chosen by a nurse."""
    current = lock_unplaced(message)
    _check_patient(current, patient, checked=checked)
    if not any(type(open_one) is type(target) and open_one.pk == target.pk for open_one in open_targets(patient)):
        raise ValidationError({"target": "Choose one of this patient's open tests or follow-up items."})
    current.patient = patient
    _stamp(current, by)
    try:
        with transaction.atomic():
            services.record(current, target, by=by)
    except ValidationError as error:
        raise ValidationError({"target": "It could not be recorded there: " + " ".join(error.messages)}) from None
    return current


def exam_day(message: InboxMessage) -> date:
    return message.performed_on or message.reported_on or timezone.localdate()


@transaction.atomic
def message_record_new_item(
    *, message: InboxMessage, patient: Patient, kind: str, by: User, checked: bool = False
) -> InboxMessage:
    """Place the message on a new follow-up item of this kind, due the day of the exam."""
    current = lock_unplaced(message)
    _check_patient(current, patient, checked=checked)
    if kind not in c.RESULT_KINDS:
        raise ValidationError({"kind": "Choose a mammogram, bloods or another test."})
    try:
        with transaction.atomic():
            item = clinical.followup_item_add(
                patient=patient,
                kind=kind,
                due_on=exam_day(current),
                by=by,
                notes=f"Added for a result that arrived from {current.client} (inbox message {current.pk}).",
            )
            current.patient = patient
            _stamp(current, by)
            services.record(current, item, by=by)
    except ValidationError as error:
        raise ValidationError("It could not be recorded: " + " ".join(error.messages)) from None
    return current


@transaction.atomic
def message_place_amendment(*, message: InboxMessage, by: User) -> InboxMessage:
    """An amendment whose original is now placed: attached to the same result, which is read again."""
    current = lock_unplaced(message)
    original = current.amends
    if original is None:
        raise ValidationError("This message does not amend a report we hold: match it to a test or item instead.")
    if original.status != MessageStatus.MATCHED:
        raise ValidationError(f"The report it amends (message {original.pk}) is not placed yet: place that one first.")
    _stamp(current, by)
    services.amend(current, original.target, by=by)
    return current


@transaction.atomic
def message_not_ours(*, message: InboxMessage, reason: str, by: User) -> InboxMessage:
    """Not a patient of ours (or not a result for this service): off the list, with the reason."""
    current = lock_unplaced(message)
    if not reason.strip():
        raise ValidationError({"reason": "Enter why this result is not ours."})
    current.status, current.reason = MessageStatus.NOT_OURS, reason.strip()
    _stamp(current, by)
    current.save()
    return current
