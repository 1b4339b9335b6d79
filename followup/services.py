"""Clinical actions that write: one function per action, atomic, keyword-only.

Views and commands call these; models hold no business logic in save() or signals.
Every write stamps who and when and bumps the record's version.
"""

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from . import choices as c
from .models import (
    ClinicalRecord,
    FollowUpItem,
    FollowUpProtocol,
    Patient,
    PrimaryDiagnosis,
    ProtocolStep,
    Recurrence,
    RecurrenceSite,
    RestagingEpisode,
    StagingTest,
    StagingTestSite,
    User,
)


@dataclass(frozen=True)
class SiteEntry:
    """A site as entered: our sub-site code, and free text when it is 'other'."""

    site: str
    other_text: str = ""


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


def _save(record: ClinicalRecord, by: User) -> None:
    record_stamp(record, by)
    record.full_clean()
    record.save()


def add_months(start: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


@transaction.atomic
def patient_create(*, by: User, **fields) -> Patient:
    patient = Patient(**fields)
    _save(patient, by)
    return patient


@transaction.atomic
def primary_record(*, patient: Patient, by: User, **fields) -> PrimaryDiagnosis:
    primary = PrimaryDiagnosis(patient=patient, **fields)
    _save(primary, by)
    return primary


@transaction.atomic
def protocol_assign(*, patient: Patient, protocol: FollowUpProtocol, start_on: date, by: User) -> list[FollowUpItem]:
    """Assign a protocol and generate the items it calls for; returns the items created.

    Idempotent: an item already generated for a (step, occurrence), whatever its
    status and even if entered in error, is never generated again.
    """
    if not patient.is_active:
        raise ValidationError(
            f"A follow-up schedule cannot be started for a {patient.get_status_display().lower()} patient."
        )
    patient.protocol = protocol
    patient.protocol_start_on = start_on
    _save(patient, by)

    existing = set(
        FollowUpItem.all_objects.filter(patient=patient, protocol_step__protocol=protocol).values_list(
            "protocol_step_id", "sequence"
        )
    )
    now = timezone.now()
    new_items = []
    for slot in protocol_schedule(protocol.steps.all(), start_on=start_on):
        if (slot.step.pk, slot.sequence) in existing:
            continue
        item = FollowUpItem(
            patient=patient,
            kind=slot.step.kind,
            due_on=slot.due_on,
            protocol_step=slot.step,
            sequence=slot.sequence,
            created_by=by,
            updated_by=by,
            created_at=now,
            updated_at=now,
        )
        # Constraints are the database's job here: the slot check above already ran.
        item.full_clean(validate_constraints=False)
        new_items.append(item)
    return FollowUpItem.objects.bulk_create(new_items)


@dataclass(frozen=True)
class ScheduleSlot:
    step: ProtocolStep
    sequence: int
    due_on: date


def protocol_schedule(steps: Iterable[ProtocolStep], *, start_on: date) -> list[ScheduleSlot]:
    """Every item a protocol calls for from ``start_on``, soonest first."""
    slots = [
        ScheduleSlot(step, index + 1, add_months(start_on, step.start_months + index * (step.interval_months or 0)))
        for step in steps
        for index in range(step.occurrences)
    ]
    return sorted(slots, key=lambda slot: (slot.due_on, slot.step.pk or 0, slot.sequence))


def _validate_sites(metastatic_type: str, sites: Sequence[SiteEntry]) -> None:
    if not sites:
        raise ValidationError({"sites": "Record at least one site (use 'Unknown site' if it is not known)."})
    allowed = c.sites_for_type(metastatic_type)
    wrong = [entry.site for entry in sites if entry.site not in allowed]
    if wrong:
        labels = ", ".join(c.Site(site).label if site in c.Site.values else site for site in wrong)
        kind = c.MetastaticType(metastatic_type).label.lower() if metastatic_type in c.MetastaticType.values else "this"
        raise ValidationError({"sites": f"Not a site of a {kind} recurrence: {labels}."})


@transaction.atomic
def recurrence_record(
    *,
    patient: Patient,
    metastatic_type: str,
    sites: Sequence[SiteEntry],
    diagnosed_on: date,
    by: User,
    status: str = c.RecurrenceStatus.SUSPECTED,
    primary: PrimaryDiagnosis | None = None,
    detection_method: str = "",
    basis_of_diagnosis: str = "",
    er_status: str = "",
    pr_status: str = "",
    her2_status: str = "",
    lymphoedema: bool = False,
    notes: str = "",
    from_staging_test: StagingTest | None = None,
) -> Recurrence:
    """Record a recurrence with its sites.

    Local or regional: opens its restaging episode in the same transaction.
    Distant (not refuted): the patient is now living with secondary breast cancer.
    From a staging test: the test is linked to the new distant recurrence.
    """
    _validate_sites(metastatic_type, sites)
    recurrence = Recurrence(
        patient=patient,
        primary=primary,
        metastatic_type=metastatic_type,
        status=status,
        diagnosed_on=diagnosed_on,
        detection_method=detection_method,
        basis_of_diagnosis=basis_of_diagnosis,
        er_status=er_status,
        pr_status=pr_status,
        her2_status=her2_status,
        lymphoedema=lymphoedema,
        notes=notes,
    )
    _save(recurrence, by)
    for entry in sites:
        site = RecurrenceSite(
            recurrence=recurrence, metastatic_type=metastatic_type, site=entry.site, other_site_text=entry.other_text
        )
        _save(site, by)

    if metastatic_type in c.RESTAGED_TYPES:
        episode = RestagingEpisode(
            recurrence=recurrence,
            opened_on=diagnosed_on,
            target_on=diagnosed_on + timedelta(days=settings.RESTAGING_TARGET_DAYS),
        )
        _save(episode, by)
    elif status != c.RecurrenceStatus.REFUTED and patient.status in (
        c.PatientStatus.SURVEILLANCE,
        c.PatientStatus.ON_TREATMENT,
    ):
        patient.status = c.PatientStatus.SECONDARY
        _save(patient, by)

    if from_staging_test is not None:
        _link_staging_test(test=from_staging_test, recurrence=recurrence, by=by)
    return recurrence


def _link_staging_test(*, test: StagingTest, recurrence: Recurrence, by: User) -> None:
    if recurrence.metastatic_type != c.MetastaticType.DISTANT:
        raise ValidationError("Only a distant recurrence is recorded from a staging result.")
    if test.episode.recurrence.patient_id != recurrence.patient_id:
        raise ValidationError("The staging test belongs to another patient.")
    if test.distant_recurrence_id is not None:
        raise ValidationError("A distant recurrence is already recorded from this result.")
    test.distant_recurrence = recurrence
    _save(test, by)


@transaction.atomic
def distant_recurrence_record_from_test(
    *,
    test: StagingTest,
    by: User,
    diagnosed_on: date | None = None,
    sites: Sequence[SiteEntry] | None = None,
    status: str = c.RecurrenceStatus.CONFIRMED,
    **fields,
) -> Recurrence:
    """Record secondary breast cancer from a staging result, prefilled with the sites it found."""
    if test.result != c.StagingResult.DISTANT:
        raise ValidationError("This result does not show distant disease.")
    if sites is None:
        sites = [SiteEntry(s.site, s.other_site_text) for s in test.sites.all()]
    source = test.episode.recurrence
    return recurrence_record(
        patient=source.patient,
        metastatic_type=c.MetastaticType.DISTANT,
        sites=sites,
        diagnosed_on=diagnosed_on or test.reported_on,
        by=by,
        status=status,
        primary=source.primary,
        detection_method=fields.pop("detection_method", c.DetectionMethod.RESTAGING),
        basis_of_diagnosis=fields.pop("basis_of_diagnosis", c.BasisOfDiagnosis.CLINICAL_INVESTIGATION),
        from_staging_test=test,
        **fields,
    )


def restaging_outcome(tests: Iterable[StagingTest], *, opened_on: date) -> tuple[str, date | None]:
    """The episode's outcome and closing date, from its (not cancelled) tests. The one place this rule lives.

    - distant disease in any result: DISTANT, closed on the first such report;
    - an equivocal result not yet followed by a further test: EQUIVOCAL (open);
    - a test without a result, or a clear result not yet acknowledged: OPEN;
    - all clear and acknowledged, including CT chest/abdomen/pelvis or PET-CT
      (NICE CG81 1.3.1): NO_DISTANT, closed on the last acknowledgement.
    An equivocal result followed by a further test counts through that test.
    """
    tests = [t for t in tests if t.cancelled_on is None]
    distant = [t.reported_on for t in tests if t.result == c.StagingResult.DISTANT]
    if distant:
        return c.RestagingOutcome.DISTANT, max(min(distant), opened_on)
    followed_up = {t.follow_up_of_id for t in tests if t.follow_up_of_id}
    standing = [t for t in tests if not (t.result == c.StagingResult.EQUIVOCAL and t.pk in followed_up)]
    if not standing:
        return c.RestagingOutcome.OPEN, None
    if any(t.result == c.StagingResult.EQUIVOCAL for t in standing):
        return c.RestagingOutcome.EQUIVOCAL, None
    if any(t.result == "" or t.acknowledged_at is None for t in standing):
        return c.RestagingOutcome.OPEN, None
    if not any(t.modality in c.RESTAGING_IMAGING for t in standing):
        return c.RestagingOutcome.OPEN, None
    last_ack = max(timezone.localdate(t.acknowledged_at) for t in standing)
    return c.RestagingOutcome.NO_DISTANT, max(last_ack, opened_on)


@transaction.atomic
def restaging_refresh(*, episode: RestagingEpisode, by: User) -> RestagingEpisode:
    """Recompute the episode's outcome from its tests; saves only when it changed."""
    outcome, closed_on = restaging_outcome(episode.tests.all(), opened_on=episode.opened_on)
    if (outcome, closed_on) != (episode.outcome, episode.closed_on):
        episode.outcome, episode.closed_on = outcome, closed_on
        _save(episode, by)
    return episode


@transaction.atomic
def staging_test_request(
    *,
    episode: RestagingEpisode,
    modality: str,
    requested_on: date,
    by: User,
    follow_up_of: StagingTest | None = None,
) -> StagingTest:
    if follow_up_of is not None and follow_up_of.episode_id != episode.pk:
        raise ValidationError("A further test follows up a test of the same episode.")
    test = StagingTest(episode=episode, modality=modality, requested_on=requested_on, follow_up_of=follow_up_of)
    _save(test, by)
    restaging_refresh(episode=episode, by=by)
    return test


@transaction.atomic
def staging_test_record_result(
    *,
    test: StagingTest,
    performed_on: date,
    reported_on: date,
    result: str,
    by: User,
    sites: Sequence[SiteEntry] = (),
    notes: str = "",
) -> StagingTest:
    """Record a staging result; distant disease needs the sites it was found at."""
    if test.cancelled_on is not None:
        raise ValidationError("This test was cancelled; request a new one instead.")
    if result == c.StagingResult.DISTANT:
        _validate_sites(c.MetastaticType.DISTANT, sites)
    elif sites:
        raise ValidationError({"sites": "Sites are recorded only when distant disease is found."})
    test.performed_on, test.reported_on, test.result, test.result_notes = performed_on, reported_on, result, notes
    # A new result must be read again.
    test.acknowledged_at = test.acknowledged_by = None
    _save(test, by)
    test.sites.all().delete()
    for entry in sites:
        site = StagingTestSite(test=test, site=entry.site, other_site_text=entry.other_text)
        site.full_clean()
        site.save()
    restaging_refresh(episode=test.episode, by=by)
    return test


@transaction.atomic
def staging_test_acknowledge(*, test: StagingTest, by: User) -> StagingTest:
    if not test.result:
        raise ValidationError("There is no result to acknowledge yet.")
    if test.acknowledged_at is None:
        test.acknowledged_at, test.acknowledged_by = timezone.now(), by
        _save(test, by)
        restaging_refresh(episode=test.episode, by=by)
    return test


@transaction.atomic
def record_mark_entered_in_error(*, record: ClinicalRecord, reason: str, by: User) -> ClinicalRecord:
    """Take a wrong entry off every list; it stays in the database and its history."""
    if not reason.strip():
        raise ValidationError({"error_reason": "Say why this record was entered in error."})
    if record.entered_in_error:
        raise ValidationError("This record is already marked as entered in error.")
    record.entered_in_error = True
    record.error_reason = reason.strip()
    record.error_marked_by = by
    record.error_marked_at = timezone.now()
    _save(record, by)
    if isinstance(record, StagingTest):
        restaging_refresh(episode=record.episode, by=by)
    return record
