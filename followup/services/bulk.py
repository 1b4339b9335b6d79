"""Actions on several records at once: each record through its own one-record service, all in
one transaction (every one is done, or none)."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from .. import choices as c
from ..display import noun_for, show_date
from ..models import FollowUpItem, Patient, StagingTest, User, patient_of
from .followup import result_acknowledge
from .patients import patient_reassign_nurse, require_receiving_nurse
from .records import ConflictError, lock
from .recurrences import staging_test_acknowledge

Result = FollowUpItem | StagingTest

# The only results that may be acknowledged with others, unread one by one: a normal or benign
# follow-up result, a restaging test with no evidence of distant disease. Anything else (abnormal,
# non-diagnostic, equivocal, distant disease) is opened and acknowledged on its own page (H2).
BULK_ACKNOWLEDGEABLE = {
    FollowUpItem: (c.ImagingOutcome.NORMAL, c.ImagingOutcome.BENIGN),
    StagingTest: (c.StagingResult.CLEAR,),
}


def result_day(record: Result):
    return record.done_on if isinstance(record, FollowUpItem) else record.reported_on


def result_words(record: Result) -> str:
    """The result as a person reads it: "Normal", "No evidence of distant disease"."""
    return record.get_result_display() or "No result yet"


def result_described(record: Result) -> str:
    """A result named for a person: "BROWN, Mary (943 476 5919): mammogram of 3 Mar 2026"."""
    patient = patient_of(record)
    number = patient.nhs_number_display or "no NHS number"
    return f"{patient.display_name} ({number}): {noun_for(record)} of {show_date(result_day(record))}"


def result_label(record: Result) -> str:
    """A result without its patient: "mammogram of 3 Mar 2026, Normal"."""
    return f"{noun_for(record)} of {show_date(result_day(record))}, {result_words(record)}"


def acknowledged_at(record: Result) -> datetime | None:
    return record.result_acknowledged_at if isinstance(record, FollowUpItem) else record.acknowledged_at


def acknowledged_by(record: Result) -> User | None:
    return record.result_acknowledged_by if isinstance(record, FollowUpItem) else record.acknowledged_by


def bulk_acknowledge_refusal(record: Result) -> str:
    """Why this result may not be acknowledged together with others ("" when it may)."""
    if not record.result:
        return "it has no result to acknowledge yet"
    if record.result in c.UNCLASSIFIED_RESULTS:
        return "its report is not yet classified: classify and acknowledge it on its own"
    if record.report_amended:
        return "its report was amended: read it and acknowledge it on its own"
    if record.result not in BULK_ACKNOWLEDGEABLE[type(record)]:
        return f"its result is {result_words(record).lower()}: open it and acknowledge it on its own"
    return ""


@dataclass
class Acknowledged:
    done: list = field(default_factory=list)  # acknowledged now, by this user
    already: list = field(default_factory=list)  # acknowledged by someone else in the meantime: left as it was


@transaction.atomic
def results_acknowledge(*, results: Sequence[tuple[Result, int]], by: User) -> Acknowledged:
    """Acknowledge several normal results at once, each through its own service
    (result_acknowledge, staging_test_acknowledge), all or none.

    ``results``: each result (with its patient loaded) and the version the user read on the
    confirmation page. A result acknowledged by someone else since is reported, never acknowledged
    twice; one that may not be acknowledged in bulk, or that changed since the user read it,
    refuses the lot, naming each."""
    outcome, problems, to_do = Acknowledged(), [], []
    # Locked in one order, so that two people acknowledging overlapping lists cannot deadlock.
    for record, version in sorted(results, key=lambda pair: pair[0].pk):
        current = lock(record, expected_version=None)
        if acknowledged_at(current) is not None:
            outcome.already.append((record, current))
            continue
        reason = bulk_acknowledge_refusal(current)
        if reason:
            problems.append(f"{result_described(record)} cannot be acknowledged with others: {reason}.")
        elif current.version != version:
            problems.append(
                f"{result_described(record)} was changed after you opened this page: check it, then confirm again."
            )
        else:
            to_do.append((current, version))
    if problems:
        raise ValidationError(problems)
    for current, version in to_do:
        if isinstance(current, FollowUpItem):
            outcome.done.append(result_acknowledge(item=current, by=by, expected_version=version))
        else:
            outcome.done.append(staging_test_acknowledge(test=current, by=by, expected_version=version))
    return outcome


@dataclass
class HandedOver:
    moved: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)  # their named nurse already


@transaction.atomic
def patients_hand_over(*, patients: Sequence[tuple[Patient, int]], to_nurse: User, by: User) -> HandedOver:
    """Give several patients a new named nurse, each through patient_reassign_nurse, all or none.

    ``patients``: each patient and the version the user saw on the confirmation page; a patient
    changed since refuses the lot. The new nurse follows the caseload hand-over's rule
    (require_receiving_nurse), so the patients must be of one team."""
    teams = {patient.team_id for patient, _ in patients}
    if len(teams) != 1:
        raise ValidationError("Hand over the patients of one team at a time.")
    require_receiving_nurse(to_nurse, team_id=teams.pop())
    outcome, problems = HandedOver(), []
    for patient, version in sorted(patients, key=lambda pair: pair[0].pk):
        try:
            current = lock(patient, expected_version=version)
        except ConflictError:
            problems.append(f"{patient} was changed after you opened this page: check it, then confirm again.")
            continue
        if current.named_nurse_id == to_nurse.pk:
            outcome.unchanged.append(patient)
        else:
            outcome.moved.append(
                patient_reassign_nurse(patient=current, nurse=to_nurse, by=by, expected_version=version)
            )
    if problems:
        raise ValidationError(problems)
    return outcome
