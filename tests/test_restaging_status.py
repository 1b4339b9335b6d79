"""What a restaging episode still needs, said in words wherever its status shows (issue 12, item 4),
and what refuting (or confirming again) a recurrence does to its restaging."""

import csv
import html
import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from followup import choices as c
from followup import services
from followup.models import RestagingEpisode, StagingTest
from followup.services import SiteEntry

from .factories import PatientFactory, RestagingEpisodeFactory

TODAY = timezone.localdate()

IMAGING = "CT or PET-CT needed"
AWAITED = "Results awaited"
TO_ACKNOWLEDGE = "Results to acknowledge"
EQUIVOCAL = "Equivocal: further test needed"


def days(n):
    return TODAY + timedelta(days=n)


def url(name, *args):
    return reverse(f"followup:{name}", args=args)


def text(fragment) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", str(fragment))).split())


def body(response) -> str:
    return response.content.decode()


def regional(patient, nurse, *, tests=(), on=None):
    """A regional recurrence with its restaging episode and the tests asked for (requested on the day)."""
    recurrence = services.recurrence_record(
        patient=patient,
        metastatic_type=c.MetastaticType.REGIONAL,
        sites=[SiteEntry(c.Site.AXILLARY_NODES)],
        diagnosed_on=on or days(-20),
        restaging_tests=list(tests),
        by=nurse,
    )
    return recurrence, {t.modality: t for t in recurrence.restaging.tests.all()}


def result(test, nurse, value, *, acknowledge=False, sites=()):
    test = services.staging_test_record_result(
        test=test, performed_on=days(-5), reported_on=days(-4), result=value, sites=sites, by=nurse
    )
    if acknowledge:
        test = services.staging_test_acknowledge(test=test, by=nurse)
    return test


def cancel(test, nurse, reason="Patient declined"):
    return services.staging_test_cancel(test=test, reason=reason, by=nurse, expected_version=None)


def statuses(response) -> dict[str, list[str]]:
    """Each row's status cell, as the words of its items, by patient."""
    rows = {}
    for row in response.context["table"].paginated_rows:
        cell = str(row.get_cell("outcome"))
        rows[row.record.recurrence.patient.family_name] = [text(item) for item in re.findall(r"<li>(.*?)</li>", cell)]
    return rows


CT, PET, BONE = c.StagingModality.CT_CAP, c.StagingModality.PET_CT, c.StagingModality.BONE_SCAN


def build(name, patient, nurse):
    """The scenarios of the restaging list, by name: what each still needs is the test's expectation."""
    match name:
        case "no tests":
            regional(patient, nurse)
        case "CT cancelled, bone scan clear and read":
            _, tests = regional(patient, nurse, tests=[CT, BONE])
            cancel(tests[CT], nurse)
            result(tests[BONE], nurse, c.StagingResult.CLEAR, acknowledge=True)
        case "CT cancelled, bone scan clear not read":
            _, tests = regional(patient, nurse, tests=[CT, BONE])
            cancel(tests[CT], nurse)
            result(tests[BONE], nurse, c.StagingResult.CLEAR)
        case "CT requested":
            regional(patient, nurse, tests=[CT])
        case "CT clear not read, bone scan awaited":
            _, tests = regional(patient, nurse, tests=[CT, BONE])
            result(tests[CT], nurse, c.StagingResult.CLEAR)
        case "CT equivocal and read":
            _, tests = regional(patient, nurse, tests=[CT])
            result(tests[CT], nurse, c.StagingResult.EQUIVOCAL, acknowledge=True)
        case "CT equivocal, PET-CT requested to settle it":
            recurrence, tests = regional(patient, nurse, tests=[CT])
            ct = result(tests[CT], nurse, c.StagingResult.EQUIVOCAL, acknowledge=True)
            services.staging_test_request(
                episode=recurrence.restaging, modality=PET, requested_on=days(-3), follow_up_of=ct, by=nurse
            )
        case "CT equivocal, its further test cancelled":
            recurrence, tests = regional(patient, nurse, tests=[CT])
            ct = result(tests[CT], nurse, c.StagingResult.EQUIVOCAL, acknowledge=True)
            pet = services.staging_test_request(
                episode=recurrence.restaging, modality=PET, requested_on=days(-3), follow_up_of=ct, by=nurse
            )
            cancel(pet, nurse)
        case "PET-CT clear and read, bone scan cancelled":
            _, tests = regional(patient, nurse, tests=[PET, BONE])
            result(tests[PET], nurse, c.StagingResult.CLEAR, acknowledge=True)
            cancel(tests[BONE], nurse)


SCENARIOS = {
    "no tests": [IMAGING],
    "CT cancelled, bone scan clear and read": [IMAGING],
    "CT cancelled, bone scan clear not read": [IMAGING, TO_ACKNOWLEDGE],
    "CT requested": [AWAITED],
    "CT clear not read, bone scan awaited": [TO_ACKNOWLEDGE, AWAITED],
    "CT equivocal and read": [EQUIVOCAL],
    "CT equivocal, PET-CT requested to settle it": [AWAITED],
    "CT equivocal, its further test cancelled": [EQUIVOCAL],
    "PET-CT clear and read, bone scan cancelled": [],
}


@pytest.mark.parametrize(("scenario", "needs"), list(SCENARIOS.items()))
def test_restaging_needs_name_what_is_missing_and_agree_with_the_outcome(scenario, needs, patient, nurse):
    build(scenario, patient, nurse)
    episode = RestagingEpisode.objects.get()
    found = services.restaging_needs(episode.tests.all())
    assert [c.RestagingNeed(need).label for need in found] == needs
    # The one rule: an episode is incomplete exactly while it needs something.
    assert (episode.outcome in c.OPEN_RESTAGING_OUTCOMES) == bool(needs)


def test_restaging_list_status_names_what_is_missing(nurse_client, nurse):
    for scenario in SCENARIOS:
        build(scenario, PatientFactory(team=nurse.team, named_nurse=nurse, family_name=scenario), nurse)

    response = nurse_client.get(url("worklist", "restaging"))

    assert statuses(response) == {scenario: needs for scenario, needs in SCENARIOS.items() if needs}
    page = body(response)
    assert "Results to review" not in page and "Tests outstanding" not in page
    # The tests counted are those not cancelled: "1 of 1" for the CT cancelled and the bone scan back.
    rows = response.context["table"].paginated_rows
    counts = {row.record.recurrence.patient.family_name: text(row.get_cell("tests")) for row in rows}
    assert counts["CT cancelled, bone scan clear and read"] == "1 of 1"
    assert counts["no tests"] == "0 of 0"


def test_restaging_list_download_has_the_status_in_words(nurse_client, nurse):
    build("CT cancelled, bone scan clear not read", PatientFactory(team=nurse.team, named_nurse=nurse), nurse)
    response = nurse_client.get(url("worklist", "restaging"), {"export": "csv"})
    header, row = csv.reader(b"".join(response.streaming_content).decode("utf-8-sig").splitlines())
    found = dict(zip(header, row, strict=True))
    assert (found["Status"], found["Tests reported"]) == (f"{IMAGING}; {TO_ACKNOWLEDGE}", "1 of 1")


def test_patient_page_open_actions_say_what_restaging_needs(nurse_client, nurse, patient):
    recurrence, tests = regional(patient, nurse, tests=[CT, BONE], on=days(-20))
    cancel(tests[CT], nurse)
    response = nurse_client.get(url("patient_detail", patient.pk))
    actions = {worklist.slug: [row.text for row in rows] for worklist, rows in response.context["actions"]}
    assert actions["restaging"] == [
        f"Regional recurrence of {days(-20):%-d %b %Y}, target {days(8):%-d %b %Y}: {IMAGING}; {AWAITED}"
    ]


# Cancelling the only CT or PET-CT ----------------------------------------------------


def test_cancelling_the_only_ct_warns_before_and_after(nurse_client, nurse, patient):
    recurrence, tests = regional(patient, nurse, tests=[CT, BONE])
    warning = "This is the only CT or PET-CT for this restaging: restaging cannot complete without one."

    page = nurse_client.get(url("staging_cancel", tests[CT].pk))
    assert text(page.content).count(warning) == 1
    assert warning not in text(nurse_client.get(url("staging_cancel", tests[BONE].pk)).content)

    response = nurse_client.post(
        url("staging_cancel", tests[CT].pk), {"reason": "Booked in error", "version": 1}, follow=True
    )
    assert response.redirect_chain == [(url("staging_request", recurrence.restaging.pk), 302)]
    assert (
        "CT chest, abdomen and pelvis cancelled. Restaging cannot complete without a CT or PET-CT: request one now."
        in text(response.content)
    )
    assert StagingTest.objects.get(pk=tests[CT].pk).cancelled_on == TODAY


def test_cancelling_a_ct_with_a_pet_ct_still_requested_gives_no_warning(nurse_client, nurse, patient):
    _, tests = regional(patient, nurse, tests=[CT, PET])
    page = nurse_client.get(url("staging_cancel", tests[CT].pk))
    assert "restaging cannot complete" not in text(page.content)
    response = nurse_client.post(url("staging_cancel", tests[CT].pk), {"reason": "PET-CT instead", "version": 1})
    assert response["Location"] == url("patient_detail", patient.pk)


# Refuting a recurrence -----------------------------------------------------------------


def test_refuting_cancels_the_outstanding_tests_with_one_reason_and_closes_restaging(nurse, patient):
    recurrence, tests = regional(patient, nurse, tests=[CT, BONE, c.StagingModality.BLOODS])
    result(tests[c.StagingModality.BLOODS], nurse, c.StagingResult.CLEAR)  # resulted: not cancellable

    services.recurrence_set_status(
        recurrence=recurrence,
        status=c.RecurrenceStatus.REFUTED,
        cancel_outstanding_tests=True,
        cancel_reason="Biopsy benign: not a recurrence",
        by=nurse,
        expected_version=None,
    )

    saved = {t.modality: t for t in StagingTest.objects.filter(episode=recurrence.restaging)}
    assert [(m, saved[m].cancelled_on, saved[m].cancel_reason) for m in (CT, BONE)] == [
        (CT, TODAY, "Biopsy benign: not a recurrence"),
        (BONE, TODAY, "Biopsy benign: not a recurrence"),
    ]
    assert saved[c.StagingModality.BLOODS].cancelled_on is None
    episode = RestagingEpisode.objects.get()
    assert (episode.outcome, episode.closed_on) == (c.RestagingOutcome.REFUTED, TODAY)
    assert list(RestagingEpisode.objects.incomplete()) == []


def test_refuting_may_keep_the_tests_and_still_closes_restaging(nurse, patient):
    recurrence, tests = regional(patient, nurse, tests=[CT])
    services.recurrence_set_status(
        recurrence=recurrence, status=c.RecurrenceStatus.REFUTED, by=nurse, expected_version=None
    )
    assert StagingTest.objects.get().cancelled_on is None
    assert RestagingEpisode.objects.get().outcome == c.RestagingOutcome.REFUTED


def test_cancelling_tests_needs_a_reason_and_a_refutation(nurse, patient):
    recurrence, tests = regional(patient, nurse, tests=[CT])
    with pytest.raises(ValidationError) as no_reason:
        services.recurrence_set_status(
            recurrence=recurrence,
            status=c.RecurrenceStatus.REFUTED,
            cancel_outstanding_tests=True,
            cancel_reason=" ",
            by=nurse,
            expected_version=None,
        )
    assert no_reason.value.message_dict == {"cancel_reason": ["Give a reason for cancelling the tests."]}
    with pytest.raises(ValidationError) as confirming:
        services.recurrence_set_status(
            recurrence=recurrence,
            status=c.RecurrenceStatus.CONFIRMED,
            cancel_outstanding_tests=True,
            cancel_reason="Not needed",
            by=nurse,
            expected_version=None,
        )
    assert confirming.value.message_dict == {
        "cancel_outstanding_tests": ["Tests are cancelled here only when the recurrence is refuted."]
    }
    assert StagingTest.objects.get().cancelled_on is None


def test_no_test_can_be_requested_for_a_refuted_recurrence(nurse, patient):
    recurrence, _ = regional(patient, nurse)
    services.recurrence_set_status(
        recurrence=recurrence, status=c.RecurrenceStatus.REFUTED, by=nurse, expected_version=None
    )
    with pytest.raises(ValidationError, match="The recurrence was refuted: it needs no restaging tests."):
        services.staging_test_request(episode=recurrence.restaging, modality=CT, requested_on=TODAY, by=nurse)
    with pytest.raises(ValidationError, match="A refuted recurrence needs no restaging tests."):
        services.recurrence_record(
            patient=patient,
            metastatic_type=c.MetastaticType.LOCAL,
            sites=[SiteEntry(c.Site.SCAR)],
            diagnosed_on=days(-2),
            status=c.RecurrenceStatus.REFUTED,
            restaging_tests=[CT],
            by=nurse,
        )
    assert StagingTest.objects.count() == 0


def test_a_recurrence_recorded_as_refuted_has_its_restaging_closed(nurse, patient):
    services.recurrence_record(
        patient=patient,
        metastatic_type=c.MetastaticType.LOCAL,
        sites=[SiteEntry(c.Site.SCAR)],
        diagnosed_on=days(-2),
        status=c.RecurrenceStatus.REFUTED,
        by=nurse,
    )
    episode = RestagingEpisode.objects.get()
    assert (episode.outcome, episode.closed_on) == (c.RestagingOutcome.REFUTED, TODAY)


def test_refuting_keeps_a_restaging_already_complete_or_that_found_distant_disease(nurse, patient):
    done, tests = regional(patient, nurse, tests=[CT], on=days(-30))
    result(tests[CT], nurse, c.StagingResult.CLEAR, acknowledge=True)
    distant, tests = regional(patient, nurse, tests=[CT], on=days(-25))
    result(tests[CT], nurse, c.StagingResult.DISTANT, sites=[SiteEntry(c.Site.LIVER)])
    for recurrence in (done, distant):
        services.recurrence_set_status(
            recurrence=recurrence, status=c.RecurrenceStatus.REFUTED, by=nurse, expected_version=None
        )
    assert [(e.outcome, e.closed_on) for e in RestagingEpisode.objects.order_by("opened_on")] == [
        (c.RestagingOutcome.NO_DISTANT, TODAY),
        (c.RestagingOutcome.DISTANT, days(-4)),
    ]


def test_confirming_a_refuted_recurrence_reopens_its_restaging(nurse_client, nurse, patient):
    recurrence, tests = regional(patient, nurse, tests=[CT, BONE])
    services.recurrence_set_status(
        recurrence=recurrence,
        status=c.RecurrenceStatus.REFUTED,
        cancel_outstanding_tests=True,
        cancel_reason="Not a recurrence",
        by=nurse,
        expected_version=None,
    )
    recurrence.refresh_from_db()

    response = nurse_client.post(
        url("recurrence_status", recurrence.pk), {"status": "confirmed", "version": recurrence.version}, follow=True
    )

    assert "Recurrence confirmed. Restaging is open again: CT or PET-CT needed." in text(response.content)
    episode = RestagingEpisode.objects.get()
    assert (episode.outcome, episode.closed_on) == (c.RestagingOutcome.OPEN, None)
    assert list(RestagingEpisode.objects.incomplete()) == [episode]
    # The cancelled tests stay cancelled; new ones can be requested again.
    assert StagingTest.objects.filter(cancelled_on__isnull=True).count() == 0
    services.staging_test_request(episode=episode, modality=CT, requested_on=TODAY, by=nurse)
    assert statuses(nurse_client.get(url("worklist", "restaging"))) == {patient.family_name: [AWAITED]}


def test_the_refute_page_asks_what_to_do_with_the_outstanding_tests(nurse_client, nurse, patient):
    recurrence, tests = regional(patient, nurse, tests=[CT, BONE])
    page = nurse_client.get(url("recurrence_status", recurrence.pk))
    assert "2 restaging tests are still outstanding: CT chest, abdomen and pelvis; Bone scan." in text(page.content)

    undecided = nurse_client.post(url("recurrence_status", recurrence.pk), {"status": "refuted", "version": 1})
    assert undecided.status_code == 200
    assert undecided.context["form"].errors == {
        "outstanding_tests": ["Choose whether to cancel the outstanding tests or keep them."]
    }
    no_reason = nurse_client.post(
        url("recurrence_status", recurrence.pk), {"status": "refuted", "outstanding_tests": "cancel", "version": 1}
    )
    assert no_reason.context["form"].errors == {"cancel_reason": ["Give a reason for cancelling the tests."]}
    assert RestagingEpisode.objects.get().outcome == c.RestagingOutcome.OPEN

    response = nurse_client.post(
        url("recurrence_status", recurrence.pk),
        {"status": "refuted", "outstanding_tests": "cancel", "cancel_reason": "MDT: scar tissue", "version": 1},
        follow=True,
    )
    assert "Recurrence refuted. Restaging closed; 2 outstanding tests cancelled." in text(response.content)
    assert list(StagingTest.objects.values_list("cancel_reason", flat=True)) == ["MDT: scar tissue"] * 2


def test_a_refuted_recurrence_offers_no_restaging_requests(nurse_client, nurse, patient):
    recurrence, tests = regional(patient, nurse, tests=[CT, BONE])
    result(tests[CT], nurse, c.StagingResult.EQUIVOCAL, acknowledge=True)
    timeline = nurse_client.get(url("patient_detail", patient.pk)).context["timeline"]
    links = [label for e in timeline.history for label, _ in e.links]
    assert "Request a restaging test" in links and "Request a further test" in links

    nurse_client.post(
        url("recurrence_status", recurrence.pk), {"status": "refuted", "outstanding_tests": "keep", "version": 1}
    )

    timeline = nurse_client.get(url("patient_detail", patient.pk)).context["timeline"]
    links = [label for e in timeline.history for label, _ in e.links]
    assert "Request a restaging test" not in links and "Request a further test" not in links
    assert "Confirm the recurrence" in links
    assert "Restaging closed: recurrence refuted" in [e.title for e in timeline.history]
    refused = nurse_client.post(
        url("staging_request", recurrence.restaging.pk), {"modality": CT, "requested_on": TODAY.isoformat()}
    )
    assert refused.context["form"].non_field_errors() == ["The recurrence was refuted: it needs no restaging tests."]


def test_restaging_report_shows_a_refuted_episode_as_closed(client, admin_user, nurse, patient):
    recurrence, _ = regional(patient, nurse, tests=[CT], on=days(-10))
    services.recurrence_set_status(
        recurrence=recurrence, status=c.RecurrenceStatus.REFUTED, by=nurse, expected_version=None
    )
    client.force_login(admin_user)
    response = client.get(url("report_line_list", "restaging-episodes"))
    rows = [list(row) for row in response.context["table"].as_values()]
    header = rows[0]
    names = ("Outcome", "Completed", "Days to completion", "Target met")
    picked = {name: rows[1][header.index(name)] for name in names}
    assert picked == {
        "Outcome": "Closed: recurrence refuted",
        "Completed": f"{TODAY:%-d %b %Y}",
        "Days to completion": "",
        "Target met": "Not applicable",
    }


def test_restaging_turnaround_leaves_out_refuted_episodes(client, admin_user, nurse, patient):
    """Restaging closed because the recurrence was refuted was never completed: not in the turnaround."""
    RestagingEpisodeFactory(
        recurrence__patient=patient,
        recurrence__diagnosed_on=days(-10),
        recurrence__status=c.RecurrenceStatus.REFUTED,
        outcome=c.RestagingOutcome.REFUTED,
        closed_on=TODAY,
    )
    RestagingEpisodeFactory(
        recurrence__patient=patient,
        recurrence__diagnosed_on=days(-12),
        outcome=c.RestagingOutcome.NO_DISTANT,
        closed_on=TODAY,
    )
    client.force_login(admin_user)
    summary = client.get(url("report_summary", "restaging-turnaround")).context["summary"]
    assert sum(row[1] for row in summary.rows) == 1
    charts = client.get(reverse("followup:dashboard_charts")).context["charts"]
    chart = next(ch for ch in charts if ch.id == "restaging-turnaround")
    assert sum(row[1] for row in chart.rows if row[1]) == 1


def test_migration_closes_the_restaging_of_recurrences_refuted_before_it(nurse, patient):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("followup.migrations.0009_restaging_refuted")
    refuted = RestagingEpisodeFactory(
        recurrence__patient=patient, recurrence__diagnosed_on=days(-30), recurrence__status=c.RecurrenceStatus.REFUTED
    )
    standing = RestagingEpisodeFactory(recurrence__patient=patient, recurrence__diagnosed_on=days(-30))

    migration.close_refuted_restaging(apps, None)

    refuted.refresh_from_db()
    standing.refresh_from_db()
    assert (refuted.outcome, refuted.closed_on, refuted.version) == (c.RestagingOutcome.REFUTED, TODAY, 2)
    assert (standing.outcome, standing.closed_on, standing.version) == (c.RestagingOutcome.OPEN, None, 1)
    # The change is in the episode's history, as the recurrence's last editor's (who refuted it).
    changes = refuted.history.order_by("history_date", "history_id")
    assert [(h.outcome, h.version, h.history_user) for h in changes] == [
        (c.RestagingOutcome.OPEN, 1, nurse),
        (c.RestagingOutcome.REFUTED, 2, nurse),
    ]
