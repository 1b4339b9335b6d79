"""Issued letters in the patient's story (followup/timeline.py), from the rows the patient page loaded."""

from django.urls import reverse
from django.utils import timezone

from followup.timeline import Event, _error_link, _error_mark, _who, _with_error


def letter_events(patient) -> list[Event]:
    """One event per letter issued, those entered in error struck through. ``patient`` from the patient
    page, with ``all_letters`` set by letters.patient_page.patient_section() (unset: none)."""
    events = []
    for letter in getattr(patient, "all_letters", []):
        event = Event(
            timezone.localdate(letter.issued_at),
            f"Letter issued: {letter.get_kind_display().lower()}",
            f"To {letter.addressee}. Issued by {_who(letter.issued_by)}.",
            [("Letter", "white")],
            "letter",
            links=[("Download", reverse("letters:download", args=[letter.pk])), _error_link("letter", letter.pk)],
        )
        events.append(_with_error(event, _error_mark(letter)))
    return events
