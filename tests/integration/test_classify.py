"""Classify and acknowledge (H21, H22): a report that arrived by itself, or an amended one, is
acknowledged only with a clinician's classification, through the existing result rules."""

from dataclasses import replace

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from followup import choices as c
from followup import services as clinical
from followup.models import FollowUpItem, StagingTest
from followup.services import SiteEntry
from integration.models import MessageFormat
from integration.services import receive
from letters.choices import LetterKind
from letters.services import letter_issue
from tests.factories import UserFactory

from .test_placing import report_for

pytestmark = pytest.mark.django_db


def arrived(sender, patient, **changes):
    return receive(
        client=sender,
        format=MessageFormat.HL7V2,
        body=f"raw {changes.get('control_id', 'MSG0001')}",
        read=lambda text: replace(report_for(patient), **changes),
    )


@pytest.fixture
def reported_ct(sender, patient_with_ct):
    """The CT's report arrived by itself: "reported, not yet classified"."""
    patient, test = patient_with_ct
    arrived(sender, patient, report_text="Line one of the report.\nLine two: two lesions in the liver.")
    test.refresh_from_db()
    return test


@pytest.fixture
def reported_mammogram(sender, patient_with_mammogram):
    patient, item = patient_with_mammogram
    arrived(
        sender,
        patient,
        control_id="MSG0002",
        report_id="ACC0002",
        exam_code="MAMMOB",
        report_text="Both breasts: no change.",
        suggested_result="02",
    )
    item.refresh_from_db()
    return item


@pytest.fixture
def clinician(team):
    return UserFactory(team=team, role=c.Role.CLINICIAN)


def url(name: str, pk: int) -> str:
    return reverse(f"followup:{name}", args=[pk])


# Services ---------------------------------------------------------------------------------------------


def test_classifying_a_staging_report_records_the_result_keeps_the_report_and_acknowledges_it(reported_ct, nurse):
    performed, reported = reported_ct.performed_on, reported_ct.reported_on
    test = clinical.staging_test_classify(
        test=reported_ct, result=c.StagingResult.CLEAR, by=nurse, expected_version=reported_ct.version
    )
    assert (test.result, test.performed_on, test.reported_on) == (c.StagingResult.CLEAR, performed, reported)
    assert test.result_notes == "Line one of the report.\nLine two: two lesions in the liver."
    assert (test.acknowledged_by, test.report_amended) == (nurse, False)
    assert not StagingTest.objects.awaiting_acknowledgement().filter(pk=test.pk).exists()


def test_classifying_as_distant_disease_needs_sites_and_records_them(reported_ct, nurse):
    with pytest.raises(ValidationError) as no_site:
        clinical.staging_test_classify(test=reported_ct, result=c.StagingResult.DISTANT, by=nurse)
    assert "sites" in no_site.value.message_dict
    test = clinical.staging_test_classify(
        test=reported_ct, result=c.StagingResult.DISTANT, sites=[SiteEntry(c.Site.LIVER)], by=nurse
    )
    assert [s.site for s in test.sites.all()] == [c.Site.LIVER]
    assert StagingTest.objects.distant_not_recorded().filter(pk=test.pk).exists()
    assert test.acknowledged_at is not None


def test_a_stale_classification_is_refused_as_a_conflict(reported_ct, nurse):
    with pytest.raises(clinical.ConflictError):
        clinical.staging_test_classify(
            test=reported_ct, result=c.StagingResult.CLEAR, by=nurse, expected_version=reported_ct.version - 1
        )


def test_a_test_linked_to_a_distant_recurrence_cannot_be_classified_away_from_distant(reported_ct, nurse, sender):
    test = clinical.staging_test_classify(
        test=reported_ct, result=c.StagingResult.DISTANT, sites=[SiteEntry(c.Site.LIVER)], by=nurse
    )
    clinical.distant_recurrence_record_from_test(
        test=test,
        by=nurse,
        diagnosed_on=test.reported_on,
        sites=[SiteEntry(c.Site.LIVER)],
        status=c.RecurrenceStatus.CONFIRMED,
        notes="",
    )
    clinical.staging_test_amend_report(test=test, report="Addendum: liver lesions are cysts.", by=sender.user)
    with pytest.raises(ValidationError) as refused:
        clinical.staging_test_classify(test=test, result=c.StagingResult.CLEAR, by=nurse)
    assert refused.value.message_dict["result"][0].startswith(
        "A secondary breast cancer was recorded from this result: it stays 'Distant disease found'."
    )


def test_classifying_a_follow_up_report_records_and_acknowledges_it(reported_mammogram, nurse):
    item = clinical.followup_item_classify(
        item=reported_mammogram, result=c.ImagingOutcome.NORMAL, by=nurse, expected_version=reported_mammogram.version
    )
    assert (item.result, item.result_acknowledged_by, item.report) == (
        c.ImagingOutcome.NORMAL,
        nurse,
        "Both breasts: no change.",
    )
    assert not FollowUpItem.objects.awaiting_acknowledgement().filter(pk=item.pk).exists()


def test_a_result_already_classified_has_nothing_to_classify(reported_mammogram, nurse):
    item = clinical.followup_item_classify(item=reported_mammogram, result=c.ImagingOutcome.NORMAL, by=nurse)
    with pytest.raises(ValidationError, match="no report waiting to be classified"):
        clinical.followup_item_classify(item=item, result=c.ImagingOutcome.ABNORMAL, by=nurse)


def test_an_amended_report_is_read_again_and_classified_again(reported_mammogram, nurse, sender):
    item = clinical.followup_item_classify(item=reported_mammogram, result=c.ImagingOutcome.NORMAL, by=nurse)
    clinical.followup_item_amend_report(item=item, report="Addendum: 8 mm mass left breast.", by=sender.user)
    item.refresh_from_db()
    assert (item.report_amended, item.result_acknowledged_at, item.result) == (True, None, c.ImagingOutcome.NORMAL)
    assert FollowUpItem.objects.awaiting_acknowledgement().filter(pk=item.pk).exists()
    item = clinical.followup_item_classify(item=item, result=c.ImagingOutcome.ABNORMAL, by=nurse)
    assert (item.report_amended, item.result, item.result_acknowledged_by) == (False, c.ImagingOutcome.ABNORMAL, nurse)


def test_an_unclassified_result_cannot_be_acknowledged_even_by_sql(reported_ct, reported_mammogram, nurse):
    """H22: the database refuses an acknowledged "reported, not yet classified" result."""
    for model, fields in (
        (StagingTest, {"acknowledged_at": timezone.now(), "acknowledged_by": nurse}),
        (FollowUpItem, {"result_acknowledged_at": timezone.now(), "result_acknowledged_by": nurse}),
    ):
        row = reported_ct if model is StagingTest else reported_mammogram
        with pytest.raises(IntegrityError), transaction.atomic():
            model.all_objects.filter(pk=row.pk).update(**fields)


def test_bulk_acknowledge_refuses_unclassified_and_amended_results(reported_ct, reported_mammogram, nurse, sender):
    with pytest.raises(ValidationError) as refused:
        clinical.results_acknowledge(results=[(reported_mammogram, reported_mammogram.version)], by=nurse)
    assert "its report is not yet classified" in refused.value.messages[0]
    with pytest.raises(ValidationError):
        clinical.results_acknowledge(results=[(reported_ct, reported_ct.version)], by=nurse)
    item = clinical.followup_item_classify(item=reported_mammogram, result=c.ImagingOutcome.NORMAL, by=nurse)
    clinical.followup_item_amend_report(item=item, report="Amended.", by=sender.user)
    item.refresh_from_db()
    with pytest.raises(ValidationError) as amended:
        clinical.results_acknowledge(results=[(item, item.version)], by=nurse)
    assert "its report was amended" in amended.value.messages[0]


def test_a_result_letter_about_an_unclassified_result_is_refused(reported_mammogram, nurse):
    with pytest.raises(ValidationError) as refused:
        letter_issue(
            patient=reported_mammogram.patient, kind=LetterKind.RESULT_PATIENT, result=reported_mammogram, by=nurse
        )
    assert refused.value.message_dict == {"result": ["Classify the result before writing about it."]}


# Pages ------------------------------------------------------------------------------------------------


def test_the_classify_page_shows_the_report_with_its_line_breaks_and_the_suggestion(nurse_client, reported_mammogram):
    response = nurse_client.get(url("item_classify", reported_mammogram.pk))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Classify and acknowledge the mammogram result" in html
    assert "Both breasts: no change." in html
    assert "Suggested by the sending system: Normal." in html
    assert 'value="02" checked' in html
    assert reported_mammogram.patient.display_name in html  # the banner


def test_the_staging_classify_page_keeps_line_breaks_and_says_amended(nurse_client, reported_ct, sender):
    html = nurse_client.get(url("staging_classify", reported_ct.pk)).content.decode()
    assert "Line one of the report.<br>Line two: two lesions in the liver." in html
    assert "Amended report" not in html
    clinical.staging_test_amend_report(test=reported_ct, report="Amended text.", by=sender.user)
    html = nurse_client.get(url("staging_classify", reported_ct.pk)).content.decode()
    assert "Amended report" in html and "Amended text." in html


def test_classifying_distant_disease_prompts_for_the_secondary(nurse_client, reported_ct):
    response = nurse_client.post(
        url("staging_classify", reported_ct.pk),
        {"version": reported_ct.version, "result": c.StagingResult.DISTANT, "sites": [c.Site.LIVER]},
    )
    assert response.status_code == 302
    assert response["Location"] == url("secondary_from_test", reported_ct.pk)
    reported_ct.refresh_from_db()
    assert reported_ct.result == c.StagingResult.DISTANT and reported_ct.acknowledged_at is not None


def test_classifying_without_a_choice_is_refused_beside_the_radios(nurse_client, reported_ct):
    response = nurse_client.post(url("staging_classify", reported_ct.pk), {"version": reported_ct.version})
    assert response.status_code == 200
    assert "Select the result" in response.content.decode()
    reported_ct.refresh_from_db()
    assert reported_ct.result == c.StagingResult.REPORTED


def test_the_results_lists_say_not_yet_classified_and_offer_classify(nurse_client, reported_ct, reported_mammogram):
    staging = nurse_client.get(reverse("followup:worklist", args=["staging-results"])).content.decode()
    assert "Reported, not yet classified" in staging
    assert f'href="{url("staging_classify", reported_ct.pk)}?next=' in staging
    assert f'action="{url("staging_acknowledge", reported_ct.pk)}"' not in staging
    assert f'id="select-{reported_ct.pk}"' not in staging  # no checkbox: never acknowledged in bulk
    results = nurse_client.get(reverse("followup:worklist", args=["results"])).content.decode()
    assert "Reported, not yet classified" in results
    assert f'href="{url("item_classify", reported_mammogram.pk)}?next=' in results


def test_the_results_list_tags_an_amended_report(nurse_client, reported_mammogram, nurse, sender):
    item = clinical.followup_item_classify(item=reported_mammogram, result=c.ImagingOutcome.NORMAL, by=nurse)
    clinical.followup_item_amend_report(item=item, report="Amended.", by=sender.user)
    html = nurse_client.get(reverse("followup:worklist", args=["results"])).content.decode()
    assert "Amended report" in html
    assert f'href="{url("item_classify", item.pk)}?next=' in html


def test_the_patient_page_shows_the_report_and_classify(nurse_client, reported_ct):
    patient = reported_ct.episode.recurrence.patient
    html = nurse_client.get(reverse("followup:patient_detail", args=[patient.pk])).content.decode()
    assert "Line one of the report.<br>Line two: two lesions in the liver." in html
    assert "Reported, not yet classified" in html
    assert url("staging_classify", reported_ct.pk) in html


def test_another_teams_nurse_gets_404_on_the_classify_pages(client, other_nurse, reported_ct, reported_mammogram):
    client.force_login(other_nurse)
    assert client.get(url("staging_classify", reported_ct.pk)).status_code == 404
    assert client.get(url("item_classify", reported_mammogram.pk)).status_code == 404


def test_a_clinician_may_not_classify(client, clinician, reported_ct, reported_mammogram):
    client.force_login(clinician)
    assert client.get(url("staging_classify", reported_ct.pk)).status_code == 403
    response = client.post(url("item_classify", reported_mammogram.pk), {"version": 1, "result": "02"})
    assert response.status_code == 403
    reported_mammogram.refresh_from_db()
    assert reported_mammogram.result == c.ImagingOutcome.REPORTED


@pytest.mark.parametrize("amended", [False, True])
def test_classify_page_query_count(nurse_client, reported_mammogram, nurse, sender, amended, django_assert_num_queries):
    if amended:
        item = clinical.followup_item_classify(item=reported_mammogram, result=c.ImagingOutcome.NORMAL, by=nurse)
        clinical.followup_item_amend_report(item=item, report="Amended.", by=sender.user)
    # session, user, the item (scoped), its patient, the sender's suggestion, the named nurse (banner)
    with django_assert_num_queries(6):
        nurse_client.get(url("item_classify", reported_mammogram.pk))
