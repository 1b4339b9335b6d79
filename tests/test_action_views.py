"""The write side, through real form posts: each clinical action page with valid and invalid
input, what the page then shows, and what the database holds afterwards."""

import html
import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.urls import URLPattern, reverse
from django.utils import timezone

from followup import choices as c
from followup import services
from followup import urls as followup_urls
from followup.models import FollowUpItem, Patient, Recurrence, RestagingEpisode, StagingTest, SymptomReport
from followup.services import SiteEntry

from .factories import (
    FollowUpItemFactory,
    PatientFactory,
    PrimaryDiagnosisFactory,
    SymptomReportFactory,
    UserFactory,
)

TODAY = timezone.localdate()
HTMX = {"HTTP_HX_REQUEST": "true"}


def days(n):
    return TODAY + timedelta(days=n)


def url(name, *args):
    return reverse(f"followup:{name}", args=args)


def listed(response):
    """The records on the page's table, in order."""
    return [row.record for row in response.context["table"].paginated_rows]


def worklist(client, slug, **params):
    return client.get(reverse("followup:worklist", args=[slug]), params)


def error_beside(response, field) -> str:
    """The error shown beside a field ("" when there is none): its span carries id="id_<field>-error"."""
    match = re.search(
        rf'<span class="nhsuk-error-message" id="id_{field}-error">(.*?)</span>\s*(?=<|$)', body(response)
    )
    if not match:
        return ""
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1)).replace("Error: ", "", 1)).strip()


def body(response) -> str:
    return response.content.decode()


def hidden_version(response) -> int:
    """The version the re-rendered form carries, as the browser would post it back."""
    return int(re.search(r'name="version" value="(\d+)"', body(response)).group(1))


@pytest.fixture
def colleague(nurse):
    """Another nurse in the same team."""
    return UserFactory(username="priya", team=nurse.team, role=c.Role.NURSE)


@pytest.fixture
def clinician(team):
    """Same team, read-only role."""
    return UserFactory(username="sam", team=team, role=c.Role.CLINICIAN)


@pytest.fixture
def overdue_mammogram(patient):
    """The patient's only open item, on the overdue list."""
    return FollowUpItemFactory(patient=patient, kind=c.FollowUpKind.MAMMOGRAM, due_on=days(-60))


# Patients: register ---------------------------------------------------------------


def new_patient(nurse, **changes):
    data = {
        "nhs_number": "943 476 5919",  # as people type it (and as the help text shows it)
        "hospital_number": "RX0001",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "date_of_birth": "1960-05-17",
        "sex": c.Sex.FEMALE,
        "named_nurse": nurse.pk,
        "follow_up_model": c.FollowUpModel.CLINIC,
    }
    return data | changes


def test_patient_register_stores_the_nhs_number_without_spaces(nurse_client, nurse):
    response = nurse_client.post(url("patient_create"), new_patient(nurse), follow=True)
    ada = Patient.objects.get()
    # Straight on to how to reach her and her GP; saving (or going back) returns to her page.
    contact = f"{url('patient_contact_details', ada.pk)}?next=%2Fpatients%2F{ada.pk}%2F"
    assert response.redirect_chain == [(contact, 302)]
    assert "Ada Lovelace is registered. Now add their contact details and GP practice" in body(response)
    assert "943 476 5919" in body(response)
    assert (ada.nhs_number, ada.family_name, ada.team, ada.named_nurse, ada.created_by, ada.version) == (
        "9434765919",
        "Lovelace",
        nurse.team,
        nurse,
        nurse,
        1,
    )


def test_patient_register_refuses_a_wrong_check_digit_beside_the_field(nurse_client, nurse):
    response = nurse_client.post(url("patient_create"), new_patient(nurse, nhs_number="943 476 5918"))
    assert response.status_code == 200
    assert error_beside(response, "nhs_number") == (
        "This NHS number is not valid: check the digits (its check digit does not match)."
    )
    assert Patient.objects.count() == 0


def test_patient_register_refuses_an_existing_nhs_number_with_a_link_to_that_patient(nurse_client, nurse):
    existing = PatientFactory(team=nurse.team, named_nurse=nurse, nhs_number="9434765919", family_name="Byron")
    response = nurse_client.post(url("patient_create"), new_patient(nurse))
    assert response.status_code == 200
    assert error_beside(response, "nhs_number") == (
        "A patient with this NHS number is already registered: Jane BYRON (943 476 5919)."
    )
    assert f'<a href="{url("patient_detail", existing.pk)}">Jane BYRON (943 476 5919)</a>' in body(response)
    assert list(Patient.objects.all()) == [existing]


def test_patient_register_names_no_patient_of_another_team_with_the_same_nhs_number(nurse_client, nurse, other_nurse):
    theirs = PatientFactory(
        team=other_nurse.team, named_nurse=other_nurse, nhs_number="9434765919", family_name="Faraway"
    )
    response = nurse_client.post(url("patient_create"), new_patient(nurse))
    assert error_beside(response, "nhs_number") == (
        "A patient with this NHS number is already registered by another team. Contact an admin."
    )
    assert "FARAWAY" not in body(response) and url("patient_detail", theirs.pk) not in body(response)
    assert list(Patient.objects.all()) == [theirs]


@pytest.fixture
def lovelace(nurse):
    """Already registered: a new Lovelace born the same day is a possible duplicate."""
    return PatientFactory(team=nurse.team, named_nurse=nurse, family_name="Lovelace", sex=c.Sex.FEMALE)


def test_patient_register_possible_duplicate_saves_only_when_confirmed(nurse_client, nurse, lovelace):
    assert 'type="hidden" name="confirm_not_duplicate"' in body(nurse_client.get(url("patient_create")))
    data = new_patient(nurse, family_name="LOVELACE", date_of_birth=lovelace.date_of_birth.isoformat())
    warning = (
        f"Possible duplicate: Jane LOVELACE ({lovelace.nhs_number_display}) has the same last name, date of birth "
        "and sex. Open that record, or tick this box if this is a different person."
    )

    refused = nurse_client.post(url("patient_create"), data)
    assert refused.status_code == 200
    assert error_beside(refused, "confirm_not_duplicate") == warning
    # Beside the tick box, with a link to the other record; the error summary links to the box only.
    assert f'<a href="{url("patient_detail", lovelace.pk)}">Jane LOVELACE' in body(refused)
    assert f'<a href="#id_confirm_not_duplicate">{warning}</a>' in html.unescape(body(refused))
    # The tick box is now offered (it was a hidden input before).
    assert 'type="checkbox" name="confirm_not_duplicate"' in body(refused)
    assert list(Patient.objects.all()) == [lovelace]

    saved = nurse_client.post(url("patient_create"), data | {"confirm_not_duplicate": "on"})
    assert saved.status_code == 302
    assert sorted(Patient.objects.values_list("family_name", flat=True)) == ["LOVELACE", "Lovelace"]


def test_patient_register_a_different_sex_is_no_duplicate(nurse_client, nurse, lovelace):
    data = new_patient(nurse, date_of_birth=lovelace.date_of_birth.isoformat(), sex=c.Sex.MALE)
    assert nurse_client.post(url("patient_create"), data).status_code == 302
    assert Patient.objects.count() == 2


def test_patient_register_refuses_a_future_date_of_birth(nurse_client, nurse):
    response = nurse_client.post(url("patient_create"), new_patient(nurse, date_of_birth=days(1).isoformat()))
    assert error_beside(response, "date_of_birth") == "The date of birth cannot be in the future."
    assert Patient.objects.count() == 0


def test_patient_register_by_a_nurse_is_always_in_her_own_team(nurse_client, nurse, other_nurse):
    response = nurse_client.post(url("patient_create"), new_patient(nurse, team=other_nurse.team.pk))
    assert response.status_code == 302
    assert Patient.objects.get().team == nurse.team

    other = nurse_client.post(url("patient_create"), new_patient(other_nurse, nhs_number="", hospital_number="RX2"))
    assert error_beside(other, "named_nurse") == "Select the named nurse"
    assert Patient.objects.count() == 1


# Patients: edit with a version conflict --------------------------------------------


def patient_details(patient, **changes):
    data = {
        "nhs_number": patient.nhs_number,
        "hospital_number": patient.hospital_number,
        "given_name": patient.given_name,
        "family_name": patient.family_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "sex": patient.sex,
        "follow_up_model": patient.follow_up_model,
        "version": patient.version,
    }
    return data | changes


def test_patient_edit_with_a_stale_version_is_a_conflict_and_saving_again_saves(
    nurse_client, nurse, colleague, patient
):
    opened = patient_details(patient)  # the nurse opens the form at version 1
    services.patient_update(patient=patient, by=colleague, expected_version=1, hospital_number="RX9999")

    conflict = nurse_client.post(url("patient_edit", patient.pk), opened | {"given_name": "Janet"})
    assert conflict.status_code == 409
    assert "Changed by someone else" in body(conflict)
    assert 'id="conflict"' in body(conflict)
    # What the colleague changed since version 1, then what she changed herself (issue 12).
    assert conflict.context["conflict"].rows == [
        ("Hospital number", opened["hospital_number"], "RX9999", opened["hospital_number"]),
        ("First name", "Jane", "Jane", "Janet"),
    ]
    # What she typed is kept in the inputs, with the version now saved.
    assert 'name="given_name" value="Janet"' in body(conflict)
    assert f'name="hospital_number" value="{opened["hospital_number"]}"' in body(conflict)
    assert hidden_version(conflict) == 2
    patient.refresh_from_db()
    assert (patient.given_name, patient.hospital_number, patient.version) == ("Jane", "RX9999", 2)

    # Saving the re-rendered form as it stands: she has seen the colleague's change, so hers is saved.
    again = nurse_client.post(
        url("patient_edit", patient.pk), opened | {"given_name": "Janet", "version": hidden_version(conflict)}
    )
    assert again.status_code == 302
    patient.refresh_from_db()
    assert (patient.given_name, patient.hospital_number, patient.version) == ("Janet", opened["hospital_number"], 3)
    assert patient.updated_by == nurse


def test_patient_edit_without_a_version_overwrites_nothing(nurse_client, colleague, patient):
    stale = patient_details(patient, given_name="Janet", hospital_number=patient.hospital_number)
    del stale["version"]
    services.patient_update(patient=patient, by=colleague, expected_version=1, hospital_number="RX9999")

    response = nurse_client.post(url("patient_edit", patient.pk), stale)
    patient.refresh_from_db()
    assert (patient.given_name, patient.hospital_number, patient.version) == ("Jane", "RX9999", 2)
    assert response.status_code != 302


def test_patient_edit_leaves_team_and_named_nurse_to_their_own_actions(nurse_client, nurse, colleague, patient):
    response = nurse_client.post(
        url("patient_edit", patient.pk), patient_details(patient, given_name="Janet", named_nurse=colleague.pk)
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert (patient.given_name, patient.named_nurse, patient.version) == ("Janet", nurse, 2)


# Follow-up items ------------------------------------------------------------------


def done_form(item, **changes):
    return {"done_on": TODAY.isoformat(), "result": "", "notes": "", "version": item.version} | changes


def test_item_done_with_a_normal_result_leaves_overdue_and_waits_on_results(nurse_client, nurse, overdue_mammogram):
    item = overdue_mammogram
    assert listed(worklist(nurse_client, "overdue")) == [item]

    response = nurse_client.post(
        url("item_done", item.pk), done_form(item, result=c.ImagingOutcome.NORMAL), follow=True
    )
    assert response.redirect_chain == [(url("patient_detail", item.patient.pk), 302)]
    assert "Mammogram recorded as done." in body(response)
    item.refresh_from_db()
    assert (item.status, item.done_on, item.result, item.version, item.updated_by) == (
        c.FollowUpStatus.DONE,
        TODAY,
        c.ImagingOutcome.NORMAL,
        2,
        nurse,
    )
    assert listed(worklist(nurse_client, "overdue")) == []
    assert listed(worklist(nurse_client, "results")) == [item]

    nurse_client.post(url("item_acknowledge", item.pk), {"version": FollowUpItem.objects.get(pk=item.pk).version})
    assert listed(worklist(nurse_client, "results")) == []


def test_item_done_with_an_abnormal_result_goes_to_the_next_step(nurse_client, overdue_mammogram):
    item = overdue_mammogram
    response = nurse_client.post(url("item_done", item.pk), done_form(item, result=c.ImagingOutcome.ABNORMAL))
    assert response.status_code == 302
    assert response["Location"] == url("item_next_step", item.pk)
    item.refresh_from_db()
    assert (item.status, item.result) == (c.FollowUpStatus.DONE, c.ImagingOutcome.ABNORMAL)

    page = nurse_client.get(response["Location"])
    assert "Abnormal mammogram result: choose the next step" in body(page)
    assert f'href="{url("recurrence_add", item.patient.pk)}"' in body(page)
    assert page.context["review_url"].startswith(url("item_add", item.patient.pk) + "?kind=clinic_review&")


def test_item_done_refuses_a_date_in_the_future_beside_the_field(nurse_client, overdue_mammogram):
    item = overdue_mammogram
    response = nurse_client.post(
        url("item_done", item.pk), done_form(item, done_on=days(1).isoformat(), result=c.ImagingOutcome.NORMAL)
    )
    assert response.status_code == 200
    assert error_beside(response, "done_on") == "The date done cannot be in the future."
    item.refresh_from_db()
    assert (item.status, item.done_on, item.version) == (c.FollowUpStatus.DUE, None, 1)


def test_item_done_refuses_a_mammogram_without_a_result(nurse_client, overdue_mammogram):
    item = overdue_mammogram
    response = nurse_client.post(url("item_done", item.pk), done_form(item))
    assert error_beside(response, "result") == "Select the result, or 'Result not yet available'"
    item.refresh_from_db()
    assert (item.status, item.version) == (c.FollowUpStatus.DUE, 1)


def test_item_done_of_a_clinic_review_takes_no_result(nurse_client, patient):
    review = FollowUpItemFactory(patient=patient, kind=c.FollowUpKind.CLINIC_REVIEW, due_on=days(-60))
    assert 'name="result"' not in body(nurse_client.get(url("item_done", review.pk)))  # no result is asked for
    posted = nurse_client.post(url("item_done", review.pk), done_form(review, result=c.ImagingOutcome.NORMAL))
    assert posted.status_code == 302
    review.refresh_from_db()
    assert (review.status, review.result) == (c.FollowUpStatus.DONE, "")
    assert listed(worklist(nurse_client, "results")) == []


def test_item_did_not_attend_offers_to_book_the_same_kind_again(nurse_client, overdue_mammogram):
    item = overdue_mammogram
    response = nurse_client.post(url("item_dna", item.pk), {"version": item.version})
    rebook = f"{url('item_add', item.patient.pk)}?{urlencode({'kind': 'mammogram', 'due_on': days(14)})}"
    assert response.status_code == 302
    assert response["Location"] == rebook
    item.refresh_from_db()
    assert item.status == c.FollowUpStatus.DID_NOT_ATTEND

    form = nurse_client.get(rebook).context["form"]
    assert form.initial == {"kind": "mammogram", "due_on": days(14).isoformat()}
    assert '<option value="mammogram" selected>' in body(nurse_client.get(rebook))


def test_item_cancel_of_the_only_open_item_offers_a_replacement(nurse_client, patient, overdue_mammogram):
    item = overdue_mammogram
    response = nurse_client.post(url("item_cancel", item.pk), {"reason": "Done privately", "version": item.version})
    assert response.status_code == 302
    assert response["Location"] == (
        f"{url('item_add', patient.pk)}?{urlencode({'kind': 'mammogram', 'due_on': item.due_on})}"
    )
    item.refresh_from_db()
    assert (item.status, item.cancel_reason) == (c.FollowUpStatus.CANCELLED, "Done privately")
    assert listed(worklist(nurse_client, "no-follow-up")) == [patient]

    added = nurse_client.post(url("item_add", patient.pk), {"kind": "mammogram", "due_on": days(300).isoformat()})
    assert added.status_code == 302
    assert [(i.kind, i.due_on, i.status) for i in FollowUpItem.objects.open().filter(patient=patient)] == [
        ("mammogram", days(300), c.FollowUpStatus.DUE)
    ]
    assert listed(worklist(nurse_client, "no-follow-up")) == []


def test_item_cancel_with_another_item_open_goes_back_to_the_patient(nurse_client, patient, overdue_mammogram):
    FollowUpItemFactory(patient=patient, kind=c.FollowUpKind.CLINIC_REVIEW, due_on=days(90))
    response = nurse_client.post(
        url("item_cancel", overdue_mammogram.pk), {"reason": "Duplicate", "version": overdue_mammogram.version}
    )
    assert response["Location"] == url("patient_detail", patient.pk)
    assert listed(worklist(nurse_client, "no-follow-up")) == []


def test_item_cancel_needs_a_reason(nurse_client, overdue_mammogram):
    item = overdue_mammogram
    response = nurse_client.post(url("item_cancel", item.pk), {"reason": "  ", "version": item.version})
    assert error_beside(response, "reason") == "Enter the reason for cancelling"
    item.refresh_from_db()
    assert item.status == c.FollowUpStatus.DUE


def test_item_book_refuses_a_past_date_and_books_a_future_one(nurse_client, overdue_mammogram):
    item = overdue_mammogram
    refused = nurse_client.post(url("item_book", item.pk), {"booked_for": days(-1).isoformat(), "version": 1})
    assert error_beside(refused, "booked_for") == "The appointment date cannot be in the past."
    item.refresh_from_db()
    assert (item.status, item.booked_for, item.version) == (c.FollowUpStatus.DUE, None, 1)

    booked = nurse_client.post(url("item_book", item.pk), {"booked_for": days(7).isoformat(), "version": 1})
    assert booked.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.booked_for, item.version) == (c.FollowUpStatus.BOOKED, days(7), 2)


def test_item_next_step_of_an_item_not_done_yet_is_404(nurse_client, overdue_mammogram):
    response = nurse_client.get(url("item_next_step", overdue_mammogram.pk))
    assert response.status_code == 404


# Acknowledging a result from its worklist row ----------------------------------------


@pytest.fixture
def normal_result(patient):
    return FollowUpItemFactory(
        patient=patient, status=c.FollowUpStatus.DONE, due_on=days(-5), done_on=days(-2), result=c.ImagingOutcome.NORMAL
    )


def test_acknowledge_from_the_results_row_by_htmx_answers_with_a_row(nurse_client, nurse, normal_result):
    results = reverse("followup:worklist", args=["results"])
    row = worklist(nurse_client, "results")
    assert listed(row) == [normal_result]
    assert f'hx-post="{url("item_acknowledge", normal_result.pk)}"' in body(row)

    response = nurse_client.post(
        url("item_acknowledge", normal_result.pk), {"next": results, "version": normal_result.version}, **HTMX
    )
    assert response.status_code == 200
    assert body(response).startswith("<tr")
    assert "Done</strong> Mammogram result acknowledged (Normal)." in body(response)
    normal_result.refresh_from_db()
    assert normal_result.result_acknowledged_by == nurse
    assert normal_result.result_acknowledged_at is not None
    assert listed(worklist(nurse_client, "results")) == []


def test_acknowledge_without_htmx_redirects_to_the_next_url(nurse_client, nurse, normal_result):
    results = reverse("followup:worklist", args=["results"]) + "?nurse=all"
    response = nurse_client.post(
        url("item_acknowledge", normal_result.pk), {"next": results, "version": normal_result.version}
    )
    assert response.status_code == 302
    assert response["Location"] == results
    normal_result.refresh_from_db()
    assert normal_result.result_acknowledged_by == nurse


def test_acknowledge_ignores_a_next_url_on_another_site(nurse_client, patient, normal_result):
    response = nurse_client.post(
        url("item_acknowledge", normal_result.pk), {"next": "https://evil.example/", "version": normal_result.version}
    )
    assert response["Location"] == url("patient_detail", patient.pk)


def test_acknowledge_an_abnormal_result_by_htmx_links_to_the_next_step(nurse_client, patient):
    abnormal = FollowUpItemFactory(
        patient=patient, status=c.FollowUpStatus.DONE, done_on=days(-2), result=c.ImagingOutcome.ABNORMAL
    )
    response = nurse_client.post(url("item_acknowledge", abnormal.pk), {"version": abnormal.version}, **HTMX)
    assert body(response).startswith("<tr")
    assert f'<a class="nhsuk-link" href="{url("item_next_step", abnormal.pk)}">Choose the next step</a>' in body(
        response
    )


def test_acknowledge_by_htmx_of_an_item_with_no_result_answers_with_an_error_row(nurse_client, overdue_mammogram):
    response = nurse_client.post(
        url("item_acknowledge", overdue_mammogram.pk), {"version": overdue_mammogram.version}, **HTMX
    )
    assert response.status_code == 200
    # The row stays: only its form comes back, with the reason beside the button (issue 13).
    assert (response["HX-Retarget"], body(response)[:26]) == ("this", '<form class="app-row-form"')
    assert "</span> There is no result to acknowledge yet. <a" in body(response)
    overdue_mammogram.refresh_from_db()
    assert (overdue_mammogram.result_acknowledged_at, overdue_mammogram.version) == (None, 1)


# Recurrences and restaging -------------------------------------------------------


def recurrence_form(**changes):
    data = {
        "metastatic_type": c.MetastaticType.REGIONAL,
        "sites": [c.Site.AXILLARY_NODES],
        "status": c.RecurrenceStatus.SUSPECTED,
        "diagnosed_on": TODAY.isoformat(),
        "restaging_tests": list(c.STANDARD_RESTAGING_TESTS),
    }
    return data | changes


def test_regional_recurrence_opens_restaging_with_the_standard_tests(nurse_client, nurse, patient):
    response = nurse_client.post(url("recurrence_add", patient.pk), recurrence_form(), follow=True)
    assert response.redirect_chain == [(url("patient_detail", patient.pk), 302)]
    assert "Regional recurrence recorded; restaging opened with 4 tests requested." in body(response)
    recurrence = Recurrence.objects.get(patient=patient)
    assert (recurrence.metastatic_type, recurrence.status, recurrence.created_by) == (
        c.MetastaticType.REGIONAL,
        c.RecurrenceStatus.SUSPECTED,
        nurse,
    )
    assert [s.site for s in recurrence.sites.all()] == [c.Site.AXILLARY_NODES]
    episode = RestagingEpisode.objects.get(recurrence=recurrence)
    assert sorted(episode.tests.values_list("modality", flat=True)) == sorted(c.STANDARD_RESTAGING_TESTS)
    assert listed(worklist(nurse_client, "restaging")) == [episode]
    assert patient.status == c.PatientStatus.SURVEILLANCE


def test_recurrence_site_must_fit_the_type(nurse_client, patient):
    data = recurrence_form(metastatic_type=c.MetastaticType.LOCAL, sites=[c.Site.LIVER])
    response = nurse_client.post(url("recurrence_add", patient.pk), data)
    assert response.status_code == 200
    assert error_beside(response, "sites") == "Not a site of a local recurrence: Liver."
    assert Recurrence.all_objects.count() == 0


@pytest.mark.parametrize(
    ("kind", "site"), [(c.MetastaticType.LOCAL, c.Site.SCAR), (c.MetastaticType.REGIONAL, c.Site.AXILLARY_NODES)]
)
def test_local_or_regional_recurrence_needs_ct_or_pet_ct(nurse_client, patient, kind, site):
    data = recurrence_form(metastatic_type=kind, sites=[site], restaging_tests=["bone_scan", "bloods", "biopsy"])
    response = nurse_client.post(url("recurrence_add", patient.pk), data)
    assert error_beside(response, "restaging_tests") == "Request CT chest, abdomen and pelvis or PET-CT."
    assert Recurrence.all_objects.count() == 0


def test_neurological_symptoms_need_an_mri_brain(nurse_client, patient):
    data = recurrence_form(neurological_symptoms="on")
    refused = nurse_client.post(url("recurrence_add", patient.pk), data)
    assert error_beside(refused, "restaging_tests") == "With neurological symptoms, request an MRI brain too."
    assert Recurrence.all_objects.count() == 0

    tests = [*c.STANDARD_RESTAGING_TESTS, c.StagingModality.MRI_BRAIN]
    assert nurse_client.post(url("recurrence_add", patient.pk), data | {"restaging_tests": tests}).status_code == 302
    assert sorted(StagingTest.objects.values_list("modality", flat=True)) == sorted(tests)


def test_distant_staging_result_leads_to_recording_secondary_breast_cancer(nurse_client, nurse, patient):
    nurse_client.post(url("recurrence_add", patient.pk), recurrence_form())
    ct = StagingTest.objects.get(modality=c.StagingModality.CT_CAP)
    result = {
        "performed_on": TODAY.isoformat(),
        "reported_on": TODAY.isoformat(),
        "result": c.StagingResult.DISTANT,
        "version": ct.version,
    }

    no_site = nurse_client.post(url("staging_result", ct.pk), result)
    assert error_beside(no_site, "sites") == "Choose where distant disease was found (or 'Unknown site')."

    response = nurse_client.post(url("staging_result", ct.pk), result | {"sites": [c.Site.LIVER]})
    assert response.status_code == 302
    assert response["Location"] == url("secondary_from_test", ct.pk)
    ct.refresh_from_db()
    assert (ct.result, [s.site for s in ct.sites.all()]) == (c.StagingResult.DISTANT, [c.Site.LIVER])
    assert listed(worklist(nurse_client, "distant-not-recorded")) == [ct]
    assert listed(worklist(nurse_client, "restaging")) == []  # the episode closed: distant disease found

    form = nurse_client.get(response["Location"]).context["form"]
    assert form.initial == {"diagnosed_on": TODAY, "sites": [c.Site.LIVER]}
    recorded = nurse_client.post(
        response["Location"],
        {"diagnosed_on": TODAY.isoformat(), "sites": [c.Site.LIVER], "status": c.RecurrenceStatus.CONFIRMED},
    )
    assert recorded["Location"] == url("patient_detail", patient.pk)
    assert listed(worklist(nurse_client, "distant-not-recorded")) == []
    ct.refresh_from_db()
    distant = Recurrence.objects.get(metastatic_type=c.MetastaticType.DISTANT)
    assert ct.distant_recurrence == distant
    assert (distant.patient, distant.status, [s.site for s in distant.sites.all()]) == (
        patient,
        c.RecurrenceStatus.CONFIRMED,
        [c.Site.LIVER],
    )
    patient.refresh_from_db()
    assert patient.status == c.PatientStatus.SECONDARY
    banner = nurse_client.get(url("patient_detail", patient.pk))
    assert "Living with secondary breast cancer</strong>" in body(banner)


def test_refuting_a_suspected_distant_recurrence_returns_the_patient_to_surveillance(nurse_client, nurse, patient):
    distant = services.recurrence_record(
        patient=patient,
        metastatic_type=c.MetastaticType.DISTANT,
        sites=[SiteEntry(c.Site.BONE)],
        diagnosed_on=days(-3),
        status=c.RecurrenceStatus.SUSPECTED,
        by=nurse,
    )
    patient.refresh_from_db()
    assert patient.status == c.PatientStatus.SECONDARY

    refused = nurse_client.post(url("recurrence_status", distant.pk), {"status": "suspected", "version": 1})
    assert error_beside(refused, "status") == "Select whether the recurrence is confirmed or refuted"

    response = nurse_client.post(url("recurrence_status", distant.pk), {"status": "refuted", "version": 1})
    assert response["Location"] == url("patient_detail", patient.pk)
    distant.refresh_from_db()
    patient.refresh_from_db()
    assert (distant.status, distant.version) == (c.RecurrenceStatus.REFUTED, 2)
    assert patient.status == c.PatientStatus.SURVEILLANCE
    assert "Under surveillance</strong>" in body(nurse_client.get(url("patient_detail", patient.pk)))


# Symptoms ---------------------------------------------------------------------------


def symptom_form(**changes):
    data = {"reported_on": TODAY.isoformat(), "area": c.SymptomArea.BONE, "description": "Back pain, legs weak."}
    return data | changes


def test_cord_compression_symptom_goes_straight_to_triage_and_heads_the_list(nurse_client, patient):
    waiting = SymptomReportFactory(patient=patient, reported_on=days(-5), area=c.SymptomArea.LUNG)
    response = nurse_client.post(url("symptom_add", patient.pk), symptom_form(cord_compression="on"))
    report = SymptomReport.objects.get(red_flag=c.RedFlag.CORD_COMPRESSION)
    assert response.status_code == 302
    assert response["Location"] == url("symptom_triage", report.pk)
    assert (report.patient, report.area, report.reported_on, report.triaged_at) == (
        patient,
        c.SymptomArea.BONE,
        TODAY,
        None,
    )
    assert listed(worklist(nurse_client, "symptoms")) == [report, waiting]
    triage = nurse_client.get(response["Location"])
    assert triage.context["form"].initial == {"version": 1, "outcome": c.TriageOutcome.URGENT}


def test_symptom_report_refuses_an_onset_after_the_report(nurse_client, patient):
    response = nurse_client.post(
        url("symptom_add", patient.pk), symptom_form(reported_on=days(1).isoformat(), onset_on=days(1).isoformat())
    )
    assert error_beside(response, "reported_on") == "The date reported cannot be in the future."
    assert error_beside(response, "onset_on") == "The date symptoms started cannot be in the future."
    earlier = symptom_form(reported_on=days(-3).isoformat(), onset_on=days(-1).isoformat())
    response = nurse_client.post(url("symptom_add", patient.pk), earlier)
    assert error_beside(response, "onset_on") == "Symptoms cannot start after they were reported."
    assert SymptomReport.all_objects.count() == 0


def test_cord_compression_triage_from_the_row_must_be_urgent(nurse_client, nurse, patient):
    report = SymptomReportFactory(patient=patient, red_flag=c.RedFlag.CORD_COMPRESSION)
    row = {"outcome": c.TriageOutcome.REASSURE, "version": report.version, "next": "/worklists/symptoms/"}

    refused = nurse_client.post(url("symptom_triage", report.pk), row, **HTMX)
    assert refused.status_code == 200
    assert body(refused).startswith('<form class="app-row-form"')  # the row stays, the error beside its select
    assert "</span> Possible spinal cord compression must be triaged as urgent." in body(refused)
    report.refresh_from_db()
    assert (report.triage_outcome, report.triaged_at, report.version) == ("", None, 1)
    assert listed(worklist(nurse_client, "symptoms")) == [report]

    saved = nurse_client.post(url("symptom_triage", report.pk), row | {"outcome": c.TriageOutcome.URGENT}, **HTMX)
    assert body(saved).startswith("<tr")
    assert "Done</strong> Triaged: Urgent (same day)." in body(saved)
    report.refresh_from_db()
    assert (report.triage_outcome, report.triaged_by, report.version) == (c.TriageOutcome.URGENT, nurse, 2)
    assert listed(worklist(nurse_client, "symptoms")) == []


def test_triage_with_a_stale_version_from_the_row_is_not_saved(nurse_client, colleague, patient):
    report = SymptomReportFactory(patient=patient)
    services.symptom_report_triage(
        report=report, outcome=c.TriageOutcome.CLINIC_REVIEW, by=colleague, expected_version=1
    )
    response = nurse_client.post(
        url("symptom_triage", report.pk), {"outcome": c.TriageOutcome.REASSURE, "version": 1}, **HTMX
    )
    assert body(response).startswith('<form class="app-row-form"')
    assert "</span> Test Nurse" in body(response)
    assert "after you opened it" in body(response)
    report.refresh_from_db()
    assert (report.triage_outcome, report.triaged_by) == (c.TriageOutcome.CLINIC_REVIEW, colleague)


# Entered in error ------------------------------------------------------------------


def test_entered_in_error_needs_a_reason(nurse_client, overdue_mammogram):
    item = overdue_mammogram
    response = nurse_client.post(url("entered_in_error", "item", item.pk), {"reason": "", "version": item.version})
    assert error_beside(response, "reason") == "Enter why this was entered in error"
    item.refresh_from_db()
    assert (item.entered_in_error, item.version) == (False, 1)


def test_entered_in_error_takes_the_item_off_the_lists_and_keeps_it(nurse_client, nurse, patient, overdue_mammogram):
    item = overdue_mammogram
    response = nurse_client.post(
        url("entered_in_error", "item", item.pk), {"reason": "Wrong patient", "version": item.version}
    )
    assert response["Location"] == url("patient_detail", patient.pk)
    assert listed(worklist(nurse_client, "overdue")) == []
    assert not FollowUpItem.objects.filter(pk=item.pk).exists()
    kept = FollowUpItem.all_objects.get(pk=item.pk)
    assert (kept.entered_in_error, kept.error_reason, kept.error_marked_by, kept.status) == (
        True,
        "Wrong patient",
        nurse,
        c.FollowUpStatus.DUE,
    )
    # Gone from every action too.
    assert nurse_client.get(url("item_done", item.pk)).status_code == 404


def test_entered_in_error_of_an_unknown_kind_is_404(nurse_client, patient):
    assert nurse_client.get(url("entered_in_error", "password", patient.pk)).status_code == 404


# Access: team scope first (404), then role (403) ------------------------------------


def clinical_record(patient, nurse):
    """One record of every kind an action URL names, for this patient."""
    item = FollowUpItemFactory(patient=patient, due_on=days(-60))
    result = FollowUpItemFactory(patient=patient, status=c.FollowUpStatus.DONE, done_on=days(-2), result="02")
    awaited = FollowUpItemFactory(patient=patient, status=c.FollowUpStatus.DONE, done_on=days(-2), result_awaited=True)
    recurrence = services.recurrence_record(
        patient=patient,
        metastatic_type=c.MetastaticType.REGIONAL,
        sites=[SiteEntry(c.Site.AXILLARY_NODES)],
        diagnosed_on=days(-20),
        restaging_tests=[c.StagingModality.CT_CAP],
        by=nurse,
    )
    return {
        "patient": patient,
        "primary": PrimaryDiagnosisFactory(patient=patient),
        "item": item,
        "result": result,
        "awaited": awaited,
        "recurrence": recurrence,
        "episode": recurrence.restaging,
        "test": recurrence.restaging.tests.get(),
        "symptom": SymptomReportFactory(patient=patient, red_flag=c.RedFlag.HYPERCALCAEMIA),
    }


# Every URL that acts on one record: (URL name, the record it names, extra URL argument).
ACTION_URLS = [
    ("patient_edit", "patient", None),
    ("patient_contact_details", "patient", None),
    ("primary_add", "patient", None),
    ("protocol_assign", "patient", None),
    ("patient_reassign", "patient", None),
    ("patient_discharge", "patient", None),
    ("patient_pifu_period", "patient", None),
    ("patient_death", "patient", None),
    ("item_add", "patient", None),
    ("recurrence_add", "patient", None),
    ("symptom_add", "patient", None),
    ("item_book", "item", None),
    ("item_done", "item", None),
    ("item_result", "awaited", None),
    ("item_dna", "item", None),
    ("item_cancel", "item", None),
    ("item_acknowledge", "result", None),
    ("item_classify", "result", None),
    ("item_next_step", "result", None),
    ("recurrence_status", "recurrence", None),
    ("staging_request", "episode", None),
    ("staging_result", "test", None),
    ("staging_acknowledge", "test", None),
    ("staging_classify", "test", None),
    ("staging_cancel", "test", None),
    ("secondary_from_test", "test", None),
    ("symptom_triage", "symptom", None),
    *[("entered_in_error", kind, kind) for kind in ("patient", "primary", "item", "recurrence", "test", "symptom")],
]
# Pages that name no single record, or only read.
NOT_RECORD_ACTIONS = {
    "dashboard",
    "dashboard_charts",
    "worklists",
    "worklist",
    "patient_list",
    "patient_detail",
    "patient_history",
    "patient_create",
    "caseload_hand_over",
    # Several records at once, named in the query: tests/test_bulk_actions.py has their 404s and 403s.
    "worklist_acknowledge",
    "patients_hand_over",
    "reports",
    "report_line_list",
    "report_summary",
}
# A post that several actions would accept as it stands: it must change nothing it may not.
ANY_POST = {
    "version": 1,
    "reason": "Access test",
    "done_on": TODAY.isoformat(),
    "result": "02",
    "booked_for": days(7).isoformat(),
    "status": c.RecurrenceStatus.REFUTED,
    "outcome": c.TriageOutcome.URGENT,
    "date_of_death": TODAY.isoformat(),
    "discharged_on": TODAY.isoformat(),
}


def action_url(records, name, record, kind):
    return url(name, kind, records[record].pk) if kind else url(name, records[record].pk)


def versions(records):
    return {key: type(row).all_objects.get(pk=row.pk).version for key, row in records.items()}


def test_action_urls_list_every_url_that_names_a_record():
    # Included modules (the caseload import) hold no record actions.
    names = {pattern.name for pattern in followup_urls.urlpatterns if isinstance(pattern, URLPattern)}
    assert {name for name, _, _ in ACTION_URLS} == names - NOT_RECORD_ACTIONS


def test_every_action_on_another_teams_record_is_404_without_patient_data(client, nurse, other_nurse):
    theirs = PatientFactory(team=other_nurse.team, named_nurse=other_nurse, family_name="Faraway")
    records = clinical_record(theirs, other_nurse)
    before = versions(records)
    client.force_login(nurse)
    for name, record, kind in ACTION_URLS:
        target = action_url(records, name, record, kind)
        for response in (client.get(target), client.post(target, ANY_POST)):
            assert response.status_code == 404, (name, record, response.request["REQUEST_METHOD"])
            assert "Faraway" not in body(response) and "FARAWAY" not in body(response), name
            assert theirs.nhs_number not in body(response), name
    assert versions(records) == before
    assert Recurrence.all_objects.count() == 1 and FollowUpItem.all_objects.count() == 3


def test_a_clinician_may_not_act_403_on_get_and_post(client, nurse, clinician, patient):
    records = clinical_record(patient, nurse)
    before = versions(records)
    client.force_login(clinician)
    # The next-step page only offers links (each of them refused below); it writes nothing.
    for name, record, kind in [action for action in ACTION_URLS if action[0] != "item_next_step"]:
        target = action_url(records, name, record, kind)
        assert client.get(target).status_code == 403, name
        assert client.post(target, ANY_POST).status_code == 403, name
    for name in ("patient_create", "caseload_hand_over"):
        assert client.get(url(name)).status_code == 403, name
        assert client.post(url(name), new_patient(nurse)).status_code == 403, name
    assert versions(records) == before
    assert Patient.objects.count() == 1


def test_a_clinician_may_still_read_the_patient_page(client, clinician, patient):
    client.force_login(clinician)
    response = client.get(url("patient_detail", patient.pk))
    assert patient.family_name.upper() in body(response)


def test_a_nurse_may_not_reassign_or_hand_over(nurse_client, nurse, colleague, patient):
    assert nurse_client.get(url("patient_reassign", patient.pk)).status_code == 403
    response = nurse_client.post(url("patient_reassign", patient.pk), {"named_nurse": colleague.pk, "version": 1})
    assert response.status_code == 403
    assert nurse_client.get(url("caseload_hand_over")).status_code == 403
    response = nurse_client.post(url("caseload_hand_over"), {"from_nurse": nurse.pk, "to_nurse": colleague.pk})
    assert response.status_code == 403
    patient.refresh_from_db()
    assert (patient.named_nurse, patient.version) == (nurse, 1)


def test_an_admin_reassigns_the_named_nurse(client, admin_user, colleague, patient):
    client.force_login(admin_user)
    form = client.get(url("patient_reassign", patient.pk)).context["form"]
    assert list(form.fields["named_nurse"].queryset) == [colleague]  # same team, not the current nurse
    response = client.post(url("patient_reassign", patient.pk), {"named_nurse": colleague.pk, "version": 1})
    assert response["Location"] == url("patient_detail", patient.pk)
    patient.refresh_from_db()
    assert (patient.named_nurse, patient.version, patient.updated_by) == (colleague, 2, admin_user)


def test_an_admin_hands_over_a_whole_caseload_within_the_team(client, admin_user, nurse, colleague, other_nurse):
    mine = [PatientFactory(team=nurse.team, named_nurse=nurse) for _ in range(2)]
    theirs = PatientFactory(team=nurse.team, named_nurse=colleague)
    elsewhere = PatientFactory(team=other_nurse.team, named_nurse=other_nurse)
    client.force_login(admin_user)

    refused = client.post(url("caseload_hand_over"), {"from_nurse": nurse.pk, "to_nurse": other_nurse.pk})
    assert error_beside(refused, "to_nurse") == "The new named nurse must be an active nurse in the same team."
    assert list(Patient.objects.filter(named_nurse=nurse).order_by("pk")) == mine

    response = client.post(url("caseload_hand_over"), {"from_nurse": nurse.pk, "to_nurse": colleague.pk}, follow=True)
    assert response.redirect_chain == [(url("patient_list"), 302)]
    assert f"2 patients handed over to {colleague}." in body(response)
    assert Patient.objects.filter(named_nurse=nurse).count() == 0
    assert sorted(Patient.objects.filter(named_nurse=colleague).values_list("pk", flat=True)) == sorted(
        [p.pk for p in [*mine, theirs]]
    )
    assert [(p.version, p.updated_by) for p in Patient.objects.filter(pk__in=[p.pk for p in mine])] == [
        (2, admin_user),
        (2, admin_user),
    ]
    elsewhere.refresh_from_db()
    assert (elsewhere.named_nurse, elsewhere.version) == (other_nurse, 1)


# Query counts ---------------------------------------------------------------------


def history(patient, nurse, rows):
    """``rows`` follow-up items, primaries, recurrences (with restaging) and symptom reports."""
    for _ in range(rows):
        FollowUpItemFactory(patient=patient, due_on=days(-60))
        PrimaryDiagnosisFactory(patient=patient)
        services.recurrence_record(
            patient=patient,
            metastatic_type=c.MetastaticType.REGIONAL,
            sites=[SiteEntry(c.Site.AXILLARY_NODES)],
            diagnosed_on=days(-5),
            restaging_tests=[c.StagingModality.CT_CAP],
            by=nurse,
        )
        SymptomReportFactory(patient=patient)


# session, user with team, the record through the team scope, its patient, the patient's
# named nurse (banner)
@pytest.mark.parametrize("rows", [1, 3])
def test_item_done_page_query_count_is_constant(rows, nurse_client, nurse, patient, django_assert_num_queries):
    history(patient, nurse, rows)
    item = FollowUpItem.objects.first()
    with django_assert_num_queries(5):
        response = nurse_client.get(url("item_done", item.pk))
    assert response.context["record"] == item


# session, user with team, the patient through the team scope, the latest primary (initial),
# the patient's named nurse (banner), the primaries to choose from
@pytest.mark.parametrize("rows", [1, 3])
def test_recurrence_add_page_query_count_is_constant(rows, nurse_client, nurse, patient, django_assert_num_queries):
    history(patient, nurse, rows)
    with django_assert_num_queries(6):
        # The second step, with the type chosen: the first asks only the type.
        response = nurse_client.get(url("recurrence_add", patient.pk), {"metastatic_type": c.MetastaticType.LOCAL})
    assert len(response.context["form"].fields["primary"].queryset) == rows


# session, user with team, the report through the team scope, its patient, the patient's
# named nurse (banner)
@pytest.mark.parametrize("rows", [1, 3])
def test_symptom_triage_page_query_count_is_constant(rows, nurse_client, nurse, patient, django_assert_num_queries):
    history(patient, nurse, rows)
    report = SymptomReport.objects.first()
    with django_assert_num_queries(5):
        response = nurse_client.get(url("symptom_triage", report.pk))
    assert response.context["record"] == report


def test_row_triage_asks_for_a_choice_rather_than_defaulting_to_reassure(client, nurse, patient):
    """A red flag other than cord compression must not be one click from 'Reassure'."""
    report = services.symptom_report_record(
        patient=patient,
        reported_on=timezone.localdate(),
        area="brain",
        description="New headaches",
        red_flag="neurological",
        by=nurse,
    )
    client.force_login(nurse)
    page = client.get(reverse("followup:worklist", args=["symptoms"])).content.decode()
    select = re.search(rf'<select[^>]*id="triage-{report.pk}".*?</select>', page, re.S).group(0)
    assert re.findall(r"<option[^>]*selected", select) == []
    assert '<option value="">Choose an outcome</option>' in select
    response = client.post(
        reverse("followup:symptom_triage", args=[report.pk]),
        {"version": report.version, "outcome": ""},
        HTTP_HX_REQUEST="true",
    )
    assert f'<span class="nhsuk-error-message" id="triage-{report.pk}-error">' in response.content.decode()
    report.refresh_from_db()
    assert report.triaged_at is None
