"""The "Unmatched results" failsafe list and placing a result by hand (H19, H20): the list, the
message page, matching, a new item, "not ours", amendments; scope, roles, query counts, and two
people placing the same message."""

from dataclasses import replace
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from followup import choices as c
from followup.models import FollowUpItem
from followup.worklists import WORKLISTS
from integration import placing
from integration.clients import client_register
from integration.models import InboxMessage, MessageFormat, MessageStatus
from integration.services import receive
from tests.factories import FollowUpItemFactory, PatientFactory, UserFactory

from .test_placing import report_for

pytestmark = pytest.mark.django_db

LIST = reverse("followup:worklist", args=["unmatched-results"])


def arrived(sender, patient, n: int = 1, **changes) -> InboxMessage:
    report = replace(report_for(patient), **{"control_id": f"MSG{n:04}", "report_id": f"ACC{n:04}", **changes})
    return receive(client=sender, format=MessageFormat.HL7V2, body=f"MSH|raw {n}", read=lambda text: report)


def unknown(sender, patient, n: int = 1) -> InboxMessage:
    """A result for an NHS number no patient of ours has."""
    return arrived(sender, patient, n, nhs_number="9990001234")


def page(pk: int, action: str = "") -> str:
    name = f"integration:inbox_{action}" if action else "integration:inbox_message"
    return reverse(name, args=[pk])


@pytest.fixture
def clinician(team):
    return UserFactory(team=team, role=c.Role.CLINICIAN)


@pytest.fixture
def mismatched(sender, patient_with_ct):
    """A result for the CT's patient whose date of birth is not hers: unmatched, patient not found."""
    patient, test = patient_with_ct
    message = arrived(sender, patient, date_of_birth=patient.date_of_birth - timedelta(days=400))
    assert message.status == MessageStatus.UNMATCHED
    return message, patient, test


# The list ---------------------------------------------------------------------------------------------


def test_the_list_shows_each_unmatched_result_with_why(nurse_client, sender, patient_with_ct):
    patient, _ = patient_with_ct
    message = unknown(sender, patient)
    html = nurse_client.get(LIST).content.decode()
    assert "Unmatched results" in html
    assert "North RIS" in html and "CT chest, abdomen and pelvis" in html
    assert "999 000 1234" in html and patient.family_name.upper() in html
    assert "No patient of the teams this system serves has NHS number 9990001234." in html
    assert f'href="{page(message.pk)}?next=' in html and "Place this result" in html


def test_the_list_is_scoped_to_the_teams_the_sender_serves(client, other_nurse, admin_user, sender, patient_with_ct):
    message = unknown(sender, patient_with_ct[0])
    assert list(WORKLISTS["unmatched-results"].for_user(other_nurse, today=timezone.localdate())) == []
    assert list(WORKLISTS["unmatched-results"].for_user(admin_user, today=timezone.localdate())) == [message]
    client.force_login(other_nurse)
    assert "Place this result" not in client.get(LIST).content.decode()


def test_the_dashboard_counts_unmatched_results(nurse_client, sender, patient_with_ct):
    unknown(sender, patient_with_ct[0], 1)
    unknown(sender, patient_with_ct[0], 2)
    html = nurse_client.get(reverse("followup:dashboard")).content.decode()
    assert 'aria-label="Unmatched results, whole team: 2"' in html


@pytest.mark.parametrize("rows", [1, 3])
def test_unmatched_list_query_count(nurse_client, sender, patient_with_ct, rows, django_assert_num_queries):
    for n in range(rows):
        unknown(sender, patient_with_ct[0], n + 1)
    # session, user, the nurse filter's nurses, count, the page's rows (client, patient, nurse joined)
    with django_assert_num_queries(5):
        response = nurse_client.get(LIST)
    assert response.content.decode().count("Place this result") == rows


# The message page -------------------------------------------------------------------------------------


def test_the_message_page_shows_the_message_as_received(nurse_client, sender, patient_with_ct):
    message = unknown(sender, patient_with_ct[0])
    html = nurse_client.get(page(message.pk)).content.decode()
    assert "MSH|raw 1" in html and "<pre" in html  # the raw message
    assert "No evidence of metastatic disease" in html
    assert "Unmatched" in html and "No patient of the teams this system serves" in html
    assert "Mark not ours" in html


def test_message_page_query_count(nurse_client, mismatched, django_assert_num_queries):
    message, _, _ = mismatched
    # session, user, the message (client, patient, targets joined), its history, the patient (of the
    # client's teams, a subquery), her open tests, her open items
    with django_assert_num_queries(7):
        response = nurse_client.get(page(message.pk))
    assert "Match to this test or item" in response.content.decode()


def test_another_teams_nurse_gets_404_on_every_inbox_url(client, other_nurse, sender, patient_with_ct):
    message = unknown(sender, patient_with_ct[0])
    client.force_login(other_nurse)
    assert client.get(page(message.pk)).status_code == 404
    for action in ("match", "new_item", "not_ours", "amendment"):
        assert client.post(page(message.pk, action), {"not-ours-reason": "x"}).status_code == 404
    message.refresh_from_db()
    assert message.status == MessageStatus.UNMATCHED


def test_a_clinician_reads_but_may_not_place(client, clinician, sender, patient_with_ct):
    message = unknown(sender, patient_with_ct[0])
    client.force_login(clinician)
    html = client.get(page(message.pk)).content.decode()
    assert "Your role cannot place results" in html and "Mark not ours" not in html
    for action in ("match", "new_item", "not_ours", "amendment"):
        assert client.post(page(message.pk, action), {"not-ours-reason": "x"}).status_code == 403
    message.refresh_from_db()
    assert message.status == MessageStatus.UNMATCHED


# Placing ----------------------------------------------------------------------------------------------


def test_a_nurse_matches_a_result_by_hand_after_checking_the_differences(nurse_client, nurse, mismatched):
    message, patient, test = mismatched
    html = nurse_client.get(page(message.pk)).content.decode()
    assert "The message does not agree with this patient" in html
    post = {"patient_nhs_number": patient.nhs_number, "match-target": f"test-{test.pk}"}
    refused = nurse_client.post(page(message.pk, "match"), post)
    assert refused.status_code == 200 and "then tick to confirm" in refused.content.decode()
    message.refresh_from_db()
    assert message.status == MessageStatus.UNMATCHED
    response = nurse_client.post(page(message.pk, "match"), post | {"match-checked": "on"})
    assert response.status_code == 302 and response["Location"] == LIST
    message.refresh_from_db()
    test.refresh_from_db()
    assert (message.status, message.staging_test, message.patient, message.placed_by) == (
        MessageStatus.MATCHED,
        test,
        patient,
        nurse,
    )
    assert message.placed_at is not None
    assert (test.result, test.updated_by) == (c.StagingResult.REPORTED, nurse)
    assert list(InboxMessage.objects.unplaced()) == []


def test_a_result_is_recorded_against_a_new_follow_up_item(nurse, sender, patient_with_mammogram):
    patient, _ = patient_with_mammogram
    message = arrived(sender, patient, exam_code="ZZZ", exam_name="Ultrasound breast")  # not in the code map
    assert message.status == MessageStatus.UNMATCHED
    placing.message_record_new_item(message=message, patient=patient, kind=c.FollowUpKind.OTHER, by=nurse)
    message.refresh_from_db()
    item = message.followup_item
    assert (item.kind, item.due_on, item.done_on) == (
        c.FollowUpKind.OTHER,
        message.performed_on,
        message.performed_on,
    )
    assert (item.result, item.created_by, message.placed_by) == (c.ImagingOutcome.REPORTED, nurse, nurse)
    assert FollowUpItem.objects.awaiting_acknowledgement().filter(pk=item.pk).exists()


def test_not_ours_needs_a_reason_and_records_who(nurse_client, nurse, sender, patient_with_ct):
    message = unknown(sender, patient_with_ct[0])
    empty = nurse_client.post(page(message.pk, "not_ours"), {"not-ours-reason": "  "})
    assert empty.status_code == 200 and "Enter why this result is not ours" in empty.content.decode()
    nurse_client.post(page(message.pk, "not_ours"), {"not-ours-reason": "A patient of St Elsewhere."})
    message.refresh_from_db()
    assert (message.status, message.reason, message.placed_by) == (
        MessageStatus.NOT_OURS,
        "A patient of St Elsewhere.",
        nurse,
    )


def test_a_message_placed_meanwhile_is_refused_not_placed_twice(nurse_client, nurse, priya, sender, mismatched):
    message, patient, test = mismatched
    placing.message_not_ours(message=message, reason="Another hospital's.", by=priya)
    post = {"patient_nhs_number": patient.nhs_number, "match-target": f"test-{test.pk}", "match-checked": "on"}
    response = nurse_client.post(page(message.pk, "match"), post)
    assert response.status_code == 409
    assert f"This result was placed by {priya.get_full_name()}" in response.content.decode()
    with pytest.raises(ValidationError, match="while you had it open"):
        placing.message_match(message=message, patient=patient, target=test, by=nurse, checked=True)
    message.refresh_from_db()
    test.refresh_from_db()
    assert (message.status, message.placed_by, test.result) == (MessageStatus.NOT_OURS, priya, "")


def test_a_patient_of_a_team_the_sender_does_not_serve_is_refused(admin_user, sender, other_team, patient_with_ct):
    message = unknown(sender, patient_with_ct[0])
    elsewhere = PatientFactory(team=other_team)
    item = FollowUpItemFactory(patient=elsewhere, kind=c.FollowUpKind.MAMMOGRAM, due_on=timezone.localdate())
    with pytest.raises(ValidationError, match="not one of the teams the sending system serves"):
        placing.message_match(message=message, patient=elsewhere, target=item, by=admin_user, checked=True)


def test_an_amendment_waits_for_its_original_then_is_placed_by_hand(nurse, sender, mismatched):
    message, patient, test = mismatched
    amendment = arrived(sender, patient, 2, report_id="ACC0001", amendment=True, report_text="Addendum.")
    assert amendment.status == MessageStatus.UNMATCHED and amendment.amends == message
    with pytest.raises(ValidationError, match="is not placed yet"):
        placing.message_place_amendment(message=amendment, by=nurse)
    placing.message_match(message=message, patient=patient, target=test, by=nurse, checked=True)
    placing.message_place_amendment(message=amendment, by=nurse)
    amendment.refresh_from_db()
    test.refresh_from_db()
    assert (amendment.status, amendment.staging_test, amendment.placed_by) == (MessageStatus.MATCHED, test, nurse)
    assert (test.result_notes, test.report_amended) == ("Addendum.", True)


def test_nothing_leaves_the_list_but_by_a_person_with_who_when_and_why(nurse, sender, patient_with_ct, mismatched):
    """H20: every message that left the unmatched list names the person who placed it, and when."""
    message, patient, test = mismatched
    other = unknown(sender, patient, 3)
    placing.message_match(message=message, patient=patient, target=test, by=nurse, checked=True)
    placing.message_not_ours(message=other, reason="Sent to us by mistake.", by=nurse)
    was_unmatched = {row.id for row in InboxMessage.history.filter(status=MessageStatus.UNMATCHED)}
    left = InboxMessage.objects.filter(pk__in=was_unmatched).exclude(status__in=[MessageStatus.UNMATCHED])
    assert sorted((m.pk, m.placed_by, m.placed_at is not None) for m in left) == sorted(
        [(message.pk, nurse, True), (other.pk, nurse, True)]
    )
    assert list(InboxMessage.objects.unplaced()) == []


def test_never_creates_a_patient(nurse_client, sender, patient_with_ct):
    from followup.models import Patient

    before = Patient.all_objects.count()
    message = unknown(sender, patient_with_ct[0])
    nurse_client.get(page(message.pk), {"nhs_number": "9990001234"})
    assert Patient.all_objects.count() == before


def test_a_second_client_serving_the_team_shows_its_messages_too(client, nurse, admin_user, team, patient_with_ct):
    other_system, _ = client_register(name="South RIS", teams=[team], can_send=True, can_read=False, by=admin_user)
    message = unknown(other_system, patient_with_ct[0])
    client.force_login(nurse)
    assert client.get(page(message.pk)).status_code == 200


def test_seed_demo_sends_matched_unmatched_and_amended_results(db):
    from io import StringIO

    from django.core.management import call_command

    call_command("seed_demo", patients=60, stdout=StringIO())
    messages = {m.control_id: m for m in InboxMessage.objects.select_related("client", "staging_test")}
    assert sorted(messages) == ["DEMO0001", "DEMO0002", "DEMO0003", "DEMO0004", "DEMO0005"]
    assert {m.client.name for m in messages.values()} == {"Demo RIS (Radiology)"}
    statuses = {key: m.status for key, m in messages.items()}
    assert statuses == {
        "DEMO0001": MessageStatus.MATCHED,
        "DEMO0002": MessageStatus.MATCHED,
        "DEMO0003": MessageStatus.UNMATCHED,
        "DEMO0004": MessageStatus.UNMATCHED,
        "DEMO0005": MessageStatus.MATCHED,
    }
    test = messages["DEMO0001"].staging_test
    assert (test.result, test.report_amended) == (c.StagingResult.REPORTED, True)
    assert messages["DEMO0005"].amends == messages["DEMO0001"]
    assert "date of birth" in messages["DEMO0004"].reason
    call_command("seed_demo", patients=60, stdout=StringIO())
    assert InboxMessage.objects.count() == 5  # once only


def test_a_system_serving_two_teams_never_shows_one_teams_patient_to_the_other(
    client, nurse, other_nurse, team, other_team, admin_user, patient_with_ct
):
    """The inbox page of a message about another team's patient: placed, not found; unplaced, the
    message without the patient (the review of issue 15)."""
    shared, _ = client_register(
        name="Shared RIS", teams=[team, other_team], can_send=True, can_read=False, by=admin_user
    )
    patient, test = patient_with_ct  # of the first team
    placed = arrived(shared, patient)
    mismatch = arrived(shared, patient, 2, date_of_birth=patient.date_of_birth - timedelta(days=400))
    assert (placed.status, mismatch.status, mismatch.patient) == (MessageStatus.MATCHED, MessageStatus.UNMATCHED, None)
    InboxMessage.objects.filter(pk=mismatch.pk).update(patient=patient)  # as an older version would have kept it
    client.force_login(other_nurse)
    assert client.get(page(placed.pk)).status_code == 404
    response = client.get(page(mismatch.pk))
    assert response.status_code == 200
    body = response.content.decode()
    # What the message says is hers to read; the other team's patient record is not.
    assert reverse("followup:patient_detail", args=[patient.pk]) not in body
    assert patient.hospital_number not in body and "North Breast Unit" not in body
    client.force_login(nurse)
    assert client.get(page(placed.pk)).status_code == 200
