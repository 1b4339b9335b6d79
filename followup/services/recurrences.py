"""Recurrences, their restaging episodes and staging tests."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .. import choices as c
from ..models import (
    Patient,
    PrimaryDiagnosis,
    Recurrence,
    RecurrenceSite,
    RestagingEpisode,
    StagingTest,
    StagingTestSite,
    User,
)
from ..querysets import waits_for_classification
from .records import lock, save_record


@dataclass(frozen=True)
class SiteEntry:
    """A site as entered: our sub-site code, and free text when it is 'other'."""

    site: str
    other_text: str = ""


def validate_sites(metastatic_type: str, sites: Sequence[SiteEntry]) -> None:
    if not sites:
        raise ValidationError({"sites": "Record at least one site (use 'Unknown site' if it is not known)."})
    allowed = c.sites_for_type(metastatic_type)
    wrong = [entry.site for entry in sites if entry.site not in allowed]
    if wrong:
        labels = ", ".join(c.Site(site).label if site in c.Site.values else site for site in wrong)
        kind = c.MetastaticType(metastatic_type).label.lower() if metastatic_type in c.MetastaticType.values else "this"
        raise ValidationError({"sites": f"Not a site of a {kind} recurrence: {labels}."})


def sync_secondary_status(*, patient: Patient, by: User) -> Patient:
    """The patient lives with secondary breast cancer exactly while a distant recurrence stands.

    The one place this rule lives: called when a distant recurrence is recorded,
    confirmed, refuted or marked entered in error.
    """
    patient = lock(patient, expected_version=None)
    standing = Recurrence.objects.distant().filter(patient=patient).exists()
    if standing and patient.status in (c.PatientStatus.SURVEILLANCE, c.PatientStatus.ON_TREATMENT):
        patient.status = c.PatientStatus.SECONDARY
        save_record(patient, by)
    elif not standing and patient.status == c.PatientStatus.SECONDARY:
        patient.status = c.PatientStatus.SURVEILLANCE
        save_record(patient, by)
    return patient


def _back_under_follow_up(*, patient: Patient, by: User) -> None:
    """A recurrence after discharge brings the patient back: otherwise no list would show them."""
    patient = lock(patient, expected_version=None)
    if patient.status == c.PatientStatus.DISCHARGED:
        patient.status = c.PatientStatus.SURVEILLANCE
        save_record(patient, by)


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
    restaging_tests: Sequence[str] = (),
) -> Recurrence:
    """Record a recurrence with its sites.

    Local or regional: opens its restaging episode in the same transaction, and
    requests ``restaging_tests`` (modalities) in it.
    Distant (not refuted): the patient is now living with secondary breast cancer.
    From a staging test: the test is linked to the new distant recurrence.
    """
    validate_sites(metastatic_type, sites)
    if restaging_tests and metastatic_type not in c.RESTAGED_TYPES:
        raise ValidationError({"restaging_tests": "Restaging tests are requested for a local or regional recurrence."})
    if restaging_tests and status == c.RecurrenceStatus.REFUTED:
        raise ValidationError({"restaging_tests": "A refuted recurrence needs no restaging tests."})
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
    save_record(recurrence, by)
    if status != c.RecurrenceStatus.REFUTED:
        _back_under_follow_up(patient=patient, by=by)
    for entry in sites:
        site = RecurrenceSite(
            recurrence=recurrence, metastatic_type=metastatic_type, site=entry.site, other_site_text=entry.other_text
        )
        save_record(site, by)

    if metastatic_type in c.RESTAGED_TYPES:
        episode = RestagingEpisode(
            recurrence=recurrence,
            opened_on=diagnosed_on,
            target_on=diagnosed_on + timedelta(days=settings.RESTAGING_TARGET_DAYS),
        )
        save_record(episode, by)
        # Requested when the recurrence was agreed: a result performed since then can be recorded.
        for modality in restaging_tests:
            save_record(StagingTest(episode=episode, modality=modality, requested_on=diagnosed_on), by)
        if status == c.RecurrenceStatus.REFUTED:
            restaging_refresh(episode=episode, by=by)
    elif status != c.RecurrenceStatus.REFUTED:
        sync_secondary_status(patient=patient, by=by)

    if from_staging_test is not None:
        _link_staging_test(test=from_staging_test, recurrence=recurrence, by=by)
    return recurrence


@transaction.atomic
def recurrence_set_status(
    *,
    recurrence: Recurrence,
    status: str,
    by: User,
    expected_version: int | None,
    cancel_outstanding_tests: bool = False,
    cancel_reason: str = "",
) -> Recurrence:
    """Confirm or refute a recurrence.

    Refuting a local or regional one closes its restaging if it was not complete
    (see restaging_outcome()); with ``cancel_outstanding_tests`` the tests still
    waiting for a result are cancelled too, all for ``cancel_reason``. Confirming a
    refuted one opens its restaging again, as its tests now stand.
    """
    recurrence = lock(recurrence, expected_version=expected_version)
    if status not in (c.RecurrenceStatus.CONFIRMED, c.RecurrenceStatus.REFUTED):
        raise ValidationError({"status": "Choose confirmed or refuted."})
    if recurrence.status == status:
        raise ValidationError({"status": f"This recurrence is already {recurrence.get_status_display().lower()}."})
    if cancel_outstanding_tests:
        if status != c.RecurrenceStatus.REFUTED:
            raise ValidationError(
                {"cancel_outstanding_tests": "Tests are cancelled here only when the recurrence is refuted."}
            )
        if not cancel_reason.strip():
            raise ValidationError({"cancel_reason": "Give a reason for cancelling the tests."})
    recurrence.status = status
    save_record(recurrence, by)
    if status == c.RecurrenceStatus.CONFIRMED:
        # Confirmed after a refutation, the patient may have been discharged since: as when it is recorded.
        _back_under_follow_up(patient=recurrence.patient, by=by)
    episode = RestagingEpisode.objects.filter(recurrence=recurrence).first()
    if episode is not None:
        if cancel_outstanding_tests:
            for test in episode.tests.outstanding():
                staging_test_cancel(test=test, reason=cancel_reason, by=by, expected_version=None)
        restaging_refresh(episode=episode, by=by)
    if recurrence.metastatic_type == c.MetastaticType.DISTANT:
        sync_secondary_status(patient=recurrence.patient, by=by)
    return recurrence


def _link_staging_test(*, test: StagingTest, recurrence: Recurrence, by: User) -> None:
    test = lock(test, expected_version=None)
    if recurrence.metastatic_type != c.MetastaticType.DISTANT:
        raise ValidationError("Only a distant recurrence is recorded from a staging result.")
    if test.episode.recurrence.patient_id != recurrence.patient_id:
        raise ValidationError("The staging test belongs to another patient.")
    if test.distant_recurrence_id is not None and not test.distant_recurrence.entered_in_error:
        raise ValidationError("A distant recurrence is already recorded from this result.")
    test.distant_recurrence = recurrence
    save_record(test, by)


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
    test = lock(test, expected_version=None)
    if test.result != c.StagingResult.DISTANT:
        raise ValidationError("This result does not show distant disease.")
    if test.distant_recurrence_id is not None and not test.distant_recurrence.entered_in_error:
        raise ValidationError("A distant recurrence is already recorded from this result.")
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


def _standing(tests: Iterable[StagingTest]) -> tuple[list[StagingTest], list[StagingTest]]:
    """(the tests not cancelled, those whose results stand): an equivocal result followed by a
    further test (not cancelled) counts through that test, not on its own."""
    tests = [t for t in tests if t.cancelled_on is None]
    followed_up = {t.follow_up_of_id for t in tests if t.follow_up_of_id}
    standing = [t for t in tests if not (t.result == c.StagingResult.EQUIVOCAL and t.pk in followed_up)]
    return tests, standing


def restaging_needs_by_test(tests: Iterable[StagingTest]) -> dict[str, list[StagingTest]]:
    """What restaging still needs before it can close (c.RestagingNeed), most pressing first,
    each with the tests that need something done (none for IMAGING: no test is there yet).

    The one place this rule lives: the restaging list, the patient page (its "What needs
    doing" buttons) and the warning before a CT is cancelled say it in words, and
    restaging_outcome() closes an episode as "no distant disease" exactly when nothing is
    needed. Cancelled tests count for nothing.

    - IMAGING: no CT chest/abdomen/pelvis or PET-CT requested or resulted (NICE CG81 1.3.1);
    - FURTHER_TEST: an equivocal result not yet followed by a further test;
    - ACKNOWLEDGE: a result (standing) not yet acknowledged;
    - RESULTS: a test still waiting for its result.
    """
    tests, standing = _standing(tests)
    needs = {}
    if not any(t.modality in c.RESTAGING_IMAGING for t in tests):
        needs[c.RestagingNeed.IMAGING] = []
    found = {
        c.RestagingNeed.FURTHER_TEST: [t for t in standing if t.result == c.StagingResult.EQUIVOCAL],
        c.RestagingNeed.ACKNOWLEDGE: [t for t in standing if t.result and t.acknowledged_at is None],
        c.RestagingNeed.RESULTS: [t for t in standing if not t.result],
    }
    for need, waiting in found.items():
        if waiting:
            needs[need] = waiting
    return needs


def restaging_needs(tests: Iterable[StagingTest]) -> list[str]:
    """What restaging still needs before it can close (c.RestagingNeed), most pressing first
    (restaging_needs_by_test() says which tests)."""
    return list(restaging_needs_by_test(tests))


def restaging_outcome(
    tests: Iterable[StagingTest], *, opened_on: date, refuted_on: date | None = None
) -> tuple[str, date | None]:
    """The episode's outcome and closing date, from its tests. The one place this rule lives.

    - distant disease in any (not cancelled) result: DISTANT, closed on the first such report;
    - nothing more needed (restaging_needs()): NO_DISTANT, closed on the last acknowledgement;
    - otherwise, the recurrence refuted (``refuted_on``): REFUTED, closed that day;
    - otherwise EQUIVOCAL while an equivocal result waits for a further test, else OPEN.
    A finding already made (distant disease, or none) stands when the recurrence is refuted.
    """
    tests = list(tests)
    distant = [t.reported_on for t in tests if t.cancelled_on is None and t.result == c.StagingResult.DISTANT]
    if distant:
        return c.RestagingOutcome.DISTANT, max(min(distant), opened_on)
    needs = restaging_needs(tests)
    if not needs:
        _, standing = _standing(tests)
        last_ack = max(timezone.localdate(t.acknowledged_at) for t in standing)
        return c.RestagingOutcome.NO_DISTANT, max(last_ack, opened_on)
    if refuted_on is not None:
        return c.RestagingOutcome.REFUTED, max(refuted_on, opened_on)
    if c.RestagingNeed.FURTHER_TEST in needs:
        return c.RestagingOutcome.EQUIVOCAL, None
    return c.RestagingOutcome.OPEN, None


def cancelling_leaves_no_imaging(test: StagingTest) -> bool:
    """Would cancelling this test leave its (incomplete) restaging without a CT or PET-CT?"""
    episode = test.episode
    if episode.outcome not in c.OPEN_RESTAGING_OUTCOMES or test.cancelled_on or test.result:
        return False
    tests = list(episode.tests.all())
    others = [t for t in tests if t.pk != test.pk]
    return c.RestagingNeed.IMAGING not in restaging_needs(tests) and c.RestagingNeed.IMAGING in restaging_needs(others)


@transaction.atomic
def restaging_refresh(*, episode: RestagingEpisode, by: User) -> RestagingEpisode:
    """Recompute the episode's outcome from its tests and its recurrence's status; saves only when it changed."""
    episode = lock(episode, expected_version=None)
    refuted_on = None
    if episode.recurrence.status == c.RecurrenceStatus.REFUTED:
        # Closed the day it was refuted, and kept so when the episode is refreshed later.
        refuted_on = episode.closed_on if episode.outcome == c.RestagingOutcome.REFUTED else timezone.localdate()
    outcome, closed_on = restaging_outcome(episode.tests.all(), opened_on=episode.opened_on, refuted_on=refuted_on)
    if (outcome, closed_on) != (episode.outcome, episode.closed_on):
        episode.outcome, episode.closed_on = outcome, closed_on
        save_record(episode, by)
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
    episode = lock(episode, expected_version=None)
    if episode.recurrence.status == c.RecurrenceStatus.REFUTED:
        raise ValidationError("The recurrence was refuted: it needs no restaging tests.")
    if follow_up_of is not None and follow_up_of.episode_id != episode.pk:
        raise ValidationError({"follow_up_of": "A further test follows up a test of the same episode."})
    if requested_on < episode.opened_on:
        raise ValidationError({"requested_on": "A restaging test cannot be requested before the recurrence."})
    test = StagingTest(episode=episode, modality=modality, requested_on=requested_on, follow_up_of=follow_up_of)
    save_record(test, by)
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
    expected_version: int | None = None,
) -> StagingTest:
    """Record a staging result; distant disease needs the sites it was found at."""
    test = lock(test, expected_version=expected_version)
    if test.cancelled_on is not None:
        raise ValidationError("This test was cancelled; request a new one instead.")
    if result == c.StagingResult.DISTANT:
        validate_sites(c.MetastaticType.DISTANT, sites)
    elif sites:
        raise ValidationError({"sites": "Sites are recorded only when distant disease is found."})
    if performed_on < test.requested_on:
        raise ValidationError({"performed_on": "A test cannot be performed before it was requested."})
    if reported_on < performed_on:
        raise ValidationError({"reported_on": "A test is reported on or after the date it was performed."})
    test.performed_on, test.reported_on, test.result, test.result_notes = performed_on, reported_on, result, notes
    # A new result must be read again.
    test.acknowledged_at = test.acknowledged_by = None
    save_record(test, by)
    for old in test.sites.all():
        old._history_user = by
        old.delete()
    for entry in sites:
        site = StagingTestSite(test=test, site=entry.site, other_site_text=entry.other_text)
        site._history_user = by
        site.full_clean()
        site.save()
    restaging_refresh(episode=test.episode, by=by)
    return test


@transaction.atomic
def staging_test_acknowledge(
    *, test: StagingTest, by: User, expected_version: int | None = None, classified: bool = False
) -> StagingTest:
    """Acknowledge the result the user saw: a result changed since is refused (ConflictError). A report
    waiting for its classification (waits_for_classification) is acknowledged only by
    staging_test_classify (``classified``)."""
    test = lock(test, expected_version=expected_version)
    if not test.result:
        raise ValidationError("There is no result to acknowledge yet.")
    if waits_for_classification(test) and not classified:
        raise ValidationError("Classify the result before acknowledging it.")
    if test.acknowledged_at is None:
        # An amended report acknowledged has been read again.
        test.acknowledged_at, test.acknowledged_by, test.report_amended = timezone.now(), by, False
        save_record(test, by)
        restaging_refresh(episode=test.episode, by=by)
    return test


@transaction.atomic
def staging_test_classify(
    *,
    test: StagingTest,
    result: str,
    by: User,
    sites: Sequence[SiteEntry] = (),
    expected_version: int | None = None,
) -> StagingTest:
    """A clinician reads a report that arrived by itself (or its amendment), classifies it and so
    acknowledges it: the classification goes through staging_test_record_result's rules (the dates
    and the report kept), then staging_test_acknowledge's (the restaging outcome follows). Distant
    disease then asks for the secondary breast cancer (the view's prompt, as a typed result does)."""
    current = lock(test, expected_version=expected_version)
    if not waits_for_classification(current):
        raise ValidationError("This result has no report waiting to be classified.")
    if result not in dict(c.CLASSIFIED_STAGING_RESULTS):
        raise ValidationError({"result": "Select what the report shows."})
    if current.distant_recurrence_id is not None and result != c.StagingResult.DISTANT:
        raise ValidationError(
            {
                "result": "A secondary breast cancer was recorded from this result: it stays 'Distant disease "
                "found'. If the secondary breast cancer is wrong, mark it entered in error first."
            }
        )
    recorded = staging_test_record_result(
        test=current,
        performed_on=current.performed_on or current.reported_on,
        reported_on=current.reported_on,
        result=result,
        sites=sites,
        notes=current.result_notes,
        by=by,
    )
    return staging_test_acknowledge(test=recorded, by=by, classified=True)


@transaction.atomic
def staging_test_amend_report(*, test: StagingTest, report: str, by: User) -> StagingTest:
    """A corrected or amended report for a recorded result (integration/): the new text is kept
    beside the history of the old, and the result must be read again ("Amended report")."""
    test = lock(test, expected_version=None)
    if not test.result:
        raise ValidationError("There is no result to amend yet.")
    test.result_notes, test.report_amended = report, True
    test.acknowledged_at = test.acknowledged_by = None
    save_record(test, by)
    restaging_refresh(episode=test.episode, by=by)
    return test


@transaction.atomic
def staging_test_cancel(*, test: StagingTest, reason: str, by: User, expected_version: int | None) -> StagingTest:
    test = lock(test, expected_version=expected_version)
    if test.result:
        raise ValidationError("A test with a result cannot be cancelled; mark the result entered in error instead.")
    if not reason.strip():
        raise ValidationError({"reason": "Give a reason for cancelling."})
    test.cancelled_on, test.cancel_reason = timezone.localdate(), reason.strip()
    save_record(test, by)
    restaging_refresh(episode=test.episode, by=by)
    return test


@transaction.atomic
def staging_test_link_distant(*, test: StagingTest, recurrence: Recurrence, by: User) -> StagingTest:
    """The distant disease a result shows is already recorded: link the two instead of recording it twice."""
    test = lock(test, expected_version=None)
    if test.result != c.StagingResult.DISTANT:
        raise ValidationError("This result does not show distant disease.")
    if (
        recurrence.metastatic_type != c.MetastaticType.DISTANT
        or recurrence.status == c.RecurrenceStatus.REFUTED
        or recurrence.entered_in_error
    ):
        raise ValidationError({"existing": "Choose a standing distant recurrence (secondary breast cancer)."})
    _link_staging_test(test=test, recurrence=recurrence, by=by)
    return StagingTest.objects.get(pk=test.pk)
