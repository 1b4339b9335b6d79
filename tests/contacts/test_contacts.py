"""The contact log (issue 14): the contact_record service's refusals, the "Log a contact" page,
scope and role, entered in error, history, the timeline, the patient page's section, the patient's
contacts page, and the last contact on worklist rows."""

import html
import re
from datetime import datetime, time, timedelta
from urllib.parse import quote

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact, ContactKind
from contacts.services import contact_record
from followup import choices as c
from followup import services
from followup.worklists import WORKLISTS

from ..factories import (
    ContactFactory,
    FollowUpItemFactory,
    PatientFactory,
    RestagingEpisodeFactory,
    StagingTestFactory,
    UserFactory,
)

TODAY = timezone.localdate()


def days(n):
    return TODAY + timedelta(days=n)


def at(day, hour=10, minute=30):
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def add_url(patient):
    return reverse("contacts:contact_add", args=[patient.pk])


def body(response) -> str:
    return response.content.decode()


def text(fragment) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", str(fragment))).split())


def error_beside(response, field) -> str:
    """The error shown beside a field ("" for none): its span carries id="id_<field>-error"."""
    match = re.search(
        rf'<span class="nhsuk-error-message" id="id_{field}-error">(.*?)</span>\s*(?=<|$)', body(response)
    )
    return text(match.group(1)).replace("Error: ", "", 1) if match else ""


def post_data(nurse, **changes):
    """A call made a minute ago, not answered, no message left."""
    now = timezone.localtime() - timedelta(minutes=1)
    data = {
        "kind": ContactKind.PHONE_OUT,
        "answered": "no",
        "message_left": "no",
        "contacted_on_0": str(now.day),
        "contacted_on_1": str(now.month),
        "contacted_on_2": str(now.year),
        "contacted_time": now.strftime("%H:%M"),
        "with_whom": "patient",
        "summary": "Phoned to arrange the overdue mammogram.",
        "outcome": "Will try again tomorrow morning.",
        "by": nurse.pk,
    }
    return data | changes


@pytest.fixture
def clinician(team):
    return UserFactory(username="sam", team=team, role=c.Role.CLINICIAN)


@pytest.fixture
def ann(nurse):
    """A patient who has asked that no messages are left, and needs an interpreter."""
    return PatientFactory(
        team=nurse.team,
        named_nurse=nurse,
        given_name="Ann",
        family_name="Green",
        phone_mobile="07700 900123",
        phone_home="01632 960456",
        preferred_contact=c.ContactPreference.HOME,
        messages_may_be_left=False,
        interpreter_needed=True,
        interpreter_language="Polish",
    )


# The service --------------------------------------------------------------------------------------------


def test_contact_record_refuses_a_message_left_where_the_patient_said_no(nurse, ann):
    with pytest.raises(ValidationError) as refused:
        contact_record(
            patient=ann, kind=ContactKind.PHONE_OUT, contacted_at=at(days(-1)), by=nurse,
            summary="No answer.", answered=False, message_left=True,
        )  # fmt: skip
    assert list(refused.value.message_dict) == ["message_left"]
    assert Contact.all_objects.count() == 0


def test_contact_record_leaves_a_message_where_the_patient_was_not_asked(nurse, patient):
    assert patient.messages_may_be_left is None
    contact = contact_record(
        patient=patient, kind=ContactKind.PHONE_OUT, contacted_at=at(days(-1)), by=nurse,
        summary="Voicemail.", answered=False, message_left=True,
    )  # fmt: skip
    assert (contact.in_words, contact.created_by, contact.version) == ("phoned, no answer, message left", nurse, 1)


def test_contact_record_refuses_someone_of_another_team(nurse, other_nurse, patient):
    with pytest.raises(ValidationError) as refused:
        contact_record(patient=patient, kind=ContactKind.CLINIC, contacted_at=at(days(-1)), by=other_nurse, summary="x")
    assert refused.value.message_dict == {"by": ["Choose a member of the patient's team."]}


def test_contact_record_refuses_a_time_later_today_and_a_date_in_the_future(nurse, patient):
    later = timezone.localtime() + timedelta(minutes=30)
    for when, code in ((later, "time"), (at(days(2)), "date")):
        with pytest.raises(ValidationError) as refused:
            contact_record(patient=patient, kind=ContactKind.CLINIC, contacted_at=when, by=nurse, summary="x")
        assert [e.code for e in refused.value.error_dict["contacted_at"]] == [code]
    assert Contact.all_objects.count() == 0


def test_contact_record_refuses_a_date_before_birth(nurse, patient):
    born = patient.date_of_birth
    with pytest.raises(ValidationError) as refused:
        contact_record(
            patient=patient, kind=ContactKind.LETTER, contacted_at=at(born - timedelta(days=1)), by=nurse, summary="x"
        )
    assert refused.value.message_dict["contacted_at"][0].startswith("The date of the contact cannot be before the date")


def test_contact_record_names_who_made_it_and_who_recorded_it(nurse, priya, patient):
    contact = contact_record(
        patient=patient, kind=ContactKind.PHONE_IN, contacted_at=at(days(-1)), by=priya, summary="Rang about a rash.",
        answered=True, message_left=False, recorded_by=nurse,
    )  # fmt: skip
    # A call received has no "answered": it is dropped, not stored.
    assert (contact.by, contact.created_by, contact.answered) == (priya, nurse, None)


# The "Log a contact" page ---------------------------------------------------------------------------------


def test_log_a_contact_page_shows_how_to_contact_the_patient(nurse_client, nurse, ann):
    response = nurse_client.get(add_url(ann))
    details = text(re.search(r'<section class="nhsuk-card app-contact-details".*?</section>', body(response), re.S)[0])
    assert details == (
        "How to contact GREEN, Ann Mobile phone 07700 900123 Home phone 01632 960456 "
        "Preferred way of contact Home phone Messages may be left No: do not leave a message "
        "Interpreter Needed: Polish Next of kin or carer Not recorded"
    )
    assert '<strong id="no-messages">This patient has asked that no messages are left.</strong>' in body(response)
    # Today and now already filled in; the signed-in nurse chosen.
    form = response.context["form"]
    assert form["contacted_on"].value() == TODAY
    assert re.fullmatch(r"\d\d:\d\d", form["contacted_time"].value())
    assert form["by"].value() == nurse.pk


def test_log_a_contact_saves_a_call_and_goes_back_to_the_list(nurse_client, nurse, patient):
    overdue = reverse("followup:worklist", args=["overdue"]) + "?nurse=all"
    data = post_data(nurse, message_left="yes", next=overdue)
    response = nurse_client.post(add_url(patient), data)
    assert response.status_code == 302 and response["Location"] == overdue
    contact = Contact.objects.get()
    assert (contact.patient, contact.kind, contact.answered, contact.message_left, contact.by) == (
        patient, ContactKind.PHONE_OUT, False, True, nurse
    )  # fmt: skip
    assert (contact.summary, contact.outcome) == (data["summary"], data["outcome"])
    assert timezone.localtime(contact.contacted_at).strftime("%H:%M") == data["contacted_time"]


def test_log_a_contact_shows_each_error_beside_its_field_and_keeps_what_was_typed(nurse_client, nurse, patient):
    data = post_data(nurse, answered="", summary="", contacted_time="25:10")
    response = nurse_client.post(add_url(patient), data)
    assert response.status_code == 200
    assert error_beside(response, "answered") == "Select whether the call was answered"
    assert error_beside(response, "summary") == "Enter a summary of the contact"
    assert (
        error_beside(response, "contacted_time") == "Time must be a real time in the 24-hour clock, for example 14:30"
    )
    page = body(response)
    assert 'value="25:10"' in page
    assert "Will try again tomorrow morning.</textarea>" in page
    assert re.search(r'value="phone_out" checked data-reveals="conditional-call"', page)
    # The call's questions are shown open: the call made is still chosen.
    assert '<div class="nhsuk-radios__conditional" id="conditional-call">' in page
    assert Contact.all_objects.count() == 0


def test_log_a_contact_without_the_type_asks_for_it(nurse_client, nurse, patient):
    response = nurse_client.post(add_url(patient), post_data(nurse, kind=""))
    assert error_beside(response, "kind") == "Select the type of contact"
    assert '<a href="#id_kind_0">Select the type of contact</a>' in body(response)


def test_log_a_contact_asks_whether_a_message_was_left_on_an_unanswered_call(nurse_client, nurse, patient):
    response = nurse_client.post(add_url(patient), post_data(nurse, message_left=""))
    assert error_beside(response, "message_left") == "Select whether a message was left"


def test_log_a_contact_refuses_a_message_where_the_patient_said_no(nurse_client, nurse, ann):
    response = nurse_client.post(add_url(ann), post_data(nurse, message_left="yes"))
    assert response.status_code == 200
    assert error_beside(response, "message_left") == (
        "This patient has asked that no messages are left. Record the call without a message."
    )
    assert Contact.all_objects.count() == 0
    response = nurse_client.post(add_url(ann), post_data(nurse, message_left="no"))
    assert response.status_code == 302
    assert Contact.objects.get().in_words == "phoned, no answer"


def test_log_a_contact_puts_a_time_in_the_future_beside_the_time(nurse_client, nurse, patient):
    later = timezone.localtime() + timedelta(hours=2)
    if later.date() != TODAY:
        pytest.skip("late in the day: two hours on is tomorrow")
    response = nurse_client.post(add_url(patient), post_data(nurse, contacted_time=later.strftime("%H:%M")))
    assert error_beside(response, "contacted_time") == "The time of the contact cannot be in the future."
    tomorrow = days(1)
    response = nurse_client.post(
        add_url(patient),
        post_data(nurse, contacted_on_0=tomorrow.day, contacted_on_1=tomorrow.month, contacted_on_2=tomorrow.year),
    )
    assert error_beside(response, "contacted_on") == "The date of the contact cannot be in the future."


def test_log_a_contact_other_than_a_call_made_drops_the_call_questions(nurse_client, nurse, priya, patient):
    data = post_data(nurse, kind=ContactKind.CLINIC, answered="no", message_left="yes", with_whom="next_of_kin")
    response = nurse_client.post(add_url(patient), data | {"by": priya.pk})
    assert response.status_code == 302
    contact = Contact.objects.get()
    assert (contact.kind, contact.answered, contact.message_left, contact.with_whom) == (
        "clinic",
        None,
        False,
        "next_of_kin",
    )
    assert (contact.by, contact.created_by) == (priya, nurse)  # made by Priya, recorded by Alex


def test_log_a_contact_offers_only_the_patient_team(nurse_client, nurse, priya, other_nurse, patient):
    response = nurse_client.get(add_url(patient))
    assert set(response.context["form"].fields["by"].queryset) == {nurse, priya}
    response = nurse_client.post(add_url(patient), post_data(nurse, by=other_nurse.pk))
    assert error_beside(response, "by") == "Select who made or took the contact"


# Scope and role --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["contacts:contact_add", "contacts:patient_contacts"])
def test_another_team_gets_not_found(client, other_nurse, patient, name):
    client.force_login(other_nurse)
    assert client.get(reverse(name, args=[patient.pk])).status_code == 404
    assert client.post(add_url(patient), post_data(other_nurse)).status_code == 404
    assert Contact.all_objects.count() == 0


def test_a_clinician_may_read_the_contacts_but_not_log_one(client, clinician, nurse, patient):
    ContactFactory(patient=patient)
    client.force_login(clinician)
    assert client.get(add_url(patient)).status_code == 403
    assert client.post(add_url(patient), post_data(nurse)).status_code == 403
    response = client.get(reverse("contacts:patient_contacts", args=[patient.pk]))
    assert response.status_code == 200
    assert "Log a contact" not in body(response) and "Entered in error" not in body(response)
    assert Contact.all_objects.count() == 1


# Entered in error, history ---------------------------------------------------------------------------------


def test_a_contact_is_marked_entered_in_error_never_deleted(nurse_client, nurse, patient):
    contact = ContactFactory(patient=patient)
    url = reverse("followup:entered_in_error", args=["contact", contact.pk])
    response = nurse_client.post(url, {"reason": "Wrong patient", "version": contact.version})
    assert response.status_code == 302
    contact = Contact.all_objects.get()
    assert (contact.entered_in_error, contact.error_reason, contact.error_marked_by) == (True, "Wrong patient", nurse)
    assert list(Contact.objects.all()) == []
    # The patient page strikes it through in the history; the contacts section leaves it out.
    page = nurse_client.get(reverse("followup:patient_detail", args=[patient.pk]))
    assert page.context["contact_log"] == {"latest": [], "count": 0, "more": False}
    assert [e.error.reason for e in page.context["timeline"].history if e.category == "contact"] == ["Wrong patient"]


def test_another_team_cannot_mark_a_contact_in_error(client, other_nurse, patient):
    contact = ContactFactory(patient=patient)
    client.force_login(other_nurse)
    url = reverse("followup:entered_in_error", args=["contact", contact.pk])
    assert client.post(url, {"reason": "x", "version": 1}).status_code == 404
    assert Contact.objects.get().entered_in_error is False


def test_history_page_shows_the_contacts_changes(nurse_client, nurse, patient):
    contact = contact_record(
        patient=patient, kind=ContactKind.PHONE_OUT, contacted_at=at(days(-1), 9, 5), by=nurse,
        summary="No answer.", answered=False,
    )  # fmt: skip
    services.record_mark_entered_in_error(record=contact, reason="Wrong number dialled", by=nurse)
    response = nurse_client.get(reverse("followup:patient_history", args=[patient.pk]))
    changes = [ch for ch in response.context["changes"] if ch.record.startswith("Contact:")]
    assert [ch.kind for ch in changes] == ["Marked entered in error", "Created"]
    created = {name: after for name, _before, after in changes[1].changes}
    assert (created["Type of contact"], created["Who"], created["Summary"]) == (
        "Telephone call made", nurse.get_full_name() or nurse.username, "No answer."
    )  # fmt: skip
    assert ("Error reason", "–", "Wrong number dialled") in changes[0].changes


# The patient page: timeline, section ----------------------------------------------------------------------


def test_timeline_tells_each_contact_with_its_summary_outcome_and_who(nurse_client, nurse, priya, patient):
    nurse.first_name, nurse.last_name = "Alex", "Morgan"
    nurse.save()
    contact_record(
        patient=patient, kind=ContactKind.PHONE_OUT, contacted_at=at(days(-2), 14, 30), by=nurse,
        summary="Phoned about the mammogram.", outcome="Will ring back.", answered=False, message_left=True,
    )  # fmt: skip
    contact_record(
        patient=patient, kind=ContactKind.PHONE_IN, contacted_at=at(days(-1), 9, 0), by=priya,
        summary="Her daughter rang back.", with_whom="next_of_kin",
    )  # fmt: skip
    response = nurse_client.get(reverse("followup:patient_detail", args=[patient.pk]))
    events = [(e.on, e.title, e.detail) for e in response.context["timeline"].history if e.category == "contact"]
    assert events == [
        (
            days(-1),
            "Telephone call received, with next of kin or carer",
            "Her daughter rang back. By Priya Shah at 09:00.",
        ),
        (
            days(-2),
            "Telephone call made — no answer, message left",
            "Phoned about the mammogram. Outcome: Will ring back. By Alex Morgan at 14:30.",
        ),
    ]


def test_patient_page_lists_the_latest_five_contacts_and_links_to_all(nurse_client, nurse, patient):
    contacts = [ContactFactory(patient=patient, contacted_at=at(days(-n))) for n in range(1, 8)]
    response = nurse_client.get(reverse("followup:patient_detail", args=[patient.pk]))
    section = response.context["contact_log"]
    assert (section["latest"], section["count"], section["more"]) == (contacts[:5], 7, True)
    page = body(response)
    assert f'href="{reverse("contacts:patient_contacts", args=[patient.pk])}">All 7 contacts</a>' in page
    assert f'id="log-contact" href="{add_url(patient)}">Log a contact</a>' in page
    listed = nurse_client.get(reverse("contacts:patient_contacts", args=[patient.pk]))
    assert listed.context["contacts"] == contacts


@pytest.mark.parametrize("rows", [1, 3])
def test_patient_page_with_contacts_query_count_is_constant(rows, nurse_client, nurse, priya, patient,
                                                             django_assert_num_queries):  # fmt: skip
    FollowUpItemFactory(patient=patient, due_on=days(-60))
    for n in range(rows):
        ContactFactory(patient=patient, by=priya if n % 2 else nurse, contacted_at=at(days(-n - 1)))
    skipped = {"staging-results", "restaging", "distant-not-recorded", "symptoms", "mdt-not-discussed"}
    skipped |= {"my-tasks", "team-tasks"}  # their own section, from the tasks prefetch
    skipped |= {"unmatched-results"}  # never on the patient page: most unmatched results have no patient
    skipped |= {"pifu-ending"}  # only for a patient on PIFU with a period
    # session, user, access check, the access-log row, the patient; 6 prefetches (primaries, items,
    # recurrences, symptoms, tasks, contacts with who made them); one query per worklist that may hold the patient;
    # the letters (letters.patient_page).
    with django_assert_num_queries(5 + 6 + len(WORKLISTS) - len(skipped) + 1):
        response = nurse_client.get(reverse("followup:patient_detail", args=[patient.pk]))
    assert response.context["contact_log"]["count"] == rows


@pytest.mark.parametrize("rows", [1, 3])
def test_patient_contacts_page_query_count_is_constant(rows, nurse_client, nurse, priya, patient,
                                                        django_assert_num_queries):  # fmt: skip
    for n in range(rows):
        ContactFactory(patient=patient, by=priya if n % 2 else nurse)
    # session, user, access check, the access-log row, the contacts (with who made and who marked them),
    # the banner's named nurse
    with django_assert_num_queries(6):
        response = nurse_client.get(reverse("contacts:patient_contacts", args=[patient.pk]))
    assert len(response.context["contacts"]) == rows


# Worklist rows: the last contact, and "Log a contact" -----------------------------------------------------


def day_words(when) -> str:
    return f"{when.day} {when:%b}" + ("" if when.year == TODAY.year else f" {when.year}")


def row_of(response, name: str) -> str:
    rows = re.findall(r'<tr class="nhsuk-table__row[^"]*">(.*?)</tr>', body(response), re.S)
    return next(row for row in rows if name in row)


def test_overdue_row_says_the_last_contact(nurse_client, nurse, patient):
    patient.given_name, patient.family_name = "Mary", "Brown"
    patient.save()
    FollowUpItemFactory(patient=patient, due_on=days(-60))
    ContactFactory(patient=patient, contacted_at=at(days(-9)), answered=True)
    ContactFactory(patient=patient, contacted_at=at(days(-3)), answered=False)
    wrong = ContactFactory(patient=patient, contacted_at=at(days(-1)), kind="clinic", answered=None)
    services.record_mark_entered_in_error(record=wrong, reason="Not this patient", by=nurse)
    response = nurse_client.get(reverse("followup:worklist", args=["overdue"]))
    row = row_of(response, "BROWN, Mary")
    assert text(re.search(r'<span class="app-row-secondary app-last-contact">(.*?)</span>', row)[1]) == (
        f"Last contact: phoned {day_words(days(-3))}, no answer"
    )


def test_a_row_without_contacts_says_nothing_of_them(nurse_client, patient):
    FollowUpItemFactory(patient=patient, due_on=days(-60))
    response = nurse_client.get(reverse("followup:worklist", args=["overdue"]))
    assert "app-last-contact" not in body(response)


def _one_row(slug, patient, nurse):
    match slug:
        case "overdue":
            FollowUpItemFactory(patient=patient, due_on=days(-60))
        case "due-soon":
            FollowUpItemFactory(patient=patient, due_on=days(3))
        case "results":
            FollowUpItemFactory(patient=patient, status=c.FollowUpStatus.DONE, done_on=days(-1), result="01")
        case "results-awaited":
            FollowUpItemFactory(patient=patient, status=c.FollowUpStatus.DONE, done_on=days(-1), result_awaited=True)
        case "restaging":
            episode = RestagingEpisodeFactory(recurrence__patient=patient)
            StagingTestFactory(episode=episode)
        case "no-follow-up":
            pass


CONTACT_LISTS = ["overdue", "due-soon", "results", "results-awaited", "restaging", "no-follow-up"]


@pytest.mark.parametrize("slug", CONTACT_LISTS)
def test_each_list_row_says_the_last_contact_and_offers_to_log_one(slug, nurse_client, nurse):
    patient = PatientFactory(team=nurse.team, named_nurse=nurse, given_name="Mary", family_name="Brown")
    _one_row(slug, patient, nurse)
    ContactFactory(patient=patient, contacted_at=at(days(-2)), answered=False, message_left=True)
    page_url = reverse("followup:worklist", args=[slug]) + "?nurse=all"
    row = row_of(nurse_client.get(page_url), "BROWN, Mary")
    assert f"Last contact: phoned {day_words(days(-2))}, no answer, message left" in text(row)
    link = re.search(r'<p class="[^"]*app-row-contact"><a class="nhsuk-link" href="([^"]*)">(.*?)</a>', row)
    assert html.unescape(link[1]) == f"{add_url(patient)}?next={quote(page_url, safe='/')}"
    assert text(link[2]) == "Log a contact for BROWN, Mary"


def test_a_clinician_row_offers_no_contact_to_log(client, clinician, nurse, patient):
    FollowUpItemFactory(patient=patient, due_on=days(-60))
    client.force_login(clinician)
    assert "app-row-contact" not in body(client.get(reverse("followup:worklist", args=["overdue"])))


@pytest.mark.parametrize("slug", CONTACT_LISTS)
@pytest.mark.parametrize("rows", [1, 3])
def test_worklist_with_contacts_query_count_is_constant(slug, rows, nurse_client, nurse, django_assert_num_queries):
    for _ in range(rows):
        patient = PatientFactory(team=nurse.team, named_nurse=nurse)
        _one_row(slug, patient, nurse)
        ContactFactory.create_batch(2, patient=patient)
    # As tests/test_views.py WORKLIST_QUERIES: the last contact comes in the page's own query
    # (contacts.models.with_last_contact()): session, user, nurse choices, COUNT, the page of rows;
    # restaging adds its sites and its tests.
    expected = 7 if slug == "restaging" else 5
    with django_assert_num_queries(expected):
        response = nurse_client.get(reverse("followup:worklist", args=[slug]))
    assert response.context["table"].page.paginator.count == rows


# The admin site --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [1, 3])
def test_contact_admin_changelist_query_count_is_constant(rows, client, admin_user, django_assert_num_queries):
    ContactFactory.create_batch(rows)
    client.force_login(admin_user)
    # As tests/test_admin.py: session, user, filtered COUNT, total COUNT, the page (with patient and who).
    with django_assert_num_queries(5):
        response = client.get(reverse("admin:contacts_contact_changelist"))
    assert response.context["cl"].result_count == rows


def test_contact_admin_cannot_delete_a_contact(client, admin_user):
    contact = ContactFactory()
    client.force_login(admin_user)
    response = client.post(reverse("admin:contacts_contact_delete", args=[contact.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Contact.objects.filter(pk=contact.pk).exists()
