"""A patient's contact details and GP practice: read the one way (postcode, UK phone numbers, ODS code),
changed through one versioned action, shown on the patient page where a nurse about to phone sees them,
kept in the history, and in the admin site for admins only."""

import html
import re

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.urls import reverse

from followup import choices as c
from followup import services
from followup.history import patient_history
from followup.models import GPPractice, Patient
from followup.services import ConflictError
from followup.uk import normalise_phone, normalise_postcode, tel_digits

from .factories import GPPracticeFactory, PatientFactory, UserFactory


def url(name, *args):
    return reverse(f"followup:{name}", args=args)


def body(response) -> str:
    return response.content.decode()


def error_beside(response, field) -> str:
    match = re.search(
        rf'<span class="nhsuk-error-message" id="id_{field}-error">(.*?)</span>\s*(?=<|$)', body(response)
    )
    if not match:
        return ""
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1)).replace("Error: ", "", 1)).strip()


def summary_links(response) -> list[str]:
    summary = re.search(r'<div class="nhsuk-error-summary".*?</ul>', body(response), re.S).group(0)
    return re.findall(r'<a href="#([^"]*)"', summary)


@pytest.fixture
def practice(db):
    return GPPracticeFactory(ods_code="Y90042", name="Imaginary Road Surgery", phone="01632 960042")


def contact_post(patient, **changes) -> dict:
    data = {
        "version": patient.version,
        "address_line_1": "12 Imaginary Road",
        "address_line_2": "",
        "town": "Testville",
        "postcode": "zz99 3vz",
        "phone_mobile": "+44 7700 900123",
        "phone_home": "01632960456",
        "email": "ada@example.com",
        "preferred_contact": c.ContactPreference.MOBILE,
        "messages_may_be_left": "no",
        "next_of_kin_name": "Grace Hopper",
        "next_of_kin_relationship": "Daughter",
        "next_of_kin_phone": "07700 900999",
        "interpreter_needed": "yes",
        "interpreter_language": "Polish",
        "accessible_information": "Large print",
        "gp_ods_code": "y90042",
    }
    return data | changes


# Reading postcodes and numbers ------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("ls1 4ab", "LS1 4AB"),
        ("LS14AB", "LS1 4AB"),
        ("  sw1a   1aa ", "SW1A 1AA"),
        ("zz993vz", "ZZ99 3VZ"),
        ("M1 1AE", "M1 1AE"),
        ("LS1", ""),
        ("12345", ""),
        ("LS1 4AB X", ""),
    ],
)
def test_a_postcode_is_stored_in_capitals_with_one_space(typed, stored):
    assert normalise_postcode(typed) == stored


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("07700900123", "07700 900123"),
        ("+44 7700 900123", "07700 900123"),
        ("+44 (0)7700 900123", "07700 900123"),
        ("0044 7700 900123", "07700 900123"),
        ("01632 960123", "01632 960123"),
        ("0113 496 0123", "0113 496 0123"),
        ("0161-496-0000", "0161 496 0000"),
        ("02079460123", "020 7946 0123"),
        ("0300 123 4567", "0300 123 4567"),
        ("016977 4567", "01697 74567"),
        ("07700 90012", ""),  # a mobile number one digit short
        ("7700 900123", ""),
        ("+33 1 23 45 67 89", ""),
        ("call after 5", ""),
    ],
)
def test_a_uk_phone_number_is_stored_as_it_is_read_out(typed, stored):
    assert normalise_phone(typed) == stored


def test_a_tel_link_dials_the_digits():
    assert tel_digits("07700 900123") == "07700900123"


# The service -----------------------------------------------------------------------------------


def test_service_stores_the_details_read_the_one_way(nurse, patient, practice):
    saved = services.patient_update_contact_details(
        patient=patient,
        by=nurse,
        expected_version=patient.version,
        gp_ods_code=" y90042 ",
        postcode="ls1 4ab",
        phone_mobile="+44 7700 900123",
        next_of_kin_phone="01632960999",
        interpreter_needed=True,
        interpreter_language=" Polish ",
        messages_may_be_left=False,
    )
    saved.refresh_from_db()
    assert (saved.postcode, saved.phone_mobile, saved.next_of_kin_phone) == (
        "LS1 4AB",
        "07700 900123",
        "01632 960999",
    )
    assert (saved.interpreter_needed, saved.interpreter_language, saved.messages_may_be_left) == (True, "Polish", False)
    assert saved.gp_practice == practice
    assert (saved.version, saved.updated_by) == (patient.version + 1, nurse)


def test_service_names_every_field_in_error_and_saves_nothing(nurse, patient):
    with pytest.raises(ValidationError) as refused:
        services.patient_update_contact_details(
            patient=patient,
            by=nurse,
            expected_version=patient.version,
            gp_ods_code="Y99999",
            postcode="LS1",
            phone_home="12345",
            interpreter_needed=True,
            interpreter_language="",
        )
    assert refused.value.message_dict == {
        "postcode": ["Enter a full UK postcode, like LS1 4AB"],
        "phone_home": ["Enter a UK phone number, like 07700 900123 or 0113 496 0123"],
        "interpreter_language": ["Enter the language the interpreter is needed for"],
        "gp_ods_code": ["No GP practice has the ODS code Y99999. Ask an admin to add it."],
    }
    assert Patient.objects.get(pk=patient.pk).version == patient.version
    assert not GPPractice.objects.exists()  # never created from a typed code


def test_service_forgets_the_language_when_no_interpreter_is_needed(nurse, patient):
    services.patient_update_contact_details(
        patient=patient, by=nurse, expected_version=None, interpreter_needed=True, interpreter_language="Urdu"
    )
    saved = services.patient_update_contact_details(
        patient=patient, by=nurse, expected_version=None, interpreter_needed=False, interpreter_language="Urdu"
    )
    assert (saved.interpreter_needed, saved.interpreter_language) == (False, "")


def test_service_removes_the_gp_practice_with_an_empty_code_and_keeps_it_without_one(nurse, patient, practice):
    services.patient_update_contact_details(patient=patient, by=nurse, expected_version=None, gp_ods_code="Y90042")
    kept = services.patient_update_contact_details(patient=patient, by=nurse, expected_version=None, town="Testville")
    assert kept.gp_practice == practice
    removed = services.patient_update_contact_details(patient=patient, by=nurse, expected_version=None, gp_ods_code="")
    assert removed.gp_practice is None


def test_service_refuses_a_stale_version_and_fields_it_does_not_own(nurse, patient):
    with pytest.raises(ConflictError):
        services.patient_update_contact_details(
            patient=patient, by=nurse, expected_version=patient.version - 1, town="Testville"
        )
    with pytest.raises(ValueError, match="Not contact details: nhs_number"):
        services.patient_update_contact_details(patient=patient, by=nurse, expected_version=None, nhs_number="1")


# The page --------------------------------------------------------------------------------------


def test_change_contact_details_saves_and_shows_the_practice_by_name(nurse_client, nurse, patient, practice):
    page = nurse_client.get(url("patient_contact_details", patient.pk))
    assert page.status_code == 200
    assert '<h1 class="nhsuk-heading-l">Change contact details</h1>' in body(page)
    response = nurse_client.post(url("patient_contact_details", patient.pk), contact_post(patient), follow=True)
    assert response.redirect_chain == [(url("patient_detail", patient.pk), 302)]
    assert "Contact details saved. GP practice: Imaginary Road Surgery (Y90042)." in body(response)
    saved = Patient.objects.select_related("gp_practice").get(pk=patient.pk)
    assert (saved.postcode, saved.phone_mobile, saved.phone_home, saved.next_of_kin_phone) == (
        "ZZ99 3VZ",
        "07700 900123",
        "01632 960456",
        "07700 900999",
    )
    assert (saved.messages_may_be_left, saved.interpreter_language, saved.gp_practice) == (False, "Polish", practice)
    assert (saved.preferred_contact, saved.accessible_information, saved.updated_by) == ("mobile", "Large print", nurse)


def test_the_form_opens_with_what_is_recorded(nurse_client, nurse, patient, practice):
    services.patient_update_contact_details(
        patient=patient,
        by=nurse,
        expected_version=None,
        gp_ods_code="Y90042",
        phone_mobile="07700 900123",
        messages_may_be_left=None,
        interpreter_needed=True,
        interpreter_language="Polish",
    )
    page = body(nurse_client.get(url("patient_contact_details", patient.pk)))
    assert 'value="Y90042"' in page and 'value="07700 900123"' in page
    assert "Recorded now: Imaginary Road Surgery (Y90042)." in page
    assert re.search(r'id="id_messages_may_be_left_2"[^>]*value="not_asked" checked', page)
    # The language is revealed under "Yes" (the design system's conditional reveal), not on its own.
    assert re.search(r'value="yes" checked data-reveals="conditional-id_interpreter_needed_0"', page)
    reveal = re.search(
        r'<div class="nhsuk-radios__conditional" id="conditional-id_interpreter_needed_0">(.*?)</div>\s*</div>',
        page,
        re.S,
    )
    assert reveal and 'name="interpreter_language"' in reveal.group(1)
    assert page.count('name="interpreter_language"') == 1


@pytest.mark.parametrize(
    "field, typed, message",
    [
        ("postcode", "LS1", "Enter a full UK postcode, like LS1 4AB"),
        ("phone_mobile", "0770090012", "Enter a UK phone number, like 07700 900123 or 0113 496 0123"),
        ("phone_home", "+33 1 23 45 67 89", "Enter a UK phone number, like 07700 900123 or 0113 496 0123"),
        ("next_of_kin_phone", "call her", "Enter a UK phone number, like 07700 900123 or 0113 496 0123"),
        ("gp_ods_code", "y12345", "No GP practice has the ODS code Y12345. Ask an admin to add it."),
        ("interpreter_language", "", "Enter the language the interpreter is needed for"),
        ("email", "ada-at-example", "Enter an email address in the correct format, like name@example.com"),
    ],
)
def test_a_refusal_is_shown_next_to_its_field_and_in_the_summary(
    field, typed, message, nurse_client, patient, practice
):
    response = nurse_client.post(url("patient_contact_details", patient.pk), contact_post(patient, **{field: typed}))
    assert response.status_code == 200
    assert error_beside(response, field) == message
    assert summary_links(response) == [f"id_{field}"]
    assert Patient.objects.get(pk=patient.pk).version == patient.version
    # What the nurse typed stays in the form.
    if typed:
        assert f'value="{html.escape(typed)}"' in body(response)


def test_the_two_questions_must_be_answered(nurse_client, patient):
    data = contact_post(patient)
    del data["messages_may_be_left"], data["interpreter_needed"]
    response = nurse_client.post(url("patient_contact_details", patient.pk), data)
    assert error_beside(response, "messages_may_be_left") == "Select whether messages may be left, or 'Not asked'"
    assert error_beside(response, "interpreter_needed") == "Select whether an interpreter is needed"


def test_a_stale_form_is_refused_with_the_conflict_page(nurse_client, priya, patient, practice):
    opened = patient.version
    services.patient_update_contact_details(patient=patient, by=priya, expected_version=None, phone_home="01632 960111")
    response = nurse_client.post(url("patient_contact_details", patient.pk), contact_post(patient, version=opened))
    assert response.status_code == 409
    assert "Priya Shah changed this record" in body(response)
    assert Patient.objects.get(pk=patient.pk).phone_home == "01632 960111"
    rows = response.context["conflict"].rows
    assert ("Home phone", "–", "01632 960111", "01632960456") in rows
    assert ("GP practice ODS code", "–", "–", "y90042") in rows  # the nurse's own change, not yet saved
    # Her practice and answer already saved as the nurse enters them: no difference to show.
    services.patient_update_contact_details(
        patient=patient, by=priya, expected_version=None, gp_ods_code="Y90042", messages_may_be_left=False
    )
    opened = Patient.objects.get(pk=patient.pk).version
    services.patient_update_contact_details(patient=patient, by=priya, expected_version=None, phone_home="01632 960222")
    stale = nurse_client.post(url("patient_contact_details", patient.pk), contact_post(patient, version=opened))
    labels = [row[0] for row in stale.context["conflict"].rows]
    assert "Home phone" in labels
    assert "GP practice ODS code" not in labels
    assert "May messages be left (voicemail, or with whoever answers)?" not in labels


def test_another_teams_patient_is_404_and_a_clinician_is_refused_403(client, nurse, other_nurse, patient):
    client.force_login(other_nurse)
    for response in (
        client.get(url("patient_contact_details", patient.pk)),
        client.post(url("patient_contact_details", patient.pk), contact_post(patient)),
    ):
        assert response.status_code == 404
        assert patient.family_name not in body(response) and patient.family_name.upper() not in body(response)
    clinician = UserFactory(username="dr.lee", team=nurse.team, role=c.Role.CLINICIAN)
    client.force_login(clinician)
    assert client.get(url("patient_contact_details", patient.pk)).status_code == 403
    assert client.post(url("patient_contact_details", patient.pk), contact_post(patient)).status_code == 403
    assert Patient.objects.get(pk=patient.pk).version == patient.version
    # The patient page shows a clinician the details, without the link to change them.
    page = body(client.get(url("patient_detail", patient.pk)))
    assert 'id="contact-details"' in page and "Change contact details" not in page


# The patient page ------------------------------------------------------------------------------


def test_patient_page_shows_how_to_reach_the_patient_and_the_gp(nurse_client, nurse, patient, practice):
    services.patient_update_contact_details(
        patient=patient,
        by=nurse,
        expected_version=None,
        gp_ods_code="Y90042",
        address_line_1="12 Imaginary Road",
        town="Testville",
        postcode="ZZ99 3VZ",
        phone_mobile="07700 900123",
        phone_home="01632 960456",
        preferred_contact=c.ContactPreference.HOME,
        messages_may_be_left=False,
        next_of_kin_name="Grace Hopper",
        next_of_kin_relationship="Daughter",
        next_of_kin_phone="07700 900999",
        interpreter_needed=True,
        interpreter_language="Polish",
        accessible_information="Large print",
    )
    page = body(nurse_client.get(url("patient_detail", patient.pk)))
    card = re.search(r'<section class="nhsuk-card app-contact-details".*?</section>', page, re.S).group(0)
    assert '<a class="nhsuk-link nhsuk-u-nowrap" href="tel:07700900123">07700 900123</a>' in card
    assert 'href="tel:01632960456"' in card and 'href="tel:07700900999"' in card
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", card))
    for words in (
        "Interpreter Interpreter needed: Polish",
        "Accessible information Large print",
        "Preferred way of contact Home phone",
        "Messages may be left No",
        "Address 12 Imaginary Road Testville ZZ99 3VZ",
        "Next of kin or carer Grace Hopper (Daughter) 07700 900999",
        "GP practice Imaginary Road Surgery ODS code Y90042 1 Fictional Lane Testville ZZ99 3AA 01632 960042",
        "Change contact details",
    ):
        assert words in text, words
    # Before anything else on the page: the banner says what a nurse must know before phoning.
    banner = re.search(r'<section class="app-banner".*?</section>', page, re.S).group(0)
    assert "Interpreter needed: Polish" in banner and "Large print" in banner and "Messages may be left: No" in banner
    assert "<dt>Sex</dt><dd>Female</dd>" in banner


def test_patient_page_says_plainly_what_is_not_recorded(nurse_client, patient):
    page = body(nurse_client.get(url("patient_detail", patient.pk)))
    card = re.search(r'<section class="nhsuk-card app-contact-details".*?</section>', page, re.S).group(0)
    assert "<strong>No GP practice recorded</strong>" in card
    assert 'Messages may be left</dt><dd class="nhsuk-summary-list__value">Not asked' in card
    assert 'id="communication-needs"' not in page
    assert f'href="{url("patient_contact_details", patient.pk)}"' in card


def test_the_banner_shows_sex_on_every_action_page(nurse_client, nurse, team):
    male = PatientFactory(team=team, named_nurse=nurse, sex=c.Sex.MALE)
    for name in ("patient_contact_details", "item_add", "patient_detail"):
        assert "<dt>Sex</dt><dd>Male</dd>" in body(nurse_client.get(url(name, male.pk))), name


# History ---------------------------------------------------------------------------------------


def test_history_page_shows_contact_changes_with_their_labels(nurse_client, nurse, patient, practice):
    services.patient_update_contact_details(
        patient=patient,
        by=nurse,
        expected_version=None,
        gp_ods_code="Y90042",
        phone_mobile="07700 900123",
        messages_may_be_left=False,
        interpreter_needed=True,
        interpreter_language="Polish",
        next_of_kin_relationship="Son",
    )
    latest = patient_history(patient)[0]
    assert sorted(latest.changes) == sorted(
        [
            ("GP practice", "–", "Imaginary Road Surgery (Y90042)"),
            ("Mobile phone", "–", "07700 900123"),
            ("Messages may be left", "Not asked", "No"),
            ("Interpreter needed", "No", "Yes"),
            ("Interpreter language", "–", "Polish"),
            ("Next of kin's relationship", "–", "Son"),
        ]
    )
    page = body(nurse_client.get(url("patient_history", patient.pk)))
    for words in (
        "Imaginary Road Surgery (Y90042)",
        "07700 900123",
        "Interpreter language",
        "Next of kin&#x27;s relationship",
    ):
        assert words in page, words


# The admin site --------------------------------------------------------------------------------


def test_an_admin_adds_and_changes_a_gp_practice_in_the_admin_site(client, admin_user):
    client.force_login(admin_user)
    add = reverse("admin:followup_gppractice_add")
    fields = {
        "ods_code": "Y90077",
        "name": "Pretend Close Surgery",
        "address_line_1": "7 Pretend Close",
        "town": "Testville",
        "postcode": "ZZ99 3VZ",
        "phone": "01632 960077",
    }
    assert client.post(add, fields).status_code == 302
    practice = GPPractice.objects.get(ods_code="Y90077")
    change = reverse("admin:followup_gppractice_change", args=[practice.pk])
    assert client.post(change, fields | {"name": "Pretend Close Medical Centre"}).status_code == 302
    practice.refresh_from_db()
    assert practice.name == "Pretend Close Medical Centre"
    assert practice.history.count() == 2  # who changed it, and when
    refused = client.post(add, fields | {"ods_code": "12345"})
    assert "Enter the practice&#x27;s ODS code" in body(refused) or "ODS code" in body(refused)
    assert GPPractice.objects.count() == 1


def test_a_nurse_may_not_add_or_change_a_practice_even_with_admin_site_access(client, nurse, practice):
    # Given the admin site and the practice permissions by mistake: still not the practices.
    nurse.is_staff = True
    nurse.save()
    nurse.user_permissions.set(Permission.objects.filter(codename__endswith="_gppractice"))
    client.force_login(nurse)
    assert client.get(reverse("admin:followup_gppractice_add")).status_code == 403
    change = reverse("admin:followup_gppractice_change", args=[practice.pk])
    assert client.get(change).status_code == 403
    assert client.post(change, {"ods_code": "Y90042", "name": "Hijacked"}).status_code == 403
    assert GPPractice.objects.get(pk=practice.pk).name == "Imaginary Road Surgery"
    plain = UserFactory(username="sam", team=nurse.team, role=c.Role.NURSE)
    client.force_login(plain)
    assert client.get(reverse("admin:followup_gppractice_add")).status_code == 302  # to the admin login


def test_a_practice_with_patients_cannot_be_deleted(client, admin_user, nurse, patient, practice):
    services.patient_update_contact_details(patient=patient, by=nurse, expected_version=None, gp_ods_code="Y90042")
    client.force_login(admin_user)
    delete = reverse("admin:followup_gppractice_delete", args=[practice.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert GPPractice.objects.filter(pk=practice.pk).exists()
