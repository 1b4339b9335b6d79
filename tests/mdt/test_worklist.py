"""'Recurrence not yet discussed at MDT': who is on it, through WORKLISTS (page, dashboard, patient page)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from followup import choices as c
from followup import services
from followup.worklists import WORKLISTS
from mdt.worklist import SLUG

from ..factories import PatientFactory, RecurrenceFactory, RecurrenceSiteFactory, UserFactory
from .factories import MDTDiscussionFactory

TODAY = timezone.localdate()


def days(n):
    return TODAY + timedelta(days=n)


def on_list(user):
    return list(WORKLISTS[SLUG].for_user(user, today=TODAY))


def page(client, **params):
    return client.get(reverse("followup:worklist", args=[SLUG]), params)


def listed(response):
    return [row.record for row in response.context["table"].paginated_rows]


def test_suspected_and_confirmed_recurrences_are_listed_oldest_first(nurse, patient):
    newer = RecurrenceFactory(patient=patient, status=c.RecurrenceStatus.SUSPECTED, diagnosed_on=days(-3))
    older = RecurrenceFactory(patient=patient, status=c.RecurrenceStatus.CONFIRMED, diagnosed_on=days(-30))
    assert on_list(nurse) == [older, newer]


def test_refuted_leaves_the_list(nurse, patient):
    recurrence = RecurrenceFactory(patient=patient, metastatic_type=c.MetastaticType.DISTANT)
    RecurrenceSiteFactory(recurrence=recurrence, site=c.Site.LIVER)
    assert on_list(nurse) == [recurrence]
    services.recurrence_set_status(
        recurrence=recurrence, status=c.RecurrenceStatus.REFUTED, by=nurse, expected_version=None
    )
    assert on_list(nurse) == []


def test_discussed_leaves_and_a_discussion_entered_in_error_brings_it_back(nurse, priya, patient):
    recurrence = RecurrenceFactory(patient=patient)
    discussion = MDTDiscussionFactory(recurrence=recurrence)
    assert on_list(nurse) == []
    services.record_mark_entered_in_error(record=discussion, reason="Recorded for the wrong patient", by=priya)
    assert on_list(nurse) == [recurrence]


def test_recurrence_or_patient_entered_in_error_and_inactive_patients_are_not_listed(nurse, priya, patient):
    wrong = RecurrenceFactory(patient=patient)
    services.record_mark_entered_in_error(record=wrong, reason="Wrong patient", by=priya)
    gone = PatientFactory(team=nurse.team, named_nurse=nurse)
    RecurrenceFactory(patient=gone)
    services.record_mark_entered_in_error(record=gone, reason="Duplicate", by=priya)
    died = PatientFactory(team=nurse.team, named_nurse=nurse, status=c.PatientStatus.DECEASED, date_of_death=days(-1))
    RecurrenceFactory(patient=died)
    assert on_list(nurse) == []


def test_another_teams_recurrences_are_not_listed(nurse, other_nurse):
    theirs = RecurrenceFactory(patient=PatientFactory(team=other_nurse.team, named_nurse=other_nurse))
    assert on_list(nurse) == []
    assert on_list(other_nurse) == [theirs]


def test_the_page_shows_the_columns_and_a_link_to_record(nurse_client, nurse, patient):
    recurrence = RecurrenceFactory(patient=patient, diagnosed_on=days(-12), metastatic_type=c.MetastaticType.REGIONAL)
    RecurrenceSiteFactory(recurrence=recurrence)
    response = page(nurse_client)
    assert listed(response) == [recurrence]
    text = response.content.decode()
    assert "Regional: Axillary lymph nodes" in text or "Regional: " in text
    assert "12 days" in text
    assert reverse("mdt:discussion_record", args=[recurrence.pk]) in text
    assert "Prepare the MDT list" in text


def test_the_read_only_role_sees_the_list_without_actions(client, team, patient):
    RecurrenceFactory(patient=patient)
    client.force_login(UserFactory(team=team, role=c.Role.CLINICIAN))
    response = page(client, nurse="all")
    assert len(listed(response)) == 1
    assert "Record MDT discussion" not in response.content.decode()


def test_dashboard_counts_it(nurse_client, patient):
    RecurrenceFactory(patient=patient)
    response = nurse_client.get(reverse("followup:dashboard"))
    counts = {worklist.slug: n for worklist, n in response.context["counts"]}
    assert counts[SLUG] == {"team": 1, "mine": 1}


def test_the_patient_page_asks_for_the_discussion(nurse_client, patient):
    recurrence = RecurrenceFactory(patient=patient, diagnosed_on=days(-5))
    response = nurse_client.get(reverse("followup:patient_detail", args=[patient.pk]))
    actions = {worklist.slug: rows for worklist, rows in response.context["actions"]}
    [row] = actions[SLUG]
    assert row.text == (
        f"Regional recurrence of {days(-5).day} {days(-5):%b %Y} (confirmed): not yet discussed at MDT, "
        "5 days since the recurrence"
    )
    assert [task.url for task in row.tasks] == [reverse("mdt:discussion_record", args=[recurrence.pk])]


def test_download_lists_the_rows(nurse_client, patient):
    recurrence = RecurrenceFactory(patient=patient, diagnosed_on=days(-12))
    RecurrenceSiteFactory(recurrence=recurrence)
    response = page(nurse_client, export="csv")
    content = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
    lines = content.lstrip("\ufeff").strip().splitlines()
    assert lines[0].split(",")[:3] == ["Patient", "NHS number", "Named nurse"]
    assert "12" in lines[1].split(",")


# Query counts ---------------------------------------------------------------------------------------


def _row(nurse):
    recurrence = RecurrenceFactory(patient=PatientFactory(team=nurse.team, named_nurse=nurse))
    RecurrenceSiteFactory(recurrence=recurrence)


@pytest.mark.parametrize("rows", [1, 3])
def test_worklist_query_count_is_constant(rows, nurse_client, nurse, django_assert_num_queries):
    for _ in range(rows):
        _row(nurse)
    # session, user, nurse choices for the filter, COUNT for the total, the page of rows
    # (with patient and named nurse), the prefetch of the page's recurrence sites.
    with django_assert_num_queries(6):
        response = page(nurse_client)
    assert response.context["table"].paginator.count == rows
