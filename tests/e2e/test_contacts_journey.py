"""Issue 14, the contact log in a real Chromium: phone a patient from a worklist row and log the contact.

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/followup .venv/bin/pytest tests/e2e/test_contacts_journey.py
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from contacts.models import Contact
from followup import choices as c

from ..factories import FollowUpItemFactory, PatientFactory
from .helpers import log_in, message, path_is, row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_nurse_phones_a_patient_from_a_worklist_row_and_logs_the_contact(page, alex):
    today = timezone.localdate()
    mary = PatientFactory(
        given_name="Mary",
        family_name="Brown",
        team=alex.team,
        named_nurse=alex,
        phone_mobile="07700 900321",
        preferred_contact=c.ContactPreference.MOBILE,
        messages_may_be_left=False,
    )
    FollowUpItemFactory(patient=mary, kind=c.FollowUpKind.MAMMOGRAM, due_on=today - timedelta(days=40))
    log_in(page, "alex")

    page.get_by_role("link", name="Overdue follow-up", exact=True).click()
    expect(page).to_have_url(path_is("/worklists/overdue/"))
    expect(row(page, "BROWN, Mary").locator(".app-last-contact")).to_have_count(0)  # never contacted yet
    row(page, "BROWN, Mary").get_by_role("link", name="Log a contact for BROWN, Mary").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Log a contact")
    # Her number and her wishes, in view while phoning.
    details = page.locator("#contact-details")
    expect(details).to_contain_text("07700 900321")
    expect(page.locator("#contact-preferred")).to_have_text("Mobile phone")
    expect(page.locator("#contact-messages")).to_have_text("No: do not leave a message")

    # The call's questions open under "Telephone call made"; "No" opens the message question.
    expect(page.get_by_role("group", name="Was the call answered?")).to_be_hidden()
    page.get_by_label("Telephone call made", exact=True).check()
    answered = page.get_by_role("group", name="Was the call answered?")
    expect(answered).to_be_visible()
    answered.locator("input[name=answered][value=no]").check()  # the group holds the message question's too
    left = page.get_by_role("group", name="Was a message left?")
    expect(left).to_be_visible()
    expect(page.locator("#no-messages")).to_have_text("This patient has asked that no messages are left.")

    # A message left anyway is refused beside the question, and the form keeps what was typed.
    left.get_by_label("Yes", exact=True).check()
    page.get_by_label("Summary").fill("Phoned to book the overdue mammogram. No answer.")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#id_message_left-error")).to_contain_text("This patient has asked that no messages are left")
    expect(page.get_by_label("Summary")).to_have_value("Phoned to book the overdue mammogram. No answer.")
    assert Contact.objects.count() == 0

    page.get_by_role("group", name="Was a message left?").get_by_label("No", exact=True).check()
    page.get_by_label("Outcome (optional)").fill("Will try again tomorrow morning.")
    page.get_by_role("button", name="Save").click()

    # Back on the list she came from, the row saying what happened.
    expect(page).to_have_url(path_is("/worklists/overdue/"))
    expect(message(page)).to_contain_text("Contact logged: phoned, no answer.")
    expect(row(page, "BROWN, Mary").locator(".app-last-contact")).to_have_text(
        f"Last contact: phoned {today.day} {today:%b}, no answer"
    )
    contact = Contact.objects.get()
    assert (contact.patient, contact.by, contact.created_by, contact.answered, contact.message_left) == (
        mary,
        alex,
        alex,
        False,
        False,
    )
    assert contact.outcome == "Will try again tomorrow morning."
