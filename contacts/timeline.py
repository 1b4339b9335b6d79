"""The contact log in the patient's story (followup/timeline.py): "Telephone call made: no answer,
message left", with the summary, the outcome and who made the contact."""

from django.urls import reverse
from django.utils import timezone

from followup.display import show_time
from followup.timeline import Event, _error_mark, _with_error

from .models import Contact

# Whom a contact was with, inside a sentence ("Letter, with the GP practice").
WITH_IN_SENTENCE = {"next_of_kin": "next of kin or carer", "gp": "the GP practice", "other": "someone else"}


def contact_title(contact: Contact) -> str:
    title = contact.get_kind_display()
    if contact.result_words:
        title += f" — {contact.result_words}"
    if contact.with_whom != "patient":
        title += f", with {WITH_IN_SENTENCE.get(contact.with_whom, contact.with_whom)}"
    return title


def contact_detail(contact: Contact) -> str:
    who = contact.by.get_full_name() or contact.by.username
    detail = contact.summary.strip()
    if contact.outcome:
        detail += f" Outcome: {contact.outcome.strip()}"
    return f"{detail} By {who} at {show_time(contact.contacted_at)}."


def contact_events(patient) -> list[Event]:
    """An event per contact of a patient loaded by PatientQuerySet.for_patient_page() (``all_contacts``,
    those entered in error too, struck through): no query of its own."""
    # A letter issued here is in the story once, as the letter (letters/timeline.py, with its download);
    # its letter contact stays in the contact log.
    issued = {letter.contact_id for letter in getattr(patient, "all_letters", [])}
    events = []
    for contact in patient.all_contacts:
        if contact.pk in issued:
            continue
        event = Event(
            timezone.localtime(contact.contacted_at).date(),
            contact_title(contact),
            contact_detail(contact),
            [],
            "contact",
            links=[("Entered in error", reverse("followup:entered_in_error", args=["contact", contact.pk]))],
        )
        events.append(_with_error(event, _error_mark(contact)))
    return events
