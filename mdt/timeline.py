"""MDT discussions in the patient's story (followup/timeline.py), from the rows the patient page loaded."""

from followup.display import show_date
from followup.timeline import Event, _error_link, _error_mark, _who, _with_error


def mdt_events(patient) -> list[Event]:
    """One event per MDT discussion, also those entered in error (struck through). ``patient`` from
    the patient page, with ``all_mdt_discussions`` set by mdt.patient_page.patient_section()
    (none set: no discussions, e.g. a page that did not load them)."""
    events = []
    recurrences = {recurrence.pk: recurrence for recurrence in getattr(patient, "all_recurrences", [])}
    for discussion in getattr(patient, "all_mdt_discussions", []):
        recurrence = recurrences.get(discussion.recurrence_id)
        about = ""
        if recurrence is not None:
            about = f"{recurrence.get_metastatic_type_display()} recurrence of {show_date(recurrence.diagnosed_on)}. "
        event = Event(
            discussion.meeting_on,
            f"Discussed at MDT: {discussion.get_outcome_display()}",
            f"{about}Plan: {discussion.plan} Attended: {discussion.attendees}. "
            f"Recorded by {_who(discussion.created_by)}.",
            [("MDT", "blue")],
            "mdt",
            links=[_error_link("mdt", discussion.pk)],
        )
        parent = _error_mark(recurrence, "recurrence") if recurrence is not None else None
        events.append(_with_error(event, _error_mark(discussion) or parent))
    return events
