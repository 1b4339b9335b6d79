"""Several rows at once: acknowledge normal results from the results lists, hand over patients
from the patient list. A confirmation page lists each record first and writes nothing; the POST
does each through the one-record service, all or none."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from followup import choices as c
from followup import services
from followup.history import patient_history
from followup.models import FollowUpItem, Patient, StagingTest

from .factories import FollowUpItemFactory, PatientFactory, StagingTestFactory, UserFactory
from .pages import by_id, text

TODAY = timezone.localdate()


def days(n):
    return TODAY + timedelta(days=n)


def result(nurse, outcome, *, family_name="Brown", kind=c.FollowUpKind.MAMMOGRAM, patient=None):
    patient = patient or PatientFactory(family_name=family_name, given_name="Mary", team=nurse.team, named_nurse=nurse)
    return FollowUpItemFactory(
        patient=patient, kind=kind, status=c.FollowUpStatus.DONE, done_on=days(-3), result=outcome
    )


def staging(nurse, outcome, *, family_name="Green"):
    patient = PatientFactory(family_name=family_name, given_name="Ann", team=nurse.team, named_nurse=nurse)
    return StagingTestFactory(
        episode__recurrence__patient=patient,
        modality=c.StagingModality.BONE_SCAN,
        performed_on=days(-3),
        reported_on=days(-2),
        result=outcome,
    )


def confirm_url(slug="results", *pks, next_url=None):
    query = "&".join(f"selected={pk}" for pk in pks)
    if next_url:
        query += f"&next={next_url}"
    return f"{reverse('followup:worklist_acknowledge', args=[slug])}?{query}"


def confirm_post(client, records, slug="results", next_url=None):
    data = {"selected": [r.pk for r in records], **{f"version_{r.pk}": r.version for r in records}}
    data["next"] = next_url or reverse("followup:worklist", args=[slug])
    return client.post(reverse("followup:worklist_acknowledge", args=[slug]), data)


def listed(response):
    return [row.record for row in response.context["table"].paginated_rows]


def checkboxes(response) -> list[str]:
    """The values of the row checkboxes on the page, in order."""
    return re.findall(r'name="selected" type="checkbox" value="(\d+)"', response.content.decode())


def problems(response) -> str:
    node = by_id(response.content.decode(), "bulk-problems")
    return text(node) if node is not None else ""


# The list: a checkbox on each normal result, for those who may act ---------------------------------------------


def test_results_list_offers_a_checkbox_on_normal_and_benign_results_only(nurse_client, nurse):
    normal = result(nurse, c.ImagingOutcome.NORMAL, family_name="Adams")
    benign = result(nurse, c.ImagingOutcome.BENIGN, family_name="Baker")
    abnormal = result(nurse, c.ImagingOutcome.ABNORMAL, family_name="Clark")
    unclear = result(nurse, c.ImagingOutcome.NON_DIAGNOSTIC, family_name="Davis")
    response = nurse_client.get(reverse("followup:worklist", args=["results"]))
    assert {r.pk for r in listed(response)} == {normal.pk, benign.pk, abnormal.pk, unclear.pk}
    assert sorted(checkboxes(response)) == sorted([str(normal.pk), str(benign.pk)])
    page = response.content.decode()
    assert (
        f'<label class="nhsuk-label nhsuk-checkboxes__label" for="select-{normal.pk}">'
        '<span class="nhsuk-u-visually-hidden">'
        f"Select ADAMS, Mary: mammogram of {days(-3).strftime('%-d %b %Y')}, Normal</span></label>"
    ) in page
    assert 'form="bulk-select"' in page and '<form id="bulk-select"' in page
    assert "Acknowledge selected" in page


def test_staging_results_list_offers_a_checkbox_on_clear_results_only(nurse_client, nurse):
    clear = staging(nurse, c.StagingResult.CLEAR, family_name="Adams")
    staging(nurse, c.StagingResult.EQUIVOCAL, family_name="Baker")
    distant = staging(nurse, c.StagingResult.DISTANT, family_name="Clark")
    distant.sites.create(site=c.Site.LIVER)
    response = nurse_client.get(reverse("followup:worklist", args=["staging-results"]))
    assert len(listed(response)) == 3
    assert checkboxes(response) == [str(clear.pk)]


def test_read_only_clinician_gets_no_checkboxes_and_no_selection_form(client, nurse):
    result(nurse, c.ImagingOutcome.NORMAL)
    clinician = UserFactory(team=nurse.team, role=c.Role.CLINICIAN)
    client.force_login(clinician)
    response = client.get(reverse("followup:worklist", args=["results"]))
    assert len(listed(response)) == 1
    assert checkboxes(response) == []
    assert "bulk-select" not in response.content.decode()


def test_other_lists_have_no_checkboxes(nurse_client, nurse):
    FollowUpItemFactory(patient=PatientFactory(team=nurse.team, named_nurse=nurse), due_on=days(-60))
    response = nurse_client.get(reverse("followup:worklist", args=["overdue"]))
    assert len(listed(response)) == 1
    assert checkboxes(response) == [] and "bulk-select" not in response.content.decode()


def test_results_download_has_no_select_column(nurse_client, nurse):
    result(nurse, c.ImagingOutcome.NORMAL)
    response = nurse_client.get(reverse("followup:worklist", args=["results"]), {"format": "csv"})
    header = b"".join(response.streaming_content if response.streaming else [response.content]).decode()
    assert "Select" not in header.splitlines()[0 if "Patient" in header.splitlines()[0] else 1]


def test_a_selection_sent_back_is_ticked_again(nurse_client, nurse):
    first = result(nurse, c.ImagingOutcome.NORMAL, family_name="Adams")
    second = result(nurse, c.ImagingOutcome.NORMAL, family_name="Baker")
    response = nurse_client.get(reverse("followup:worklist", args=["results"]), {"selected": [second.pk]})
    page = response.content.decode()
    assert f'value="{second.pk}" form="bulk-select" checked>' in page
    assert f'value="{first.pk}" form="bulk-select">' in page


# The confirmation page -----------------------------------------------------------------------------------------


def test_confirmation_page_lists_each_result_and_writes_nothing(nurse_client, nurse):
    first = result(nurse, c.ImagingOutcome.NORMAL, family_name="Adams")
    second = result(nurse, c.ImagingOutcome.BENIGN, family_name="Baker", kind=c.FollowUpKind.BLOODS)
    response = nurse_client.get(confirm_url("results", first.pk, second.pk))
    assert response.status_code == 200
    page = response.content.decode()
    rows = text(by_id(page, "bulk-results"))
    day = days(-3).strftime("%-d %b %Y")
    assert f"ADAMS, Mary NHS number {first.patient.nhs_number_display} Test Mammogram Date {day} Result Normal" in rows
    assert f"BAKER, Mary NHS number {second.patient.nhs_number_display} Test Bloods Date {day} Result Benign" in rows
    assert "Acknowledge these 2 results" in page and ">Cancel</a>" in page
    assert problems(response) == ""
    assert FollowUpItem.objects.filter(result_acknowledged_at__isnull=False).count() == 0


def test_acknowledging_selected_results_acknowledges_each_and_goes_back_to_the_list(nurse_client, nurse):
    first = result(nurse, c.ImagingOutcome.NORMAL, family_name="Adams")
    second = result(nurse, c.ImagingOutcome.BENIGN, family_name="Baker")
    third = result(nurse, c.ImagingOutcome.NORMAL, family_name="Clark")
    back = reverse("followup:worklist", args=["results"]) + "?nurse=all"
    response = confirm_post(nurse_client, [first, second], next_url=back)
    assert response.status_code == 302 and response["Location"] == back
    for item in (first, second):
        item.refresh_from_db()
        assert (item.result_acknowledged_by, item.version) == (nurse, 2)
    after = nurse_client.get(back)
    assert listed(after) == [third]
    assert after.context["table"].paginator.count == 1
    assert [str(m) for m in after.context["messages"]] == ["2 results acknowledged."]


def test_history_shows_each_bulk_acknowledgement_by_the_user(nurse_client, nurse):
    patient = PatientFactory(family_name="Adams", team=nurse.team, named_nurse=nurse)
    first = result(nurse, c.ImagingOutcome.NORMAL, patient=patient)
    second = result(nurse, c.ImagingOutcome.BENIGN, patient=patient, kind=c.FollowUpKind.BLOODS)
    confirm_post(nurse_client, [first, second])
    changes = [change for change in patient_history(patient) if change.kind == "Changed"]
    acknowledged = [
        (change.who, change.record)
        for change in changes
        if any(f == "Result acknowledged by" for f, *_ in change.changes)
    ]
    assert sorted(acknowledged) == sorted(
        [(nurse.get_full_name(), f"Follow-up item: {first}"), (nurse.get_full_name(), f"Follow-up item: {second}")]
    )


def test_abnormal_result_cannot_be_acknowledged_in_bulk_and_is_refused_by_name(nurse_client, nurse):
    normal = result(nurse, c.ImagingOutcome.NORMAL, family_name="Adams")
    abnormal = result(nurse, c.ImagingOutcome.ABNORMAL, family_name="Baker")
    unclear = result(nurse, c.ImagingOutcome.NON_DIAGNOSTIC, family_name="Clark")
    day = days(-3).strftime("%-d %b %Y")
    back = reverse("followup:worklist", args=["results"])
    response = nurse_client.get(confirm_url("results", normal.pk, abnormal.pk, unclear.pk, next_url=back))
    assert problems(response) == (
        f"BAKER, Mary ({abnormal.patient.nhs_number_display}): mammogram of {day} cannot be acknowledged with "
        "others: its result is abnormal: open it and acknowledge it on its own. "
        f"CLARK, Mary ({unclear.patient.nhs_number_display}): mammogram of {day} cannot be acknowledged with "
        "others: its result is non-diagnostic: open it and acknowledge it on its own."
    )
    page = response.content.decode()
    assert '<form method="post"' not in page  # no way to confirm
    # The way back keeps the selection that may go ahead.
    change = by_id(page, "change-selection")[1]["href"]
    assert urlsplit(change).path == back and parse_qs(urlsplit(change).query)["selected"] == [str(normal.pk)]

    # Posted anyway: refused, nothing acknowledged, all three still on the list.
    posted = confirm_post(nurse_client, [normal, abnormal])
    assert posted.status_code == 200
    assert "BAKER, Mary" in problems(posted) and "its result is abnormal" in problems(posted)
    assert FollowUpItem.objects.filter(result_acknowledged_at__isnull=False).count() == 0
    assert len(listed(nurse_client.get(back))) == 3


def test_staging_results_equivocal_or_distant_cannot_be_acknowledged_in_bulk(nurse_client, nurse):
    clear = staging(nurse, c.StagingResult.CLEAR, family_name="Adams")
    distant = staging(nurse, c.StagingResult.DISTANT, family_name="Baker")
    equivocal = staging(nurse, c.StagingResult.EQUIVOCAL, family_name="Clark")
    posted = confirm_post(nurse_client, [clear, distant, equivocal], slug="staging-results")
    said = problems(posted)
    assert "BAKER, Ann" in said and "its result is distant disease found" in said
    assert "CLARK, Ann" in said and "its result is indeterminate / equivocal" in said
    assert StagingTest.objects.filter(acknowledged_at__isnull=False).count() == 0

    done = confirm_post(nurse_client, [clear], slug="staging-results")
    assert done.status_code == 302
    clear.refresh_from_db()
    assert clear.acknowledged_by == nurse


def test_service_refuses_a_result_that_is_not_normal_even_if_the_view_let_it_through(nurse):
    normal = result(nurse, c.ImagingOutcome.NORMAL, family_name="Adams")
    abnormal = result(nurse, c.ImagingOutcome.ABNORMAL, family_name="Baker")
    with pytest.raises(services.bulk.ValidationError) as refused:
        services.results_acknowledge(results=[(normal, normal.version), (abnormal, abnormal.version)], by=nurse)
    assert "BAKER, Mary" in refused.value.messages[0]
    normal.refresh_from_db()
    assert normal.result_acknowledged_at is None  # all or none


def test_another_teams_result_is_not_found_and_never_acknowledged(nurse_client, nurse, other_nurse):
    mine = result(nurse, c.ImagingOutcome.NORMAL, family_name="Adams")
    theirs = result(other_nurse, c.ImagingOutcome.NORMAL, family_name="Zed")
    assert nurse_client.get(confirm_url("results", mine.pk, theirs.pk)).status_code == 404
    response = confirm_post(nurse_client, [mine, theirs])
    assert response.status_code == 404
    assert "ZED" not in response.content.decode()
    assert FollowUpItem.objects.filter(result_acknowledged_at__isnull=False).count() == 0


def test_result_acknowledged_by_someone_else_meanwhile_is_reported_not_acknowledged_twice(nurse_client, nurse, priya):
    first = result(nurse, c.ImagingOutcome.NORMAL, family_name="Adams")
    second = result(nurse, c.ImagingOutcome.NORMAL, family_name="Baker")
    page_versions = [(first, first.version), (second, second.version)]
    services.result_acknowledge(item=second, by=priya)  # while the confirmation page was open
    data = {"selected": [first.pk, second.pk], **{f"version_{r.pk}": v for r, v in page_versions}}
    data["next"] = reverse("followup:worklist", args=["results"])
    response = nurse_client.post(reverse("followup:worklist_acknowledge", args=["results"]), data, follow=True)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.result_acknowledged_by, second.result_acknowledged_by, second.version) == (nurse, priya, 2)
    day = days(-3).strftime("%-d %b %Y")
    assert [str(m) for m in response.context["messages"]] == [
        f"1 result acknowledged. BAKER, Mary ({second.patient.nhs_number_display}): mammogram of {day} was already "
        "acknowledged by Priya Shah."
    ]


def test_result_changed_since_the_confirmation_page_refuses_the_lot(nurse_client, nurse, priya):
    first = result(nurse, c.ImagingOutcome.NORMAL, family_name="Adams")
    second = result(nurse, c.ImagingOutcome.NORMAL, family_name="Baker")
    versions = {first.pk: first.version, second.pk: second.version}
    second.notes = "Corrected"
    services.save_record(second, priya)  # a new version of the result
    data = {"selected": [first.pk, second.pk], **{f"version_{pk}": v for pk, v in versions.items()}}
    response = nurse_client.post(reverse("followup:worklist_acknowledge", args=["results"]), data)
    assert response.status_code == 200
    assert "BAKER, Mary" in problems(response) and "was changed after you opened this page" in problems(response)
    assert FollowUpItem.objects.filter(result_acknowledged_at__isnull=False).count() == 0
    # The page now shows the result as saved, with its version: confirming again acknowledges both.
    assert f'name="version_{second.pk}" value="{second.version}"' in response.content.decode()


def test_nothing_selected_says_so(nurse_client, nurse):
    response = nurse_client.get(reverse("followup:worklist_acknowledge", args=["results"]))
    assert problems(response) == "Select the results to acknowledge"
    assert "Acknowledge this" not in response.content.decode()


def test_a_damaged_selection_is_refused(nurse_client, nurse):
    response = nurse_client.get(reverse("followup:worklist_acknowledge", args=["results"]) + "?selected=abc")
    assert problems(response) == "The selection was sent damaged. Go back to the list and select again."


def test_a_list_with_nothing_to_acknowledge_has_no_confirmation_page(nurse_client, nurse):
    item = FollowUpItemFactory(patient=PatientFactory(team=nurse.team, named_nurse=nurse), due_on=days(-60))
    assert nurse_client.get(confirm_url("overdue", item.pk)).status_code == 404


def test_clinician_may_not_acknowledge_in_bulk(client, nurse):
    item = result(nurse, c.ImagingOutcome.NORMAL)
    clinician = UserFactory(team=nurse.team, role=c.Role.CLINICIAN)
    client.force_login(clinician)
    assert client.get(confirm_url("results", item.pk)).status_code == 403
    assert confirm_post(client, [item]).status_code == 403
    item.refresh_from_db()
    assert item.result_acknowledged_at is None


def test_bulk_acknowledge_post_needs_the_csrf_token(nurse, client):
    from django.test import Client

    item = result(nurse, c.ImagingOutcome.NORMAL)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(nurse)
    assert confirm_post(strict, [item]).status_code == 403
    item.refresh_from_db()
    assert item.result_acknowledged_at is None


# Query counts ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [1, 3])
def test_results_list_with_checkboxes_query_count_is_constant(rows, nurse_client, nurse, django_assert_num_queries):
    for n in range(rows):
        result(nurse, c.ImagingOutcome.NORMAL if n % 2 == 0 else c.ImagingOutcome.ABNORMAL)
    # The same 5 as without checkboxes (tests/test_views.py WORKLIST_QUERIES): session, user, nurse
    # choices for the filter, COUNT, the page of rows; a ticked selection sent back costs nothing.
    with django_assert_num_queries(5):
        response = nurse_client.get(reverse("followup:worklist", args=["results"]), {"selected": ["1", "2"]})
    assert len(checkboxes(response)) == (rows + 1) // 2


@pytest.mark.parametrize("rows", [1, 3])
def test_staging_results_list_with_checkboxes_query_count_is_constant(
    rows, nurse_client, nurse, django_assert_num_queries
):
    for _ in range(rows):
        staging(nurse, c.StagingResult.CLEAR)
    # The same 6 as without checkboxes: session, user, nurse choices, COUNT, the page of rows, their sites.
    with django_assert_num_queries(6):
        response = nurse_client.get(reverse("followup:worklist", args=["staging-results"]))
    assert len(checkboxes(response)) == rows


@pytest.mark.parametrize("rows", [1, 3])
def test_bulk_acknowledge_confirmation_page_query_count_is_constant(
    rows, nurse_client, nurse, django_assert_num_queries
):
    items = [result(nurse, c.ImagingOutcome.NORMAL) for _ in range(rows)]
    # session, user, the selected results with their patients and who acknowledged them
    with django_assert_num_queries(3):
        response = nurse_client.get(confirm_url("results", *[i.pk for i in items]))
    assert len(response.context["to_do"]) == rows


@pytest.mark.parametrize("rows", [1, 3])
def test_bulk_staging_confirmation_page_query_count_is_constant(rows, nurse_client, nurse, django_assert_num_queries):
    tests = [staging(nurse, c.StagingResult.CLEAR) for _ in range(rows)]
    # session, user, the selected tests with their patients and who acknowledged them
    with django_assert_num_queries(3):
        response = nurse_client.get(confirm_url("staging-results", *[t.pk for t in tests]))
    assert len(response.context["to_do"]) == rows


# Hand over several patients -------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def hand_over_url(*patients, to_nurse=None):
    query = "&".join(f"selected={p.pk}" for p in patients)
    if to_nurse is not None:
        query += f"&to_nurse={to_nurse.pk}"
    return f"{reverse('followup:patients_hand_over')}?{query}"


def hand_over_post(client, patients, to_nurse):
    data = {"selected": [p.pk for p in patients], **{f"version_{p.pk}": p.version for p in patients}}
    data.update(to_nurse=to_nurse.pk, next=reverse("followup:patient_list"))
    return client.post(reverse("followup:patients_hand_over"), data)


def test_patient_list_offers_checkboxes_to_admins_only(admin_client, client, nurse):
    patient = PatientFactory(family_name="Adams", team=nurse.team, named_nurse=nurse)
    response = admin_client.get(reverse("followup:patient_list"))
    assert checkboxes(response) == [str(patient.pk)]
    assert "Hand over selected" in response.content.decode()
    client.force_login(nurse)
    response = client.get(reverse("followup:patient_list"))
    assert checkboxes(response) == [] and "Hand over selected" not in response.content.decode()


def test_hand_over_selected_patients_choose_confirm_done(admin_client, admin_user, nurse, priya):
    first = PatientFactory(family_name="Adams", team=nurse.team, named_nurse=nurse)
    second = PatientFactory(family_name="Baker", team=nurse.team, named_nurse=nurse)
    untouched = PatientFactory(family_name="Clark", team=nurse.team, named_nurse=nurse)
    other_team_nurse = UserFactory(role=c.Role.NURSE)
    retired = UserFactory(team=nurse.team, role=c.Role.NURSE, is_active=False)

    choose = admin_client.get(hand_over_url(first, second))
    page = choose.content.decode()
    assert "Hand over 2 patients" in page
    options = choose.context["nurse_form"].fields["to_nurse"].queryset
    assert set(options) == {nurse, priya}  # active nurses of their team only
    assert other_team_nurse not in options and retired not in options

    # Continue with no nurse chosen: the message beside the field.
    refused = admin_client.get(hand_over_url(first, second) + "&to_nurse=")
    assert 'id="id_to_nurse-error"' in refused.content.decode()
    assert "Select the nurse who takes over these patients" in refused.content.decode()

    confirm = admin_client.get(hand_over_url(first, second, to_nurse=priya))
    page = confirm.content.decode()
    assert "Hand over these 2 patients to Priya Shah" in page
    assert "ADAMS, Jane" in text(by_id(page, "bulk-patients")) and "BAKER, Jane" in text(by_id(page, "bulk-patients"))
    assert Patient.objects.filter(named_nurse=priya).count() == 0  # GET wrote nothing

    done = hand_over_post(admin_client, [first, second], priya)
    assert done.status_code == 302 and done["Location"] == reverse("followup:patient_list")
    for patient in (first, second):
        patient.refresh_from_db()
        assert (patient.named_nurse, patient.updated_by, patient.version) == (priya, admin_user, 2)
    untouched.refresh_from_db()
    assert untouched.named_nurse == nurse
    history = patient_history(first)
    assert history[0].who == admin_user.get_full_name() and ("Named nurse", nurse.get_full_name(), "Priya Shah") in [
        tuple(change) for change in history[0].changes
    ]


def test_hand_over_refuses_a_nurse_of_another_team_beside_the_field(admin_client, nurse):
    patient = PatientFactory(team=nurse.team, named_nurse=nurse)
    stranger = UserFactory(role=c.Role.NURSE)
    response = hand_over_post(admin_client, [patient], stranger)
    assert response.status_code == 200
    assert 'id="id_to_nurse-error"' in response.content.decode()
    patient.refresh_from_db()
    assert patient.named_nurse == nurse


def test_hand_over_service_keeps_the_caseload_rule(nurse, priya, admin_user, other_nurse):
    patient = PatientFactory(team=nurse.team, named_nurse=nurse)
    with pytest.raises(services.bulk.ValidationError) as refused:
        services.patients_hand_over(patients=[(patient, patient.version)], to_nurse=other_nurse, by=admin_user)
    assert refused.value.message_dict == {"to_nurse": ["The new named nurse must be an active nurse in the same team."]}
    elsewhere = PatientFactory(team=other_nurse.team, named_nurse=other_nurse)
    with pytest.raises(services.bulk.ValidationError):
        services.patients_hand_over(
            patients=[(patient, patient.version), (elsewhere, elsewhere.version)], to_nurse=priya, by=admin_user
        )
    patient.refresh_from_db()
    assert patient.named_nurse == nurse


def test_hand_over_patients_of_two_teams_is_refused_by_name(admin_client, nurse, other_nurse):
    mine = PatientFactory(team=nurse.team, named_nurse=nurse)
    theirs = PatientFactory(team=other_nurse.team, named_nurse=other_nurse)
    response = admin_client.get(hand_over_url(mine, theirs))
    assert problems(response) == (
        "These patients are in 2 teams (North Breast Unit, South Breast Unit): hand over one team's at a time."
    )
    assert 'name="to_nurse"' not in response.content.decode() and '<form method="post"' not in response.content.decode()


def test_hand_over_patient_changed_meanwhile_refuses_the_lot(admin_client, nurse, priya):
    first = PatientFactory(family_name="Adams", team=nurse.team, named_nurse=nurse)
    second = PatientFactory(family_name="Baker", team=nurse.team, named_nurse=nurse)
    stale = [(first, first.version), (second, second.version)]
    services.patient_update(patient=second, by=nurse, expected_version=second.version, given_name="Janet")
    data = {"selected": [first.pk, second.pk], **{f"version_{p.pk}": v for p, v in stale}}
    data.update(to_nurse=priya.pk)
    response = admin_client.post(reverse("followup:patients_hand_over"), data)
    assert "BAKER, Janet" in problems(response) and "was changed after you opened this page" in problems(response)
    assert Patient.objects.filter(named_nurse=priya).count() == 0


def test_nurse_may_not_hand_over_patients_and_another_teams_patient_is_not_found(
    nurse_client, nurse, priya, other_nurse
):
    """Changing a named nurse is admins' (ReassignNurseView.admin_only): so is handing several over."""
    mine = PatientFactory(team=nurse.team, named_nurse=nurse)
    theirs = PatientFactory(team=other_nurse.team, named_nurse=other_nurse)
    assert nurse_client.get(hand_over_url(mine)).status_code == 403
    assert hand_over_post(nurse_client, [mine], priya).status_code == 403
    assert nurse_client.get(hand_over_url(mine, theirs)).status_code == 404  # scope first: never a hint
    mine.refresh_from_db()
    assert mine.named_nurse == nurse


@pytest.mark.parametrize("rows", [1, 3])
def test_hand_over_confirmation_page_query_count_is_constant(
    rows, admin_client, nurse, priya, django_assert_num_queries
):
    patients = [PatientFactory(team=nurse.team, named_nurse=nurse) for _ in range(rows)]
    # session, user, the selected patients with nurse and team, the chosen nurse (checked against the team's)
    with django_assert_num_queries(4):
        response = admin_client.get(hand_over_url(*patients, to_nurse=priya))
    assert response.context["to_nurse"] == priya and len(response.context["patients"]) == rows


@pytest.mark.parametrize("rows", [1, 3])
def test_hand_over_choose_page_query_count_is_constant(rows, admin_client, nurse, priya, django_assert_num_queries):
    patients = [PatientFactory(team=nurse.team, named_nurse=nurse) for _ in range(rows)]
    # session, user, the selected patients with nurse and team, the team's active nurses (the choices)
    with django_assert_num_queries(4):
        response = admin_client.get(hand_over_url(*patients))
    assert response.context["choosing"] and len(response.context["patients"]) == rows


@pytest.mark.parametrize("rows", [1, 3])
def test_admin_patient_list_with_checkboxes_query_count_is_constant(
    rows, admin_client, nurse, django_assert_num_queries
):
    PatientFactory.create_batch(rows, team=nurse.team, named_nurse=nurse)
    # session, user, nurse choices, teams (the admin's team filter), COUNT, the page of patients (with
    # nurse and team): the checkboxes cost nothing (no query of their own).
    with django_assert_num_queries(6):
        response = admin_client.get(reverse("followup:patient_list"))
    assert len(checkboxes(response)) == rows
