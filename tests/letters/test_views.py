"""The letters' pages: write, preview, issue, download; scope (404) and role (403) on every URL;
the patient page's Letters section in a fixed number of queries."""

import hashlib
from datetime import date

import pytest
from django.urls import reverse

from contacts.models import Contact
from followup import choices as c
from followup.services import record_mark_entered_in_error
from letters.choices import LetterKind
from letters.models import Letter, LetterPDF
from letters.services import letter_issue

from ..factories import FollowUpItemFactory, LetterFactory, UserFactory
from ..test_pdf import text_of
from .factories import letter_patient


@pytest.fixture
def zoe(nurse):
    return letter_patient(team=nurse.team, named_nurse=nurse)


@pytest.fixture
def mammogram(zoe):
    return FollowUpItemFactory(
        patient=zoe, status=c.FollowUpStatus.DONE, due_on=date(2026, 11, 20), done_on=date(2026, 11, 24),
        result=c.ImagingOutcome.BENIGN,
    )  # fmt: skip


@pytest.fixture
def clinician(team):
    return UserFactory(username="sam", team=team, role=c.Role.CLINICIAN)


def write(client, patient, **query):
    return client.get(reverse("letters:write", args=[patient.pk]), query)


def preview(client, patient, **query):
    return client.get(reverse("letters:preview", args=[patient.pk]), query)


def issue(client, patient, **data):
    return client.post(reverse("letters:issue", args=[patient.pk]), data)


def test_choosing_a_result_letter_goes_on_to_its_preview(nurse_client, zoe, mammogram):
    response = write(nurse_client, zoe, step="choose", kind="result_patient", result=f"item-{mammogram.pk}")
    assert response.status_code == 302
    assert response.url == f"/patients/{zoe.pk}/letters/preview/?kind=result_patient&result=item-{mammogram.pk}"


def test_the_write_page_offers_the_patients_results(nurse_client, zoe, mammogram):
    response = write(nurse_client, zoe)
    assert response.status_code == 200
    assert dict(response.context["form"].fields["result"].choices) == {
        f"item-{mammogram.pk}": "Mammogram, 24 November 2026: Benign"
    }


def test_a_result_letter_needs_a_result(nurse_client, zoe, mammogram):
    response = write(nurse_client, zoe, step="choose", kind="result_patient")
    assert response.context["form"].errors == {"result": ["Select the result the letter is about"]}


def test_no_gp_letter_without_a_gp_practice_with_a_link_to_the_details(nurse_client, nurse):
    nobody = letter_patient(team=nurse.team, named_nurse=nurse, gp=False, nhs_number="4010232137")
    response = write(nurse_client, nobody, step="choose", kind="discharge_gp")
    assert response.context["form"].errors == {
        "kind": ["No GP practice is recorded for this patient, so a letter to the GP cannot be written."]
    }
    body = response.content.decode()
    assert f'<a href="/patients/{nobody.pk}/contact-details/">Change contact details</a>' in body


def test_no_patient_letter_without_an_address_with_a_link_to_the_details(nurse_client, nurse):
    nowhere = letter_patient(team=nurse.team, named_nurse=nurse, address=False, nhs_number="4010232137")
    response = write(nurse_client, nowhere, step="choose", kind="care_plan")
    assert response.context["form"].errors == {
        "kind": ["No address is recorded for this patient, so a letter to them cannot be written."]
    }
    assert f'<a href="/patients/{nowhere.pk}/contact-details/">Change contact details</a>' in response.content.decode()
    # Issuing anyway (a page kept open) is refused the same way, and nothing is written.
    response = issue(nurse_client, nowhere, kind="care_plan", result="", extra_paragraph="")
    assert response.status_code == 200
    assert response.context["form"].errors["kind"] == [
        "No address is recorded for this patient, so a letter to them cannot be written."
    ]
    assert Letter.all_objects.count() == 0


def test_the_preview_is_the_letters_html_with_the_paragraph_added(nurse_client, zoe, mammogram):
    response = nurse_client.post(
        reverse("letters:preview", args=[zoe.pk]),
        {"kind": "result_patient", "result": f"item-{mammogram.pk}", "extra_paragraph": "See you in clinic."},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Your mammogram on 24 November 2026 showed a change that is not cancer (benign)." in body
    assert '<p class="app-letter__extra" id="letter-extra">See you in clinic.</p>' in body
    assert "943 476 5919" in body and "Fictional Lane Surgery" in body
    assert Letter.all_objects.count() == 0  # a preview writes nothing


def test_issue_stores_the_pdf_lists_it_and_download_returns_the_same_bytes(nurse_client, nurse, zoe, mammogram):
    data = {"kind": "result_patient", "result": f"item-{mammogram.pk}", "extra_paragraph": "See you in clinic."}
    response = issue(nurse_client, zoe, **data)
    assert response.status_code == 302 and response.url == f"/patients/{zoe.pk}/#letters"
    letter = Letter.objects.get()
    assert (letter.kind, letter.issued_by, letter.followup_item, letter.extra_paragraph) == (
        "result_patient",
        nurse,
        mammogram,
        "See you in clinic.",
    )
    stored = bytes(LetterPDF.objects.get(letter=letter).pdf)
    assert "See you in clinic." in text_of(stored)
    download = nurse_client.get(reverse("letters:download", args=[letter.pk]))
    assert download["Content-Type"] == "application/pdf"
    assert download.content == stored
    assert hashlib.sha256(download.content).hexdigest() == letter.sha256 == download["ETag"].strip('"')
    page = nurse_client.get(reverse("followup:patient_detail", args=[zoe.pk]))
    assert page.context["letters"] == [letter]
    assert reverse("letters:download", args=[letter.pk]) in page.content.decode()


def test_issuing_twice_gives_two_letters_both_downloadable_byte_for_byte(nurse_client, zoe, mammogram):
    data = {"kind": "result_patient", "result": f"item-{mammogram.pk}", "extra_paragraph": ""}
    issue(nurse_client, zoe, **data)
    issue(nurse_client, zoe, **data)
    first, second = Letter.objects.order_by("pk")
    assert first.pk != second.pk
    assert Contact.objects.filter(kind="letter", patient=zoe).count() == 2
    for letter in (first, second):
        once = nurse_client.get(reverse("letters:download", args=[letter.pk])).content
        again = nurse_client.get(reverse("letters:download", args=[letter.pk])).content
        assert once == again == bytes(LetterPDF.objects.get(letter=letter).pdf)
        assert hashlib.sha256(once).hexdigest() == letter.sha256


def test_a_letter_entered_in_error_stays_listed_struck_through_with_the_reason(nurse_client, nurse, priya, zoe):
    letter = letter_issue(patient=zoe, kind=LetterKind.CARE_PLAN, by=nurse)
    response = nurse_client.post(
        reverse("followup:entered_in_error", args=["letter", letter.pk]),
        {"reason": "Sent to the wrong address.", "version": letter.version},
    )
    assert response.status_code == 302
    letter = Letter.all_objects.get(pk=letter.pk)
    assert (letter.entered_in_error, letter.error_reason, letter.error_marked_by) == (
        True,
        "Sent to the wrong address.",
        nurse,
    )
    page = nurse_client.get(reverse("followup:patient_detail", args=[zoe.pk]))
    assert page.context["letters"] == [letter]
    body = page.content.decode()
    assert f'id="letter-{letter.pk}"' in body and "app-entered-in-error" in body
    assert "Sent to the wrong address." in body
    # Still there to read, byte for byte: never replaced.
    download = nurse_client.get(reverse("letters:download", args=[letter.pk]))
    assert hashlib.sha256(download.content).hexdigest() == letter.sha256
    history = nurse_client.get(reverse("followup:patient_history", args=[zoe.pk]))
    assert [ch.kind for ch in history.context["changes"] if ch.record.startswith("Letter")] == [
        "Marked entered in error",
        "Created",
    ]


@pytest.mark.parametrize(
    ("method", "url_name", "on"),
    [
        ("get", "letters:write", "patient"),
        ("get", "letters:preview", "patient"),
        ("post", "letters:preview", "patient"),
        ("post", "letters:issue", "patient"),
        ("get", "letters:download", "letter"),
        ("get", "followup:entered_in_error", "letter"),
    ],
)
def test_another_teams_nurse_gets_404_on_every_letters_url(client, other_nurse, nurse, zoe, method, url_name, on):
    letter = letter_issue(patient=zoe, kind=LetterKind.CARE_PLAN, by=nurse)
    args = {"patient": [zoe.pk], "letter": [letter.pk]}[on]
    if url_name == "followup:entered_in_error":
        args = ["letter", letter.pk]
    client.force_login(other_nurse)
    data = {"kind": "care_plan", "result": "", "extra_paragraph": ""}
    response = getattr(client, method)(reverse(url_name, args=args), data)
    assert response.status_code == 404
    assert Letter.all_objects.count() == 1


def test_a_clinician_may_preview_and_download_but_not_issue_or_mark_in_error(client, clinician, nurse, zoe):
    letter = letter_issue(patient=zoe, kind=LetterKind.CARE_PLAN, by=nurse)
    client.force_login(clinician)
    assert write(client, zoe).status_code == 200
    looked = preview(client, zoe, kind="care_plan")
    assert looked.status_code == 200 and 'id="letter-issue"' not in looked.content.decode()
    assert client.get(reverse("letters:download", args=[letter.pk])).content == bytes(letter.document.pdf)
    assert issue(client, zoe, kind="care_plan", result="", extra_paragraph="").status_code == 403
    mark = reverse("followup:entered_in_error", args=["letter", letter.pk])
    assert client.post(mark, {"reason": "Wrong.", "version": letter.version}).status_code == 403
    assert Letter.objects.count() == 1
    page = client.get(reverse("followup:patient_detail", args=[zoe.pk])).content.decode()
    assert "Write a letter" not in page and reverse("letters:download", args=[letter.pk]) in page


@pytest.mark.parametrize("rows", [1, 3])
def test_patient_page_letters_section_query_count_is_constant(rows, nurse_client, nurse, django_assert_num_queries):
    patient = letter_patient(team=nurse.team, named_nurse=nurse)
    letters = LetterFactory.create_batch(rows, patient=patient)
    record_mark_entered_in_error(record=letters[0], reason="Wrong letter.", by=nurse)
    # session, user, access check, the access-log row, the patient with nurse/team/protocol,
    # 6 prefetches (primaries, items, recurrences, symptoms, tasks, contacts: no recurrence, so no sites
    # or tests), the two lists of patients themselves (no next follow-up item, data quality: the others
    # have no row of this patient to hold), and the letters with who issued and who marked in error.
    with django_assert_num_queries(5 + 6 + 2 + 1):
        response = nurse_client.get(reverse("followup:patient_detail", args=[patient.pk]))
    assert len(response.context["letters"]) == rows
    assert [e.title for e in response.context["timeline"].history if e.category == "letter"] == [
        "Letter issued: care plan"
    ] * rows


def test_a_paragraph_too_long_is_refused_beside_the_box_and_nothing_is_issued(nurse_client, zoe):
    response = issue(nurse_client, zoe, kind="care_plan", result="", extra_paragraph="x" * 2001)
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "extra_paragraph": ["Add a paragraph (optional) must be 2000 characters or fewer"]
    }
    assert 'id="letter-preview"' in response.content.decode()
    assert 'maxlength="2000"' not in response.content.decode()
    assert Letter.all_objects.count() == 0


def test_opening_the_issue_url_goes_back_to_writing_a_letter(nurse_client, zoe):
    response = nurse_client.get(reverse("letters:issue", args=[zoe.pk]))
    assert (response.status_code, response.url) == (302, f"/patients/{zoe.pk}/letters/new/")


def test_an_issued_letter_is_in_the_story_once_and_in_the_contact_log(nurse_client, nurse):
    patient = letter_patient(team=nurse.team, named_nurse=nurse)
    letter = letter_issue(patient=patient, kind=LetterKind.CARE_PLAN, by=nurse)
    response = nurse_client.get(reverse("followup:patient_detail", args=[patient.pk]))
    history = response.context["timeline"].history
    assert [e.category for e in history if e.category in ("letter", "contact")] == ["letter"]
    assert response.context["contact_log"]["latest"] == [letter.contact]
