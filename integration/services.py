"""Receiving a result message and placing it: the one place these rules live.

Order of work (nothing is ever lost):
1. the raw message is stored first, committed on its own (``receive``);
2. it is read (hl7.py or fhir_in.py hand a ``Report`` of plain values); a message that cannot
   be read is kept as "rejected" with the reason, and the sender told why;
3. a second message with the same control id is kept as "duplicate" and changes nothing;
4. it is placed: matched to the one open staging test or follow-up item it answers, recorded
   through followup's services as "reported, not yet classified" (by the client's interface
   account); or "unmatched" with why, on the failsafe list until a person places it.
A failure in step 4 leaves the message unmatched with the error, never gone.
"""

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from followup import choices as c
from followup import services as clinical
from followup.models import FollowUpItem, Patient, StagingTest

from .models import HOLDS_CONTROL_ID, ApiClient, ExamCode, InboxMessage, MessageStatus

logger = logging.getLogger(__name__)


class Unreadable(Exception):
    """The message cannot be understood: the reason, in words for the sending system's team."""


@dataclass(frozen=True)
class Report:
    """What a result message says, as plain values."""

    control_id: str
    report_id: str = ""
    nhs_number: str = ""
    family_name: str = ""
    given_name: str = ""
    date_of_birth: date | None = None
    exam_code: str = ""
    exam_system: str = ""
    exam_name: str = ""
    performed_on: date | None = None
    reported_on: date | None = None
    report_text: str = ""
    amendment: bool = False
    suggested_result: str = ""


def receive(*, client: ApiClient, format: str, body: str, read: Callable[[str], Report]) -> InboxMessage:
    """Store, read and place one message; the stored message says what happened (its status, reason).

    Must not run inside a transaction: the raw message is committed before anything else.
    """
    with transaction.atomic():  # the row and its history row: one commit
        message = InboxMessage.objects.create(
            client=client, format=format, body=body, sha256=hashlib.sha256(body.encode()).hexdigest()
        )
    try:
        report = read(body)
    except Unreadable as error:
        return _finish(message, MessageStatus.REJECTED, str(error))
    except Exception as error:  # noqa: BLE001 - a message our reader trips on is refused with why, never a 500
        logger.exception("Reading inbox message %s failed", message.pk)
        return _finish(message, MessageStatus.REJECTED, f"The message could not be read ({type(error).__name__}).")
    _fill(message, report)
    try:
        with transaction.atomic():  # what it says and where it went: one commit
            try:
                with transaction.atomic():
                    # What the message says, read from its own body: not a change anyone made (no
                    # history row); where it goes next is (place(), with history).
                    message.skip_history_when_saving = True
                    message.save()
            except IntegrityError:
                del message.skip_history_when_saving
                return _duplicate(message)
            del message.skip_history_when_saving
            place(message, report)
    except Exception as error:  # noqa: BLE001 - whatever went wrong, the message waits on the failsafe list
        logger.exception("Placing inbox message %s failed", message.pk)
        message.staging_test = message.followup_item = message.amends = None
        return _finish(message, MessageStatus.UNMATCHED, f"It could not be placed automatically ({error}).")
    return message


def _duplicate(message: InboxMessage) -> InboxMessage:
    first = (
        InboxMessage.objects.filter(client=message.client, control_id=message.control_id, status__in=HOLDS_CONTROL_ID)
        .order_by("pk")
        .first()
    )
    message.duplicate_of = first
    message.status, message.reason = MessageStatus.DUPLICATE, f"Repeats message {first.pk if first else ''}."
    message.save()
    return message


def _finish(message: InboxMessage, status: str, reason: str) -> InboxMessage:
    """The message kept with this status and why, and what it says where it was read (with history)."""
    message.status, message.reason = status, reason
    try:
        with transaction.atomic():
            message.save()
    except Exception:  # noqa: BLE001 - at least the status and why, whatever else cannot be saved
        logger.exception("Saving inbox message %s failed", message.pk)
        InboxMessage.objects.filter(pk=message.pk).update(status=status, reason=reason)
    return message


def _fill(message: InboxMessage, report: Report) -> None:
    for field in (
        "control_id",
        "report_id",
        "nhs_number",
        "family_name",
        "given_name",
        "date_of_birth",
        "exam_code",
        "exam_system",
        "exam_name",
        "performed_on",
        "reported_on",
        "report_text",
        "suggested_result",
    ):
        setattr(message, field, getattr(report, field))
    message.is_amendment = report.amendment


def _unmatched(message: InboxMessage, why: str) -> InboxMessage:
    message.status, message.reason = MessageStatus.UNMATCHED, why
    message.save()
    return message


def _letters(name: str) -> str:
    """The name's letters, in any script, without case, spaces, hyphens or apostrophes."""
    return "".join(ch for ch in name.casefold() if ch.isalpha())


def find_patient(client: ApiClient, report: Report) -> tuple[Patient | None, str]:
    """The patient the report names, among the client's teams' patients: (patient, "") or (None, why).

    NHS number first; then date of birth and family name, when the message carries them, must agree.
    """
    if not report.nhs_number:
        return None, "The message has no NHS number."
    patient = Patient.objects.filter(nhs_number=report.nhs_number, team__in=client.teams.all()).first()
    if patient is None:
        return None, f"No patient of the teams this system serves has NHS number {report.nhs_number}."
    if report.date_of_birth and report.date_of_birth != patient.date_of_birth:
        return None, "The date of birth in the message is not the date of birth of the patient with this NHS number."
    if report.family_name and _letters(report.family_name) != _letters(patient.family_name):
        return None, "The family name in the message is not the family name of the patient with this NHS number."
    return patient, ""


def exam_codes(report: Report) -> list[ExamCode]:
    """The code map's rows for the report's exam code: its system's, else the code's in any system."""
    codes = ExamCode.objects.filter(code__iexact=report.exam_code, active=True)
    if report.exam_system:
        exact = [code for code in codes if code.system.casefold() == report.exam_system.casefold()]
        if exact:
            return exact
    return list(codes)


# What a report can still be placed on, written once (matching, placing by hand, the lock in record()):
# a staging test with no result, not cancelled; a follow-up item open, or done with its result awaited.
TEST_AWAITS_REPORT = Q(cancelled_on__isnull=True, result="")
ITEM_AWAITS_REPORT = Q(status__in=c.OPEN_FOLLOWUP_STATUSES) | Q(status=c.FollowUpStatus.DONE, result_awaited=True)


def _item_day(item: FollowUpItem) -> date:
    return item.done_on or item.booked_for or item.due_on


def candidates(patient: Patient, codes: list[ExamCode], exam_on: date) -> list[StagingTest | FollowUpItem]:
    """The open staging tests and follow-up items of the patient the report could answer: of a mapped
    kind, requested or due within RESULT_MATCH_WINDOW_DAYS of the exam (a test not after it)."""
    window = timedelta(days=settings.RESULT_MATCH_WINDOW_DAYS)
    modalities = {code.staging_modality for code in codes if code.staging_modality}
    kinds = {code.followup_kind for code in codes if code.followup_kind}
    found: list = []
    if modalities:
        found += list(
            StagingTest.objects.filter(
                TEST_AWAITS_REPORT,
                episode__recurrence__patient=patient,
                episode__recurrence__entered_in_error=False,
                modality__in=modalities,
                requested_on__lte=exam_on,
                requested_on__gte=exam_on - window,
            ).order_by("requested_on", "pk")
        )
    if kinds:
        items = FollowUpItem.objects.filter(ITEM_AWAITS_REPORT, patient=patient, kind__in=kinds)
        found += [item for item in items if abs((_item_day(item) - exam_on).days) <= window.days]
    return found


def _describe(target) -> str:
    if isinstance(target, StagingTest):
        return f"{target.get_modality_display()} requested {target.requested_on:%d %b %Y}"
    return f"{target.get_kind_display()} due {target.due_on:%d %b %Y}"


def place(message: InboxMessage, report: Report) -> InboxMessage:
    """Match the message to what it answers, or leave it unmatched with why (in the caller's transaction)."""
    if report.amendment and report.report_id:
        original = (
            InboxMessage.objects.filter(client=message.client, report_id=report.report_id, is_amendment=False)
            .exclude(pk=message.pk)
            .exclude(status__in=[MessageStatus.DUPLICATE, MessageStatus.REJECTED])
            .order_by("pk")
            .first()
        )
        if original is not None:
            message.amends = original
            if original.status != MessageStatus.MATCHED:
                return _unmatched(
                    message,
                    f"It amends message {original.pk}, which is not placed yet: place that one, then this one.",
                )
            # A correction often corrects the patient or the exam: it amends only what it still names.
            patient, why = find_patient(message.client, report)
            if patient is None or patient.pk != original.patient_id:
                return _unmatched(
                    message,
                    f"It amends message {original.pk}, but does not name the same patient: "
                    + (why or "the NHS number is another patient's.")
                    + " Check which patient the corrected report is about.",
                )
            if report.exam_code.casefold() != original.exam_code.casefold():
                return _unmatched(
                    message,
                    f"It amends message {original.pk}, but names another exam ({report.exam_code}, "
                    f"not {original.exam_code}). Check which test the corrected report is about.",
                )
            message.patient = patient
            return amend(message, original.target, by=message.client.user)
    if report.report_id:
        # A report placed already, sent again under a new control id: never onto a second test or item.
        placed = (
            InboxMessage.objects.filter(client=message.client, report_id=report.report_id, status=MessageStatus.MATCHED)
            .exclude(pk=message.pk)
            .order_by("pk")
            .first()
        )
        if placed is not None:
            return _unmatched(
                message,
                f"This report ({report.report_id}) was placed already, from message {placed.pk}: if it is "
                "the same report sent again, mark it not ours; if it is a correction, the sender should mark it so.",
            )
    patient, why = find_patient(message.client, report)
    if patient is None:
        return _unmatched(message, why)
    message.patient = patient
    codes = exam_codes(report)
    if not codes:
        return _unmatched(
            message, f"The exam code {report.exam_code or '(none)'} is not in the code map: ask an admin to add it."
        )
    exam_on = report.performed_on or report.reported_on
    if exam_on is None:
        return _unmatched(message, "The message gives no date the exam was performed or reported.")
    found = candidates(patient, codes, exam_on)
    if not found:
        return _unmatched(
            message,
            f"The patient has no open test or follow-up item for {report.exam_name or report.exam_code} "
            f"within {settings.RESULT_MATCH_WINDOW_DAYS} days of {exam_on:%d %b %Y}.",
        )
    if len(found) > 1:
        return _unmatched(
            message, "More than one open test or item could be this one: " + "; ".join(map(_describe, found)) + "."
        )
    try:
        with transaction.atomic():
            record(message, found[0], by=message.client.user)
    except ValidationError as error:
        return _unmatched(message, "It could not be recorded: " + " ".join(error.messages))
    return message


def record(message: InboxMessage, target, *, by) -> InboxMessage:
    """Record the report on its test or item as "reported, not yet classified"; the message is then matched.

    The test or item is locked and must still be open (no result, not cancelled): a second report,
    a nurse's typed result or another placing that came first is never overwritten.
    """
    is_test = isinstance(target, StagingTest)
    locked = type(target).objects.select_for_update().filter(TEST_AWAITS_REPORT if is_test else ITEM_AWAITS_REPORT)
    target = locked.filter(pk=target.pk).first()
    if target is None:
        if is_test:
            raise ValidationError("The test has a result already, or was cancelled, since the report arrived.")
        raise ValidationError("The follow-up item has its result already, or was closed, since the report arrived.")
    today = timezone.localdate()
    performed_on = message.performed_on or message.reported_on or today
    if isinstance(target, StagingTest):
        clinical.staging_test_record_result(
            test=target,
            performed_on=performed_on,
            reported_on=max(message.reported_on or today, performed_on),
            result=c.StagingResult.REPORTED,
            notes=message.report_text,
            by=by,
        )
        message.staging_test = target
    elif target.status == c.FollowUpStatus.DONE:
        clinical.followup_item_record_result(
            item=target, result=c.ImagingOutcome.REPORTED, report=message.report_text, by=by, expected_version=None
        )
        message.followup_item = target
    else:
        clinical.followup_item_record_done(
            item=target,
            done_on=performed_on,
            result=c.ImagingOutcome.REPORTED,
            report=message.report_text,
            by=by,
            expected_version=None,
        )
        message.followup_item = target
    message.patient_id = message.patient_id or _patient_id(target)
    message.status, message.reason = MessageStatus.MATCHED, ""
    message.save()
    return message


def _patient_id(target) -> int:
    if isinstance(target, StagingTest):
        return Patient.all_objects.filter(recurrences__restaging__tests=target).values_list("pk", flat=True).get()
    return target.patient_id


def amend(message: InboxMessage, target, *, by) -> InboxMessage:
    """A corrected or amended report for a result already recorded: attached, never silently over
    the first; the result goes back on the acknowledgement list marked "Amended report"."""
    if isinstance(target, StagingTest):
        clinical.staging_test_amend_report(test=target, report=message.report_text, by=by)
        message.staging_test = target
    else:
        clinical.followup_item_amend_report(item=target, report=message.report_text, by=by)
        message.followup_item = target
    message.patient_id = message.patient_id or _patient_id(target)
    message.status, message.reason = MessageStatus.MATCHED, ""
    message.save()
    return message
