"""The MDT pages through real requests: scope (404), role (403), form errors beside their fields,
what is saved, the patient page's section and timeline, the Prepare MDT list and its PDF."""

import html
import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from followup import choices as c
from followup import services
from followup.nhs import format_nhs_number
from mdt.choices import MDTOutcome
from mdt.models import MDTDiscussion

from ..factories import (
    PatientFactory,
    PrimaryDiagnosisFactory,
    RecurrenceFactory,
    RecurrenceSiteFactory,
    RestagingEpisodeFactory,
    StagingTestFactory,
    UserFactory,
)
from .factories import MDTDiscussionFactory

TODAY = timezone.localdate()
REGIONAL_SITES = [c.Site.SUPRACLAVICULAR_NODES, c.Site.INTERNAL_MAMMARY_NODES]


def days(n):
    return TODAY + timedelta(days=n)


def body(response) -> str:
    return response.content.decode()


def error_beside(response, field) -> str:
    match = re.search(
        rf'<span class="nhsuk-error-message" id="id_{field}-error">(.*?)</span>\s*(?=<|$)', body(response)
    )
    if not match:
        return ""
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1)).replace("Error: ", "", 1)).strip()


def in_error_summary(response) -> list[str]:
    summary = re.search(r'<ul class="nhsuk-list nhsuk-error-summary__list">(.*?)</ul>', body(response), re.S)
    return [
        html.unescape(re.sub(r"<[^>]+>", "", item)).strip() for item in re.findall(r"<li>(.*?)</li>", summary[1], re.S)
    ]


def record_url(recurrence):
    return reverse("mdt:discussion_record", args=[recurrence.pk])


def form(**changes):
    return {
        "meeting_on": TODAY.isoformat(),
        "outcome": MDTOutcome.SYSTEMIC_THERAPY,
        "plan": "Start CDK4/6 inhibitor with letrozole; review in oncology clinic in 4 weeks.",
        "attendees": "Dr B Oncologist, Mr A Surgeon, CNS D Nurse",
    } | changes


@pytest.fixture
def recurrence(patient):
    recurrence = RecurrenceFactory(patient=patient, diagnosed_on=days(-14))
    RecurrenceSiteFactory(recurrence=recurrence)
    return recurrence


@pytest.fixture
def clinician(team):
    return UserFactory(username="sam", team=team, role=c.Role.CLINICIAN)


# Record an MDT discussion ------------------------------------------------------------------------------


def test_record_page_shows_the_recurrence_and_saves_the_discussion(nurse_client, nurse, recurrence):
    page = nurse_client.get(record_url(recurrence))
    assert page.status_code == 200
    assert "Record the MDT discussion of the regional recurrence" in body(page)
    assert "Axillary lymph nodes" in body(page)
    response = nurse_client.post(record_url(recurrence), form())
    assert response.status_code == 302
    assert response["Location"] == reverse("followup:patient_detail", args=[recurrence.patient_id])
    discussion = MDTDiscussion.objects.get()
    assert (discussion.recurrence, discussion.meeting_on, discussion.outcome, discussion.created_by) == (
        recurrence,
        TODAY,
        MDTOutcome.SYSTEMIC_THERAPY,
        nurse,
    )


def test_record_errors_are_beside_their_fields_and_in_the_summary(nurse_client, recurrence):
    response = nurse_client.post(record_url(recurrence), form(meeting_on="", outcome="", plan=" ", attendees=""))
    assert response.status_code == 200
    assert error_beside(response, "meeting_on") == "Enter the date of the MDT meeting"
    assert error_beside(response, "outcome") == "Select the MDT outcome"
    assert error_beside(response, "plan") == "Enter the outcome and plan the MDT agreed"
    assert error_beside(response, "attendees") == "Enter who attended the MDT meeting"
    assert in_error_summary(response) == [
        "Enter the date of the MDT meeting",
        "Select the MDT outcome",
        "Enter the outcome and plan the MDT agreed",
        "Enter who attended the MDT meeting",
    ]
    assert MDTDiscussion.objects.count() == 0


def test_a_future_meeting_is_refused_beside_the_date(nurse_client, recurrence):
    response = nurse_client.post(record_url(recurrence), form(meeting_on=days(1).isoformat()))
    assert error_beside(response, "meeting_on") == "The meeting date cannot be in the future."
    assert MDTDiscussion.objects.count() == 0


def test_a_meeting_before_the_recurrence_is_refused_beside_the_date(nurse_client, recurrence):
    response = nurse_client.post(record_url(recurrence), form(meeting_on=days(-20).isoformat()))
    assert error_beside(response, "meeting_on").startswith("The meeting date cannot be before the recurrence")


def test_another_teams_recurrence_is_not_found(client, other_nurse, recurrence):
    client.force_login(other_nurse)
    assert client.get(record_url(recurrence)).status_code == 404
    assert client.post(record_url(recurrence), form()).status_code == 404
    assert MDTDiscussion.objects.count() == 0


def test_a_recurrence_entered_in_error_is_not_found(nurse_client, priya, recurrence):
    services.record_mark_entered_in_error(record=recurrence, reason="Wrong patient", by=priya)
    assert nurse_client.get(record_url(recurrence)).status_code == 404


def test_the_read_only_role_is_refused(client, clinician, recurrence):
    client.force_login(clinician)
    assert client.get(record_url(recurrence)).status_code == 403
    assert client.post(record_url(recurrence), form()).status_code == 403
    assert MDTDiscussion.objects.count() == 0


def test_marking_a_discussion_entered_in_error_through_the_page(nurse_client, recurrence):
    discussion = MDTDiscussionFactory(recurrence=recurrence)
    url = reverse("followup:entered_in_error", args=["mdt", discussion.pk])
    page = nurse_client.get(url)
    assert "Mark the MDT discussion as entered in error" in body(page)
    response = nurse_client.post(url, {"reason": "Recorded against the wrong recurrence", "version": 1})
    assert response.status_code == 302
    assert MDTDiscussion.all_objects.get().entered_in_error


def test_another_team_cannot_mark_a_discussion_in_error(client, other_nurse, recurrence):
    discussion = MDTDiscussionFactory(recurrence=recurrence)
    client.force_login(other_nurse)
    assert client.get(reverse("followup:entered_in_error", args=["mdt", discussion.pk])).status_code == 404


# The patient page ---------------------------------------------------------------------------------------


def test_patient_page_shows_each_recurrence_with_its_discussions_or_none(nurse_client, nurse, patient, recurrence):
    other = RecurrenceFactory(patient=patient, diagnosed_on=days(-3), status=c.RecurrenceStatus.SUSPECTED)
    MDTDiscussionFactory(recurrence=recurrence, meeting_on=days(-7), outcome=MDTOutcome.SURGERY)
    response = nurse_client.get(reverse("followup:patient_detail", args=[patient.pk]))
    section = {entry.recurrence: entry for entry in response.context["mdt"]}
    assert [d.outcome for d in section[recurrence].discussions] == [MDTOutcome.SURGERY]
    assert section[other].not_discussed and not section[recurrence].not_discussed
    text = body(response)
    assert "Not yet discussed at MDT" in text
    assert record_url(other) in text
    events = [e for e in response.context["timeline"].history if e.category == "mdt"]
    assert [e.title for e in events] == ["Discussed at MDT: Surgery"]
    assert "Recorded by" in events[0].detail
    recurrence_events = [e for e in response.context["timeline"].history if e.category == "recurrence"]
    assert all(
        ("Record MDT discussion", record_url(r)) in e.links
        for e, r in zip(recurrence_events, [other, recurrence], strict=True)
    )


def test_a_discussion_entered_in_error_is_struck_through_in_the_timeline(nurse_client, priya, patient, recurrence):
    discussion = MDTDiscussionFactory(recurrence=recurrence)
    services.record_mark_entered_in_error(record=discussion, reason="Wrong meeting", by=priya)
    response = nurse_client.get(reverse("followup:patient_detail", args=[patient.pk]))
    [event] = [e for e in response.context["timeline"].history if e.category == "mdt"]
    assert event.error.reason == "Wrong meeting" and event.links == []
    [entry] = response.context["mdt"]
    assert entry.discussions == [] and entry.not_discussed


# Prepare MDT list -----------------------------------------------------------------------------------


@pytest.fixture
def meeting_world(nurse, other_nurse, patient):
    """Alex's patient with a regional recurrence under restaging, one discussed at today's meeting,
    and a patient of another team."""
    PrimaryDiagnosisFactory(patient=patient, laterality=c.Laterality.RIGHT)
    recurrence = RecurrenceFactory(patient=patient, diagnosed_on=days(-20))
    RecurrenceSiteFactory(recurrence=recurrence)
    episode = RestagingEpisodeFactory(recurrence=recurrence)
    StagingTestFactory(
        episode=episode,
        performed_on=days(-15),
        reported_on=days(-14),
        result=c.StagingResult.CLEAR,
    )
    StagingTestFactory(episode=episode, modality=c.StagingModality.BONE_SCAN)
    discussed_patient = PatientFactory(team=nurse.team, named_nurse=nurse, given_name="Edith", family_name="Discussed")
    discussed = RecurrenceFactory(patient=discussed_patient, metastatic_type=c.MetastaticType.DISTANT)
    MDTDiscussionFactory(recurrence=discussed, meeting_on=TODAY, outcome=MDTOutcome.BEST_SUPPORTIVE_CARE)
    theirs = PatientFactory(team=other_nurse.team, named_nurse=other_nurse, family_name="Elsewhere")
    RecurrenceFactory(patient=theirs)
    return recurrence, discussed


def test_prepare_list_shows_whom_to_discuss_with_key_facts(nurse_client, patient, meeting_world):
    recurrence, discussed = meeting_world
    response = nurse_client.get(reverse("mdt:prepare_list"))
    assert [row.recurrence for row in response.context["pending"]] == [recurrence]
    assert [row.recurrence for row in response.context["discussed"]] == [discussed]
    [row] = response.context["pending"]
    assert row.primary.startswith("Right, diagnosed 1 Mar 2022; ER positive, PR positive, HER2 negative")
    assert row.recurrence_words == f"Regional: Axillary lymph nodes; confirmed, {days(-20).day} {days(-20):%b %Y}"
    assert row.restaging == "Incomplete: Results to acknowledge; Results awaited"
    assert row.results == [
        f"CT chest, abdomen and pelvis, {days(-14).day} {days(-14):%b %Y}: No evidence of distant disease"
    ]
    text = body(response)
    assert patient.display_name in text and format_nhs_number(patient.nhs_number) in text
    assert "Elsewhere".upper() not in text
    assert "Best supportive care" in text


def test_prepare_list_for_another_meeting_date(nurse_client, meeting_world):
    recurrence, discussed = meeting_world
    yesterday = days(-1)
    response = nurse_client.get(
        reverse("mdt:prepare_list"),
        {"meeting_0": yesterday.day, "meeting_1": yesterday.month, "meeting_2": yesterday.year},
    )
    assert response.context["meeting_on"] == yesterday
    assert [row.recurrence for row in response.context["pending"]] == [recurrence]
    assert response.context["discussed"] == []


def test_prepare_list_refuses_a_date_that_is_not_real(nurse_client, meeting_world):
    response = nurse_client.get(reverse("mdt:prepare_list"), {"meeting_0": "31", "meeting_1": "2", "meeting_2": "2027"})
    assert error_beside(response, "meeting") == "Meeting date must be a real date"
    assert response.context["pending"] == []


def test_prepare_list_is_read_only_so_a_clinician_may_prepare_it(client, clinician, meeting_world):
    client.force_login(clinician)
    response = client.get(reverse("mdt:prepare_list"))
    assert response.status_code == 200
    assert len(response.context["pending"]) == 1
    assert "Record MDT discussion" not in body(response)


def test_another_team_does_not_see_the_patients(client, other_nurse, patient, meeting_world):
    client.force_login(other_nurse)
    response = client.get(reverse("mdt:prepare_list"))
    assert [row.patient.family_name for row in response.context["pending"]] == ["Elsewhere"]
    pdf = client.get(reverse("mdt:prepare_list_pdf"))
    assert patient.family_name.upper() not in text_of(pdf.content)


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_prepare_list_downloads_as_pdf_with_names_and_nhs_numbers(nurse_client, patient, meeting_world):
    recurrence, discussed = meeting_world
    response = nurse_client.get(reverse("mdt:prepare_list_pdf"))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="mdt-list-{TODAY.isoformat()}.pdf"'
    text = " ".join(text_of(response.content).split())
    for person in (patient, discussed.patient):
        assert person.display_name in text
        assert format_nhs_number(person.nhs_number) in text
    assert "Breast MDT list: meeting of" in text
    assert "Incomplete: Results to acknowledge; Results awaited" in text
    assert "Best supportive care" in text


@pytest.mark.parametrize("rows", [1, 3])
def test_prepare_list_query_count_is_constant(rows, nurse_client, nurse, django_assert_num_queries):
    for _ in range(rows):
        patient = PatientFactory(team=nurse.team, named_nurse=nurse)
        PrimaryDiagnosisFactory(patient=patient)
        recurrence = RecurrenceFactory(patient=patient)
        RecurrenceSiteFactory(recurrence=recurrence)
        StagingTestFactory(episode=RestagingEpisodeFactory(recurrence=recurrence))
        MDTDiscussionFactory(recurrence=RecurrenceFactory(patient=patient), meeting_on=TODAY)
    # session, user, the recurrences (with patient, primary and restaging episode), their sites, the
    # patients' primaries, the episodes' tests, the discussions of the meeting date.
    with django_assert_num_queries(7):
        response = nurse_client.get(reverse("mdt:prepare_list"))
    assert (len(response.context["pending"]), len(response.context["discussed"])) == (rows, rows)


@pytest.mark.parametrize(
    "name, args",
    [("mdt:discussion_record", [1]), ("mdt:prepare_list", []), ("mdt:prepare_list_pdf", [])],
)
def test_anonymous_users_are_sent_to_login_from_every_mdt_url(client, name, args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.parametrize("rows", [1, 3])
def test_patient_page_with_mdt_discussions_query_count_is_constant(
    rows, nurse_client, nurse, patient, django_assert_num_queries
):
    from followup.patient_tasks import TASKS

    for _ in range(rows):
        PrimaryDiagnosisFactory(patient=patient)
        recurrence = services.recurrence_record(
            patient=patient,
            metastatic_type=c.MetastaticType.LOCAL,
            sites=[services.SiteEntry(c.Site.SCAR)],
            diagnosed_on=days(-5),
            restaging_tests=[c.StagingModality.CT_CAP],
            by=nurse,
        )
        MDTDiscussionFactory(recurrence=recurrence, meeting_on=days(-2))
        MDTDiscussionFactory(recurrence=recurrence, meeting_on=days(-1), outcome=MDTOutcome.RADIOTHERAPY)
        RecurrenceFactory(patient=patient, diagnosed_on=days(-3))  # not yet discussed
    # As tests/test_views.py::test_patient_page_query_count_is_constant: session, user, access check,
    # access-log row, the patient, 9 prefetches (with the tasks and contacts), one query per list of "What needs doing"
    # (patient_tasks.TASKS), the tests of the open restaging episodes; then the patient's MDT discussions
    # with who recorded them (mdt.patient_page), one query; the letters (letters.patient_page), one query.
    # No follow-up item and no symptom report: the patient page skips those five lists; not on PIFU: the
    # "PIFU ending" list too.
    with django_assert_num_queries(5 + 9 + (len(TASKS) - 6) + 1 + 1 + 1):
        response = nurse_client.get(reverse("followup:patient_detail", args=[patient.pk]))
    assert sum(len(entry.discussions) for entry in response.context["mdt"]) == 2 * rows
    assert len([e for e in response.context["timeline"].history if e.category == "mdt"]) == 2 * rows


@pytest.mark.parametrize("rows", [1, 3])
def test_record_page_query_count_is_constant(rows, nurse_client, recurrence, django_assert_num_queries):
    for site in REGIONAL_SITES[: rows - 1]:  # the fixture's recurrence has one site already
        RecurrenceSiteFactory(recurrence=recurrence, site=site)
    MDTDiscussionFactory.create_batch(rows, recurrence=recurrence)
    # session, user, the recurrence (scoped), its patient (banner), the banner's named nurse, its sites.
    with django_assert_num_queries(6):
        response = nurse_client.get(record_url(recurrence))
    assert response.status_code == 200
